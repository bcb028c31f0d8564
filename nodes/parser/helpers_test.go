package parser

import (
	"testing"

	"github.com/sluicehq/sluice/runtime/node"
)

// buildNode makes a node of a registered type from a JSON config.
func buildNode(t testing.TB, typ, cfg string) node.Inputter {
	t.Helper()
	spec, ok := node.Lookup(typ)
	if !ok {
		t.Fatalf("%s not registered", typ)
	}
	n, err := spec.New(config(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return n.(node.Inputter)
}
