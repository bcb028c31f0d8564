package function

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

type changeCase struct {
	name, rules string
	in, want    []string // want "" means nothing was sent
}

func runChange(t *testing.T, tc changeCase, cfg string) *fakeCtx {
	t.Helper()
	n := build(t, "change", cfg)
	c := newCtx()
	for i, in := range tc.in {
		got, err := feed(t, n, c, in)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if got != tc.want[i] {
			t.Fatalf("message %d:\n got %s\nwant %s", i, got, tc.want[i])
		}
	}
	return c
}

// The expectations of the quirkier cases were recorded from Node-RED 5.
func TestChangeRules(t *testing.T) {
	one := func(in, want string) ([]string, []string) { return []string{in}, []string{want} }
	cases := []changeCase{}
	add := func(name, rules string, in, want []string) {
		cases = append(cases, changeCase{name, rules, in, want})
	}
	in, want := one(`{"payload":1}`, `{"payload":"hi"}`)
	add("set str", `[{"t":"set","p":"payload","pt":"msg","to":"hi","tot":"str"}]`, in, want)
	in, want = one(`{"payload":1}`, `{"payload":1.5}`)
	add("set num", `[{"t":"set","p":"payload","pt":"msg","to":"1.5","tot":"num"}]`, in, want)
	in, want = one(`{"payload":1}`, `{"payload":true}`)
	add("set bool", `[{"t":"set","p":"payload","pt":"msg","to":"TRUE","tot":"bool"}]`, in, want)
	in, want = one(`{}`, `{"payload":{"b":[1,{"c":null}],"a":"x"}}`)
	add("set json", `[{"t":"set","p":"payload","pt":"msg","to":"{\"b\":[1,{\"c\":null}],\"a\":\"x\"}","tot":"json"}]`, in, want)
	in, want = one(`{}`, `{"payload":{"type":"Buffer","data":[1,2,255]}}`)
	add("set bin", `[{"t":"set","p":"payload","pt":"msg","to":"[1,2,255]","tot":"bin"}]`, in, want)
	in, want = one(`{"payload":{"x":1}}`, `{"payload":{"x":2},"copy":{"x":2}}`)
	add("set msg aliases", `[{"t":"set","p":"copy","pt":"msg","to":"payload","tot":"msg"},{"t":"set","p":"payload.x","pt":"msg","to":"2","tot":"num"}]`, in, want)
	in, want = one(`{"payload":{"x":1}}`, `{"payload":{"x":2},"copy":{"x":1}}`)
	add("set msg deep copy", `[{"t":"set","p":"copy","pt":"msg","to":"payload","tot":"msg","dc":true},{"t":"set","p":"payload.x","pt":"msg","to":"2","tot":"num"}]`, in, want)
	in, want = one(`{"payload":1}`, `{"payload":1,"a":{"b":[null,{"c":"v"}]}}`)
	add("set deep create", `[{"t":"set","p":"a.b[1].c","pt":"msg","to":"v","tot":"str"}]`, in, want)
	in, want = one(`{"payload":1,"topic":"t"}`, `{"topic":"t"}`)
	add("set undefined deletes", `[{"t":"set","p":"payload","pt":"msg","to":"missing","tot":"msg"}]`, in, want)
	in, want = one(`{"payload":1}`, `{"payload":1}`)
	add("set from missing parent skips", `[{"t":"set","p":"payload","pt":"msg","to":"a.b.c","tot":"msg"}]`, in, want)
	in, want = one(`{"payload":1,"topic":"t"}`, `{"payload":"t","topic":"t"}`)
	add("legacy to msg.", `[{"t":"set","p":"payload","to":"msg.topic"}]`, in, want)
	in, want = one(`{"payload":{"a":1}}`, `{"payload":3}`)
	add("set jsonata", `[{"t":"set","p":"payload","pt":"msg","to":"payload.a + 2","tot":"jsonata"}]`, in, want)
	in, want = one(`{"payload":"foo boo"}`, `{"payload":"f00 b00"}`)
	add("change str", `[{"t":"change","p":"payload","pt":"msg","from":"o","fromt":"str","to":"0","tot":"str"}]`, in, want)
	in, want = one(`{"payload":"a.b.c"}`, `{"payload":"a-b-c"}`)
	add("change str special chars", `[{"t":"change","p":"payload","pt":"msg","from":".","fromt":"str","to":"-","tot":"str"}]`, in, want)
	in, want = one(`{"payload":"abc abc"}`, `{"payload":"a[cb$bc$3$<x>] a[cb$bc$3$<x>]"}`)
	add("change regex groups", `[{"t":"change","p":"payload","pt":"msg","from":"(b)(c)","fromt":"re","to":"[$2$1$$$&$3$<x>]","tot":"str"}]`, in, want)
	in, want = one(`{"payload":"2024-01-31"}`, `{"payload":"31/01/2024"}`)
	add("change regex named", `[{"t":"change","p":"payload","pt":"msg","from":"(?<y>\\d+)-(?<m>\\d+)-(?<d>\\d+)","fromt":"re","to":"$<d>/$<m>/$<y>","tot":"str"}]`, in, want)
	add("change regex to bool", `[{"t":"change","p":"payload","pt":"msg","from":"^abc$","fromt":"re","to":"true","tot":"bool"}]`,
		[]string{`{"payload":"abc"}`, `{"payload":"xabc"}`}, []string{`{"payload":true}`, `{"payload":"xabc"}`})
	add("change num and bool", `[{"t":"change","p":"payload","pt":"msg","from":"5","fromt":"num","to":"five","tot":"str"},{"t":"change","p":"topic","pt":"msg","from":"5","fromt":"str","to":"five","tot":"str"},{"t":"change","p":"b","pt":"msg","from":"true","fromt":"bool","to":"1","tot":"num"}]`,
		[]string{`{"payload":5,"topic":5,"b":true}`, `{"payload":"5","topic":"5","b":"true"}`},
		[]string{`{"payload":"five","topic":5,"b":1}`, `{"payload":"five","topic":"five","b":1}`})
	add("change whole string to num", `[{"t":"change","p":"payload","pt":"msg","from":"abc","fromt":"str","to":"7","tot":"num"}]`,
		[]string{`{"payload":"abc"}`, `{"payload":"xabcx"}`}, []string{`{"payload":7}`, `{"payload":"x7x"}`})
	add("change empty from", `[{"t":"change","p":"payload","pt":"msg","from":"","fromt":"str","to":"-","tot":"str"}]`,
		[]string{`{"payload":"ab"}`, `{"payload":""}`}, []string{`{"payload":"-a-b-"}`, `{"payload":"-"}`})
	add("change from msg number", `[{"t":"change","p":"payload","pt":"msg","from":"n","fromt":"msg","to":"Z","tot":"str"}]`,
		[]string{`{"payload":"a undefined 5 undefined","n":5}`, `{"payload":5,"n":5}`},
		[]string{`{"payload":"a Z 5 undefined","n":5}`, `{"payload":"Z","n":5}`})
	in, want = one(`{"payload":"a-b","sep":"-"}`, `{"payload":"a+b","sep":"-"}`)
	add("change from msg string", `[{"t":"change","p":"payload","pt":"msg","from":"sep","fromt":"msg","to":"+","tot":"str"}]`, in, want)
	in, want = one(`{"payload":{"a":1}}`, `{"payload":{"a":1}}`)
	add("change object untouched", `[{"t":"change","p":"payload","pt":"msg","from":"a","fromt":"str","to":"b","tot":"str"}]`, in, want)
	in, want = one(`{"payload":[1,2,3],"a":[1,2,3]}`, `{"payload":[1,3],"a":[1,null,3]}`)
	add("delete array element", `[{"t":"delete","p":"payload[1]","pt":"msg"},{"t":"delete","p":"a.1","pt":"msg"}]`, in, want)
	in, want = one(`{"payload":{"a":1,"b":2}}`, `{"payload":{"b":2}}`)
	add("delete key", `[{"t":"delete","p":"payload.a","pt":"msg"},{"t":"delete","p":"x.y.z","pt":"msg"}]`, in, want)
	in, want = one(`{"payload":1,"topic":"t"}`, `{"topic":"t","payload":1}`)
	add("move onto itself reorders", `[{"t":"move","p":"payload","pt":"msg","to":"payload","tot":"msg"}]`, in, want)
	in, want = one(`{"payload":{"a":{"b":1},"c":2},"topic":"t"}`, `{"payload":{"b":1},"topic":"t"}`)
	add("move child up", `[{"t":"move","p":"payload.a","pt":"msg","to":"payload","tot":"msg"}]`, in, want)
	in, want = one(`{"payload":1,"topic":"t"}`, `{"topic":1}`)
	add("move", `[{"t":"move","p":"payload","pt":"msg","to":"topic","tot":"msg"}]`, in, want)
	in, want = one(`{"topic":"t"}`, `{}`)
	add("move missing deletes target", `[{"t":"move","p":"payload","pt":"msg","to":"topic","tot":"msg"}]`, in, want)
	add("set on non-object parent", `[{"t":"set","p":"payload.a","pt":"msg","to":"1","tot":"num"}]`,
		[]string{`{"payload":null}`, `{"payload":"s"}`, `{"payload":[null]}`},
		[]string{`{"payload":null}`, `{"payload":"s"}`, `{"payload":[null]}`})
	add("set below null element", `[{"t":"set","p":"payload[0].a","pt":"msg","to":"1","tot":"num"}]`,
		[]string{`{"payload":[null]}`, `{"payload":[5]}`}, []string{`{"payload":[null]}`, `{"payload":[5]}`})
	in, want = one(`{"payload":[1],"i":0}`, `{"payload":[9],"i":0}`)
	add("nested msg reference", `[{"t":"set","p":"payload[msg.i]","pt":"msg","to":"9","tot":"num"}]`, in, want)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runChange(t, tc, `{"rules":`+tc.rules+`}`)
		})
	}
}

