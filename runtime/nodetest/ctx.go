// Package nodetest runs one node outside the engine: a node.Ctx that
// records what the node does, and helpers that build nodes and messages
// from JSON. Node packages' unit tests share it so that each does not grow
// its own, slightly different, fake runtime.
package nodetest

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// Sent is one message a node sent and the output port it went to.
type Sent struct {
	Port int
	Msg  *msg.Msg
}

// Rec is a message with the error a node finished or reported it with.
type Rec struct {
	Err error
	Msg *msg.Msg
}

// Ctx is a node.Ctx that records sends, completions, errors, warnings and
// status. Timers and watchers call nodes from their own goroutines, so every
// record is taken under a lock and read back through the accessor methods.
// The exported fields configure it and must be set before the node runs.
type Ctx struct {
	NodeID, NodeType, FlowID string
	NodeScope, FlowScope     *Scope
	GlobalScope              *Scope
	EnvVars                  map[string]any
	Settings                 map[string]any
	Creds                    map[string]string
	// Tracked makes Send and Done keep the message tracker's count as the
	// engine does, for nodes that hold messages and finish them later.
	Tracked bool
	// CloneErrors keeps a copy of the message an error names, for nodes
	// that go on changing the message after reporting.
	CloneErrors bool

	mu       sync.Mutex
	calls    [][]*msg.Msg
	sent     []Sent
	done     []Rec
	errs     []Rec
	warns    []string
	statuses []node.Status
	logs     strings.Builder
	notify   chan struct{}
	stopping chan struct{}
	stopOnce sync.Once
}

// New returns a Ctx for node "n1" of type "test" on flow "f1", with empty
// in-memory contexts.
func New() *Ctx {
	return &Ctx{
		NodeID: "n1", NodeType: "test", FlowID: "f1",
		NodeScope: NewScope(), FlowScope: NewScope(), GlobalScope: NewScope(),
		EnvVars: map[string]any{}, Settings: map[string]any{},
		notify: make(chan struct{}, 1), stopping: make(chan struct{}),
	}
}

func (c *Ctx) poke() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

func (c *Ctx) ID() string    { return c.NodeID }
func (c *Ctx) Alias() string { return c.NodeID }
func (c *Ctx) Type() string  { return c.NodeType }
func (c *Ctx) Name() string  { return "" }
func (c *Ctx) Z() string     { return c.FlowID }
func (c *Ctx) Path() string  { return c.FlowID + "/" + c.NodeID }

func (c *Ctx) Send(m *msg.Msg) { c.SendPorts([][]*msg.Msg{{m}}) }

func (c *Ctx) SendTo(port int, m *msg.Msg) {
	ports := make([][]*msg.Msg, port+1)
	ports[port] = []*msg.Msg{m}
	c.SendPorts(ports)
}

func (c *Ctx) SendPorts(ports [][]*msg.Msg) {
	call := make([]*msg.Msg, len(ports))
	c.mu.Lock()
	for p, ms := range ports {
		for _, m := range ms {
			if m == nil {
				continue
			}
			if c.Tracked {
				// The receiver holds a place on the tracker, as in the engine.
				m.Track.Add(1)
			}
			if call[p] == nil {
				call[p] = m
			}
			c.sent = append(c.sent, Sent{p, m})
		}
	}
	c.calls = append(c.calls, call)
	c.mu.Unlock()
	c.poke()
}

func (c *Ctx) Done(m *msg.Msg, err error) {
	c.mu.Lock()
	c.done = append(c.done, Rec{err, m})
	c.mu.Unlock()
	if err != nil {
		c.Error(err, m)
	}
	if c.Tracked && m != nil {
		m.Track.Done(err)
	}
	c.poke()
}

func (c *Ctx) Error(err error, m *msg.Msg) {
	if c.CloneErrors && m != nil {
		m = m.Clone()
	}
	c.mu.Lock()
	c.errs = append(c.errs, Rec{err, m})
	c.mu.Unlock()
	c.poke()
}

func (c *Ctx) Warn(text string) {
	c.mu.Lock()
	c.warns = append(c.warns, text)
	c.logs.WriteString("WARN " + text + "\n")
	c.mu.Unlock()
}

