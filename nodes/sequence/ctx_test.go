package sequence

import (
	"sync"
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
	"github.com/sluicehq/sluice/runtime/nodetest"
)

type fakeCtx = nodetest.Ctx

// newCtx keeps tracker counts as the engine does: sequence nodes hold
// messages and finish them later.
func newCtx() *fakeCtx {
	c := nodetest.New()
	c.Tracked = true
	return c
}

var (
	config  = nodetest.Config
	message = nodetest.Message
)

// build makes a node of a registered type from a JSON config.
func build(t testing.TB, typ, cfg string) node.Node { t.Helper(); return nodetest.Build(t, typ, cfg) }

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
