package function

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// fakeCtx records what a node does with its messages.
type fakeCtx struct {
	sent   [][]*msg.Msg // one entry per send call, indexed by port
	errs   []error
	warns  []string
	logs   strings.Builder
	flow   *fakeScope
	global *fakeScope
	env    map[string]any
	set    map[string]any
}

func newCtx() *fakeCtx {
	return &fakeCtx{flow: &fakeScope{root: msg.NewObject(0)}, global: &fakeScope{root: msg.NewObject(0)}}
}

func (c *fakeCtx) ID() string    { return "n1" }
func (c *fakeCtx) Alias() string { return "n1" }
func (c *fakeCtx) Type() string  { return "test" }
func (c *fakeCtx) Name() string  { return "" }
func (c *fakeCtx) Z() string     { return "f1" }
func (c *fakeCtx) Path() string  { return "f1/n1" }
func (c *fakeCtx) Send(m *msg.Msg) {
	c.sent = append(c.sent, []*msg.Msg{m})
}
func (c *fakeCtx) SendTo(port int, m *msg.Msg) {
	out := make([]*msg.Msg, port+1)
	out[port] = m
	c.sent = append(c.sent, out)
}
func (c *fakeCtx) SendPorts(ports [][]*msg.Msg) {
	out := make([]*msg.Msg, len(ports))
	for i, p := range ports {
		if len(p) > 0 {
			out[i] = p[0]
		}
	}
	c.sent = append(c.sent, out)
}
func (c *fakeCtx) Done(m *msg.Msg, err error) {
	if err != nil {
		c.errs = append(c.errs, err)
	}
}
func (c *fakeCtx) Error(err error, m *msg.Msg) { c.errs = append(c.errs, err) }
func (c *fakeCtx) Warn(text string)            { c.warns = append(c.warns, text) }
func (c *fakeCtx) Status(s node.Status)        {}
func (c *fakeCtx) Log() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.MultiWriter(&c.logs), nil))
}
func (c *fakeCtx) NodeContext() node.Scope   { return &fakeScope{root: msg.NewObject(0)} }
func (c *fakeCtx) FlowContext() node.Scope   { return c.flow }
func (c *fakeCtx) GlobalContext() node.Scope { return c.global }
func (c *fakeCtx) Env(name string) (any, bool) {
	v, ok := c.env[name]
	return v, ok
}
func (c *fakeCtx) Credentials() map[string]string         { return nil }
func (c *fakeCtx) ConfigNode(id string) (node.Node, bool) { return nil, false }
func (c *fakeCtx) NodeByID(id string) (node.Node, bool)   { return nil, false }
func (c *fakeCtx) Acquire(ctx context.Context) error      { return nil }
func (c *fakeCtx) Release()                               {}
func (c *fakeCtx) Inject(m *msg.Msg)                      {}
func (c *fakeCtx) Stopping() <-chan struct{}              { return nil }
func (c *fakeCtx) Setting(name string) (any, bool)        { v, ok := c.set[name]; return v, ok }
func (c *fakeCtx) Services() node.Services                { return nil }

type fakeScope struct {
	root *msg.Object
	fail error
}

func (s *fakeScope) Get(key, store string) (any, error) {
	if s.fail != nil {
		return nil, s.fail
	}
	v, ok, err := msg.Get(s.root, key)
	if err != nil {
		return nil, err
	}
	if !ok {
		return msg.Undefined{}, nil
	}
	return v, nil
}

func (s *fakeScope) Set(key string, v any, store string) error {
	if s.fail != nil {
		return s.fail
	}
	if msg.IsUndefined(v) {
		parts, err := msg.ParsePath(key)
		if err != nil {
			return err
		}
		msg.DeletePath(s.root, parts)
		return nil
	}
	return msg.Set(s.root, key, v)
}

func (s *fakeScope) Keys(store string) ([]string, error) { return s.root.Keys(), nil }

// config builds a node config from JSON.
func config(js string) *node.Config {
	v, err := msg.UnmarshalString(js)
	if err != nil {
		panic(err)
	}
	return &node.Config{Raw: v.(*msg.Object)}
}

// message builds a message from JSON.
func message(js string) *msg.Msg {
	v, err := msg.UnmarshalString(js)
	if err != nil {
		panic(err)
	}
	return msg.Wrap(v.(*msg.Object))
}

// build constructs a registered node type from a JSON config.
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

// badConfig asserts that the config is refused naming prop.
func badConfig(t *testing.T, typ, cfg, prop string) {
	t.Helper()
	spec, _ := node.Lookup(typ)
	_, err := spec.New(config(cfg))
	pe, ok := err.(*node.PropError)
	if !ok {
		t.Fatalf("%s: got %v, want a PropError for %s", cfg, err, prop)
	}
	if pe.Property != prop {
		t.Fatalf("%s: error names %q, want %q (%v)", cfg, pe.Property, prop, err)
	}
}

// feed sends one JSON message through n; it returns the JSON of what came
// out of port 0 (or "" when nothing did) and the error.
func feed(t testing.TB, n node.Node, c *fakeCtx, in string) (string, error) {
	t.Helper()
	c.sent = nil
	err := n.(node.Inputter).Input(c, message(in))
	for _, s := range c.sent {
		if len(s) > 0 && s[0] != nil {
			return string(msg.Marshal(s[0].Object)), err
		}
	}
	return "", err
}
