package engine_test

import (
	"context"
	"errors"
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

// Stateful test nodes: t-count numbers the messages it sees (state in the
// node value), t-hold keeps messages until one says "flush" (a delay
// node's queue), t-tick sends from a goroutine started in Start with the
// context it was given (a trigger's timer). lifecycle counts New and Close
// per node id.

var lifecycle = struct {
	sync.Mutex
	built, closed map[string]int
	ticks         map[string]chan struct{}
}{built: map[string]int{}, closed: map[string]int{}, ticks: map[string]chan struct{}{}}

// resetLifecycle forgets the counts of ids with a test's prefix, so that
// -count=N runs start from zero.
func resetLifecycle(prefix string) {
	lifecycle.Lock()
	defer lifecycle.Unlock()
	for _, m := range []map[string]int{lifecycle.built, lifecycle.closed} {
		for id := range m {
			if strings.HasPrefix(id, prefix) {
				delete(m, id)
			}
		}
	}
}

func built(id string) int {
	lifecycle.Lock()
	defer lifecycle.Unlock()
	return lifecycle.built[id]
}

func closed(id string) int {
	lifecycle.Lock()
	defer lifecycle.Unlock()
	return lifecycle.closed[id]
}

type tCount struct {
	id string
	n  int
}

func (c *tCount) Input(ctx node.Ctx, m *msg.Msg) error {
	c.n++
	m.Set("payload", float64(c.n))
	ctx.Send(m)
	return nil
}

func (c *tCount) Close(context.Context, bool) error {
	lifecycle.Lock()
	lifecycle.closed[c.id]++
	lifecycle.Unlock()
	return nil
}

type tHold struct {
	tCount
	held []*msg.Msg
}

func (h *tHold) Input(ctx node.Ctx, m *msg.Msg) error {
	if m.Payload() == "flush" {
		for _, x := range h.held {
			ctx.Send(x)
		}
		h.held = nil
		return nil
	}
	h.held = append(h.held, m)
	return nil
}

type tTick struct {
	tCount
	tick chan struct{}
}

func (t *tTick) Start(ctx node.Ctx) error {
	go func() {
		for {
			select {
			case <-ctx.Stopping():
				return
			case <-t.tick:
				t.n++
				m := msg.New()
				m.Set("payload", float64(t.n))
				ctx.Send(m)
			}
		}
	}()
	return nil
}

// tNeedStart fails a message that arrives before Start.
type tNeedStart struct{ started atomic.Bool }

func (n *tNeedStart) Start(node.Ctx) error { n.started.Store(true); return nil }
func (n *tNeedStart) Input(ctx node.Ctx, m *msg.Msg) error {
	if !n.started.Load() {
		return errors.New("input before start")
	}
	ctx.Send(m)
	return nil
}

// tBlock holds its first message until release is closed.
type tBlock struct{}

var release = struct {
	sync.Mutex
	ch chan struct{}
}{ch: make(chan struct{})}

func releaseCh() chan struct{} {
	release.Lock()
	defer release.Unlock()
	return release.ch
}

func (tBlock) Input(ctx node.Ctx, m *msg.Msg) error {
	<-releaseCh()
	ctx.Send(m)
	return nil
}

func init() {
	counted := func(id string) {
		lifecycle.Lock()
		lifecycle.built[id]++
		lifecycle.Unlock()
	}
	node.Register(&node.Spec{Type: "t-count", Inputs: 1, Outputs: 1, New: func(cfg *node.Config) (node.Node, error) {
		counted(cfg.ID())
		return &tCount{id: cfg.ID()}, nil
	}})
	node.Register(&node.Spec{Type: "t-hold", Inputs: 1, Outputs: 1, New: func(cfg *node.Config) (node.Node, error) {
		counted(cfg.ID())
		return &tHold{tCount: tCount{id: cfg.ID()}}, nil
	}})
	node.Register(&node.Spec{Type: "t-tick", Outputs: 1, New: func(cfg *node.Config) (node.Node, error) {
		counted(cfg.ID())
		ch := make(chan struct{})
		lifecycle.Lock()
		lifecycle.ticks[cfg.ID()] = ch
		lifecycle.Unlock()
		return &tTick{tCount: tCount{id: cfg.ID()}, tick: ch}, nil
	}})
	node.Register(&node.Spec{Type: "t-needstart", Inputs: 1, Outputs: 1, New: func(cfg *node.Config) (node.Node, error) {
		return &tNeedStart{}, nil
	}})
	node.Register(&node.Spec{Type: "t-block", Inputs: 1, Outputs: 1, New: func(cfg *node.Config) (node.Node, error) {
		return tBlock{}, nil
	}})
	node.Register(&node.Spec{Type: "t-conf", Config: true, New: func(cfg *node.Config) (node.Node, error) {
		counted(cfg.ID())
		return &tCount{id: cfg.ID()}, nil
	}})
}

func tick(t *testing.T, id string) {
	t.Helper()
	lifecycle.Lock()
	ch := lifecycle.ticks[id]
	lifecycle.Unlock()
	select {
	case ch <- struct{}{}:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s does not tick", id)
	}
}

func redeploy(t *testing.T, e *engine.Engine, typ, flows string) {
	t.Helper()
	set, err := flow.Parse([]byte(flows))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Redeploy(set, nil, typ); err != nil {
		t.Fatal(err)
	}
}

func last(t *testing.T, r *recorder, id string) string {
	t.Helper()
	got := r.of(id)
	if len(got) == 0 {
		t.Fatalf("%s received nothing", id)
	}
	return got[len(got)-1]
}

// incFlows has, on tab t1, two independent chains (ia→ca→outA with a
// config node, ib→cb→outB) and a holding node, and on t2 a ticking source.
// Node ids carry a test prefix so lifecycle counts do not mix between tests.
func incFlows(p, cbName, confName, tickTarget string) string {
	r := strings.NewReplacer("P", p, "CBNAME", cbName, "CONFNAME", confName, "TICKTARGET", tickTarget)
	return r.Replace(`[
	 {"id":"Pt1","type":"tab","label":"one"},
	 {"id":"Pt2","type":"tab","label":"two"},
	 {"id":"Pconf","type":"t-conf","name":"CONFNAME"},
	 {"id":"Pia","type":"t-pass","z":"Pt1","wires":[["Pca"]]},
	 {"id":"Pca","type":"t-count","z":"Pt1","conf":"Pconf","wires":[["P-out-a"]]},
	 {"id":"Pib","type":"t-pass","z":"Pt1","wires":[["Pcb"]]},
	 {"id":"Pcb","type":"t-count","z":"Pt1","name":"CBNAME","wires":[["P-out-b"]]},
	 {"id":"Phold","type":"t-hold","z":"Pt1","wires":[["P-out-h"]]},
	 {"id":"Ptick","type":"t-tick","z":"Pt2","wires":[["TICKTARGET"]]},
	 {"id":"P-out-a","type":"t-out","z":"Pt1"},{"id":"P-out-b","type":"t-out","z":"Pt1"},
	 {"id":"P-out-h","type":"t-out","z":"Pt1"},{"id":"P-out-t","type":"t-out","z":"Pt2"},{"id":"P-out-u","type":"t-out","z":"Pt2"}]`)
}

func TestNodesDeployRestartsOnlyChangedNodes(t *testing.T) {
	resetLifecycle("n")
	e, r := start(t, incFlows("n", "b", "c", "n-out-t"))
	inject(t, e, "nia", `{}`)
	inject(t, e, "nib", `{}`)
	inject(t, e, "nhold", `{"payload":"kept"}`)
	tick(t, "ntick")
	r.wait(t, 3)

	// cb's config changes; tick is rewired to another output. Neither the
	// counter ca nor the holding node changed: they keep their state.
	redeploy(t, e, engine.DeployNodes, incFlows("n", "b2", "c", "n-out-u"))
	if built("nca") != 1 || built("ncb") != 2 {
		t.Errorf("constructions: ca %d (want 1), cb %d (want 2)", built("nca"), built("ncb"))
	}
	if closed("nca") != 0 || closed("nhold") != 0 || closed("ntick") != 0 {
		t.Fatalf("unchanged nodes were closed: ca %d hold %d tick %d", closed("nca"), closed("nhold"), closed("ntick"))
	}
	if closed("ncb") != 1 {
		t.Fatalf("changed node cb closed %d times, want 1", closed("ncb"))
	}
	inject(t, e, "nia", `{}`)
	inject(t, e, "nib", `{}`)
	inject(t, e, "nhold", `{"payload":"flush"}`)
	tick(t, "ntick")
	r.wait(t, 4)
	if got := last(t, r, "n-out-a"); !strings.Contains(got, `"payload":2`) {
		t.Errorf("unchanged counter lost its state: %s", got)
	}
	if got := last(t, r, "n-out-b"); !strings.Contains(got, `"payload":1`) {
		t.Errorf("changed counter was not restarted: %s", got)
	}
	if got := last(t, r, "n-out-h"); !strings.Contains(got, `"payload":"kept"`) {
		t.Errorf("held message lost: %s", got)
	}
	// The ticker kept its goroutine and count, and sends on its new wire.
	if got := last(t, r, "n-out-u"); !strings.Contains(got, `"payload":2`) {
		t.Errorf("rewired ticker: %s", got)
	}
	if n := len(r.of("n-out-t")); n != 1 {
		t.Errorf("old target got %d messages after the rewire, want 1", n)
	}

	// A config node change restarts the nodes that use it.
	redeploy(t, e, engine.DeployNodes, incFlows("n", "b2", "c2", "n-out-u"))
	if closed("nconf") != 1 || closed("nca") != 1 {
		t.Fatalf("config change: conf closed %d, ca closed %d; want 1 and 1", closed("nconf"), closed("nca"))
	}
	if closed("ncb") != 1 || closed("nhold") != 0 {
		t.Fatalf("config change restarted unrelated nodes: cb %d hold %d", closed("ncb"), closed("nhold"))
	}
	inject(t, e, "nia", `{}`)
	r.wait(t, 1)
	if got := last(t, r, "n-out-a"); !strings.Contains(got, `"payload":1`) {
		t.Errorf("node using a changed config node kept its state: %s", got)
	}
}

func TestFlowsDeployRestartsWhatIsWiredToAChange(t *testing.T) {
	resetLifecycle("f")
	e, r := start(t, incFlows("f", "b", "c", "f-out-t"))
	inject(t, e, "fia", `{}`)
	inject(t, e, "fib", `{}`)
	inject(t, e, "fhold", `{"payload":"kept"}`)
	r.wait(t, 2)
	redeploy(t, e, engine.DeployFlows, incFlows("f", "b2", "c", "f-out-t"))
	// cb changed: ib, cb and out-b (wired to it) restart; the other chain,
	// the holding node and tab two keep running.
	for _, id := range []string{"fcb"} {
		if closed(id) != 1 {
			t.Errorf("%s closed %d times, want 1", id, closed(id))
		}
	}
	for _, id := range []string{"fca", "fhold", "ftick", "fconf"} {
		if closed(id) != 0 {
			t.Errorf("%s was restarted by an unrelated change", id)
		}
	}
	inject(t, e, "fia", `{}`)
	inject(t, e, "fhold", `{"payload":"flush"}`)
	r.wait(t, 2)
	if got := last(t, r, "f-out-a"); !strings.Contains(got, `"payload":2`) {
		t.Errorf("unrelated counter lost its state: %s", got)
	}
	if got := last(t, r, "f-out-h"); !strings.Contains(got, `"payload":"kept"`) {
		t.Errorf("held message lost: %s", got)
	}

	// A full deploy restarts everything.
	redeploy(t, e, engine.DeployFull, incFlows("f", "b2", "c", "f-out-t"))
	for _, id := range []string{"fca", "fhold", "ftick", "fconf", "fcb"} {
		if closed(id) == 0 {
			t.Errorf("%s survived a full deploy", id)
		}
	}
}

func TestIncrementalDeployKeepsContextAndRefusesBadSets(t *testing.T) {
	resetLifecycle("x")
	e, r := start(t, incFlows("x", "b", "c", "x-out-t"))
	inject(t, e, "xia", `{}`)
	r.wait(t, 1)
	bad := strings.Replace(incFlows("x", "b", "c", "x-out-t"), `"type":"t-count","z":"xt1","name":"b"`, `"type":"t-pass","z":"xt1","name":"b","bad":"yes"`, 1)
	set, err := flow.Parse([]byte(bad))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Redeploy(set, nil, engine.DeployNodes); err == nil || !strings.Contains(err.Error(), "xcb") {
		t.Fatalf("bad set: %v", err)
	}
	if closed("xca") != 0 || closed("xcb") != 0 {
		t.Fatal("a refused deploy stopped nodes")
	}
	inject(t, e, "xia", `{}`)
	r.wait(t, 1)
	if got := last(t, r, "x-out-a"); !strings.Contains(got, `"payload":2`) {
		t.Errorf("after a refused deploy: %s", got)
	}
	// Credentials are configuration: a changed secret restarts the node.
	set, _ = flow.Parse([]byte(incFlows("x", "b", "c", "x-out-t")))
	if err := e.Redeploy(set, map[string]map[string]string{"xcb": {"password": "new"}}, engine.DeployNodes); err != nil {
		t.Fatal(err)
	}
	if closed("xcb") != 1 || closed("xca") != 0 {
		t.Fatalf("credential change: cb closed %d, ca %d", closed("xcb"), closed("xca"))
	}
}

func TestDiffSets(t *testing.T) {
	parse := func(s string) *flow.Set {
		set, err := flow.Parse([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	old := parse(`[{"id":"t","type":"tab"},
	 {"id":"sf","type":"subflow","in":[],"out":[]},
	 {"id":"in-sf","type":"t-pass","z":"sf","set":"a"},
	 {"id":"inst","type":"subflow:sf","z":"t","wires":[]},
	 {"id":"a","type":"t-pass","z":"t","x":1,"wires":[["b"]]},
	 {"id":"b","type":"t-pass","z":"t","wires":[]},
	 {"id":"c","type":"t-pass","z":"t","wires":[]},
	 {"id":"gone","type":"t-pass","z":"t","wires":[]}]`)
	cur := parse(`[{"id":"t","type":"tab"},
	 {"id":"sf","type":"subflow","in":[],"out":[]},
	 {"id":"in-sf","type":"t-pass","z":"sf","set":"b"},
	 {"id":"inst","type":"subflow:sf","z":"t","wires":[]},
	 {"id":"a","type":"t-pass","z":"t","x":99,"wires":[["b"]]},
	 {"id":"b","type":"t-pass","z":"t","set":"x","wires":[]},
	 {"id":"c","type":"t-pass","z":"t","wires":[["new"]]},
	 {"id":"new","type":"t-pass","z":"t","wires":[]}]`)
	df := engine.DiffSets(old, cur, nil, nil)
	if got, want := df.String(), "+new ~b ~inst -gone >c =a"; got != want {
		t.Fatalf("diff %q, want %q", got, want)
	}
}

func TestKeptNodeKeepsItsQueueAcrossADeploy(t *testing.T) {
	flows := func(name string) string {
		return `[{"id":"kt","type":"tab"},
		 {"id":"kblock","type":"t-block","z":"kt","wires":[["k-out"]]},
		 {"id":"kother","type":"t-pass","z":"kt","name":"` + name + `","wires":[]},
		 {"id":"k-out","type":"t-out","z":"kt"}]`
	}
	release.Lock()
	release.ch = make(chan struct{})
	release.Unlock()
	e, r := start(t, flows("a"))
	for i := 1; i <= 3; i++ {
		inject(t, e, "kblock", `{"payload":`+string(rune('0'+i))+`}`)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		redeploy(t, e, engine.DeployNodes, flows("b"))
	}()
	time.Sleep(100 * time.Millisecond)
	close(releaseCh())
	<-done
	r.wait(t, 3)
	got := r.of("k-out")
	for i, m := range got {
		if want := `"payload":` + string(rune('1'+i)); !strings.Contains(m, want) {
			t.Fatalf("message %d: %s (want %s); all: %v", i, m, want, got)
		}
	}
}

func TestIncrementalDeployWithSubflows(t *testing.T) {
	resetLifecycle("s")
	flows := func(inner, other string) string {
		return `[{"id":"st","type":"tab"},
		 {"id":"ssf","type":"subflow","name":"SF","in":[{"wires":[{"id":"scount"}]}],"out":[{"wires":[{"id":"scount","port":0}]}]},
		 {"id":"scount","type":"t-count","z":"ssf","name":"` + inner + `"},
		 {"id":"sinst","type":"subflow:ssf","z":"st","wires":[["s-out-1"]]},
		 {"id":"sother","type":"t-count","z":"st","name":"` + other + `","wires":[["s-out-2"]]},
		 {"id":"s-out-1","type":"t-out","z":"st"},{"id":"s-out-2","type":"t-out","z":"st"}]`
	}
	e, r := start(t, flows("a", "a"))
	inject(t, e, "sinst", `{}`)
	r.wait(t, 1)
	// An unrelated change keeps the instance, its ports and inner state.
	redeploy(t, e, engine.DeployNodes, flows("a", "b"))
	if closed("scount") != 0 {
		t.Fatal("an unchanged subflow instance was restarted")
	}
	inject(t, e, "sinst", `{}`)
	r.wait(t, 1)
	if got := last(t, r, "s-out-1"); !strings.Contains(got, `"payload":2`) {
		t.Fatalf("through the kept instance: %s", got)
	}
	// A change inside the template restarts every instance.
	redeploy(t, e, engine.DeployNodes, flows("b", "b"))
	if closed("scount") != 1 {
		t.Fatalf("template change: inner node closed %d times, want 1", closed("scount"))
	}
	inject(t, e, "sinst", `{}`)
	r.wait(t, 1)
	if got := last(t, r, "s-out-1"); !strings.Contains(got, `"payload":1`) {
		t.Fatalf("through the restarted instance: %s", got)
	}
}

func TestRestartedNodeStartsBeforeKeptNodesReachIt(t *testing.T) {
	resetLifecycle("r")
	flows := func(name string) string {
		return `[{"id":"rt","type":"tab"},
		 {"id":"rtick","type":"t-tick","z":"rt","wires":[["rneed"]]},
		 {"id":"rneed","type":"t-needstart","z":"rt","name":"` + name + `","wires":[["r-out"]]},
		 {"id":"r-out","type":"t-out","z":"rt"}]`
	}
	e, _ := start(t, flows("a"))
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				tick(t, "rtick")
			}
		}
	}()
	for i, name := range []string{"b", "c", "d", "e"} {
		redeploy(t, e, engine.DeployNodes, flows(name))
		if closed("rtick") != 0 {
			t.Fatalf("deploy %d restarted the source", i)
		}
	}
	close(stop)
	<-done
	for _, st := range e.Stats() {
		if st.ID == "rneed" && st.Errors != 0 {
			t.Fatalf("a restarted node got messages before Start: %d errors", st.Errors)
		}
	}
}