func TestChangeWarnsOnNonObject(t *testing.T) {
	tc := changeCase{in: []string{`{"payload":"s"}`}, want: []string{`{"payload":"s"}`}}
	c := runChange(t, tc, `{"rules":[{"t":"set","p":"payload.a","pt":"msg","to":"1","tot":"num"}]}`)
	if len(c.Warns()) != 1 || c.Warns()[0] != "Cannot set property of non-object type: payload.a" {
		t.Fatalf("warnings %q", c.Warns())
	}
}

func TestChangeContext(t *testing.T) {
	n := build(t, "change", `{"rules":[
		{"t":"set","p":"#:(file)::count","pt":"flow","to":"5","tot":"num"},
		{"t":"set","p":"obj[msg.topic]","pt":"global","to":"payload","tot":"msg"},
		{"t":"set","p":"x[msg.nope]","pt":"flow","to":"1","tot":"str"},
		{"t":"change","p":"name","pt":"flow","from":"o","fromt":"str","to":"0","tot":"str"},
		{"t":"set","p":"payload","pt":"msg","to":"obj","tot":"global"},
		{"t":"set","p":"topic","pt":"msg","to":"count","tot":"flow"},
		{"t":"delete","p":"gone","pt":"flow"}]}`)
	c := newCtx()
	c.FlowScope.Root.Set("name", "foo")
	c.FlowScope.Root.Set("gone", 1.0)
	got, err := feed(t, n, c, `{"payload":1,"topic":"k"}`)
	if err != nil {
		t.Fatal(err)
	}
	if got != `{"payload":{"k":1},"topic":5}` {
		t.Fatal(got)
	}
	if s := string(msg.Marshal(c.FlowScope.Root)); s != `{"name":"f00","count":5}` {
		t.Fatalf("flow context %s", s)
	}
}

