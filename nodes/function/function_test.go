package function

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
	"github.com/sluicehq/sluice/runtime/nodetest"
)

// fnCtx records what a function node does; "sent" lists "port:json".
type fnCtx struct{ *nodetest.Ctx }

func newFnCtx() *fnCtx {
	c := nodetest.New()
	c.NodeID, c.NodeType = "fn1", "function"
	// The node may go on changing a message after reporting an error on it.
	c.CloneErrors = true
	return &fnCtx{c}
}

// sentJSON is what has been sent so far, one "port:json" per message.
func (c *fnCtx) sentJSON() []string {
	var out []string
	for _, s := range c.Sent() {
		out = append(out, itoa(s.Port)+":"+nodetest.JSON(s.Msg))
	}
	return out
}

func (c *fnCtx) errTexts() []string { return c.ErrTexts() }

func (c *fnCtx) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	c.WaitFor(t, what, cond)
}

// startFn builds and starts a function node from a JSON config.
func startFn(t testing.TB, cfg string, c *fnCtx) *fnNode {
	t.Helper()
	n := build(t, "function", cfg).(*fnNode)
	if err := n.Start(c); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = n.Close(ctx, false)
	})
	return n
}

func fnConfig(body string) string {
	return `{"id":"fn1","type":"function","func":` + msg.Quote(body) + `,"outputs":1}`
}

// runFn sends one message through a node with this body and returns what
// came out.
func runFn(t *testing.T, body, in string) ([]string, *fnCtx) {
	t.Helper()
	c := newFnCtx()
	n := startFn(t, fnConfig(body), c)
	if err := n.Input(c, message(in)); err != nil {
		t.Fatal(err)
	}
	return c.sentJSON(), c
}

func TestFunctionReturnMsg(t *testing.T) {
	out, c := runFn(t, `msg.payload.y = msg.payload.x * 2; return msg;`, `{"_msgid":"m1","payload":{"x":21}}`)
	if len(out) != 1 || out[0] != `0:{"_msgid":"m1","payload":{"x":21,"y":42}}` {
		t.Fatalf("got %v", out)
	}
	if len(c.Dones()) != 1 || c.Dones()[0].Err != nil {
		t.Fatalf("done %v", c.Dones())
	}
}

func TestFunctionIdentityAndArrays(t *testing.T) {
	body := `
	const p = msg.payload;
	msg.same = (p === msg.payload) && (msg.payload.arr === msg.payload.arr) && (msg.payload.buf === msg.payload.buf);
	msg.payload.arr.push(3);
	const a = msg.payload.arr; a.push(4);
	msg.isArr = Array.isArray(msg.payload.arr);
	msg.len = msg.payload.arr.length;
	const o = {}; msg.payload.o = o; o.late = true;
	const l = []; msg.payload.l = l; l.push("x");
	msg.payload.nested = [[1],[2]]; msg.payload.nested[1].push(5);
	return msg;`
	out, _ := runFn(t, body, `{"_msgid":"m1","payload":{"arr":[1,2],"buf":{"type":"Buffer","data":[1]}}}`)
	want := `0:{"_msgid":"m1","payload":{"arr":[1,2,3,4],"buf":{"type":"Buffer","data":[1]},"o":{"late":true},"l":["x"],"nested":[[1],[2,5]]},"same":true,"isArr":true,"len":4}`
	if len(out) != 1 || out[0] != want {
		t.Fatalf("got  %v\nwant %s", out, want)
	}
}

func TestFunctionKeyOrder(t *testing.T) {
	body := `msg.payload = {b:1, a:2, 2:"x", 1:"y"}; msg.payload.c = 3; delete msg.payload.b; msg.payload.b = 4; return msg;`
	out, _ := runFn(t, body, `{"_msgid":"m1","z":1}`)
	want := `0:{"_msgid":"m1","z":1,"payload":{"1":"y","2":"x","a":2,"c":3,"b":4}}`
	if len(out) != 1 || out[0] != want {
		t.Fatalf("got  %v\nwant %s", out, want)
	}
}

