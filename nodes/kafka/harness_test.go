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

	"github.com/sluicehq/sluice/internal/flowrig"
	_ "github.com/sluicehq/sluice/nodes/core" // catch, status and complete nodes
	"github.com/sluicehq/sluice/runtime/engine"
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

type harness struct{ *flowrig.Rig }

func newHarness(t *testing.T) *harness {
	t.Helper()
	return &harness{flowrig.New(t, engine.Options{})}
}

func (h *harness) sink(id string) chan *msg.Object { return h.Sink(id) }

func (h *harness) deploy(nodes string, creds map[string]map[string]string) {
	h.T.Helper()
	h.DeployNodes(nodes, creds)
}

func (h *harness) next(id string, within time.Duration) *msg.Object {
	h.T.Helper()
	return h.Next(id, within)
}

func (h *harness) none(id string, within time.Duration) {
	h.T.Helper()
	h.None(id, within)
}

// waitStatus waits for a status of node id whose text contains text.
func (h *harness) waitStatus(id, text string, within time.Duration) node.Status {
	h.T.Helper()
	return h.WaitStatus(id, fmt.Sprintf("status %q", text), within, func(s node.Status) bool { return strings.Contains(s.Text, text) })
}

func (h *harness) inject(id string, m *msg.Object) {
	h.T.Helper()
	if err := h.E.Inject(id, msg.Wrap(m)); err != nil {
		h.T.Fatal(err)
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
