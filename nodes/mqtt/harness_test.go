package mqtt

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/flowrig"
	_ "github.com/sluicehq/sluice/nodes/core" // catch, status and complete nodes
	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// Test node types: a pass-through that may sleep, and a sink (any node
// whose id starts with "sink" is recorded by the harness).

type mqtestPass struct{ delay time.Duration }

func (p mqtestPass) Input(c node.Ctx, m *msg.Msg) error {
	if p.delay > 0 {
		time.Sleep(p.delay)
	}
	c.Send(m)
	return nil
}

func init() {
	node.Register(&node.Spec{Type: "mqtest-sink", Inputs: 1, New: func(*node.Config) (node.Node, error) { return struct{}{}, nil }})
	node.Register(&node.Spec{Type: "mqtest-pass", Inputs: 1, Outputs: 1, New: func(cfg *node.Config) (node.Node, error) {
		ms, _ := cfg.Num("delay", 0)
		return mqtestPass{delay: time.Duration(ms * float64(time.Millisecond))}, nil
	}})
	// Shorter pauses so the reconnect tests are quick.
	setReconnectMin(100 * time.Millisecond)
}

type harness struct{ *flowrig.Rig }

type settingsMap map[string]any

func (s settingsMap) Get(name string) (any, bool) { v, ok := s[name]; return v, ok }

func newHarness(t *testing.T, opts ...func(*engine.Options)) *harness {
	t.Helper()
	o := engine.Options{Settings: settingsMap{"mqttReconnectTime": 1000.0}}
	for _, f := range opts {
		f(&o)
	}
	return &harness{flowrig.New(t, o)}
}

func (h *harness) sink(id string) chan *msg.Object { return h.Sink(id) }

// deploy runs a flow made of the given nodes on one tab; creds are per
// node id.
func (h *harness) deploy(nodes string, creds map[string]map[string]string) {
	h.T.Helper()
	h.DeployNodes(nodes, creds)
}

// next waits for the next message at a sink.
func (h *harness) next(id string, within time.Duration) *msg.Object {
	h.T.Helper()
	return h.Next(id, within)
}

func (h *harness) nothing(id string, d time.Duration) {
	h.T.Helper()
	h.None(id, d)
}

// waitStatus waits until node id shows connected, connecting or
// disconnected, or a status whose text contains want.
func (h *harness) waitStatus(id, want string, within time.Duration) node.Status {
	h.T.Helper()
	return h.WaitStatus(id, fmt.Sprintf("%q", want), within, func(s node.Status) bool {
		switch want {
		case "connected", "connecting", "disconnected":
			return s.Text == "node-red:common.status."+want
		}
		return strings.Contains(s.Text, want)
	})
}

// flushStatus forgets the statuses seen so far, so that waitStatus looks
// only at what comes next.
func (h *harness) flushStatus(id string) { h.FlushStatus(id) }

func (h *harness) inject(id string, body string) {
	h.T.Helper()
	h.Inject(id, body)
}

// brokerNode is an mqtt-broker config node for a test broker.
func brokerNode(id string, port int, extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return fmt.Sprintf(`{"id":%q,"type":"mqtt-broker","broker":"127.0.0.1","port":%d,"clientid":"","keepalive":"60","cleansession":true%s}`, id, port, extra)
}
