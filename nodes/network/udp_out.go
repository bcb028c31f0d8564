package network

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "udp out", Category: "network", Color: "Silver", Icon: "bridge-dash.svg",
		Inputs: 1, Outputs: 0,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString},
			{Name: "addr", Kind: node.KindString, Label: "Address"},
			{Name: "iface", Kind: node.KindString, Label: "Local interface"},
			{Name: "port", Kind: node.KindString, Label: "Port"},
			{Name: "ipv", Kind: node.KindString, Default: "udp4", Options: []string{"udp4", "udp6"}, Label: "IP version"},
			{Name: "outport", Kind: node.KindString, Label: "Local port"},
			{Name: "base64", Kind: node.KindBool, Default: false, Label: "Decode base64"},
			{Name: "multicast", Kind: node.KindString, Default: "false", Options: []string{"false", "broad", "multi"}, Label: "Send a"},
		},
		Help: "Sends `msg.payload` as a UDP datagram to `addr`:`port`, or `msg.ip`:`msg.port` when those are empty.\n\n" +
			"A Buffer is sent as is, a string as UTF-8 (decoded from base64 with `base64`), anything else as its text. " +
			"`multicast` `broad` sends broadcasts, `multi` joins the multicast group `addr` (on `iface`). `outport` binds the local port; " +
			"when a `udp in` node listens on that port, its socket is used, so replies leave from the port requests came to.",
		New: newUDPOut,
	})
}

type udpOut struct {
	addr      string
	iface     string
	port      string
	network   string
	outport   string
	b64       bool
	multicast string

	c node.Ctx

	mu     sync.Mutex
	sock   *udpSock
	key    string
	shared bool
	ifi    *net.Interface
	joined bool
	err    error
}

func newUDPOut(cfg *node.Config) (node.Node, error) {
	return &udpOut{
		addr:      cfg.Str("addr"),
		iface:     cfg.Str("iface"),
		port:      cfg.Str("port"),
		network:   udpNetwork(cfg.Str("ipv")),
		outport:   cfg.Str("outport"),
		b64:       cfg.Bool("base64", false),
		multicast: cfg.StrOr("multicast", "false"),
	}, nil
}

func (n *udpOut) Start(c node.Ctx) error {
	n.c = c
	return nil
}

// socket opens the sending socket at the first message, so that udp in
// nodes of the same deploy have bound their ports (Node-RED waits 75 ms).
func (n *udpOut) socket() (*udpSock, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.sock != nil || n.err != nil {
		return n.sock, n.err
	}
	p := n.outport
	if p == "" {
		p = n.port
	}
	if p == "" {
		p = "0"
	}
	udpPorts.Lock()
	defer udpPorts.Unlock()
	if s := udpPorts.m[p]; s != nil && p != "0" {
		s.mu.Lock()
		s.users++
		s.mu.Unlock()
		n.sock, n.key, n.shared = s, p, true
		n.c.Log().Info(fmt.Sprintf("udp re-use socket: %s -> %s:%s", n.outport, n.addr, n.port))
		return s, nil
	}
	local := 0
	if isDigits(n.outport) {
		local, _ = strconv.Atoi(n.outport)
	}
	conn, err := udpOpen(n.network, local, n.multicast != "false")
	if err != nil {
		n.err = udpError(local, err)
		return nil, n.err
	}
	s := &udpSock{conn: conn, network: n.network, users: 1}
	if n.multicast == "multi" {
		ifi, addr, err := udpInterface(n.iface)
		if err != nil {
			n.c.Warn(fmt.Sprintf("udp: interface %s not found", n.iface))
		}
		n.ifi = ifi
		if err := joinGroup(conn, n.network, n.addr, ifi); err != nil {
			n.c.Error(fmt.Errorf("%s", multicastError(err)), nil)
		} else {
			n.joined = true
			if n.iface != "" {
				n.c.Status(node.Status{Text: n.iface + " : " + addr})
			}
		}
	}
	n.sock = s
	if p != "0" {
		udpPorts.m[p] = s
		n.key = p
	}
	return s, nil
}

func (n *udpOut) Input(c node.Ctx, m *msg.Msg) error {
	p, has := m.Get("payload")
	if !has {
		return nil
	}
	addr := n.addr
	if addr == "" {
		addr = str(m.Value("ip"))
	}
	port := n.port
	if port == "" || port == "0" {
		if v, ok := m.Get("port"); ok && msg.Truthy(v) {
			port = msg.ToString(v)
		}
	}
	if addr == "" {
		c.Warn("udp: ip address not set")
		return nil
	}
	if port == "" || port == "0" {
		c.Warn("udp: port not set")
		return nil
	}
	pn := msg.StringToNumber(port)
	if pn != pn || pn < 1 || pn > 65535 {
		c.Warn("udp: port number not valid")
		return nil
	}
	var b []byte
	switch {
	case n.b64:
		if buf, ok := p.([]byte); ok {
			b = buf
		} else {
			b = decodeBase64JS(msg.ToString(p))
		}
	default:
		b = outBytes(p, false)
	}
	s, err := n.socket()
	if err != nil {
		return fmt.Errorf("udp : %w", err)
	}
	to, err := net.ResolveUDPAddr(s.network, net.JoinHostPort(addr, strconv.Itoa(int(pn))))
	if err != nil {
		return fmt.Errorf("udp : Error: %v", err)
	}
	if _, err := s.conn.WriteToUDP(b, to); err != nil {
		return fmt.Errorf("udp : Error: %v", err)
	}
	return nil
}

func (n *udpOut) Close(context.Context, bool) error {
	n.mu.Lock()
	s := n.sock
	n.sock = nil
	n.mu.Unlock()
	if s != nil {
		if n.joined {
			leaveGroup(s.conn, s.network, n.addr, n.ifi)
		}
		if n.key != "" {
			s.release(n.key)
		} else {
			_ = s.conn.Close()
		}
		n.c.Log().Info("udp output stopped")
	}
	if n.c != nil {
		n.c.Status(node.Status{})
	}
	return nil
}
