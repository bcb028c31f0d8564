package function

import (
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
	"github.com/sluicehq/sluice/runtime/nodetest"
)

type fakeCtx = nodetest.Ctx

var (
	newCtx    = nodetest.New
	config    = nodetest.Config
	message   = nodetest.Message
	badConfig = nodetest.BadConfig
)

// build constructs a registered node type from a JSON config.
func build(t testing.TB, typ, cfg string) node.Node { t.Helper(); return nodetest.Build(t, typ, cfg) }

// feed sends one JSON message through n; it returns the JSON of what came
// out of port 0 (or "" when nothing did) and the error.
func feed(t testing.TB, n node.Node, c *fakeCtx, in string) (string, error) {
	t.Helper()
	c.Reset()
	err := n.(node.Inputter).Input(c, message(in))
	for _, s := range c.Calls() {
		if len(s) > 0 && s[0] != nil {
			return string(msg.Marshal(s[0].Object)), err
		}
	}
	return "", err
}
