package network

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "udp in", Category: "network", Color: "Silver", Icon: "bridge-dash.svg",
		Inputs: 0, Outputs: 1,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString},
			{Name: "iface", Kind: node.KindString, Label: "Local interface"},
			{Name: "port", Kind: node.KindNumber, Label: "Port"},
			{Name: "ipv", Kind: node.KindString, Default: "udp4", Options: []string{"udp4", "udp6"}, Label: "IP version"},
			{Name: "multicast", Kind: node.KindString, Default: "false", Options: []string{"false", "true"}, Label: "Listen for"},
			{Name: "group", Kind: node.KindString, Label: "Group"},
			{Name: "datatype", Kind: node.KindString, Default: "buffer", Options: []string{"buffer", "utf8", "base64"}, Label: "Output"},
		},
		Validate: validateUDPIn,
		Help: "Sends a message for every UDP datagram received on `port`: `msg.payload` (a Buffer, a UTF-8 string or a base64 string, " +
			"per `datatype`), `msg.fromip` (`address:port`), `msg.ip` and `msg.port` of the sender.\n\n" +
			"With `multicast` `\"true\"` the socket joins `group` on the interface `iface` (a name or an address). " +
			"udp in nodes on the same port share the socket, and a `udp out` node sending from that port uses it too.",
		New: newUDPIn,
	})
}

func validateUDPIn(cfg *node.Config) []node.Problem {
	var ps []node.Problem
	if p := portOf(cfg.Get("port")); p <= 0 || p > 65535 {
		ps = append(ps, node.Problem{Severity: "error", Code: "bad-property", Property: "port", Message: fmt.Sprintf("port %s is not a port number", msg.Marshal(cfg.Get("port")))})
	}
	if cfg.Str("multicast") == "true" && cfg.Str("group") == "" {
		ps = append(ps, node.Problem{Severity: "error", Code: "missing-property", Property: "group", Message: "invalid multicast group"})
	}
	return ps
}

type udpIn struct {
	port      int
	group     string
	iface     string
	network   string
	multicast bool
	datatype  string

	c      node.Ctx
	sock   *udpSock
	ifi    *net.Interface
	joined bool
	ctx    context.Context
	cancel context.CancelFunc
}

func newUDPIn(cfg *node.Config) (node.Node, error) {
	n := &udpIn{
		port:      portOf(cfg.Get("port")),
		group:     cfg.Str("group"),
		iface:     cfg.Str("iface"),
		network:   udpNetwork(cfg.Str("ipv")),
		multicast: cfg.Str("multicast") == "true",
		datatype:  cfg.StrOr("datatype", "buffer"),
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	return n, nil
}

func (n *udpIn) Start(c node.Ctx) error {
	n.c = c
	key := portKey(n.port)
	udpPorts.Lock()
	s := udpPorts.m[key]
	if s == nil {
		host := netListenHost
		if n.multicast && host != "" {
			// Tests keep servers off the real interfaces; a multicast
			// receiver can then only bind its group.
			host = n.group
		}
		conn, err := udpOpenOn(host, n.network, n.port, n.multicast)
		if err != nil {
			udpPorts.Unlock()
			err = udpError(n.port, err)
			c.Error(err, nil)
			return err
		}
		s = &udpSock{conn: conn, network: n.network}
		udpPorts.m[key] = s
	} else {
		c.Log().Info(fmt.Sprintf("udp: port %d already in use", n.port))
	}
	s.mu.Lock()
	s.users++
	s.mu.Unlock()
	udpPorts.Unlock()
	n.sock = s
	if n.multicast {
		ifi, addr, err := udpInterface(n.iface)
		if err != nil {
			c.Warn(fmt.Sprintf("udp: interface %s not found", n.iface))
		}
		n.ifi = ifi
		if err := joinGroup(s.conn, s.network, n.group, ifi); err != nil {
			c.Error(fmt.Errorf("%s", multicastError(err)), nil)
		} else {
			n.joined = true
			c.Log().Info("udp multicast group " + n.group)
			if n.iface != "" {
				c.Status(node.Status{Text: n.iface + " : " + addr})
			}
		}
	}
	s.attach(n)
	c.Log().Info(fmt.Sprintf("udp listener at %s", s.conn.LocalAddr()))
	return nil
}

func multicastError(err error) string {
	if err.Error() == "Bad Multicast Address" {
		return err.Error()
	}
	return "error: " + err.Error()
}

func (n *udpIn) Close(context.Context, bool) error {
	n.cancel()
	if n.sock == nil {
		return nil
	}
	n.sock.detach(n)
	if n.joined {
		leaveGroup(n.sock.conn, n.sock.network, n.group, n.ifi)
	}
	n.sock.release(portKey(n.port))
	n.c.Log().Info("udp listener stopped")
	n.c.Status(node.Status{})
	return nil
}

// deliver sends one datagram on; under backpressure the socket's reader
// waits, and the system drops what does not fit in its buffer, as UDP does.
func (n *udpIn) deliver(b []byte, from *net.UDPAddr) {
	var payload any
	switch n.datatype {
	case "base64":
		payload = base64.StdEncoding.EncodeToString(b)
	case "utf8":
		payload = decodeUTF8(b)
	default:
		payload = append([]byte(nil), b...)
	}
	host := udpHost(from)
	o := msg.ObjectOf("payload", payload, "fromip", fmt.Sprintf("%s:%d", host, from.Port), "ip", host, "port", float64(from.Port))
	setMsgID(o)
	if err := n.c.Acquire(n.ctx); err != nil {
		return
	}
	n.c.Send(msg.Wrap(o))
}
