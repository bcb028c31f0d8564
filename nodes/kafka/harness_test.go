package kafka

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	_ "github.com/sluicehq/sluice/nodes/core" // catch, status and complete nodes
	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/flow"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// Test node types: a sink (any node whose id starts with "sink" is recorded)
// and a node that fails every message while failing is set.

var failing sync.Map // node alias → bool

type ktFail struct{ id string }

func (f ktFail) Input(c node.Ctx, m *msg.Msg) error {
	if v, _ := failing.Load(f.id); v == true {
		return errors.New("downstream failure")
	}
	c.Send(m)
	return nil
}

func init() {
	node.Register(&node.Spec{Type: "kt-sink", Inputs: 1, New: func(*node.Config) (node.Node, error) { return struct{}{}, nil }})
	node.Register(&node.Spec{Type: "kt-fail", Inputs: 1, Outputs: 1, New: func(cfg *node.Config) (node.Node, error) {
		return ktFail{id: cfg.ID()}, nil
	}})
	regexRefresh = time.Second
}

type harness struct {
	t *testing.T
	e *engine.Engine

	mu     sync.Mutex
	msgs   map[string]chan *msg.Object
	status map[string]chan node.Status
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	e, err := engine.New(engine.Options{UserDir: t.TempDir(), CloseTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, e: e, msgs: map[string]chan *msg.Object{}, status: map[string]chan node.Status{}}
	e.OnReceive(func(id string, m *msg.Msg) {
		if strings.HasPrefix(id, "sink") {
			h.sink(id) <- m.Object.Clone()
		}
	})
	e.Subscribe(func(ev engine.Event) {
		if ev.Kind == "status" && ev.Status != nil {
			select {
			case h.statuses(ev.ID) <- *ev.Status:
			default:
			}
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

func (h *harness) none(id string, within time.Duration) {
	h.t.Helper()
	select {
	case m := <-h.sink(id):
		h.t.Fatalf("unexpected message at %s: %s", id, msg.Marshal(m))
	case <-time.After(within):
	}
}

// waitStatus waits for a status of node id whose text contains text.
func (h *harness) waitStatus(id, text string, within time.Duration) node.Status {
	h.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case s := <-h.statuses(id):
			if strings.Contains(s.Text, text) {
				return s
			}
		case <-deadline:
			h.t.Fatalf("node %s never showed status %q", id, text)
		}
	}
}

func (h *harness) inject(id string, m *msg.Object) {
	h.t.Helper()
	if err := h.e.Inject(id, msg.Wrap(m)); err != nil {
		h.t.Fatal(err)
	}
}

// newCluster starts an in-process Kafka-protocol broker on 127.0.0.1.
func newCluster(t testing.TB, opts ...kfake.Opt) (*kfake.Cluster, string) {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, strings.Join(c.ListenAddrs(), ",")
}

// kcat finds Debian's kcat; tests skip without it only outside CI.
func kcat(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("kcat")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("kcat not installed (apt-get install kcat); CI unset")
		}
		t.Fatal("kcat not installed")
	}
	return p
}

// runKcat runs kcat with args and stdin, bounded by a timeout.
func runKcat(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kcat(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("kcat %v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

func brokerNode(addrs string) string {
	return fmt.Sprintf(`{"id":"kb","type":"kafka-broker","brokers":%q,"clientid":"sluice-test"}`, addrs)
}

func contextTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
