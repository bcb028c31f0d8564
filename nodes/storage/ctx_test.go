package storage

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// fakeCtx records what a node does; the watch node calls it from its own
// goroutines, so it locks.
type fakeCtx struct {
	mu     sync.Mutex
	sent   []*msg.Msg
	errs   []error
	errMsg []*msg.Msg
	warns  []string
	status []node.Status
	set    map[string]any
	notify chan struct{}
}

func newCtx() *fakeCtx {
	return &fakeCtx{set: map[string]any{}, notify: make(chan struct{}, 1000)}
}

func (c *fakeCtx) ID() string    { return "n1" }
func (c *fakeCtx) Alias() string { return "n1" }
func (c *fakeCtx) Type() string  { return "test" }
func (c *fakeCtx) Name() string  { return "" }
func (c *fakeCtx) Z() string     { return "f1" }
func (c *fakeCtx) Path() string  { return "f1/n1" }
func (c *fakeCtx) Send(m *msg.Msg) {
	c.mu.Lock()
	c.sent = append(c.sent, m)
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
}
func (c *fakeCtx) SendTo(port int, m *msg.Msg) { c.Send(m) }
func (c *fakeCtx) SendPorts(ports [][]*msg.Msg) {
	for _, p := range ports {
		for _, m := range p {
			c.Send(m)
		}
	}
}
func (c *fakeCtx) Done(m *msg.Msg, err error) {
	if err != nil {
		c.Error(err, m)
	}
}
func (c *fakeCtx) Error(err error, m *msg.Msg) {
	c.mu.Lock()
	c.errs = append(c.errs, err)
	c.errMsg = append(c.errMsg, m)
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
}
func (c *fakeCtx) Warn(text string) {
	c.mu.Lock()
	c.warns = append(c.warns, text)
	c.mu.Unlock()
}
func (c *fakeCtx) Status(s node.Status) {
	c.mu.Lock()
	c.status = append(c.status, s)
	c.mu.Unlock()
}
func (c *fakeCtx) Log() *slog.Logger                      { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
func (c *fakeCtx) NodeContext() node.Scope                { return nil }
func (c *fakeCtx) FlowContext() node.Scope                { return nil }
func (c *fakeCtx) GlobalContext() node.Scope              { return nil }
func (c *fakeCtx) Env(name string) (any, bool)            { return nil, false }
func (c *fakeCtx) Credentials() map[string]string         { return nil }
func (c *fakeCtx) ConfigNode(id string) (node.Node, bool) { return nil, false }
func (c *fakeCtx) NodeByID(id string) (node.Node, bool)   { return nil, false }
func (c *fakeCtx) Acquire(ctx context.Context) error      { return nil }
func (c *fakeCtx) Release()                               {}
func (c *fakeCtx) Inject(m *msg.Msg)                      {}
func (c *fakeCtx) Stopping() <-chan struct{}              { return nil }
func (c *fakeCtx) Setting(name string) (any, bool)        { v, ok := c.set[name]; return v, ok }
func (c *fakeCtx) Services() node.Services                { return nil }

func (c *fakeCtx) take() []*msg.Msg {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.sent
	c.sent = nil
	return out
}

func (c *fakeCtx) errors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, e := range c.errs {
		out = append(out, e.Error())
	}
	c.errs, c.errMsg = nil, nil
	return out
}

func build(t testing.TB, typ, cfg string) node.Node {
	t.Helper()
	spec, ok := node.Lookup(typ)
	if !ok {
		t.Fatalf("%s not registered", typ)
	}
	v, err := msg.UnmarshalString(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n, err := spec.New(&node.Config{Raw: v.(*msg.Object)})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func message(js string) *msg.Msg {
	v, err := msg.UnmarshalString(js)
	if err != nil {
		panic(err)
	}
	return msg.Wrap(v.(*msg.Object))
}

func feed(t testing.TB, n node.Node, c *fakeCtx, m *msg.Msg) {
	t.Helper()
	if err := n.(node.Inputter).Input(c, m); err != nil {
		c.Error(err, m)
	}
}

func jsonOf(m *msg.Msg) string { return string(msg.Marshal(m.Object)) }
