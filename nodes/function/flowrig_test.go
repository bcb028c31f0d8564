package function

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// A rig runs a real engine for the nodes whose behaviour depends on time
// or on other goroutines (delay, trigger, exec): messages reaching nodes
// whose id starts with "sink" are recorded with their arrival time.

func init() {
	node.Register(&node.Spec{Type: "fnrig-sink", Inputs: 1, New: func(*node.Config) (node.Node, error) { return struct{}{}, nil }})
}

type rigSettings map[string]any

func (s rigSettings) Get(name string) (any, bool) { v, ok := s[name]; return v, ok }

type rigMsg struct {
	o  *msg.Object
	at time.Time
}

type rig struct {
	t      *testing.T
	e      *engine.Engine
	start  time.Time
	mu     sync.Mutex
	got    map[string][]rigMsg
	status map[string][]node.Status
	wake   chan struct{}
	logs   rigLog
}

// rigLog is the engine's log, kept for assertions and failure reports.
type rigLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *rigLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *rigLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newRig deploys one tab holding the given nodes (JSON objects without z,
// x, y, which are added).
func newRig(t *testing.T, settings rigSettings, nodes ...string) *rig {
	t.Helper()
	r := &rig{t: t, got: map[string][]rigMsg{}, status: map[string][]node.Status{}, wake: make(chan struct{}, 1)}
	e, err := engine.New(engine.Options{UserDir: t.TempDir(), Settings: settings, CloseTimeout: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(&r.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r.e = e
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("engine log:\n%s", r.logs.String())
		}
	})
	e.OnReceive(func(id string, m *msg.Msg) {
		if !strings.HasPrefix(id, "sink") {
			return
		}
		r.mu.Lock()
		r.got[id] = append(r.got[id], rigMsg{o: m.Object.Clone(), at: time.Now()})
		r.mu.Unlock()
		r.poke()
	})
	e.Subscribe(func(ev engine.Event) {
		if ev.Kind == "status" && ev.Status != nil {
			r.mu.Lock()
			r.status[ev.ID] = append(r.status[ev.ID], *ev.Status)
			r.mu.Unlock()
			r.poke()
		}
	})
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	var b strings.Builder
	b.WriteString(`[{"id":"t1","type":"tab","label":"t"}`)
	for i, n := range nodes {
		b.WriteString(",")
		b.WriteString(strings.TrimSuffix(strings.TrimSpace(n), "}"))
		b.WriteString(`,"z":"t1","x":` + strconv.Itoa(100+i*10) + `,"y":100}`)
	}
	b.WriteString("]")
	if err := e.Deploy([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	r.start = time.Now()
	return r
}

func (r *rig) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// send injects a JSON message into a node.
func (r *rig) send(id, js string) {
	r.t.Helper()
	r.sendMsg(id, message(js))
}

func (r *rig) sendMsg(id string, m *msg.Msg) {
	r.t.Helper()
	if err := r.e.Inject(id, m); err != nil {
		r.t.Fatal(err)
	}
}

// wait returns the messages a sink got once it has n of them.
func (r *rig) wait(id string, n int, within time.Duration) []rigMsg {
	r.t.Helper()
	deadline := time.After(within)
	for {
		r.mu.Lock()
		got := append([]rigMsg(nil), r.got[id]...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-r.wake:
		case <-deadline:
			r.t.Fatalf("%s got %d message(s) within %s, want %d: %s", id, len(got), within, n, rigJSON(got))
			return nil
		}
	}
}

// waitStatus waits for a status of node id satisfying ok.
func (r *rig) waitStatus(id string, within time.Duration, ok func(node.Status) bool) {
	r.t.Helper()
	deadline := time.After(within)
	for {
		r.mu.Lock()
		for _, s := range r.status[id] {
			if ok(s) {
				r.mu.Unlock()
				return
			}
		}
		all := append([]node.Status(nil), r.status[id]...)
		r.mu.Unlock()
		select {
		case <-r.wake:
		case <-deadline:
			r.t.Fatalf("%s: no matching status within %s; got %+v", id, within, all)
		}
	}
}

// exactly waits a little and checks that the sink got exactly these
// messages (JSON, in order).
func (r *rig) exactly(id string, settle time.Duration, want ...string) []rigMsg {
	r.t.Helper()
	if len(want) > 0 {
		r.wait(id, len(want), 5*time.Second)
	}
	time.Sleep(settle)
	r.mu.Lock()
	got := append([]rigMsg(nil), r.got[id]...)
	r.mu.Unlock()
	var gotJS []string
	for _, g := range got {
		o := g.o.Clone()
		o.Delete("_msgid")
		gotJS = append(gotJS, string(msg.Marshal(o)))
	}
	if strings.Join(gotJS, "\n") != strings.Join(want, "\n") {
		r.t.Fatalf("%s got:\n%s\nwant:\n%s", id, strings.Join(gotJS, "\n"), strings.Join(want, "\n"))
	}
	return got
}

func rigJSON(ms []rigMsg) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, string(msg.Marshal(m.o)))
	}
	return strings.Join(parts, " ")
}

// sendTracked injects a message as a source does, with a tracker; the
// channel gets the outcome once every copy of it has been handled.
func (r *rig) sendTracked(id, js string) chan error {
	r.t.Helper()
	done := make(chan error, 1)
	m := message(js)
	m.Track = msg.NewTracker(func(err error) { done <- err })
	r.sendMsg(id, m)
	m.Track.Done(nil) // the source's own hold
	return done
}

// finished reports whether a tracked message is done, waiting up to d.
func finished(done chan error, d time.Duration) (error, bool) {
	select {
	case err := <-done:
		return err, true
	case <-time.After(d):
		return nil, false
	}
}

func msgMarshal(v any) []byte            { return msg.Marshal(v) }
func stringsContains(s, sub string) bool { return strings.Contains(s, sub) }

// feedMsg sends one message through n and reports whether anything came
// out.
func feedMsg(t testing.TB, n node.Node, c *fakeCtx, m *msg.Msg) bool {
	t.Helper()
	c.Reset()
	if err := n.(node.Inputter).Input(c, m); err != nil {
		t.Fatal(err)
	}
	return len(c.Calls()) > 0
}
