package parser

import (
	"testing"

	"github.com/sluicehq/sluice/runtime/node"
	"github.com/sluicehq/sluice/runtime/nodetest"
)

type fakeCtx = nodetest.Ctx

var (
	newCtx  = nodetest.New
	config  = nodetest.Config
	message = nodetest.Message
)

// buildNode makes a node of a registered type from a JSON config.
func buildNode(t testing.TB, typ, cfg string) node.Inputter {
	t.Helper()
	return nodetest.Build(t, typ, cfg).(node.Inputter)
}
