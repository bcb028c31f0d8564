package typed

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/dlclark/regexp2/v2"

	"github.com/sluicehq/sluice/runtime/jsonataref"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// fakeScope is a context scope with named stores; keys are property paths.
type fakeScope struct {
	stores map[string]*msg.Object
	calls  []string
}

func (s *fakeScope) Get(key, store string) (any, error) {
	s.calls = append(s.calls, store+"|"+key)
	if store == "bad" {
		return nil, errors.New(`Unknown context store 'bad' specified`)
	}
	o := s.stores[store]
	if o == nil {
		return msg.Undefined{}, nil
	}
	v, ok, err := msg.Get(o, key)
	if err != nil {
		return nil, err
	}
	if !ok {
		return msg.Undefined{}, nil
	}
	return v, nil
}
func (s *fakeScope) Set(string, any, string) error { return nil }
func (s *fakeScope) Keys(string) ([]string, error) { return nil, nil }

// fakeCtx implements the parts of node.Ctx typed inputs use; the embedded
// nil interface makes any other call fail loudly.
type fakeCtx struct {
	node.Ctx
	flow, global *fakeScope
	env          map[string]any
	creds        map[string]string
	stop         chan struct{}
}

func newCtx() *fakeCtx {
	return &fakeCtx{
		flow: &fakeScope{stores: map[string]*msg.Object{
			"":     msg.ObjectOf("count", 3.0, "cfg", msg.ObjectOf("x", "fx", "k2", "fk2")),
			"file": msg.ObjectOf("count", 30.0),
		}},
		global: &fakeScope{stores: map[string]*msg.Object{
			"": msg.ObjectOf("g", "gv"),
		}},
		env: map[string]any{
			"HOST": "example.org", "PORT": 1883.0, "ON": true,
			"NR_NODE_ID": "n1",
		},
		creds: map[string]string{"password": "s3cret"},
	}
}

func (c *fakeCtx) ID() string                     { return "n1" }
func (c *fakeCtx) FlowContext() node.Scope        { return c.flow }
func (c *fakeCtx) GlobalContext() node.Scope      { return c.global }
func (c *fakeCtx) Credentials() map[string]string { return c.creds }
func (c *fakeCtx) Stopping() <-chan struct{}      { return c.stop }
func (c *fakeCtx) Env(name string) (any, bool) {
	v, ok := c.env[name]
	return v, ok
}

func testMsg() *msg.Msg {
	return msg.Wrap(msg.ObjectOf(
		"_msgid", "m1",
		"topic", "k2",
		"payload", msg.ObjectOf("a", msg.ObjectOf("b", []any{10.0, 20.0}), "n", nil, "s", "str"),
		"idx", 1.0,
	))
}

func mustEval(t *testing.T, typ string, value any) any {
	t.Helper()
	in, err := Prepare(typ, value)
	if err != nil {
		t.Fatalf("Prepare(%s, %v): %v", typ, value, err)
	}
	v, err := in.Eval(newCtx(), testMsg())
	if err != nil {
		t.Fatalf("Eval(%s, %v): %v", typ, value, err)
	}
	return v
}

func prepareFails(t *testing.T, typ string, value any, want string) {
	t.Helper()
	_, err := Prepare(typ, value)
	if err == nil {
		t.Fatalf("Prepare(%s, %v) accepted", typ, value)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("Prepare(%s, %v): %q does not mention %q", typ, value, err, want)
	}
}

func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if !msg.Equal(got, want) {
		t.Errorf("%s: got %s (%T), want %s (%T)", what, msg.Marshal(got), got, msg.Marshal(want), want)
	}
}

func TestStrNumBool(t *testing.T) {
	same(t, "str", mustEval(t, Str, "hello"), "hello")
	same(t, "str of number", mustEval(t, Str, 12.0), "12")
	same(t, "num", mustEval(t, Num, "42.5"), 42.5)
	same(t, "num hex", mustEval(t, Num, "0x10"), 16.0)
	same(t, "num exp", mustEval(t, Num, " 1e3 "), 1000.0)
	same(t, "num empty", mustEval(t, Num, ""), 0.0)
	same(t, "num from number", mustEval(t, Num, 7.0), 7.0)
	prepareFails(t, Num, "12abc", "not a number")
	same(t, "bool", mustEval(t, Bool, "TRUE"), true)
	same(t, "bool false", mustEval(t, Bool, "false"), false)
	same(t, "bool other", mustEval(t, Bool, "yes"), false)
	same(t, "bool from bool", mustEval(t, Bool, true), true)
}

