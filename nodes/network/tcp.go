package network

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// Shared machinery of the TCP nodes.

// netListenHost is the address tcp and udp servers bind: Node-RED listens
// on every interface; tests narrow it to 127.0.0.1.
var netListenHost = ""

// tcpKeepAlive is Node-RED's setKeepAlive(true, 120000).
const tcpKeepAlive = 120 * time.Second

// tcpWriteTimeout bounds one write: Node buffers without limit, we would
// rather drop a peer that stopped reading than block the flow on it.
var tcpWriteTimeout = 30 * time.Second

// tcpDialTimeout bounds a connect; Node leaves it to the OS.
var tcpDialTimeout = 30 * time.Second

// tcpConn is a connection that replies can reach by session id.
type tcpConn struct {
	id   string
	conn net.Conn
	wmu  sync.Mutex
}

func (t *tcpConn) write(b []byte) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	_ = t.conn.SetWriteDeadline(time.Now().Add(tcpWriteTimeout))
	_, err := t.conn.Write(b)
	return err
}

// tcpPool is Node-RED's connectionPool: the connections of every tcp in
// node (server or client), by session id, which tcp out nodes in reply
// mode write to.
var tcpPool = struct {
	sync.Mutex
	m map[string]*tcpConn
}{m: map[string]*tcpConn{}}

func poolAdd(t *tcpConn) {
	tcpPool.Lock()
	tcpPool.m[t.id] = t
	tcpPool.Unlock()
}

func poolDel(id string) {
	tcpPool.Lock()
	delete(tcpPool.m, id)
	tcpPool.Unlock()
}

func poolGet(id string) *tcpConn {
	tcpPool.Lock()
	defer tcpPool.Unlock()
	return tcpPool.m[id]
}

func poolAll() []*tcpConn {
	tcpPool.Lock()
	defer tcpPool.Unlock()
	out := make([]*tcpConn, 0, len(tcpPool.m))
	for _, t := range tcpPool.m {
		out = append(out, t)
	}
	return out
}

func tcpSession(id string) *msg.Object { return msg.ObjectOf("type", "tcp", "id", id) }

// connections is Node-RED's "__count__ connection(s)" status text.
func connections(n int) string {
	if n == 1 {
		return "1 connection"
	}
	return strconv.Itoa(n) + " connections"
}

// unescapeDelimiter turns the editor's \n, \r and \t into characters.
func unescapeDelimiter(s string) string {
	return strings.NewReplacer(`\n`, "\n", `\r`, "\r", `\t`, "\t").Replace(s)
}

// outBytes is what the TCP and UDP nodes write for a payload: a Buffer as
// is, a string decoded from base64 when asked, anything else as its text.
func outBytes(p any, b64 bool) []byte {
	switch t := p.(type) {
	case []byte:
		return t
	case string:
		if b64 {
			return decodeBase64JS(t)
		}
		return []byte(t)
	}
	return []byte(msg.ToString(p))
}

// decodeBase64JS is Buffer.from(s, "base64"): it skips characters outside
// the alphabet, takes the URL-safe one too, and stops at padding.
func decodeBase64JS(s string) []byte {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			b.WriteByte(c)
		case c == '-':
			b.WriteByte('+')
		case c == '_':
			b.WriteByte('/')
		case c == '=':
			i = len(s)
		}
	}
	clean := b.String()
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	out, err := base64.RawStdEncoding.DecodeString(clean)
	if err != nil {
		return nil
	}
	return out
}

// textDecoder decodes a byte stream as UTF-8 across reads: a character
// split between two reads is kept for the next one.
type textDecoder struct{ rest []byte }

func (d *textDecoder) decode(b []byte) string {
	if len(d.rest) > 0 {
		b = append(d.rest, b...)
		d.rest = nil
	}
	// Keep an incomplete sequence at the end for the next read.
	for i := len(b) - 1; i >= 0 && i >= len(b)-3; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				d.rest = append([]byte(nil), b[i:]...)
				b = b[:i]
			}
			break
		}
	}
	return decodeUTF8(b)
}

func (d *textDecoder) flush() string {
	s := decodeUTF8(d.rest)
	d.rest = nil
	return s
}

// nodeIP is how Node reports a peer of a server listening on every
// interface (a dual-stack socket): IPv4 addresses are IPv4-mapped IPv6.
func nodeIP(addr net.Addr, dualStack bool) (string, float64) {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String(), 0
	}
	ip := ta.IP.String()
	if dualStack && ta.IP.To4() != nil {
		ip = "::ffff:" + ip
	}
	return ip, float64(ta.Port)
}

// tcpListen opens a server socket on port, with TLS when conf is set.
func tcpListen(port int, conf *tls.Config) (net.Listener, error) {
	lc := net.ListenConfig{KeepAlive: tcpKeepAlive}
	ln, err := lc.Listen(context.Background(), "tcp", net.JoinHostPort(netListenHost, strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	if conf != nil {
		ln = tls.NewListener(ln, conf)
	}
	return ln, nil
}

// listenError words a listen failure as Node-RED logs it.
func listenError(port int, err error) error {
	text := err.Error()
	var op *net.OpError
	if errors.As(err, &op) && errors.Is(op.Err, syscall.EADDRINUSE) {
		text = fmt.Sprintf("Error: listen EADDRINUSE: address already in use :::%d", port)
	}
	return fmt.Errorf("unable to listen on port %d, error: %s", port, text)
}

// tcpDial connects as a client, with TLS when conf is set.
func tcpDial(ctx context.Context, host string, port int, conf *tls.Config) (net.Conn, error) {
	d := &net.Dialer{Timeout: tcpDialTimeout, KeepAlive: tcpKeepAlive}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	if conf != nil {
		c := conf.Clone()
		if c.ServerName == "" {
			c.ServerName = host
		}
		return (&tls.Dialer{NetDialer: d, Config: c}).DialContext(ctx, "tcp", addr)
	}
	return d.DialContext(ctx, "tcp", addr)
}

// tlsFor resolves a tls property.
func tlsFor(c node.Ctx, id string) (*tls.Config, error) {
	if id == "" {
		return nil, nil
	}
	return node.TLSConfigOf(c, id)
}

// settingMillis reads a duration setting in milliseconds.
func settingMillis(c node.Ctx, name string, def time.Duration) time.Duration {
	if v, ok := c.Setting(name); ok {
		if f, ok := msg.Num(v); ok && f > 0 {
			return time.Duration(f * float64(time.Millisecond))
		}
	}
	return def
}

// sleepCtx waits d or until ctx ends; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// isClosed tells a connection's ordinary end from a failure worth logging.
func isClosed(err error) bool {
	return err == nil || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
}

// portOf reads a port property ("1880", 1880); 0 when absent or bad.
func portOf(v any) int {
	switch t := v.(type) {
	case float64:
		return int(t)
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(t))
		if err == nil {
			return n
		}
	}
	return 0
}