func (c *Ctx) Status(s node.Status) {
	c.mu.Lock()
	c.statuses = append(c.statuses, s)
	c.mu.Unlock()
	c.poke()
}

func (c *Ctx) NodeContext() node.Scope        { return c.NodeScope }
func (c *Ctx) FlowContext() node.Scope        { return c.FlowScope }
func (c *Ctx) GlobalContext() node.Scope      { return c.GlobalScope }
func (c *Ctx) Credentials() map[string]string { return c.Creds }

func (c *Ctx) Env(name string) (any, bool) {
	v, ok := c.EnvVars[name]
	return v, ok
}

func (c *Ctx) Setting(name string) (any, bool) {
	v, ok := c.Settings[name]
	return v, ok
}

func (c *Ctx) ConfigNode(id string) (node.Node, bool) { return nil, false }
func (c *Ctx) NodeByID(id string) (node.Node, bool)   { return nil, false }
func (c *Ctx) Acquire(ctx context.Context) error      { return nil }
func (c *Ctx) Release()                               {}
func (c *Ctx) Inject(m *msg.Msg)                      {}
func (c *Ctx) Stopping() <-chan struct{}              { return c.stopping }
func (c *Ctx) Services() node.Services                { return nil }

// Stop closes the channel Stopping returns, as a redeploy would.
func (c *Ctx) Stop() { c.stopOnce.Do(func() { close(c.stopping) }) }

// Calls returns one entry per send call, indexed by output port (nil where
// the call sent nothing on a port; the first message where it sent several).
func (c *Ctx) Calls() [][]*msg.Msg {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]*msg.Msg(nil), c.calls...)
}

// Sent returns every message sent so far with its port, in order.
func (c *Ctx) Sent() []Sent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Sent(nil), c.sent...)
}

// Msgs returns every message sent so far, on any port, in order.
func (c *Ctx) Msgs() []*msg.Msg {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*msg.Msg, len(c.sent))
	for i, s := range c.sent {
		out[i] = s.Msg
	}
	return out
}

// Take returns the messages sent so far and forgets them.
func (c *Ctx) Take() []*msg.Msg {
	out := c.Msgs()
	c.mu.Lock()
	c.sent, c.calls = nil, nil
	c.mu.Unlock()
	return out
}

// TakeJSON is Take with each message as its JSON text.
func (c *Ctx) TakeJSON() []string {
	ms := c.Take()
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = JSON(m)
	}
	return out
}

// SentCount is how many messages have been sent.
func (c *Ctx) SentCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sent)
}

// Dones returns every Done call so far.
func (c *Ctx) Dones() []Rec {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Rec(nil), c.done...)
}

// Errs returns every error reported so far (including Done with an error).
func (c *Ctx) Errs() []Rec {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Rec(nil), c.errs...)
}

// ErrTexts returns the reported errors' texts.
func (c *Ctx) ErrTexts() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, e := range c.errs {
		out = append(out, e.Err.Error())
	}
	return out
}

// Warns returns the warnings so far.
func (c *Ctx) Warns() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.warns...)
}

// Log returns a logger whose lines Logs returns.
func (c *Ctx) Log() *slog.Logger { return slog.New(slog.NewTextHandler(logWriter{c}, nil)) }

type logWriter struct{ c *Ctx }

func (w logWriter) Write(p []byte) (int, error) {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	return w.c.logs.Write(p)
}

// Logs returns what the node logged and warned, one line each.
func (c *Ctx) Logs() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logs.String()
}

// Statuses returns every status the node set.
func (c *Ctx) Statuses() []node.Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]node.Status(nil), c.statuses...)
}

// Reset forgets everything recorded (not the configuration).
func (c *Ctx) Reset() {
	c.mu.Lock()
	c.calls, c.sent, c.done, c.errs, c.warns, c.statuses = nil, nil, nil, nil, nil, nil
	c.logs.Reset()
	c.mu.Unlock()
}

// WaitFor waits until cond holds; nodes with timers act on their own
// goroutines, so tests wait for the effect instead of sleeping.
func (c *Ctx) WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for !cond() {
		select {
		case <-c.notify:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// Notify is signalled (without blocking, so it may coalesce) whenever the
// node sends, finishes, reports or sets its status.
func (c *Ctx) Notify() <-chan struct{} { return c.notify }