func TestChangeContextNoMatchStops(t *testing.T) {
	// Node-RED never calls back when a change rule on a context number does
	// not match: the message goes no further.
	tc := changeCase{in: []string{`{"payload":1}`, `{"payload":1}`}, want: []string{"", `{"payload":"y"}`}}
	runChange(t, changeCase{in: tc.in[:1], want: tc.want[:1]}, `{"rules":[{"t":"set","p":"x","pt":"flow","to":"5","tot":"num"},{"t":"change","p":"x","pt":"flow","from":"6","fromt":"num","to":"y","tot":"str"}]}`)
	runChange(t, changeCase{in: tc.in[1:], want: tc.want[1:]}, `{"rules":[{"t":"set","p":"x","pt":"flow","to":"5","tot":"num"},{"t":"change","p":"x","pt":"flow","from":"5","fromt":"num","to":"y","tot":"str"},{"t":"set","p":"payload","pt":"msg","to":"x","tot":"flow"}]}`)
}

func TestChangeUnsupportedFromType(t *testing.T) {
	// Node-RED both reports the error and applies the rule.
	n := build(t, "change", `{"rules":[{"t":"change","p":"payload","pt":"msg","from":"missing","fromt":"msg","to":"X","tot":"str"}]}`)
	c := newCtx()
	got, err := feed(t, n, c, `{"payload":"an undefined thing"}`)
	if err != nil || got != `{"payload":"an X thing"}` {
		t.Fatalf("got %s %v", got, err)
	}
	if len(c.Errs()) != 1 || c.Errs()[0].Err.Error() != "Error: Invalid 'from' property: unsupported type: undefined" {
		t.Fatalf("errors %v", c.Errs())
	}
}

