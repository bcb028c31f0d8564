package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/flow"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// Test node types, registered once: a pass-through that can mutate or fail,
// and a recorder standing in for debug nodes.

type tPass struct{ set, fail, panicMsg string }

func (p *tPass) Input(c node.Ctx, m *msg.Msg) error {
	if p.panicMsg != "" {
		panic(p.panicMsg)
	}
	if p.fail != "" {
		return errors.New(p.fail)
	}
	if p.set != "" {
		m.Set("payload", p.set)
	}
	c.Send(m)
	return nil
}

type tSource struct {
	n    int
	sent atomic.Int64
}

func (s *tSource) Start(c node.Ctx) error {
	go func() {
		for i := 0; i < s.n; i++ {
			if err := c.Acquire(context.Background()); err != nil {
				return
			}
			m := msg.New()
			m.Set("payload", float64(i))
			c.Send(m)
			s.sent.Add(1)
		}
	}()
	return nil
}

type tStatus struct{}

func (tStatus) Input(c node.Ctx, m *msg.Msg) error {
	c.Status(node.Status{Fill: "green", Shape: "dot", Text: msg.ToString(m.Payload()), Event: "connect", Session: msg.ObjectOf("type", "websocket", "id", "s1")})
	c.Send(m)
	return nil
}

var sources sync.Map

func init() {
	node.Register(&node.Spec{Type: "t-pass", Inputs: 1, Outputs: 1, New: func(cfg *node.Config) (node.Node, error) {
		if cfg.Str("bad") != "" {
			return nil, node.BadProp("bad", cfg.Get("bad"), "is bad")
		}
		return &tPass{set: cfg.Str("set"), fail: cfg.Str("fail"), panicMsg: cfg.Str("panic")}, nil
	}})
	node.Register(&node.Spec{Type: "t-out", Inputs: 1, New: func(cfg *node.Config) (node.Node, error) { return struct{}{}, nil }})
	node.Register(&node.Spec{Type: "t-status", Inputs: 1, Outputs: 1, New: func(cfg *node.Config) (node.Node, error) { return tStatus{}, nil }})
	node.Register(&node.Spec{Type: "t-source", Outputs: 1, New: func(cfg *node.Config) (node.Node, error) {
		n, _ := cfg.Num("count", 0)
		s := &tSource{n: int(n)}
		sources.Store(cfg.ID(), s)
		return s, nil
	}})
	node.Register(&node.Spec{Type: "catch", Outputs: 1, New: func(cfg *node.Config) (node.Node, error) { return passThrough{}, nil }})
	node.Register(&node.Spec{Type: "status", Outputs: 1, New: func(cfg *node.Config) (node.Node, error) { return passThrough{}, nil }})
	node.Register(&node.Spec{Type: "complete", Outputs: 1, New: func(cfg *node.Config) (node.Node, error) { return passThrough{}, nil }})
}

type passThrough struct{}

func (passThrough) Input(c node.Ctx, m *msg.Msg) error { c.Send(m); return nil }

type recorder struct {
	mu  sync.Mutex
	got map[string][]string
	ch  chan struct{}
}

func start(t *testing.T, flowJSON string, opts ...func(*engine.Options)) (*engine.Engine, *recorder) {
	t.Helper()
	o := engine.Options{UserDir: t.TempDir()}
	for _, f := range opts {
		f(&o)
	}
	e, err := engine.New(o)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{got: map[string][]string{}, ch: make(chan struct{}, 1000000)}
	e.OnReceive(func(id string, m *msg.Msg) {
		if !strings.HasPrefix(id, "out") && !strings.Contains(id, "-out") {
			return
		}
		r.mu.Lock()
		r.got[id] = append(r.got[id], string(msg.Marshal(m.Object)))
		r.mu.Unlock()
		r.ch <- struct{}{}
	})
	if err := e.Deploy([]byte(flowJSON)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return e, r
}

func (r *recorder) wait(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for i := 0; i < n; i++ {
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("timed out after %d of %d messages; got %v", i, n, r.got)
		}
	}
}

func (r *recorder) of(id string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got[id]...)
}

func inject(t *testing.T, e *engine.Engine, id string, body string) {
	t.Helper()
	v, err := msg.UnmarshalString(body)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Inject(id, msg.Wrap(v.(*msg.Object))); err != nil {
		t.Fatal(err)
	}
}

