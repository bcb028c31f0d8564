package mqtt

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/sluicehq/sluice/nodes/core" // catch, status and complete nodes
	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/flow"
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

type harness struct {
	t *testing.T
	e *engine.Engine

	mu     sync.Mutex
	msgs   map[string]chan *msg.Object
	status map[string]chan node.Status
	errs   chan string
}

type settingsMap map[string]any

func (s settingsMap) Get(name string) (any, bool) { v, ok := s[name]; return v, ok }

func newHarness(t *testing.T, opts ...func(*engine.Options)) *harness {
	t.Helper()
	o := engine.Options{UserDir: t.TempDir(), CloseTimeout: 10 * time.Second, Settings: settingsMap{"mqttReconnectTime": 1000.0}}
	for _, f := range opts {
		f(&o)
	}
	e, err := engine.New(o)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, e: e, msgs: map[string]chan *msg.Object{}, status: map[string]chan node.Status{}, errs: make(chan string, 1000)}
	e.OnReceive(func(id string, m *msg.Msg) {
		if strings.HasPrefix(id, "sink") {
			h.sink(id) <- m.Object.Clone()
		}
	})
	e.Subscribe(func(ev engine.Event) {
		if ev.Kind == "status" && ev.Status != nil {
			h.statuses(ev.ID) <- *ev.Status
		}
	})
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return h
}

func (h *harness) sink(id string) chan *msg.Object {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.msgs[id] == nil {
		h.msgs[id] = make(chan *msg.Object, 100000)
	}
	return h.msgs[id]
}

func (h *harness) statuses(id string) chan node.Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.status[id] == nil {
		h.status[id] = make(chan node.Status, 1000)
	}
	return h.status[id]
}

// deploy runs a flow made of the given nodes on one tab; creds are per
// node id.
func (h *harness) deploy(nodes string, creds map[string]map[string]string) {
	h.t.Helper()
	doc := `[{"id":"tab","type":"tab","label":"t"},` + nodes + `]`
	set, err := flow.Parse([]byte(doc))
	if err != nil {
		h.t.Fatalf("parse: %v\n%s", err, doc)
	}
	if err := h.e.DeploySet(set, creds); err != nil {
		h.t.Fatalf("deploy: %v", err)
	}
}

// next waits for the next message at a sink.
func (h *harness) next(id string, within time.Duration) *msg.Object {
	h.t.Helper()
	select {
	case m := <-h.sink(id):
		return m
	case <-time.After(within):
		h.t.Fatalf("no message reached %s", id)
	}
	return nil
}

func (h *harness) nothing(id string, d time.Duration) {
	h.t.Helper()
	select {
	case m := <-h.sink(id):
		h.t.Fatalf("unexpected message at %s: %s", id, msg.Marshal(m))
	case <-time.After(d):
	}
}

// waitStatus waits until node id shows connected, connecting or
// disconnected, or a status whose text contains want.
func (h *harness) waitStatus(id, want string, within time.Duration) node.Status {
	h.t.Helper()
	deadline := time.After(within)
	var seen []string
	match := func(text string) bool {
		switch want {
		case "connected", "connecting", "disconnected":
			return text == "node-red:common.status."+want
		}
		return strings.Contains(text, want)
	}
	for {
		select {
		case s := <-h.statuses(id):
			if match(s.Text) {
				return s
			}
			seen = append(seen, s.Text)
		case <-deadline:
			h.t.Fatalf("node %s never showed %q; saw %q", id, want, seen)
		}
	}
}

// flushStatus forgets the statuses seen so far, so that waitStatus looks
// only at what comes next.
func (h *harness) flushStatus(id string) {
	ch := h.statuses(id)
	for len(ch) > 0 {
		<-ch
	}
}

func (h *harness) inject(id string, body string) {
	h.t.Helper()
	v, err := msg.UnmarshalString(body)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.e.Inject(id, msg.Wrap(v.(*msg.Object))); err != nil {
		h.t.Fatal(err)
	}
}

// brokerNode is an mqtt-broker config node for a test broker.
func brokerNode(id string, port int, extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return fmt.Sprintf(`{"id":%q,"type":"mqtt-broker","broker":"127.0.0.1","port":%d,"clientid":"","keepalive":"60","cleansession":true%s}`, id, port, extra)
}
