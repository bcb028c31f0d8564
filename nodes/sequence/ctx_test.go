package sequence

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// fakeCtx records what a node does with its messages; timers call it from
// other goroutines, so it locks.
type fakeCtx struct {
	mu       sync.Mutex
	sent     []*msg.Msg
	done     []*msg.Msg
	errs     []error
	warns    []string
	set      map[string]any
	stopping chan struct{}
	notify   chan struct{}
}

func newCtx() *fakeCtx {
	return &fakeCtx{set: map[string]any{}, stopping: make(chan struct{}), notify: make(chan struct{}, 1000)}
}

func (c *fakeCtx) ID() string    { return "n1" }
func (c *fakeCtx) Alias() string { return "n1" }
func (c *fakeCtx) Type() string  { return "test" }
func (c *fakeCtx) Name() string  { return "" }
func (c *fakeCtx) Z() string     { return "f1" }
func (c *fakeCtx) Path() string  { return "f1/n1" }
func (c *fakeCtx) Send(m *msg.Msg) {
	if m == nil {
		return
	}
	// As the runtime does: the receiver holds a copy's place on the tracker.
	m.Track.Add(1)
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
	c.mu.Lock()
	c.done = append(c.done, m)
	if err != nil {
		c.errs = append(c.errs, err)
	}
	c.mu.Unlock()
	m.Track.Done(err)
}
func (c *fakeCtx) Error(err error, m *msg.Msg) {
	c.mu.Lock()
	c.errs = append(c.errs, err)
	c.mu.Unlock()
}
func (c *fakeCtx) Warn(text string) {
	c.mu.Lock()
	c.warns = append(c.warns, text)
	c.mu.Unlock()
}
func (c *fakeCtx) Status(s node.Status)                   {}
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
func (c *fakeCtx) Stopping() <-chan struct{}              { return c.stopping }
func (c *fakeCtx) Setting(name string) (any, bool)        { v, ok := c.set[name]; return v, ok }
func (c *fakeCtx) Services() node.Services                { return nil }

// take returns and forgets what was sent so far, as JSON texts.
func (c *fakeCtx) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.sent))
	for i, m := range c.sent {
		out[i] = string(msg.Marshal(m.Object))
	}
	c.sent = nil
	return out
}

func (c *fakeCtx) takeMsgs() []*msg.Msg {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.sent
	c.sent = nil
	return out
}

func (c *fakeCtx) errors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.errs))
	for i, e := range c.errs {
		out[i] = e.Error()
	}
	return out
}

func config(js string) *node.Config {
	v, err := msg.UnmarshalString(js)
	if err != nil {
		panic(err)
	}
	return &node.Config{Raw: v.(*msg.Object)}
}

func message(js string) *msg.Msg {
	v, err := msg.UnmarshalString(js)
	if err != nil {
		panic(err)
	}
	return msg.Wrap(v.(*msg.Object))
}

// build makes a node of a registered type from a JSON config.
func build(t testing.TB, typ, cfg string) node.Node {
	t.Helper()
	spec, ok := node.Lookup(typ)
	if !ok {
		t.Fatalf("%s not registered", typ)
	}
	n, err := spec.New(config(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// tracked is a message whose tracker reports into done.
func tracked(js string, done *[]error, mu *sync.Mutex) *msg.Msg {
	m := message(js)
	m.Track = msg.NewTracker(func(err error) {
		mu.Lock()
		*done = append(*done, err)
		mu.Unlock()
	})
	return m
}

// feed hands m to n as the runtime would.
func feed(t testing.TB, n node.Node, c *fakeCtx, m *msg.Msg) {
	t.Helper()
	if err := n.(node.Inputter).Input(c, m); err != nil {
		t.Fatalf("Input: %v", err)
	}
}