func TestFanOutClonesForAllButTheFirstWire(t *testing.T) {
	e, r := start(t, `[
	 {"id":"tab","type":"tab","label":"T"},
	 {"id":"in","type":"t-pass","z":"tab","wires":[["a","b"]]},
	 {"id":"a","type":"t-pass","z":"tab","set":"changed","wires":[["out1"]]},
	 {"id":"b","type":"t-pass","z":"tab","wires":[["out2"]]},
	 {"id":"out1","type":"t-out","z":"tab"},{"id":"out2","type":"t-out","z":"tab"}]`)
	for i := 0; i < 50; i++ {
		inject(t, e, "in", fmt.Sprintf(`{"payload":%d,"_msgid":"m%d"}`, i, i))
	}
	r.wait(t, 100)
	o1, o2 := r.of("out1"), r.of("out2")
	for i := 0; i < 50; i++ {
		if want := fmt.Sprintf(`{"payload":"changed","_msgid":"m%d"}`, i); o1[i] != want {
			t.Fatalf("out1[%d] = %s, want %s", i, o1[i], want)
		}
		if want := fmt.Sprintf(`{"payload":%d,"_msgid":"m%d"}`, i, i); o2[i] != want {
			t.Fatalf("out2[%d] = %s, want %s (the other branch's change leaked)", i, o2[i], want)
		}
	}
}

func TestErrorsReachCatchWithSourceAndCount(t *testing.T) {
	e, r := start(t, `[
	 {"id":"tab","type":"tab","label":"T"},
	 {"id":"in","type":"t-pass","z":"tab","name":"boom","fail":"it broke","wires":[["out0"]]},
	 {"id":"c1","type":"catch","z":"tab","scope":null,"wires":[["out1"]]},
	 {"id":"c2","type":"catch","z":"tab","scope":["other"],"wires":[["out2"]]},
	 {"id":"out0","type":"t-out","z":"tab"},{"id":"out1","type":"t-out","z":"tab"},{"id":"out2","type":"t-out","z":"tab"}]`)
	inject(t, e, "in", `{"payload":1,"_msgid":"x"}`)
	r.wait(t, 1)
	time.Sleep(50 * time.Millisecond)
	got := r.of("out1")
	want := `{"payload":1,"_msgid":"x","error":{"message":"it broke","source":{"id":"in","type":"t-pass","name":"boom","count":1}}}`
	if len(got) != 1 || got[0] != want {
		t.Fatalf("catch got %v, want %s", got, want)
	}
	if len(r.of("out2")) != 0 || len(r.of("out0")) != 0 {
		t.Fatalf("out-of-scope catch or output fired: %v", r.got)
	}
}

func TestPanicBecomesAnErrorAndTheProcessLives(t *testing.T) {
	e, r := start(t, `[
	 {"id":"tab","type":"tab","label":"T"},
	 {"id":"in","type":"t-pass","z":"tab","panic":"kaboom"},
	 {"id":"c1","type":"catch","z":"tab","wires":[["out1"]]},
	 {"id":"out1","type":"t-out","z":"tab"}]`)
	inject(t, e, "in", `{"payload":1}`)
	inject(t, e, "in", `{"payload":2}`)
	r.wait(t, 2)
	if got := r.of("out1")[1]; !strings.Contains(got, `"message":"kaboom"`) {
		t.Fatalf("got %s", got)
	}
}

func TestStatusReachesStatusNodes(t *testing.T) {
	e, r := start(t, `[
	 {"id":"tab","type":"tab","label":"T"},
	 {"id":"in","type":"t-status","z":"tab","name":"s"},
	 {"id":"st","type":"status","z":"tab","scope":null,"wires":[["out1"]]},
	 {"id":"out1","type":"t-out","z":"tab"}]`)
	inject(t, e, "in", `{"payload":"hi"}`)
	r.wait(t, 1)
	got := r.of("out1")[0]
	if !strings.Contains(got, `"status":{"fill":"green","shape":"dot","text":"hi","event":"connect","_session":{"type":"websocket","id":"s1"},"source":{"id":"in","type":"t-status","name":"s"}}`) {
		t.Fatalf("got %s", got)
	}
}

