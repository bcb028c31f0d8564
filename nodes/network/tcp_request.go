package network

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "tcp request", Category: "network", Color: "Silver", Icon: "bridge-dash.svg",
		Inputs: 1, Outputs: 1,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString},
			{Name: "server", Kind: node.KindString, Label: "Server"},
			{Name: "port", Kind: node.KindString, Label: "Port"},
			{Name: "out", Kind: node.KindString, Default: "time", Options: []string{"time", "char", "count", "sit", "immed"}, Label: "Return"},
			{Name: "ret", Kind: node.KindString, Default: "buffer", Options: []string{"buffer", "string"}, Label: "Output"},
			{Name: "splitc", Kind: node.KindString, Default: "0", Label: "Split on"},
			{Name: "newline", Kind: node.KindString, Label: "Delimiter"},
			{Name: "trim", Kind: node.KindBool, Default: false, Label: "Re-attach delimiter"},
			{Name: "tls", Kind: node.KindString, ConfigType: "tls-config", Label: "TLS configuration"},
		},
		Help: "Sends `msg.payload` to `server`:`port` (or `msg.host`:`msg.port`) and sends on what comes back, as a copy of the last message " +
			"written to that connection with the reply as its payload.\n\n" +
			"`out` decides when a reply is complete and the connection closes: `time` after `splitc` ms from the first byte, `char` at the byte " +
			"`splitc` (a character, `\\n`-style escape or `0x..` code, kept in the reply), `count` after `splitc` bytes, `sit` never " +
			"(every chunk is sent on and the connection stays open; `msg.reset` true closes every connection, `\"host:port\"` one), " +
			"`immed` closes at once and sends nothing. `ret` `string` gives UTF-8 strings (with `sit` and a `newline` delimiter, one per line).",
		New: newTCPRequest,
	})
}

type tcpRequest struct {
	server  string
	port    int
	out     string
	ret     string
	splitc  int // ms (time), byte (char), count (count); -1 closes at once
	newline string
	trim    bool
	tlsID   string

	c        node.Ctx
	tlsConf  *tls.Config
	idle     time.Duration
	queueMax int
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	mu      sync.Mutex
	clients map[string]*trClient
	lastID  string
}

// trClient is one host:port connection and the messages waiting for it.
type trClient struct {
	id         string
	conn       net.Conn
	connecting bool
	connected  bool
	queue      []*msg.Msg
	last       *msg.Msg // replies are copies of the last message written
	buf        []byte
	timer      *time.Timer
	chunk      string
}