func TestChangeJSONataError(t *testing.T) {
	n := build(t, "change", `{"rules":[{"t":"set","p":"payload","pt":"msg","to":"$nope()","tot":"jsonata"}]}`)
	got, err := feed(t, n, newCtx(), `{"payload":1}`)
	if got != "" || err == nil || err.Error() != "Invalid JSONata expression: Attempted to invoke a non-function" {
		t.Fatalf("got %q %v", got, err)
	}
}

func TestChangeContextError(t *testing.T) {
	n := build(t, "change", `{"rules":[{"t":"set","p":"x","pt":"flow","to":"1","tot":"str"}]}`)
	c := newCtx()
	c.FlowScope.Fail = errStore
	if got, err := feed(t, n, c, `{"payload":1}`); got != "" || err != errStore {
		t.Fatalf("got %q %v", got, err)
	}
}

var errStore = &TypeError{Msg: "store down"}

func TestChangeLegacy(t *testing.T) {
	runChange(t, changeCase{in: []string{`{"payload":1,"topic":"t"}`}, want: []string{`{"payload":"t","topic":"t"}`}},
		`{"action":"replace","property":"payload","to":"msg.topic"}`)
	runChange(t, changeCase{in: []string{`{"payload":"abc a."}`}, want: []string{`{"payload":"Xc X"}`}},
		`{"action":"change","property":"payload","from":"a.","to":"X","reg":true}`)
	runChange(t, changeCase{in: []string{`{"payload":"a.c"}`}, want: []string{`{"payload":"Xc"}`}},
		`{"action":"change","property":"payload","from":"a.","to":"X","reg":false}`)
	runChange(t, changeCase{in: []string{`{"payload":1,"topic":"t"}`}, want: []string{`{"topic":"t"}`}},
		`{"action":"delete","property":"payload"}`)
	badConfig(t, "change", `{"action":"move","property":"payload","to":"p2"}`, "rules[0].tot")
}