func TestJSON(t *testing.T) {
	in, err := Prepare(JSON, `{"b":1,"a":[true,null],"2":"x"}`)
	if err != nil {
		t.Fatal(err)
	}
	v1, _ := in.Eval(nil, nil)
	if got := string(msg.Marshal(v1)); got != `{"2":"x","b":1,"a":[true,null]}` {
		t.Fatalf("json: %s", got)
	}
	// Each evaluation is a fresh value, as JSON.parse gives.
	v1.(*msg.Object).Set("b", 99.0)
	v2, _ := in.Eval(nil, nil)
	same(t, "fresh copy", v2.(*msg.Object).Value("b"), 1.0)
	prepareFails(t, JSON, `{"a":`, "invalid JSON")
}

func TestBin(t *testing.T) {
	same(t, "bin array", mustEval(t, Bin, "[1, 2, 255, 256, -1, 1.9]"), []byte{1, 2, 255, 0, 255, 1})
	same(t, "bin string", mustEval(t, Bin, `"hé"`), []byte("hé"))
	same(t, "bin empty", mustEval(t, Bin, `[]`), []byte{})
	prepareFails(t, Bin, `{"a":1}`, "not a string or an array")
	prepareFails(t, Bin, `[1,`, "invalid buffer")
	in := MustPrepare(Bin, "[1]")
	b, _ := in.Eval(nil, nil)
	b.([]byte)[0] = 9
	if again, _ := in.Eval(nil, nil); again.([]byte)[0] != 1 {
		t.Fatal("bin value shared between evaluations")
	}
}

func TestRe(t *testing.T) {
	v := mustEval(t, Re, `(?<year>\d{4})-(?<=\d{4}-)\d+`)
	re, ok := v.(*regexp2.Regexp)
	if !ok {
		t.Fatalf("re: %T", v)
	}
	m, err := re.FindStringMatch("on 2024-05")
	if err != nil || m == nil || m.GroupByName("year").String() != "2024" {
		t.Fatalf("JS named group/lookbehind: %v %v", m, err)
	}
	// JavaScript semantics: \d is ASCII only; $ only at the very end.
	if ok, _ := re.MatchString("٢٠٢٤-05"); ok {
		t.Error(`\d matched non-ASCII digits`)
	}
	prepareFails(t, Re, "(unclosed", "invalid regular expression")
}

func TestDate(t *testing.T) {
	before := float64(time.Now().UnixMilli())
	ms := mustEval(t, Date, "").(float64)
	if ms < before || ms > before+5000 {
		t.Errorf("millis: %v", ms)
	}
	iso := mustEval(t, Date, "iso").(string)
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", iso); err != nil {
		t.Errorf("iso %q: %v", iso, err)
	}
	if _, ok := mustEval(t, Date, "object").(time.Time); !ok {
		t.Error("object is not a time.Time")
	}
	year := mustEval(t, Date, "YYYY")
	if year != time.Now().Format("2006") {
		t.Errorf("moment format: %v", year)
	}
}

func TestMsg(t *testing.T) {
	same(t, "msg", mustEval(t, Msg, "payload.a.b[1]"), 20.0)
	same(t, "msg. prefix", mustEval(t, Msg, "msg.topic"), "k2")
	same(t, "whole", mustEval(t, Msg, "payload.s"), "str")
	same(t, "null leaf", mustEval(t, Msg, "payload.n"), nil)
	same(t, "missing leaf", mustEval(t, Msg, "payload.nope"), msg.Undefined{})
	same(t, "missing top", mustEval(t, Msg, "nope"), msg.Undefined{})
	same(t, "string length", mustEval(t, Msg, "payload.s.length"), 3.0)
	same(t, "nested ref", mustEval(t, Msg, "payload.a.b[msg.idx]"), 20.0)
	prepareFails(t, Msg, "payload..a", "invalid msg property")
	prepareFails(t, Msg, "", "invalid msg property")

	for expr, want := range map[string]string{
		"nope.x":          "Cannot read properties of undefined (reading 'x')",
		"payload.n.x":     "Cannot read properties of null (reading 'x')",
		"payload.s.x.y":   "Cannot read properties of undefined (reading 'y')",
		"payload[msg.no]": "Invalid expression started at position 8",
	} {
		in := MustPrepare(Msg, expr)
		_, err := in.Eval(newCtx(), testMsg())
		if err == nil || err.Error() != want {
			t.Errorf("%s: got %v, want %q", expr, err, want)
		}
	}
	// Without a message Node-RED hands back the raw value.
	v, err := MustPrepare(Msg, "payload").Eval(newCtx(), nil)
	same(t, "no message", v, "payload")
	if err != nil {
		t.Fatal(err)
	}
}