func TestFunctionMultipleOutputs(t *testing.T) {
	c := newFnCtx()
	n := startFn(t, `{"id":"fn1","type":"function","func":"return [msg, null, [{payload:1},{payload:2}]];","outputs":3}`, c)
	_ = n.Input(c, message(`{"_msgid":"m1","payload":0}`))
	got := strings.Join(c.sentJSON(), " ")
	want := `0:{"_msgid":"m1","payload":0} 2:{"payload":1,"_msgid":"m1"} 2:{"payload":2,"_msgid":"m1"}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestFunctionSendClones(t *testing.T) {
	body := `node.send(msg); msg.payload = "changed"; node.send(msg, false); msg.payload = "after"; return null;`
	out, c := runFn(t, body, `{"_msgid":"m1","payload":"orig"}`)
	want := []string{`0:{"_msgid":"m1","payload":"orig"}`, `0:{"_msgid":"m1","payload":"after"}`}
	if strings.Join(out, " ") != strings.Join(want, " ") {
		t.Fatalf("got %v", out)
	}
	if c.Sent()[1].Msg.Object != c.Dones()[0].Msg.Object {
		t.Fatal("node.send(msg, false) must send the message itself")
	}
}

func TestFunctionAsyncSend(t *testing.T) {
	c := newFnCtx()
	n := startFn(t, fnConfig(`setTimeout(() => { msg.payload = "later"; node.send(msg); node.done(); }, 20); return null;`), c)
	_ = n.Input(c, message(`{"_msgid":"m1","payload":1}`))
	if len(c.sentJSON()) != 0 {
		t.Fatal("sent too early")
	}
	c.waitFor(t, "timer send", func() bool { return len(c.sentJSON()) == 1 })
	c.waitFor(t, "done", func() bool { return len(c.Dones()) == 1 })
	if got := c.sentJSON()[0]; got != `0:{"_msgid":"m1","payload":"later"}` {
		t.Fatal(got)
	}
}

func TestFunctionAwait(t *testing.T) {
	c := newFnCtx()
	n := startFn(t, fnConfig(`await new Promise(r => setTimeout(r, 10)); msg.payload = "awaited"; return msg;`), c)
	_ = n.Input(c, message(`{"_msgid":"m1","payload":1}`))
	c.waitFor(t, "await", func() bool { return len(c.sentJSON()) == 1 })
	c.waitFor(t, "done", func() bool { return len(c.Dones()) == 1 })
}

func TestFunctionNodeStatePersists(t *testing.T) {
	c := newFnCtx()
	n := startFn(t, fnConfig(`counter = (typeof counter === "undefined") ? 1 : counter + 1; context.set("n", (context.get("n")||0) + 1); msg.payload = [counter, context.get("n")]; return msg;`), c)
	for i := 0; i < 3; i++ {
		_ = n.Input(c, message(`{"_msgid":"m1"}`))
	}
	if got := c.sentJSON()[2]; got != `0:{"_msgid":"m1","payload":[3,3]}` {
		t.Fatal(got)
	}
}

func TestFunctionThrowToCatch(t *testing.T) {
	_, c := runFn(t, "const a = 1;\nnull.x;", `{"_msgid":"m1"}`)
	if len(c.Errs()) != 1 {
		t.Fatalf("errors %v", c.errTexts())
	}
	e := c.Errs()[0]
	if e.Err.Error() != "TypeError: Cannot read properties of undefined (reading 'x')" {
		t.Fatal(e.Err)
	}
	st, ok := e.Err.(interface{ Stack() string })
	if !ok || !strings.HasPrefix(st.Stack(), "TypeError: Cannot read properties of undefined (reading 'x')\n    at Function node:fn1:3:") {
		t.Fatalf("stack %q", st.Stack())
	}
	if string(msg.Marshal(e.Msg.Value("error"))) != "{}" {
		t.Fatalf("msg.error %s", msg.Marshal(e.Msg.Object))
	}
}

func TestFunctionSyntaxErrorRefused(t *testing.T) {
	spec, _ := node.Lookup("function")
	_, err := spec.New(config(`{"id":"f","type":"function","func":"let a = 1;\nlet b = ;\nreturn msg;"}`))
	pe, ok := err.(*node.PropError)
	if !ok || pe.Property != "func" || !strings.Contains(pe.Msg, "SyntaxError") || !strings.Contains(pe.Msg, "line 2") {
		t.Fatalf("got %v", err)
	}
	badConfig(t, "function", `{"id":"f","type":"function","func":"return msg;","initialize":"if ("}`, "initialize")
	badConfig(t, "function", `{"id":"f","type":"function","func":"return msg;","finalize":"}"}`, "finalize")
}

func TestFunctionLibsRefused(t *testing.T) {
	spec, _ := node.Lookup("function")
	_, err := spec.New(config(`{"id":"f","type":"function","func":"return msg;","libs":[{"var":"moment","module":"moment"}]}`))
	if err == nil || !strings.Contains(err.Error(), `"moment"`) || !strings.Contains(err.Error(), "libs[0]") {
		t.Fatalf("got %v", err)
	}
	// An empty libs list is fine.
	build(t, "function", `{"id":"f","type":"function","func":"return msg;","libs":[]}`)
}

func TestFunctionTimeoutInterrupts(t *testing.T) {
	c := newFnCtx()
	n := startFn(t, `{"id":"fn1","type":"function","func":"if (msg.payload) { while(true){} } return msg;","timeout":0.1}`, c)
	start := time.Now()
	_ = n.Input(c, message(`{"_msgid":"m1","payload":true}`))
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v", d)
	}
	if got := c.errTexts(); len(got) != 1 || got[0] != "Error: Script execution timed out after 100ms" {
		t.Fatalf("errors %v", got)
	}
	// The runtime keeps working afterwards.
	_ = n.Input(c, message(`{"_msgid":"m2","payload":false}`))
	if out := c.sentJSON(); len(out) != 1 {
		t.Fatalf("after timeout: %v", out)
	}
}

func TestFunctionSettingTimeout(t *testing.T) {
	c := newFnCtx()
	c.Settings = map[string]any{"functionTimeout": 0.05}
	n := startFn(t, fnConfig(`for(;;){}`), c)
	_ = n.Input(c, message(`{"_msgid":"m1"}`))
	if got := c.errTexts(); len(got) != 1 || !strings.Contains(got[0], "timed out after 50ms") {
		t.Fatalf("errors %v", got)
	}
}

func TestFunctionCatastrophicRegexBounded(t *testing.T) {
	c := newFnCtx()
	// Back references force regexp2 (backtracking).
	n := startFn(t, `{"id":"fn1","type":"function","func":"msg.payload = /^(a+)+\\1$/.test('a'.repeat(40) + 'b'); return msg;","timeout":0.2}`, c)
	start := time.Now()
	_ = n.Input(c, message(`{"_msgid":"m1"}`))
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("regex ran %v", d)
	}
	// Whichever gives up first reports it: the node's timeout or the match's.
	if got := c.errTexts(); len(got) != 1 || !(strings.Contains(got[0], "timed out") || strings.Contains(got[0], "catastrophic")) {
		t.Fatalf("errors %v, sent %v", got, c.sentJSON())
	}
}

func TestFunctionCloseClearsTimersAndRunsFinalize(t *testing.T) {
	c := newFnCtx()
	n := build(t, "function", `{"id":"fn1","type":"function","func":"setInterval(() => node.send({payload:'tick'}), 5); node.status({text:'on'}); return null;","finalize":"global.set('finalized', true);"}`).(*fnNode)
	_ = n.Start(c)
	_ = n.Input(c, message(`{"_msgid":"m1"}`))
	c.waitFor(t, "ticks", func() bool { return len(c.sentJSON()) >= 2 })
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := n.Close(ctx, false); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.GlobalScope.Get("finalized", ""); v != true {
		t.Fatal("finalize did not run")
	}
	before := len(c.sentJSON())
	time.Sleep(50 * time.Millisecond)
	if after := len(c.sentJSON()); after != before {
		t.Fatalf("interval still running after close: %d -> %d", before, after)
	}
	last := c.Statuses()[len(c.Statuses())-1]
	if last != (node.Status{}) {
		t.Fatalf("status not cleared: %+v", last)
	}
}

func BenchmarkFunction(b *testing.B) {
	benchBody(b, `msg.payload.y = msg.payload.x * 2; return msg;`)
}

// BenchmarkFunctionNewMessage returns a new object: it is converted to a
// Go message on the way out.
func BenchmarkFunctionNewMessage(b *testing.B) {
	benchBody(b, `return {payload: msg.payload.x * 2, topic: "t"};`)
}

// BenchmarkFunctionAwait takes the async path (promise, job queue).
func BenchmarkFunctionAwait(b *testing.B) {
	benchBody(b, `await null; msg.payload.y = msg.payload.x * 2; return msg;`)
}

func benchBody(b *testing.B, body string) {
	sink := &fnBenchCtx{fnCtx: newFnCtx()}
	n := build(b, "function", fnConfig(body)).(*fnNode)
	if err := n.Start(sink); err != nil {
		b.Fatal(err)
	}
	defer n.Close(context.Background(), false)
	// One message, handled again and again: the figure is the node's cost,
	// not the garbage collector's for a heap of prepared messages.
	m := msg.Wrap(msg.ObjectOf("_msgid", "m", "payload", msg.ObjectOf("x", 21.0)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = n.Input(sink, m)
	}
	b.StopTimer()
	if sink.n != b.N {
		b.Fatalf("sent %d of %d", sink.n, b.N)
	}
}

// fnBenchCtx counts instead of recording.
type fnBenchCtx struct {
	*fnCtx
	n int
}

func (c *fnBenchCtx) Send(m *msg.Msg)            { c.n++ }
func (c *fnBenchCtx) Done(m *msg.Msg, err error) {}

func TestFunctionMemoryWatchdog(t *testing.T) {
	c := newFnCtx()
	c.Settings = map[string]any{"functionMemoryLimit": 64.0}
	n := startFn(t, fnConfig(`const keep = []; while (true) { keep.push(new Array(100000).fill(msg)); }`), c)
	start := time.Now()
	_ = n.Input(c, message(`{"_msgid":"m1"}`))
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("ran %v", d)
	}
	if got := c.errTexts(); len(got) != 1 || !strings.Contains(got[0], "more than 64 MB of memory") {
		t.Fatalf("errors %v", got)
	}
	// The node still works.
	n2 := startFn(t, fnConfig(`return msg;`), c)
	_ = n2.Input(c, message(`{"_msgid":"m2"}`))
	if len(c.sentJSON()) != 1 {
		t.Fatal("no output after the watchdog stopped a node")
	}
}

func TestFunctionCloseInterruptsEndlessLoop(t *testing.T) {
	c := newFnCtx()
	n := build(t, "function", fnConfig(`while (true) {}`)).(*fnNode)
	_ = n.Start(c)
	done := make(chan struct{})
	go func() {
		_ = n.Input(c, message(`{"_msgid":"m1"}`))
		close(done)
	}()
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := n.Close(ctx, false); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Input still running after Close")
	}
	if got := c.errTexts(); len(got) != 1 || !strings.Contains(got[0], "stopped while its code was running") {
		t.Fatalf("errors %v", got)
	}
}

func TestFunctionRecursionIsRangeError(t *testing.T) {
	_, c := runFn(t, `function f(n) { return f(n + 1) + 1; } return f(0);`, `{"_msgid":"m1"}`)
	if got := c.errTexts(); len(got) != 1 || got[0] != "RangeError: Maximum call stack size exceeded" {
		t.Fatalf("errors %v", got)
	}
}

func TestFunctionRegexTimeoutWithoutNodeTimeout(t *testing.T) {
	// No node timeout: the match gives up and the code gets an error instead
	// of running for ever (or a silent no-match).
	start := time.Now()
	out, c := runFn(t, `msg.payload = /^(a|aa)+\1$/.test('a'.repeat(60) + 'b'); return msg;`, `{"_msgid":"m1"}`)
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("regex ran %v", d)
	}
	if got := c.errTexts(); len(out) != 0 || len(got) != 1 || !strings.Contains(got[0], "catastrophic backtracking") {
		t.Fatalf("got %v %v", out, got)
	}
	// Ordinary regular expressions are untouched.
	out, c = runFn(t, `msg.payload = ["a1b22".replace(/\d+/g, "#"), /(x)\1/.test("xx"), "a,b".split(/,/), "abc".search(/c/), "aXbX".match(/X/g)]; return msg;`, `{"_msgid":"m1"}`)
	if len(out) != 1 || out[0] != `0:{"_msgid":"m1","payload":["a#b#",true,["a","b"],2,["X","X"]]}` {
		t.Fatalf("got %v %v", out, c.errTexts())
	}
}

func TestFunctionNodeDoneLeavesFinishingToCode(t *testing.T) {
	// The code calls node.done(): the message is not done when it returns.
	c := newFnCtx()
	n := startFn(t, fnConfig(`setTimeout(() => node.done(), 20); return msg;`), c)
	_ = n.Input(c, message(`{"_msgid":"m1"}`))
	early := len(c.Dones())
	if early != 0 {
		t.Fatal("done before node.done()")
	}
	c.waitFor(t, "done", func() bool { return len(c.Dones()) == 1 })
	// A comment mentioning node.done() does not count.
	c2 := newFnCtx()
	n2 := startFn(t, fnConfig("// node.done()\nreturn msg;"), c2)
	_ = n2.Input(c2, message(`{"_msgid":"m1"}`))
	if len(c2.Dones()) != 1 {
		t.Fatal("not done after return")
	}
}

func TestFunctionNonMessageNotSent(t *testing.T) {
	out, c := runFn(t, `return [["x", 5, msg]];`, `{"_msgid":"m1"}`)
	if len(out) != 1 {
		t.Fatalf("got %v", out)
	}
	got := strings.Join(c.errTexts(), "|")
	if got != "Function tried to send a message of type string|Function tried to send a message of type number" {
		t.Fatal(got)
	}
	if c.Errs()[0].Msg != nil {
		t.Fatal("non-message errors are logged, not sent to catch nodes")
	}
}

func TestFunctionAPIs(t *testing.T) {
	body := `
	const b = Buffer.from('héllo', 'latin1');
	msg.payload = [
		b.length, b.toString('latin1'), Buffer.from('hi', 'utf16le').toString('hex'),
		util.format('%s-%d-%j', 'a', 2, {x: 1}), util.inspect({a: [1, 'two']}),
		RED.util.getMessageProperty(msg, 'msg.deep.a[1]'), typeof RED.util.generateId(),
		env.get('E1'), new URL('https://x.org/p?q=1').searchParams.get('q'),
		RED.util.setMessageProperty(msg, 'made.here[0].x', 1), Buffer.compare(Buffer.from([1]), Buffer.from([2])),
	];
	context.global.set('g', 1);
	msg.g = global.get('g');
	return msg;`
	c := newFnCtx()
	c.EnvVars["E1"] = "v1"
	n := startFn(t, fnConfig(body), c)
	_ = n.Input(c, message(`{"_msgid":"m1","deep":{"a":[0,"one"]}}`))
	// setMessageProperty runs while the array is built, before the
	// assignment to payload: "made" comes first, as in Node-RED.
	want := `0:{"_msgid":"m1","deep":{"a":[0,"one"]},"made":{"here":[{"x":1}]},"payload":[5,"héllo","68006900","a-2-{\"x\":1}","{ a: [ 1, 'two' ] }","one","string","v1","1",true,-1],"g":1}`
	if got := c.sentJSON(); len(got) != 1 || got[0] != want {
		t.Fatalf("got  %v\nwant %s\nerrors %v", got, want, c.errTexts())
	}
}

// goOpaque stands for a Go value a message carries (an HTTP response).
type goOpaque struct{ n int }

func TestFunctionKeepsGoValues(t *testing.T) {
	c := newFnCtx()
	n := startFn(t, fnConfig(`return {payload: 1, res: msg.res, list: [msg.res]};`), c)
	res := &goOpaque{n: 7}
	m := message(`{"_msgid":"m1"}`)
	m.Set("res", res)
	_ = n.Input(c, m)
	if len(c.Sent()) != 1 {
		t.Fatalf("sent %v", c.sentJSON())
	}
	out := c.Sent()[0].Msg
	if out.Value("res") != any(res) || out.Value("list").([]any)[0] != any(res) {
		t.Fatalf("Go value not kept: %#v", out.Value("res"))
	}
}