func TestChangeEnvAndDate(t *testing.T) {
	cfg := config(`{"rules":[{"t":"set","p":"payload","pt":"msg","to":"HOME_${WHO}","tot":"env"},{"t":"set","p":"t","pt":"msg","to":"","tot":"date"}]}`)
	cfg.Env = func(name string) (any, bool) {
		if name == "WHO" {
			return "me", true
		}
		return nil, false
	}
	spec, _ := node.Lookup("change")
	n, err := spec.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := newCtx()
	got, err := feed(t, n, c, `{}`)
	if err != nil || !strings.HasPrefix(got, `{"payload":"HOME_me","t":1`) {
		t.Fatalf("got %s %v", got, err)
	}
}

func TestChangeBadConfig(t *testing.T) {
	badConfig(t, "change", `{"rules":[{"t":"set","p":"payload","to":"1"},{"t":"set","p":"a","to":"{bad","tot":"json"}]}`, "rules[1].to")
	badConfig(t, "change", `{"rules":[{"t":"change","p":"payload","from":"(","fromt":"re","to":"x"}]}`, "rules[0].from")
	badConfig(t, "change", `{"rules":[{"t":"set","p":"payload","to":"abc","tot":"num"}]}`, "rules[0].to")
	badConfig(t, "change", `{"rules":[{"t":"set","p":"payload","to":"$nope(","tot":"jsonata"}]}`, "rules[0].to")
	badConfig(t, "change", `{"rules":[{"t":"set","p":"payload","to":"5","tot":"bin"}]}`, "rules[0].to")
	badConfig(t, "change", `{"rules":[{"t":"set","p":"a..b","to":"1"}]}`, "rules[0].p")
	badConfig(t, "change", `{"rules":[{"t":"replace","p":"a","to":"1"}]}`, "rules[0].t")
	badConfig(t, "change", `{"rules":[{"t":"set","p":"a","pt":"node","to":"1"}]}`, "rules[0].pt")
	badConfig(t, "change", `{"rules":"x"}`, "rules")
}

func BenchmarkChange(b *testing.B) {
	n := build(b, "change", `{"rules":[
		{"t":"set","p":"topic","pt":"msg","to":"sensors/1","tot":"str"},
		{"t":"change","p":"payload.unit","pt":"msg","from":"C","fromt":"str","to":"celsius","tot":"str"},
		{"t":"move","p":"payload.value","pt":"msg","to":"value","tot":"msg"},
		{"t":"delete","p":"payload.raw","pt":"msg"}]}`).(node.Inputter)
	c := newCtx()
	in := message(`{"payload":{"value":21.5,"unit":"C","raw":"0x15"},"_msgid":"x"}`)
	// The rules change the message, so each round gets a fresh copy; the
	// "clone" sub-benchmark measures that copy alone.
	b.Run("rules", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c.Reset()
			if err := n.Input(c, in.Clone()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("clone", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = in.Clone()
		}
	})
}

func TestChangeNoRulesPasses(t *testing.T) {
	runChange(t, changeCase{in: []string{`{"payload":1}`}, want: []string{`{"payload":1}`}}, `{}`)
	runChange(t, changeCase{in: []string{`{"payload":1}`}, want: []string{`{"payload":1}`}}, `{"rules":[]}`)
}

func TestChangeFromContext(t *testing.T) {
	n := build(t, "change", `{"rules":[
		{"t":"change","p":"payload","pt":"msg","from":"sep","fromt":"flow","to":"+","tot":"str"},
		{"t":"change","p":"topic","pt":"msg","from":"k[msg.nope]","fromt":"global","to":"x","tot":"str"},
		{"t":"set","p":"other","pt":"msg","to":"k[msg.nope]","tot":"flow"}]}`)
	c := newCtx()
	c.FlowScope.Root.Set("sep", "-")
	got, err := feed(t, n, c, `{"payload":"a-b-c","topic":"t"}`)
	if err != nil || got != `{"payload":"a+b+c","topic":"t"}` {
		t.Fatalf("got %s %v", got, err)
	}
	c.FlowScope.Fail = errStore
	if got, err := feed(t, n, c, `{"payload":"a"}`); got != "" || err != errStore {
		t.Fatalf("failing store: got %q %v", got, err)
	}
}
