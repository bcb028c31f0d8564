package kafka

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// ktHold is a sink that keeps every message unfinished until released, as
// a sink waiting for its broker's ack does.
type ktHold struct{}

var (
	heldMu sync.Mutex
	held   []func()
)

func (ktHold) DeferDone() {}

func (ktHold) Input(c node.Ctx, m *msg.Msg) error {
	heldMu.Lock()
	held = append(held, func() { c.Done(m, nil) })
	heldMu.Unlock()
	return nil
}

func heldCount() int {
	heldMu.Lock()
	defer heldMu.Unlock()
	return len(held)
}

// releaseHeld finishes the held messages and says how many there were.
func releaseHeld() int {
	heldMu.Lock()
	fs := held
	held = nil
	heldMu.Unlock()
	for _, f := range fs {
		f()
	}
	return len(fs)
}

func init() {
	node.Register(&node.Spec{Type: "kt-hold", Inputs: 1, New: func(*node.Config) (node.Node, error) { return ktHold{}, nil }})
}

// kafka in stops reading while maxUnfinished of its messages are out in
// the flows, even when they have left every queue, and goes on as they
// finish.
func TestInUnfinishedBound(t *testing.T) {
	kcat(t)
	defer func(n int) { maxUnfinished = n }(maxUnfinished)
	maxUnfinished = 5
	_, addrs := newCluster(t, kfake.SeedTopics(1, "bound-in"))
	runKcat(t, strings.Repeat("x\n", 20), "-b", addrs, "-P", "-t", "bound-in")
	h := newHarness(t)
	h.deploy(brokerNode(addrs)+`,
		{"id":"ki","type":"kafka in","z":"tab","broker":"kb","topics":"bound-in","group":"g","start":"earliest","wires":[["hold"]]},
		{"id":"hold","type":"kt-hold","z":"tab"}`, nil)
	deadline := time.Now().Add(15 * time.Second)
	for heldCount() < 5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	if n := heldCount(); n != 5 {
		t.Fatalf("%d messages out unfinished, want 5", n)
	}
	total := 0
	for total < 20 && time.Now().Before(deadline) {
		total += releaseHeld()
		time.Sleep(50 * time.Millisecond)
	}
	if total != 20 {
		t.Fatalf("%d of 20 messages delivered", total)
	}
}
