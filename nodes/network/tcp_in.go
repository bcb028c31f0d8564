package network

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "tcp in", Category: "network", Color: "Silver", Icon: "bridge-dash.svg",
		Inputs: 0, Outputs: 1,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString},
			{Name: "server", Kind: node.KindString, Default: "server", Options: []string{"server", "client"}, Label: "Type"},
			{Name: "host", Kind: node.KindString, Label: "Host"},
			{Name: "port", Kind: node.KindNumber, Label: "Port"},
			{Name: "datamode", Kind: node.KindString, Default: "stream", Options: []string{"stream", "single"}, Label: "Output"},
			{Name: "datatype", Kind: node.KindString, Default: "buffer", Options: []string{"buffer", "utf8", "base64"}, Label: "Data type"},
			{Name: "newline", Kind: node.KindString, Label: "Delimiter"},
			{Name: "topic", Kind: node.KindString, Label: "Topic"},
			{Name: "trim", Kind: node.KindBool, Default: false, Label: "Re-attach delimiter"},
			{Name: "base64", Kind: node.KindBool, Default: false},
			{Name: "tls", Kind: node.KindString, ConfigType: "tls-config", Label: "TLS configuration"},
		},
		Validate: validateTCPIn,
		Help: "Reads TCP data: as a server listening on `port` (`server` `server`) or as a client connecting to `host`:`port` (`client`), " +
			"reconnecting after the `socketReconnectTime` setting (10 s) when the connection drops.\n\n" +
			"`datamode` `stream` sends what arrives as it arrives (with `datatype` `utf8` and a `newline` delimiter, one message per line; " +
			"`trim` puts the delimiter back); `single` sends everything a connection carried when it closes. `datatype` is a Buffer, " +
			"a UTF-8 string or a base64 string. Messages carry `msg.topic`, `msg._session` (`{type: \"tcp\", id}`) for a `tcp out` node " +
			"in reply mode, and from a server `msg.ip` and `msg.port` of the peer.",
		New: newTCPIn,
	})
}

func validateTCPIn(cfg *node.Config) []node.Problem {
	var ps []node.Problem
	if cfg.StrOr("server", "server") != "server" && cfg.Str("host") == "" {
		ps = append(ps, node.Problem{Severity: "error", Code: "missing-property", Property: "host", Message: "a client needs a host to connect to"})
	}
	if portOf(cfg.Get("port")) <= 0 {
		ps = append(ps, node.Problem{Severity: "error", Code: "bad-property", Property: "port", Message: fmt.Sprintf("port %s is not a port number", msg.Marshal(cfg.Get("port")))})
	}
	return ps
}

type tcpIn struct {
	server   bool
	host     string
	port     int
	topic    string
	stream   bool
	datatype string
	newline  string
	trim     bool
	tlsID    string

	c         node.Ctx
	tlsConf   *tls.Config
	reconnect time.Duration
	idle      time.Duration // socketTimeout; 0 is none
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup

	mu    sync.Mutex
	ln    net.Listener
	conns map[string]*tcpConn
}

func newTCPIn(cfg *node.Config) (node.Node, error) {
	n := &tcpIn{
		host:     cfg.Str("host"),
		port:     portOf(cfg.Get("port")),
		topic:    cfg.Str("topic"),
		stream:   cfg.StrOr("datamode", "stream") == "stream",
		datatype: cfg.StrOr("datatype", "buffer"),
		newline:  unescapeDelimiter(cfg.Str("newline")),
		trim:     cfg.Bool("trim", false),
		tlsID:    cfg.Str("tls"),
		conns:    map[string]*tcpConn{},
	}
	switch s := cfg.Get("server").(type) {
	case bool:
		n.server = s
	default:
		n.server = cfg.StrOr("server", "server") == "server"
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	return n, nil
}

func (n *tcpIn) Start(c node.Ctx) error {
	n.c = c
	n.reconnect = settingMillis(c, "socketReconnectTime", 10*time.Second)
	n.idle = settingMillis(c, "socketTimeout", 0)
	conf, err := tlsFor(c, n.tlsID)
	if err != nil {
		return err
	}
	n.tlsConf = conf
	if !n.server {
		n.wg.Add(1)
		go n.dialLoop()
		return nil
	}
	ln, err := tcpListen(n.port, conf)
	if err != nil {
		err = listenError(n.port, err)
		c.Error(err, nil)
		return err
	}
	n.mu.Lock()
	n.ln = ln
	n.mu.Unlock()
	c.Log().Info(fmt.Sprintf("listening on port %d", n.port))
	n.wg.Add(1)
	go n.accept(ln)
	return nil
}

func (n *tcpIn) Close(ctx context.Context, _ bool) error {
	n.cancel()
	n.mu.Lock()
	if n.ln != nil {
		_ = n.ln.Close()
	}
	for _, t := range n.conns {
		_ = t.conn.Close()
	}
	n.mu.Unlock()
	if !waitGroup(ctx, &n.wg, 0) {
		return fmt.Errorf("tcp connections on port %d did not end in time", n.port)
	}
	return nil
}

func (n *tcpIn) accept(ln net.Listener) {
	defer n.wg.Done()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.serveConn(conn)
		}()
	}
}

func (n *tcpIn) track(t *tcpConn, add bool) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if add {
		n.conns[t.id] = t
	} else {
		delete(n.conns, t.id)
	}
	return len(n.conns)
}

