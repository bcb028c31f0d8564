package network

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "tcp out", Category: "network", Color: "Silver", Icon: "bridge-dash.svg",
		Inputs: 1, Outputs: 0,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString},
			{Name: "host", Kind: node.KindString, Label: "Host"},
			{Name: "port", Kind: node.KindNumber, Label: "Port"},
			{Name: "beserver", Kind: node.KindString, Default: "client", Options: []string{"client", "server", "reply"}, Label: "Type"},
			{Name: "base64", Kind: node.KindBool, Default: false, Label: "Decode base64"},
			{Name: "end", Kind: node.KindBool, Default: false, Label: "Close connection after each message"},
			{Name: "tls", Kind: node.KindString, ConfigType: "tls-config", Label: "TLS configuration"},
		},
		Validate: validateTCPOut,
		Help: "Writes `msg.payload` over TCP: to `host`:`port` as a client (`beserver` `client`, reconnecting when the connection drops), " +
			"to every connection of a server listening on `port` (`server`), or back to the connection a `tcp in` message came from " +
			"(`reply`: `msg._session`, or every `tcp in` connection when there is none; `msg.reset` true closes instead of writing).\n\n" +
			"A Buffer is written as is, a string as UTF-8 (or decoded from base64 with `base64`), anything else as its text. " +
			"`end` closes the connection after each message. A client that is not connected drops messages, as in Node-RED.",
		New: newTCPOut,
	})
}

func validateTCPOut(cfg *node.Config) []node.Problem {
	var ps []node.Problem
	mode := cfg.StrOr("beserver", "client")
	if mode == "client" && cfg.Str("host") == "" {
		ps = append(ps, node.Problem{Severity: "error", Code: "missing-property", Property: "host", Message: "a client needs a host to connect to"})
	}
	if mode != "reply" && portOf(cfg.Get("port")) <= 0 {
		ps = append(ps, node.Problem{Severity: "error", Code: "bad-property", Property: "port", Message: fmt.Sprintf("port %s is not a port number", msg.Marshal(cfg.Get("port")))})
	}
	return ps
}

type tcpOut struct {
	mode  string // client, server, reply
	host  string
	port  int
	b64   bool
	end   bool
	tlsID string

	c         node.Ctx
	tlsConf   *tls.Config
	reconnect time.Duration
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup

	mu      sync.Mutex
	client  *tcpConn // client role: the open connection
	endSent bool     // client role: we closed after a message, reconnect at once
	ln      net.Listener
	peers   map[*tcpConn]bool // server role
}

