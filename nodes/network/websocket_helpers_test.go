package network

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sluicehq/sluice/internal/flowrig"
	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// Test node types. nodes/core is not importable here (it would make this
// package's tests depend on every core node), so a few stand-ins do.

type wstestPass struct{ dropSession bool }

func (p wstestPass) Input(c node.Ctx, m *msg.Msg) error {
	if p.dropSession {
		m.Delete("_session")
	}
	c.Send(m)
	return nil
}

// testTLS stands in for tls-config until that node exists; it trusts every
// certificate, which is all the wss test needs.
type testTLS struct{}

func (testTLS) TLSConfig() (*tls.Config, error) { return &tls.Config{InsecureSkipVerify: true}, nil }

// ownTLS is whether tls-config is our stand-in (the real node, once built
// in this package, takes its place and the test that needs ours skips).
var ownTLS bool

func init() {
	node.Register(&node.Spec{Type: "wstest-sink", Inputs: 1, New: func(*node.Config) (node.Node, error) { return struct{}{}, nil }})
	node.Register(&node.Spec{Type: "wstest-pass", Inputs: 1, Outputs: 1, New: func(cfg *node.Config) (node.Node, error) {
		return wstestPass{dropSession: cfg.Bool("dropSession", false)}, nil
	}})
	if _, ok := node.Lookup("tls-config"); !ok {
		ownTLS = true
		node.Register(&node.Spec{Type: "tls-config", Config: true, New: func(*node.Config) (node.Node, error) { return testTLS{}, nil }})
	}
}

type harness struct {
	*flowrig.Rig
	srv *httptest.Server
}

// newHarness runs an engine with the node router served on 127.0.0.1.
// Messages reaching nodes whose id starts with "sink" and every status
// change are recorded. An empty flow deploys nothing.
func newHarness(t *testing.T, flow string) *harness {
	t.Helper()
	return startHarness(t, flow, engine.Options{CloseTimeout: 5 * time.Second}, "")
}

// startHarness is newHarness with engine options and the httpNodeRoot the
// router is served under.
func startHarness(t *testing.T, flow string, o engine.Options, root string) *harness {
	t.Helper()
	h := &harness{Rig: flowrig.New(t, o)}
	var handler http.Handler = h.E.HTTP().(http.Handler)
	if root = strings.Trim(root, "/"); root != "" {
		handler = http.StripPrefix("/"+root, handler)
	}
	h.srv = httptest.NewServer(handler)
	t.Cleanup(h.srv.Close)
	if flow != "" {
		h.Deploy(flow)
	}
	return h
}

func (h *harness) sink(id string) chan *msg.Object { return h.Sink(id) }

func (h *harness) url(path string) string {
	return "ws" + strings.TrimPrefix(h.srv.URL, "http") + path
}

func (h *harness) dial(path string) *conn {
	h.T.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(h.url(path), nil)
	if err != nil {
		status := ""
		if resp != nil {
			status = resp.Status
		}
		h.T.Fatalf("dial %s: %v %s", path, err, status)
	}
	h.T.Cleanup(func() { _ = c.Close() })
	return watch(c)
}

// next waits for the next message at a sink.
func (h *harness) next(id string) *msg.Object {
	h.T.Helper()
	return h.Next(id, 5*time.Second)
}

// waitStatus waits until node id shows want ("fill/shape/text"), skipping
// earlier states.
func (h *harness) waitStatus(id, want string, within time.Duration) {
	h.T.Helper()
	h.WaitStatus(id, want, within, func(s node.Status) bool { return flowrig.String(s) == want })
}

func (h *harness) inject(id, body string) {
	h.T.Helper()
	h.Inject(id, body)
}

type frame struct {
	typ  int
	data string
}

// conn is a test-side connection whose frames a goroutine reads into a
// channel: gorilla connections are unusable after a read times out, so
// "nothing arrives" cannot be tested with read deadlines.
type conn struct {
	*websocket.Conn
	frames chan frame
	err    chan error
}

func watch(c *websocket.Conn) *conn {
	w := &conn{Conn: c, frames: make(chan frame, 100), err: make(chan error, 1)}
	go func() {
		for {
			typ, data, err := c.ReadMessage()
			if err != nil {
				w.err <- err
				close(w.frames)
				return
			}
			w.frames <- frame{typ, string(data)}
		}
	}()
	return w
}

// read returns the next frame, failing after a few seconds.
func read(t *testing.T, c *conn) frame {
	t.Helper()
	select {
	case f, ok := <-c.frames:
		if !ok {
			t.Fatalf("connection ended: %v", <-c.err)
		}
		return f
	case <-time.After(5 * time.Second):
		t.Fatal("no frame arrived")
	}
	return frame{}
}

// silent checks that no frame arrives for a while.
func silent(t *testing.T, c *conn, d time.Duration) {
	t.Helper()
	select {
	case f, ok := <-c.frames:
		if ok {
			t.Fatalf("unexpected frame %d %q", f.typ, f.data)
		}
	case <-time.After(d):
	}
}

// ended waits for the connection to end.
func ended(t *testing.T, c *conn) {
	t.Helper()
	select {
	case <-c.err:
	case <-time.After(5 * time.Second):
		t.Fatal("connection still open")
	}
}

func send(t *testing.T, c *conn, typ int, data string) {
	t.Helper()
	if err := c.WriteMessage(typ, []byte(data)); err != nil {
		t.Fatal(err)
	}
}

// peer is a websocket server for the client node to talk to.
type peer struct {
	t        *testing.T
	srv      *httptest.Server
	conns    chan *websocket.Conn
	requests chan *http.Request
	onConn   func(*websocket.Conn)

	mu   sync.Mutex
	live []*websocket.Conn
}

func newPeer(t *testing.T, addr string, useTLS bool, onConn func(*websocket.Conn)) *peer {
	t.Helper()
	p := &peer{t: t, conns: make(chan *websocket.Conn, 100), requests: make(chan *http.Request, 100), onConn: onConn}
	up := websocket.Upgrader{Subprotocols: []string{"chat", "superchat"}}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		p.requests <- r
		p.mu.Lock()
		p.live = append(p.live, c)
		p.mu.Unlock()
		if p.onConn != nil {
			p.onConn(c)
		}
		p.conns <- c
	}))
	if addr != "" {
		if err := p.srv.Listener.Close(); err != nil {
			t.Fatal(err)
		}
		p.srv.Listener = listenOn(t, addr)
	}
	if useTLS {
		p.srv.StartTLS()
	} else {
		p.srv.Start()
	}
	t.Cleanup(p.close)
	return p
}

// close stops the server as a crash would: hijacked websocket connections
// are not the http server's to close, so they are dropped here.
func (p *peer) close() {
	p.mu.Lock()
	for _, c := range p.live {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.srv.CloseClientConnections()
	p.srv.Close()
}

func (p *peer) url(path string) string {
	return "ws" + strings.TrimPrefix(p.srv.URL, "http") + path
}

func (p *peer) accept() *conn {
	p.t.Helper()
	select {
	case c := <-p.conns:
		p.t.Cleanup(func() { _ = c.Close() })
		return watch(c)
	case <-time.After(10 * time.Second):
		p.t.Fatal("the client node never connected")
	}
	return nil
}
