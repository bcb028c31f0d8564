package nodetest

import (
	"errors"
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// Config builds a node config from JSON; bad JSON is a bug in the test.
func Config(js string) *node.Config {
	v, err := msg.UnmarshalString(js)
	if err != nil {
		panic("nodetest.Config: " + err.Error())
	}
	return &node.Config{Raw: v.(*msg.Object)}
}

// Message builds a message from JSON; bad JSON is a bug in the test.
func Message(js string) *msg.Msg {
	v, err := msg.UnmarshalString(js)
	if err != nil {
		panic("nodetest.Message: " + err.Error())
	}
	return msg.Wrap(v.(*msg.Object))
}

// JSON is a message's JSON text.
func JSON(m *msg.Msg) string { return string(msg.Marshal(m.Object)) }

// Build makes a node of a registered type from a JSON config.
func Build(t testing.TB, typ, cfg string) node.Node {
	t.Helper()
	spec, ok := node.Lookup(typ)
	if !ok {
		t.Fatalf("%s not registered", typ)
	}
	n, err := spec.New(Config(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// BadConfig asserts that the config is refused with an error naming prop.
func BadConfig(t testing.TB, typ, cfg, prop string) {
	t.Helper()
	spec, ok := node.Lookup(typ)
	if !ok {
		t.Fatalf("%s not registered", typ)
	}
	_, err := spec.New(Config(cfg))
	var pe *node.PropError
	if !errors.As(err, &pe) {
		t.Fatalf("%s: got %v, want a PropError for %s", cfg, err, prop)
	}
	if pe.Property != prop {
		t.Fatalf("%s: error names %q, want %q (%v)", cfg, pe.Property, prop, err)
	}
}

var _ node.Ctx = (*Ctx)(nil)
var _ node.Scope = (*Scope)(nil)