func TestFlowGlobal(t *testing.T) {
	c := newCtx()
	m := testMsg()
	ev := func(typ, v string) any {
		t.Helper()
		in, err := Prepare(typ, v)
		if err != nil {
			t.Fatal(err)
		}
		r, err := in.Eval(c, m)
		if err != nil {
			t.Fatalf("%s %s: %v", typ, v, err)
		}
		return r
	}
	same(t, "flow", ev(Flow, "count"), 3.0)
	same(t, "flow store", ev(Flow, "#:(file)::count"), 30.0)
	same(t, "flow path", ev(Flow, "cfg.x"), "fx")
	same(t, "global", ev(Global, "g"), "gv")
	same(t, "missing", ev(Global, "nothing"), msg.Undefined{})
	same(t, "nested ref", ev(Flow, "cfg[msg.topic]"), "fk2")
	if got := c.flow.calls[len(c.flow.calls)-1]; got != `|cfg["k2"]` {
		t.Errorf("nested ref key sent to the store: %s", got)
	}
	in := MustPrepare(Flow, "#:(bad)::x")
	if _, err := in.Eval(c, m); err == nil || !strings.Contains(err.Error(), "bad") {
		t.Errorf("store error: %v", err)
	}
	prepareFails(t, Global, "a..b", "invalid global context key")
}

func TestParseContextStore(t *testing.T) {
	for in, want := range map[string][2]string{
		"#:(file)::a.b": {"file", "a.b"},
		"#:(file)::":    {"file", ""},
		"a.b":           {"", "a.b"},
		"#:(a b)::x":    {"", "#:(a b)::x"},
	} {
		s, k := ParseContextStore(in)
		if s != want[0] || k != want[1] {
			t.Errorf("%s: %q %q", in, s, k)
		}
	}
}

func TestJSONata(t *testing.T) {
	same(t, "context", mustEval(t, JSONata, "payload.a.b[0] + 1"), 11.0)
	same(t, "legacy msg", mustEval(t, JSONata, "msg.payload.a.b[1]"), 20.0)
	same(t, "legacy $", mustEval(t, JSONata, "$keys(msg)"), []any{"_msgid", "topic", "payload", "idx"})
	same(t, "$flowContext", mustEval(t, JSONata, "$flowContext('count')"), 3.0)
	same(t, "$flowContext store", mustEval(t, JSONata, "$flowContext('count', 'file')"), 30.0)
	same(t, "$globalContext", mustEval(t, JSONata, "$globalContext('g')"), "gv")
	same(t, "$env", mustEval(t, JSONata, "$env('HOST') & ':' & $env('PORT')"), "example.org:1883")
	same(t, "$env unset", mustEval(t, JSONata, "$env('NOPE')"), "")
	same(t, "$clone", mustEval(t, JSONata, "$clone(payload.a)"), msg.ObjectOf("b", []any{10.0, 20.0}))
	same(t, "$clone context", mustEval(t, JSONata, "payload.a.$clone()"), msg.ObjectOf("b", []any{10.0, 20.0}))
	same(t, "$moment", mustEval(t, JSONata, "$moment(0).utc().format('YYYY-MM-DD')"), "1970-01-01")
	same(t, "undefined", mustEval(t, JSONata, "payload.nothing"), msg.Undefined{})

	in := MustPrepare(JSONata, "$A + payload.a.b[0]")
	v, err := in.EvalWith(newCtx(), testMsg(), map[string]any{"A": 5.0})
	if err != nil || v != 15.0 {
		t.Errorf("extra bindings: %v %v", v, err)
	}
	prepareFails(t, JSONata, "payload +", "invalid JSONata expression")
	_, err = Prepare(JSONata, "payload +")
	var je *jsonataref.Error
	if !errors.As(err, &je) || je.Code != "S0207" {
		t.Errorf("parse error detail lost: %#v", err)
	}

	in = MustPrepare(JSONata, `"a" - 1`)
	if _, err := in.Eval(newCtx(), testMsg()); !errors.As(err, &je) || je.Code != "T2001" {
		t.Errorf("eval error: %v", err)
	}
	in = MustPrepare(JSONata, `$flowContext('x', 'bad')`)
	if _, err := in.Eval(newCtx(), testMsg()); err == nil || !strings.Contains(err.Error(), "Unknown context store") {
		t.Errorf("store error: %v", err)
	}
	// Without a node and a message, as at start-up.
	v, err = MustPrepare(JSONata, `$flowContext('count') & "|" & $exists($)`).Eval(nil, nil)
	if err != nil || v != "|false" {
		t.Errorf("no node: %v %v", v, err)
	}
}

