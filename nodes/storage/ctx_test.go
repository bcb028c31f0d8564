package storage

import (
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
	"github.com/sluicehq/sluice/runtime/nodetest"
)

type fakeCtx = nodetest.Ctx

var (
	newCtx  = nodetest.New
	message = nodetest.Message
	jsonOf  = nodetest.JSON
)

// build makes a node of a registered type from a JSON config.
func build(t testing.TB, typ, cfg string) node.Node { t.Helper(); return nodetest.Build(t, typ, cfg) }

func feed(t testing.TB, n node.Node, c *fakeCtx, m *msg.Msg) {
	t.Helper()
	if err := n.(node.Inputter).Input(c, m); err != nil {
		c.Error(err, m)
	}
}