// serveConn is one connection to the server.
func (n *tcpIn) serveConn(conn net.Conn) {
	t := &tcpConn{id: msg.NewID(), conn: conn}
	select {
	case <-n.ctx.Done():
		_ = conn.Close()
		return
	default:
	}
	poolAdd(t)
	count := n.track(t, true)
	n.c.Status(node.Status{Text: connections(count), Event: "connect", Session: tcpSession(t.id)})
	ip, port := nodeIP(conn.RemoteAddr(), netListenHost == "")
	r := &tcpReader{n: n, id: t.id, ip: ip, port: port, withAddr: true, splitStrings: true}
	n.read(conn, r)
	// Node-RED flushes what is left at the end of a single-mode connection,
	// and of a delimited text or a base64 stream.
	if !n.stream || n.datatype != "buffer" && (n.newline != "" || n.datatype == "base64") {
		r.flush(true)
	}
	_ = conn.Close()
	poolDel(t.id)
	count = n.track(t, false)
	n.c.Status(node.Status{Text: connections(count), Event: "disconnect", Session: tcpSession(t.id)})
}

// read feeds the connection's data to r until it ends.
func (n *tcpIn) read(conn net.Conn, r *tcpReader) {
	buf := make([]byte, 64<<10)
	for {
		if n.idle > 0 {
			_ = conn.SetReadDeadline(time.Now().Add(n.idle))
		}
		k, err := conn.Read(buf)
		if k > 0 {
			if !r.data(buf[:k]) {
				return
			}
		}
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				n.c.Log().Info(fmt.Sprintf("timeout closed socket port %d", n.port))
			} else if !isClosed(err) {
				n.c.Log().Info(err.Error())
			}
			return
		}
	}
}

// dialLoop is the client role: connect, read until the connection ends,
// wait and connect again.
func (n *tcpIn) dialLoop() {
	defer n.wg.Done()
	for {
		addr := fmt.Sprintf("%s:%d", n.host, n.port)
		n.c.Log().Info("connecting to " + addr)
		n.c.Status(node.Status{Fill: "grey", Shape: "dot", Text: "common.status.connecting"})
		id := msg.NewID()
		conn, err := tcpDial(n.ctx, n.host, n.port, n.tlsConf)
		fast := false
		if err != nil {
			if n.ctx.Err() != nil {
				return
			}
			n.c.Log().Info(err.Error())
		} else {
			t := &tcpConn{id: id, conn: conn}
			poolAdd(t)
			n.track(t, true)
			n.c.Log().Info("connected to " + addr)
			n.c.Status(node.Status{Fill: "green", Shape: "dot", Text: "common.status.connected", Session: tcpSession(id)})
			r := &tcpReader{n: n, id: id, splitStrings: false}
			n.read(conn, r)
			if !n.stream || n.datatype == "utf8" && n.newline != "" {
				fast = r.flush(false)
			}
			_ = conn.Close()
			poolDel(id)
			n.track(t, false)
		}
		if n.ctx.Err() != nil {
			return
		}
		n.c.Status(node.Status{Fill: "red", Shape: "ring", Text: "common.status.disconnected", Session: tcpSession(id)})
		wait := n.reconnect
		if fast {
			// The server closed after sending something: reconnect at
			// once, as Node-RED does.
			wait = 20 * time.Millisecond
		} else {
			n.c.Log().Info("connection lost to " + addr)
		}
		if !sleepCtx(n.ctx, wait) {
			return
		}
	}
}

// tcpReader turns one connection's data into messages.
type tcpReader struct {
	n        *tcpIn
	id       string
	ip       string
	port     float64
	withAddr bool
	// splitStrings: a server splits any text datatype on the delimiter, a
	// client only UTF-8.
	splitStrings bool

	dec  textDecoder
	text strings.Builder
	bin  bytes.Buffer
}

func (r *tcpReader) emit(payload any) bool {
	n := r.n
	o := msg.NewObject(6)
	o.Set("topic", n.topic)
	o.Set("payload", payload)
	if r.withAddr {
		o.Set("ip", r.ip)
		o.Set("port", r.port)
	}
	o.Set("_session", tcpSession(r.id))
	setMsgID(o)
	// Backpressure: while the flows are full this connection is not read.
	if err := n.c.Acquire(n.ctx); err != nil {
		return false
	}
	n.c.Send(msg.Wrap(o))
	return true
}

// data handles one read; it returns false when the node is stopping.
func (r *tcpReader) data(b []byte) bool {
	n := r.n
	var s string
	isText := n.datatype != "buffer"
	switch n.datatype {
	case "utf8":
		s = r.dec.decode(b)
	case "base64":
		s = base64.StdEncoding.EncodeToString(b)
	}
	if !n.stream {
		if isText {
			r.text.WriteString(s)
		} else {
			r.bin.Write(b)
		}
		return true
	}
	split := isText && n.newline != "" && (r.splitStrings || n.datatype == "utf8")
	if !split {
		if isText {
			return r.emit(s)
		}
		return r.emit(append([]byte(nil), b...))
	}
	r.text.WriteString(s)
	parts := strings.Split(r.text.String(), n.newline)
	r.text.Reset()
	r.text.WriteString(parts[len(parts)-1])
	for _, p := range parts[:len(parts)-1] {
		if n.trim {
			p += n.newline
		}
		if !r.emit(p) {
			return false
		}
	}
	return true
}

// flush sends what is buffered when the connection ends; it reports
// whether anything was sent.
func (r *tcpReader) flush(_ bool) bool {
	if r.n.datatype == "utf8" {
		r.text.WriteString(r.dec.flush())
	}
	if r.n.datatype != "buffer" {
		if r.text.Len() == 0 {
			return false
		}
		s := r.text.String()
		r.text.Reset()
		return r.emit(s)
	}
	if r.bin.Len() == 0 {
		return false
	}
	b := append([]byte(nil), r.bin.Bytes()...)
	r.bin.Reset()
	return r.emit(b)
}