func TestJSONataStopsWithNode(t *testing.T) {
	c := newCtx()
	c.stop = make(chan struct{})
	in := MustPrepare(JSONata, "($f := function($n){ $n < 0 ? 0 : $f($n + 1) }; $f(0))")
	go func() {
		time.Sleep(100 * time.Millisecond)
		close(c.stop)
	}()
	done := make(chan error, 1)
	go func() {
		_, err := in.Eval(c, testMsg())
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("runaway expression finished without error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("expression not stopped with its node")
	}
}

func TestEnv(t *testing.T) {
	same(t, "whole", mustEval(t, Env, "${PORT}"), 1883.0)
	same(t, "bare", mustEval(t, Env, "HOST"), "example.org")
	same(t, "bool", mustEval(t, Env, "ON"), true)
	same(t, "embedded", mustEval(t, Env, "mqtt://${HOST}:${PORT}/${NOPE}x"), "mqtt://example.org:1883/x")
	same(t, "unset", mustEval(t, Env, "NOPE"), "")
	same(t, "unset whole", mustEval(t, Env, "${NOPE}"), "")
	same(t, "builtin", mustEval(t, Env, "NR_NODE_ID"), "n1")
}

func TestNodeCredUnknown(t *testing.T) {
	same(t, "node", mustEval(t, Node, "abc123"), "abc123")
	same(t, "cred", mustEval(t, Cred, "password"), "s3cret")
	same(t, "cred missing", mustEval(t, Cred, "other"), "")
	same(t, "unknown type", mustEval(t, "custom", "raw"), "raw")
}

func TestSubstitute(t *testing.T) {
	env := func(name string) (any, bool) {
		v, ok := map[string]any{"HOST": "h", "PORT": 1883.0, "EMPTY": ""}[name]
		return v, ok
	}
	for in, want := range map[string]string{
		"${HOST}":        "h",
		"$(HOST)":        "h",
		"${PORT}":        "1883",
		"${EMPTY}":       "",
		"${NOPE}":        "${NOPE}",
		"x${HOST}":       "x${HOST}",
		"${HOST}x":       "${HOST}x",
		"${ HOST}":       "${ HOST}",
		"$HOST":          "$HOST",
		"${HOST}${HOST}": "${HOST}${HOST}",
		"":               "",
	} {
		if got := Substitute(in, env); got != want {
			t.Errorf("Substitute(%q) = %q, want %q", in, got, want)
		}
	}
	cfg := msg.ObjectOf(
		"port", "${PORT}",
		"list", []any{"${HOST}", "keep", msg.ObjectOf("deep", "$(HOST)")},
		"buf", []byte("${HOST}"),
		"n", 1.0,
	)
	SubstituteValue(cfg, env)
	if got := string(msg.Marshal(cfg)); got != `{"port":1883,"list":["h","keep",{"deep":"h"}],"buf":{"type":"Buffer","data":[36,123,72,79,83,84,125]},"n":1}` {
		t.Fatalf("SubstituteValue: %s", got)
	}
	if got := SubstituteValue("${PORT}", env); got != 1883.0 {
		t.Fatalf("top-level: %v", got)
	}
}

func TestToUint8(t *testing.T) {
	for in, want := range map[float64]byte{0: 0, 255: 255, 256: 0, -1: 255, 1.9: 1, -1.9: 255, math.NaN(): 0, 513: 1} {
		if got := toUint8(in); got != want {
			t.Errorf("toUint8(%v) = %d, want %d", in, got, want)
		}
	}
}

func BenchmarkEvalMsg(b *testing.B) {
	in := MustPrepare(Msg, "payload.a.b[1]")
	c, m := newCtx(), testMsg()
	for b.Loop() {
		if _, err := in.Eval(c, m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvalJSONata(b *testing.B) {
	in := MustPrepare(JSONata, "payload.a.b[1] & $env('HOST')")
	c, m := newCtx(), testMsg()
	for b.Loop() {
		if _, err := in.Eval(c, m); err != nil {
			b.Fatal(err)
		}
	}
}