func TestSubflowInstancesAreIndependentAndWired(t *testing.T) {
	e, r := start(t, `[
	 {"id":"tab","type":"tab","label":"T"},
	 {"id":"sf","type":"subflow","name":"SF","in":[{"wires":[{"id":"p"}]}],"out":[{"wires":[{"id":"p","port":0}]},{"wires":[{"id":"sf","port":0}]}],
	  "env":[{"name":"GREETING","type":"str","value":"hello"}]},
	 {"id":"p","type":"t-pass","z":"sf","set":"${GREETING}"},
	 {"id":"in","type":"subflow:sf","z":"tab","env":[{"name":"GREETING","type":"str","value":"bonjour"}],"wires":[["out1"],["out2"]]},
	 {"id":"in2","type":"subflow:sf","z":"tab","wires":[["out3"],[]]},
	 {"id":"out1","type":"t-out","z":"tab"},{"id":"out2","type":"t-out","z":"tab"},{"id":"out3","type":"t-out","z":"tab"}]`)
	inject(t, e, "in", `{"payload":1,"_msgid":"a"}`)
	inject(t, e, "in2", `{"payload":1,"_msgid":"b"}`)
	r.wait(t, 3)
	if got := r.of("out1"); len(got) != 1 || got[0] != `{"payload":"bonjour","_msgid":"a"}` {
		t.Fatalf("out1 %v", got)
	}
	if got := r.of("out2"); len(got) != 1 || got[0] != `{"payload":1,"_msgid":"a"}` {
		t.Fatalf("out2 (input wired straight to output 2) %v", got)
	}
	if got := r.of("out3"); len(got) != 1 || got[0] != `{"payload":"hello","_msgid":"b"}` {
		t.Fatalf("out3 %v", got)
	}
}

func TestUnhandledSubflowErrorGoesToParentCatch(t *testing.T) {
	e, r := start(t, `[
	 {"id":"tab","type":"tab","label":"T"},
	 {"id":"sf","type":"subflow","name":"SF","in":[{"wires":[{"id":"p"}]}],"out":[]},
	 {"id":"p","type":"t-pass","z":"sf","fail":"inner"},
	 {"id":"in","type":"subflow:sf","z":"tab"},
	 {"id":"c","type":"catch","z":"tab","scope":["in"],"wires":[["out1"]]},
	 {"id":"out1","type":"t-out","z":"tab"}]`)
	inject(t, e, "in", `{"payload":1}`)
	r.wait(t, 1)
	if got := r.of("out1")[0]; !strings.Contains(got, `"message":"inner","source":{"id":"in-p","type":"t-pass"`) {
		t.Fatalf("got %s", got)
	}
}

func TestInvalidDeployIsRefusedAndRunningFlowsKeepRunning(t *testing.T) {
	e, r := start(t, `[{"id":"tab","type":"tab"},{"id":"in","type":"t-pass","z":"tab","wires":[["out1"]]},{"id":"out1","type":"t-out","z":"tab"}]`)
	err := e.Deploy([]byte(`[{"id":"tab","type":"tab"},{"id":"x","type":"nope","z":"tab"},{"id":"y","type":"t-pass","z":"tab","bad":"1"},{"id":"x","type":"t-out"},{"type":"t-out"}]`))
	var le *flow.LoadError
	if !errors.As(err, &le) {
		t.Fatalf("want a LoadError, got %v", err)
	}
	text := err.Error()
	for _, want := range []string{`unknown node type "nope"`, "duplicate-id", "missing-id"} {
		if !strings.Contains(text, want) {
			t.Errorf("error lacks %q:\n%s", want, text)
		}
	}
	inject(t, e, "in", `{"payload":"still here"}`)
	r.wait(t, 1)
	// A construction error names the node and property.
	err = e.Deploy([]byte(`[{"id":"tab","type":"tab"},{"id":"y","type":"t-pass","z":"tab","bad":"1"}]`))
	if err == nil || !strings.Contains(err.Error(), `node y (t-pass) property "bad": is bad`) {
		t.Fatalf("got %v", err)
	}
}

func TestToleratesMissingTabAndDanglingWires(t *testing.T) {
	set, err := flow.Parse([]byte(`[{"id":"in","type":"t-pass","z":"gone","wires":[["nowhere","out1"]]},{"id":"out1","type":"t-out","z":"gone"}]`))
	if err != nil {
		t.Fatal(err)
	}
	ps := set.Validate(flow.ValidateOptions{})
	codes := map[string]int{}
	for _, p := range ps {
		if p.Severity != "warning" {
			t.Errorf("unexpected error %v", p)
		}
		codes[p.Code]++
	}
	if codes["missing-tab"] != 2 || codes["dangling-wire"] != 1 {
		t.Fatalf("problems %v", ps)
	}
	if _, ok := set.Tabs["gone"]; !ok {
		t.Fatal("missing tab not created")
	}
}