func newTCPOut(cfg *node.Config) (node.Node, error) {
	n := &tcpOut{
		mode:  cfg.StrOr("beserver", "client"),
		host:  cfg.Str("host"),
		port:  portOf(cfg.Get("port")),
		b64:   cfg.Bool("base64", false),
		end:   cfg.Get("end") == true,
		tlsID: cfg.Str("tls"),
		peers: map[*tcpConn]bool{},
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	return n, nil
}

func (n *tcpOut) Start(c node.Ctx) error {
	n.c = c
	n.reconnect = settingMillis(c, "socketReconnectTime", 10*time.Second)
	if n.mode == "reply" {
		return nil
	}
	conf, err := tlsFor(c, n.tlsID)
	if err != nil {
		return err
	}
	n.tlsConf = conf
	if n.mode == "client" {
		n.wg.Add(1)
		go n.dialLoop()
		return nil
	}
	c.Status(node.Status{Text: connections(0)})
	ln, err := tcpListen(n.port, conf)
	if err != nil {
		err = listenError(n.port, err)
		c.Error(err, nil)
		return err
	}
	n.mu.Lock()
	n.ln = ln
	n.mu.Unlock()
	n.wg.Add(1)
	go n.accept(ln)
	return nil
}

func (n *tcpOut) Close(ctx context.Context, _ bool) error {
	n.cancel()
	n.mu.Lock()
	if n.ln != nil {
		_ = n.ln.Close()
	}
	if n.client != nil {
		_ = n.client.conn.Close()
	}
	for p := range n.peers {
		_ = p.conn.Close()
	}
	n.mu.Unlock()
	if !waitGroup(ctx, &n.wg, 0) {
		return fmt.Errorf("tcp connections of port %d did not end in time", n.port)
	}
	return nil
}

func (n *tcpOut) Input(c node.Ctx, m *msg.Msg) error {
	p, has := m.Get("payload")
	switch n.mode {
	case "reply":
		if !has {
			p = msg.Undefined{}
		}
		reset := m.Value("reset") == true
		var targets []*tcpConn
		if s, ok := m.Value("_session").(*msg.Object); ok && s.Value("type") == "tcp" {
			if t := poolGet(str(s.Value("id"))); t != nil {
				targets = []*tcpConn{t}
			}
		} else {
			targets = poolAll()
		}
		for _, t := range targets {
			if reset {
				_ = t.conn.Close()
				continue
			}
			if err := t.write(outBytes(p, n.b64)); err != nil {
				c.Log().Info("write to tcp session " + t.id + ": " + err.Error())
			}
		}
	case "server":
		if !has || p == nil || msg.IsUndefined(p) {
			return nil
		}
		b := outBytes(p, n.b64)
		n.mu.Lock()
		peers := make([]*tcpConn, 0, len(n.peers))
		for t := range n.peers {
			peers = append(peers, t)
		}
		n.mu.Unlock()
		for _, t := range peers {
			if err := t.write(b); err != nil {
				c.Log().Info(err.Error())
			}
			if n.end {
				_ = t.conn.Close()
			}
		}
	default:
		n.mu.Lock()
		t := n.client
		if t != nil && n.end && has && p != nil {
			n.endSent = true
		}
		n.mu.Unlock()
		if t == nil || !has || p == nil || msg.IsUndefined(p) {
			return nil // not connected: Node-RED drops the message
		}
		if err := t.write(outBytes(p, n.b64)); err != nil {
			c.Log().Info("error: " + err.Error())
		}
		if n.end {
			c.Status(node.Status{})
			_ = t.conn.Close()
		}
	}
	return nil
}

func (n *tcpOut) accept(ln net.Listener) {
	defer n.wg.Done()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		t := &tcpConn{id: msg.NewID(), conn: conn}
		n.mu.Lock()
		n.peers[t] = true
		count := len(n.peers)
		n.mu.Unlock()
		n.c.Log().Info("connection from " + conn.RemoteAddr().String())
		n.c.Status(node.Status{Text: connections(count)})
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			// Node-RED ignores what peers send; reading tells us when they go.
			_, _ = io.Copy(io.Discard, conn)
			_ = conn.Close()
			n.mu.Lock()
			delete(n.peers, t)
			count := len(n.peers)
			n.mu.Unlock()
			n.c.Log().Info("connection closed from " + conn.RemoteAddr().String())
			if n.ctx.Err() == nil {
				n.c.Status(node.Status{Text: connections(count)})
			}
		}()
	}
}

// dialLoop keeps the client connection up; what the server sends is
// ignored, as in Node-RED.
func (n *tcpOut) dialLoop() {
	defer n.wg.Done()
	addr := fmt.Sprintf("%s:%d", n.host, n.port)
	for {
		n.c.Log().Info("connecting to " + addr)
		n.c.Status(node.Status{Fill: "grey", Shape: "dot", Text: "common.status.connecting"})
		conn, err := tcpDial(n.ctx, n.host, n.port, n.tlsConf)
		if err != nil {
			if n.ctx.Err() != nil {
				return
			}
			n.c.Log().Info("error: " + err.Error())
		} else {
			t := &tcpConn{id: msg.NewID(), conn: conn}
			n.mu.Lock()
			n.client = t
			n.mu.Unlock()
			n.c.Log().Info("connected to " + addr)
			n.c.Status(node.Status{Fill: "green", Shape: "dot", Text: "common.status.connected"})
			_, _ = io.Copy(io.Discard, conn)
			_ = conn.Close()
			n.mu.Lock()
			n.client = nil
			n.mu.Unlock()
		}
		if n.ctx.Err() != nil {
			return
		}
		n.c.Status(node.Status{Fill: "red", Shape: "ring", Text: "common.status.disconnected"})
		n.mu.Lock()
		fast := n.endSent
		n.endSent = false
		n.mu.Unlock()
		wait := n.reconnect
		if fast {
			wait = 20 * time.Millisecond
		} else {
			n.c.Log().Info("connection lost to " + addr)
		}
		if !sleepCtx(n.ctx, wait) {
			return
		}
	}
}