func newTCPRequest(cfg *node.Config) (node.Node, error) {
	n := &tcpRequest{
		server:  cfg.Str("server"),
		out:     cfg.StrOr("out", "time"),
		ret:     cfg.StrOr("ret", "buffer"),
		trim:    cfg.Bool("trim", false),
		tlsID:   cfg.Str("tls"),
		clients: map[string]*trClient{},
	}
	n.port = portOf(cfg.Get("port"))
	// Node-RED replaces only the first of each escape here.
	nl := cfg.Str("newline")
	for _, r := range [][2]string{{`\n`, "\n"}, {`\r`, "\r"}, {`\t`, "\t"}} {
		nl = strings.Replace(nl, r[0], r[1], 1)
	}
	n.newline = nl
	split := cfg.Str("splitc")
	if n.out == "immed" {
		n.out, n.splitc = "time", -1
	} else if n.out == "char" {
		c, err := splitChar(split)
		if err != nil {
			return nil, node.BadProp("splitc", split, "%v", err)
		}
		n.splitc = c
	} else {
		f := msg.StringToNumber(split)
		if f != f {
			return nil, node.BadProp("splitc", split, "is not a number")
		}
		n.splitc = int(f)
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	return n, nil
}

// splitChar reads the split character: an escape (\n, \r, \t, \e, \f,
// \0), a 0x.. code, or the first character.
func splitChar(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("needs a character")
	}
	if strings.HasPrefix(s, `\`) {
		esc := map[string]int{`\n`: 0x0A, `\r`: 0x0D, `\t`: 0x09, `\e`: 0x1B, `\f`: 0x0C, `\0`: 0x00}
		if c, ok := esc[s[:min(2, len(s))]]; ok {
			return c, nil
		}
	}
	if strings.HasPrefix(s, "0x") {
		v, err := strconv.ParseInt(s[2:], 16, 32)
		if err != nil {
			return 0, fmt.Errorf("%q is not a hexadecimal character code", s)
		}
		return int(v), nil
	}
	r := []rune(s)
	return int(r[0]) & 0xFF, nil
}

func (n *tcpRequest) DeferDone() {}

func (n *tcpRequest) Start(c node.Ctx) error {
	n.c = c
	n.idle = settingMillis(c, "socketTimeout", 0)
	n.queueMax = 1000
	if v, ok := c.Setting("tcpMsgQueueSize"); ok {
		if f, ok := msg.Num(v); ok && f >= 1 {
			n.queueMax = int(f)
		}
	}
	conf, err := tlsFor(c, n.tlsID)
	n.tlsConf = conf
	return err
}

func (n *tcpRequest) Close(ctx context.Context, _ bool) error {
	n.cancel()
	n.mu.Lock()
	var waiting []*msg.Msg
	for id, cl := range n.clients {
		if cl.conn != nil {
			_ = cl.conn.Close()
		}
		if cl.timer != nil {
			cl.timer.Stop()
		}
		waiting = append(waiting, cl.queue...)
		delete(n.clients, id)
	}
	n.mu.Unlock()
	for _, m := range waiting {
		n.c.Done(m, nil)
	}
	n.c.Status(node.Status{})
	waitGroup(ctx, &n.wg, 0)
	return nil
}

func (n *tcpRequest) Input(c node.Ctx, m *msg.Msg) error {
	p, has := m.Get("payload")
	if has && !msg.IsUndefined(p) {
		switch p.(type) {
		case []byte, string:
		case nil:
			c.Done(m, &node.JSError{Name: "TypeError", Message: "Cannot read properties of null (reading 'toString')"})
			return nil
		default:
			m.Set("payload", msg.ToString(p))
		}
	}
	host := n.server
	if host == "" {
		host = str(m.Value("host"))
	}
	port := n.port
	portText := strconv.Itoa(n.port)
	if port == 0 {
		port = portOf(m.Value("port"))
		portText = str(m.Value("port"))
	}
	n.mu.Lock()
	if n.out == "sit" && msg.Truthy(m.Value("reset")) {
		switch r := m.Value("reset").(type) {
		case bool:
			for id, cl := range n.clients {
				if cl.conn != nil {
					_ = cl.conn.Close()
				}
				delete(n.clients, id)
			}
		case string:
			if cl := n.clients[r]; strings.Contains(r, ":") && cl != nil && cl.conn != nil {
				_ = cl.conn.Close()
				delete(n.clients, r)
			}
		}
		cc := len(n.clients)
		n.mu.Unlock()
		shape := "dot"
		if cc == 0 {
			shape = "ring"
		}
		c.Status(node.Status{Fill: "green", Shape: shape, Text: connections(cc)})
		if !has {
			c.Done(m, nil)
			return nil
		}
		n.mu.Lock()
	}
	id := host + ":" + portText
	if id != n.lastID {
		n.lastID = id
		c.Status(node.Status{})
	}
	cl := n.clients[id]
	if cl == nil {
		cl = &trClient{id: id}
		n.clients[id] = cl
	}
	var dropped *msg.Msg
	if len(cl.queue) >= n.queueMax {
		dropped = cl.queue[0]
		cl.queue = cl.queue[1:]
	}
	cl.queue = append(cl.queue, m)
	cl.last = m
	switch {
	case !cl.connecting && !cl.connected:
		if host == "" || port == 0 {
			cl.queue = cl.queue[:len(cl.queue)-1]
			n.mu.Unlock()
			c.Warn("Host and/or port not set")
			c.Done(m, nil)
			break
		}
		cl.connecting = true
		n.mu.Unlock()
		n.wg.Add(1)
		go n.connect(cl, host, port, m)
	case cl.connected && cl.conn != nil:
		q := cl.queue[0]
		cl.queue = cl.queue[1:]
		conn := cl.conn
		n.mu.Unlock()
		n.write(conn, q)
	default:
		n.mu.Unlock() // connecting: sent once connected
	}
	if dropped != nil {
		c.Done(dropped, nil)
	}
	return nil
}

func (n *tcpRequest) write(conn net.Conn, m *msg.Msg) {
	if p, ok := m.Get("payload"); ok && !msg.IsUndefined(p) {
		_ = conn.SetWriteDeadline(time.Now().Add(tcpWriteTimeout))
		if _, err := conn.Write(outBytes(p, false)); err != nil {
			n.c.Log().Info(err.Error())
		}
	}
	n.c.Done(m, nil)
}

// current reports whether cl is still the client for its id.
func (n *tcpRequest) current(cl *trClient) bool { return n.clients[cl.id] == cl }

func (n *tcpRequest) connect(cl *trClient, host string, port int, first *msg.Msg) {
	defer n.wg.Done()
	conn, err := tcpDial(n.ctx, host, port, n.tlsConf)
	n.mu.Lock()
	if err != nil {
		waiting := cl.queue
		cl.queue = nil
		cl.connecting = false
		if n.current(cl) {
			delete(n.clients, cl.id)
		}
		n.mu.Unlock()
		if n.ctx.Err() == nil {
			n.c.Status(node.Status{Fill: "red", Shape: "ring", Text: "common.status.error"})
			n.c.Error(fmt.Errorf("connect failed %s", cl.id), first)
		}
		for _, m := range waiting {
			n.c.Done(m, nil)
		}
		return
	}
	if !n.current(cl) || n.ctx.Err() != nil {
		waiting := cl.queue
		cl.queue = nil
		n.mu.Unlock()
		_ = conn.Close()
		for _, m := range waiting {
			n.c.Done(m, nil)
		}
		return
	}
	cl.conn, cl.connected, cl.connecting = conn, true, false
	waiting := cl.queue
	cl.queue = nil
	count := len(n.clients)
	n.mu.Unlock()
	n.c.Status(node.Status{Fill: "green", Shape: "dot", Text: connections(count)})
	for _, m := range waiting {
		n.write(conn, m)
	}
	if n.out == "time" && n.splitc < 0 {
		n.mu.Lock()
		cl.connected = false
		if n.current(cl) {
			delete(n.clients, cl.id)
		}
		n.mu.Unlock()
		_ = conn.Close()
		n.c.Status(node.Status{})
		return
	}
	n.read(cl, conn)
}

// reply sends a copy of the client's last message carrying data. Like
// RED.util.cloneMessage, the copy keeps the _msgid and moves req and res
// to the end.
func (n *tcpRequest) reply(cl *trClient, data any) {
	base := cl.last
	var m *msg.Msg
	if base != nil {
		m = msg.Wrap(base.Object.Clone())
		for _, k := range []string{"req", "res"} {
			if v, ok := m.Get(k); ok {
				m.Delete(k)
				m.Set(k, v)
			}
		}
	} else {
		m = msg.New()
	}
	m.Set("payload", data)
	n.c.Send(m)
}

func (n *tcpRequest) payloadOf(b []byte) any {
	if n.ret == "string" {
		return decodeUTF8(b)
	}
	return append([]byte(nil), b...)
}

// finish sends the collected reply and closes the connection, as the time,
// count and char modes do; it must be called with n.mu held.
func (n *tcpRequest) finish(cl *trClient) {
	data := n.payloadOf(cl.buf)
	cl.buf = cl.buf[:0]
	n.reply(cl, data)
	if cl.conn != nil {
		n.c.Status(node.Status{})
		_ = cl.conn.Close()
		if n.current(cl) {
			delete(n.clients, cl.id)
		}
	}
}

func (n *tcpRequest) read(cl *trClient, conn net.Conn) {
	buf := make([]byte, 64<<10)
	for {
		if n.idle > 0 {
			_ = conn.SetReadDeadline(time.Now().Add(n.idle))
		}
		k, err := conn.Read(buf)
		if k > 0 {
			n.data(cl, buf[:k])
		}
		if err != nil {
			n.mu.Lock()
			peerEnded := isClosed(err) && n.current(cl) && cl.conn == conn
			cl.connected, cl.connecting = false, false
			cl.conn = nil
			n.mu.Unlock()
			if peerEnded && n.ctx.Err() == nil {
				n.c.Status(node.Status{Fill: "grey", Shape: "ring", Text: "common.status.disconnected"})
			}
			return
		}
	}
}

func (n *tcpRequest) data(cl *trClient, data []byte) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.current(cl) {
		return
	}
	switch n.out {
	case "sit":
		if n.ret == "string" && n.newline != "" {
			cl.chunk += decodeUTF8(data)
			parts := strings.Split(cl.chunk, n.newline)
			cl.chunk = parts[len(parts)-1]
			for _, p := range parts[:len(parts)-1] {
				if n.trim {
					p += n.newline
				}
				n.reply(cl, p)
			}
			return
		}
		n.reply(cl, n.payloadOf(data))
	case "time":
		cl.buf = append(cl.buf, data...)
		if cl.timer == nil {
			cl.timer = time.AfterFunc(time.Duration(n.splitc)*time.Millisecond, func() {
				n.mu.Lock()
				defer n.mu.Unlock()
				cl.timer = nil
				if n.current(cl) {
					n.finish(cl)
				}
			})
		}
	case "count":
		limit := max(n.splitc, 1)
		for _, b := range data {
			cl.buf = append(cl.buf, b)
			if len(cl.buf) >= limit {
				n.finish(cl)
				if !n.current(cl) {
					return
				}
			}
		}
	default: // char
		for _, b := range data {
			cl.buf = append(cl.buf, b)
			if int(b) == n.splitc {
				n.finish(cl)
				if !n.current(cl) {
					return
				}
			}
		}
	}
}