func TestBackpressureBoundsTheQueueAndLosesNothing(t *testing.T) {
	e, r := start(t, `[{"id":"tab","type":"tab"},
	 {"id":"src","type":"t-source","z":"tab","count":20000,"wires":[["slow"]]},
	 {"id":"slow","type":"t-pass","z":"tab","wires":[["out1"]]},
	 {"id":"out1","type":"t-out","z":"tab"}]`, func(o *engine.Options) { o.MaxInflight = 100 })
	peak := int64(0)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if n := e.Inflight(); n > peak {
				peak = n
			}
		}
	}()
	r.wait(t, 20000)
	close(done)
	if got := len(r.of("out1")); got != 20000 {
		t.Fatalf("got %d messages", got)
	}
	// Two hops can each hold a full window at the moment the source checks.
	if peak > 250 {
		t.Fatalf("inflight peaked at %d with a limit of 100", peak)
	}
}

func TestLoopsDoNotDeadlock(t *testing.T) {
	// a → b → a forever would grow without bound; a counter node stops it.
	e, r := start(t, `[{"id":"tab","type":"tab"},
	 {"id":"in","type":"t-pass","z":"tab","wires":[["b","out1"]]},
	 {"id":"b","type":"t-pass","z":"tab","wires":[["in"]]},
	 {"id":"out1","type":"t-out","z":"tab"}]`, func(o *engine.Options) { o.MaxInflight = 4 })
	inject(t, e, "in", `{"payload":0}`)
	r.wait(t, 1000) // many laps through a loop wider than the in-flight limit
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestTrackerCompletesAfterFanOut(t *testing.T) {
	e, r := start(t, `[{"id":"tab","type":"tab"},
	 {"id":"in","type":"t-pass","z":"tab","wires":[["a","b"]]},
	 {"id":"a","type":"t-pass","z":"tab","wires":[["out1"]]},
	 {"id":"b","type":"t-pass","z":"tab","wires":[["out2","out3"]]},
	 {"id":"out1","type":"t-out","z":"tab"},{"id":"out2","type":"t-out","z":"tab"},{"id":"out3","type":"t-out","z":"tab"}]`)
	done := make(chan error, 1)
	m := msg.New()
	m.Track = msg.NewTracker(func(err error) { done <- err })
	if err := e.Inject("in", m); err != nil {
		t.Fatal(err)
	}
	m.Track.Done(nil) // the source's own reference
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("tracker never completed")
	}
	if n := len(r.of("out1")) + len(r.of("out2")) + len(r.of("out3")); n != 3 {
		t.Fatalf("tracker completed before all copies arrived: %d", n)
	}
}

type tCtxSetter struct{}

func (tCtxSetter) Start(c node.Ctx) error { return c.NodeContext().Set("k", "kept", "") }
func (tCtxSetter) Input(c node.Ctx, m *msg.Msg) error {
	v, _ := c.NodeContext().Get("k", "")
	m.Set("payload", v)
	c.Send(m)
	return nil
}

func init() {
	node.Register(&node.Spec{Type: "t-ctx", Inputs: 1, Outputs: 1, New: func(cfg *node.Config) (node.Node, error) { return tCtxSetter{}, nil }})
}

func TestNodeContextSetAtStartSurvivesTheDeploy(t *testing.T) {
	e, r := start(t, `[{"id":"tab","type":"tab"},{"id":"in","type":"t-ctx","z":"tab","wires":[["out1"]]},{"id":"out1","type":"t-out","z":"tab"}]`)
	inject(t, e, "in", `{"payload":0,"_msgid":"a"}`)
	r.wait(t, 1)
	if got := r.of("out1")[0]; got != `{"payload":"kept","_msgid":"a"}` {
		t.Fatalf("node context set in Start was cleaned away: %s", got)
	}
}

func TestNodeErrorsReachTheDebugSidebar(t *testing.T) {
	e, _ := start(t, `[{"id":"tab","type":"tab"},{"id":"in","type":"t-pass","z":"tab","fail":"nope"}]`)
	got := make(chan *msg.Object, 4)
	cancel := e.Subscribe(func(ev engine.Event) {
		if o, ok := ev.Data.(*msg.Object); ok && ev.Kind == "debug" {
			got <- o
		}
	})
	defer cancel()
	inject(t, e, "in", `{"payload":1,"topic":"t1"}`)
	select {
	case o := <-got:
		if s := string(msg.Marshal(o)); !strings.Contains(s, `"level":20,"msg":"nope","format":"string","topic":"t1"`) {
			t.Fatalf("sidebar event %s", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no sidebar event for a node error")
	}
}
