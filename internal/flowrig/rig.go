// Package flowrig runs flows on a real engine inside a test and records
// what reaches "sink" nodes and every status change, so that node
// packages test their nodes wired into flows the same way.
package flowrig

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/flow"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// How many messages and statuses per node wait for the test to read them.
const (
	SinkBuffer   = 100000
	StatusBuffer = 10000
)

// Rig is an engine whose sinks (nodes with an id starting "sink") and
// statuses are recorded. It is closed when the test ends.
type Rig struct {
	T testing.TB
	E *engine.Engine

	mu     sync.Mutex
	msgs   map[string]chan *msg.Object
	status map[string]chan node.Status
}

// New starts an engine with o; an empty UserDir becomes a temp dir and a
// zero CloseTimeout 10 s.
func New(t testing.TB, o engine.Options) *Rig {
	t.Helper()
	if o.UserDir == "" {
		o.UserDir = t.TempDir()
	}
	if o.CloseTimeout == 0 {
		o.CloseTimeout = 10 * time.Second
	}
	e, err := engine.New(o)
	if err != nil {
		t.Fatal(err)
	}
	r := &Rig{T: t, E: e, msgs: map[string]chan *msg.Object{}, status: map[string]chan node.Status{}}
	e.OnReceive(func(id string, m *msg.Msg) {
		if strings.HasPrefix(id, "sink") {
			r.Sink(id) <- m.Object.Clone()
		}
	})
	e.Subscribe(func(ev engine.Event) {
		if ev.Kind == "status" && ev.Status != nil {
			// Never hold the engine up: a test that stopped reading
			// statuses loses the newest.
			select {
			case r.Statuses(ev.ID) <- *ev.Status:
			default:
			}
		}
	})
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return r
}

// Deploy deploys a whole flow document.
func (r *Rig) Deploy(doc string) {
	r.T.Helper()
	if err := r.E.Deploy([]byte(doc)); err != nil {
		r.T.Fatalf("deploy: %v\n%s", err, doc)
	}
}

// DeployNodes deploys nodes (JSON objects joined by commas) on a tab "tab"
// with credentials by node id.
func (r *Rig) DeployNodes(nodes string, creds map[string]map[string]string) {
	r.T.Helper()
	doc := `[{"id":"tab","type":"tab","label":"t"},` + nodes + `]`
	set, err := flow.Parse([]byte(doc))
	if err != nil {
		r.T.Fatalf("parse: %v\n%s", err, doc)
	}
	if err := r.E.DeploySet(set, creds); err != nil {
		r.T.Fatalf("deploy: %v", err)
	}
}

// Sink is what reached node id, in order.
func (r *Rig) Sink(id string) chan *msg.Object {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.msgs[id] == nil {
		r.msgs[id] = make(chan *msg.Object, SinkBuffer)
	}
	return r.msgs[id]
}

// Statuses is node id's status changes, in order.
func (r *Rig) Statuses(id string) chan node.Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.status[id] == nil {
		r.status[id] = make(chan node.Status, StatusBuffer)
	}
	return r.status[id]
}

// Next waits for the next message at sink id.
func (r *Rig) Next(id string, within time.Duration) *msg.Object {
	r.T.Helper()
	select {
	case m := <-r.Sink(id):
		return m
	case <-time.After(within):
		r.T.Fatalf("no message reached %s within %v", id, within)
	}
	return nil
}

// None checks that nothing reaches sink id for a while.
func (r *Rig) None(id string, within time.Duration) {
	r.T.Helper()
	select {
	case m := <-r.Sink(id):
		r.T.Fatalf("unexpected message at %s: %s", id, msg.Marshal(m))
	case <-time.After(within):
	}
}

// WaitStatus waits for a status of node id that match accepts, skipping
// earlier ones; what describes it in the failure.
func (r *Rig) WaitStatus(id, what string, within time.Duration, match func(node.Status) bool) node.Status {
	r.T.Helper()
	deadline := time.After(within)
	var seen []string
	for {
		select {
		case s := <-r.Statuses(id):
			if match(s) {
				return s
			}
			seen = append(seen, String(s))
		case <-deadline:
			r.T.Fatalf("node %s never showed %s; saw %q", id, what, seen)
		}
	}
}

// FlushStatus forgets the statuses seen so far.
func (r *Rig) FlushStatus(id string) {
	ch := r.Statuses(id)
	for len(ch) > 0 {
		<-ch
	}
}

// Inject sends a message given as JSON into node id.
func (r *Rig) Inject(id, body string) {
	r.T.Helper()
	v, err := msg.UnmarshalString(body)
	if err != nil {
		r.T.Fatal(err)
	}
	if err := r.E.Inject(id, msg.Wrap(v.(*msg.Object))); err != nil {
		r.T.Fatal(err)
	}
}

// String is a status as "fill/shape/text".
func String(s node.Status) string { return s.Fill + "/" + s.Shape + "/" + s.Text }
