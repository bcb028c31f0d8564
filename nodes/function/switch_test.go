package function

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// route feeds payloads (JSON values) through a switch and lists where each
// went, one "outN <payload>" line per delivery, as the recordings do.
func route(t *testing.T, cfg string, payloads ...string) []string {
	t.Helper()
	msgs := make([]string, len(payloads))
	for i, p := range payloads {
		msgs[i] = `{"payload":` + p + `}`
	}
	return routeMsgs(t, build(t, "switch", cfg), newCtx(), msgs...)
}

func routeMsgs(t *testing.T, n node.Node, c *fakeCtx, msgs ...string) []string {
	t.Helper()
	var out []string
	for _, in := range msgs {
		c.Reset()
		if err := n.(node.Inputter).Input(c, message(in)); err != nil {
			out = append(out, "error "+err.Error())
		}
		for _, ports := range c.Calls() {
			for p, m := range ports {
				if m != nil {
					out = append(out, fmt.Sprintf("out%d %s", p+1, describe(m)))
				}
			}
		}
	}
	return out
}

func describe(m *msg.Msg) string {
	o := m.Object.Clone()
	if p, ok := o.Value("parts").(*msg.Object); ok && p.Has("id") {
		if id, _ := p.Value("id").(string); len(id) == 16 {
			p.Set("id", "<new>")
		}
	}
	if o.Len() == 1 && o.Has("payload") {
		return string(msg.Marshal(o.Value("payload")))
	}
	return string(msg.Marshal(o))
}

func expect(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func rules(rs ...string) string {
	return `{"property":"payload","propertyType":"msg","checkall":"true","rules":[` + strings.Join(rs, ",") + `]}`
}

// The expectations below were recorded from Node-RED 5.

func TestSwitchLooseEquality(t *testing.T) {
	got := route(t, rules(`{"t":"eq","v":"5","vt":"str"}`, `{"t":"eq","v":"5","vt":"num"}`, `{"t":"eq","v":""}`, `{"t":"neq","v":"true","vt":"str"}`),
		`5`, `"5"`, `" 5 "`, `true`, `null`, `[5]`, `""`, `0`, `"true"`)
	expect(t, got, "out1 5", "out2 5", "out4 5", `out1 "5"`, `out2 "5"`, `out4 "5"`, `out2 " 5 "`, `out4 " 5 "`,
		"out4 true", "out4 null", "out1 [5]", "out2 [5]", "out4 [5]", `out3 ""`, `out4 ""`, "out3 0", "out4 0")
}

func TestSwitchRelational(t *testing.T) {
	got := route(t, rules(`{"t":"lt","v":"9","vt":"str"}`, `{"t":"lt","v":"9","vt":"num"}`, `{"t":"gte","v":"abc","vt":"str"}`, `{"t":"lte","v":"","vt":"num"}`),
		`"10"`, `10`, `"abd"`, `null`, `true`, `[1]`, `"x"`, `""`)
	expect(t, got, `out1 "10"`, `out3 "abd"`, "out1 null", "out2 null", "out4 null", "out1 true", "out2 true",
		"out1 [1]", "out2 [1]", `out3 "x"`, `out1 ""`, `out2 ""`, `out4 ""`)
}

func TestSwitchBetween(t *testing.T) {
	got := route(t, rules(`{"t":"btwn","v":"10","vt":"num","v2":"1","v2t":"num"}`, `{"t":"btwn","v":"a","vt":"str","v2":"c","v2t":"str"}`),
		`5`, `"5"`, `"b"`, `11`, `"bb"`, `null`)
	expect(t, got, "out1 5", `out1 "5"`, `out2 "b"`, `out2 "bb"`)
}

func TestSwitchContains(t *testing.T) {
	got := route(t, rules(`{"t":"cont","v":"2","vt":"str"}`, `{"t":"cont","v":"1","vt":"num"}`, `{"t":"cont","v":"ject","vt":"str"}`),
		`123`, `"x2"`, `{"a":1}`, `[1,2]`, `null`)
	expect(t, got, "out1 123", "out2 123", `out1 "x2"`, `out3 {"a":1}`, "out1 [1,2]", "out2 [1,2]")
}

func TestSwitchRegex(t *testing.T) {
	got := route(t, rules(`{"t":"regex","v":"^a.c$","vt":"str","case":true}`, `{"t":"regex","v":"\\d+","vt":"str"}`, `{"t":"regex","v":"ul","vt":"str"}`),
		`"ABC"`, `"a1"`, `12`, `null`, `"abc"`)
	expect(t, got, `out1 "ABC"`, `out2 "a1"`, "out2 12", "out3 null", `out1 "abc"`)
}

func TestSwitchDynamicRegex(t *testing.T) {
	n := build(t, "switch", rules(`{"t":"regex","v":"re","vt":"msg"}`))
	got := routeMsgs(t, n, newCtx(), `{"payload":"abc","re":"b"}`, `{"payload":"abc","re":"(["}`, `{"payload":"abc"}`)
	expect(t, got, `out1 {"payload":"abc","re":"b"}`,
		"error SyntaxError: Invalid regular expression: /([/: Unterminated character class", `out1 "abc"`)
}

func TestSwitchIsType(t *testing.T) {
	var rs []string
	for _, ty := range []string{"string", "number", "boolean", "array", "buffer", "object", "json", "null", "undefined"} {
		rs = append(rs, `{"t":"istype","v":"`+ty+`","vt":"`+ty+`"}`)
	}
	n := build(t, "switch", rules(rs...))
	var msgs []string
	for _, p := range []string{`"5"`, `"{"`, `5`, `true`, `null`, `{"a":1}`, `[1]`, `[]`, `"[1]"`} {
		msgs = append(msgs, `{"payload":`+p+`}`)
	}
	msgs = append(msgs, `{"topic":"no payload"}`)
	got := routeMsgs(t, n, newCtx(), msgs...)
	expect(t, got, `out1 "5"`, `out7 "5"`, `out1 "{"`, "out2 5", "out7 5", "out3 true", "out7 true", "out7 null", "out8 null",
		`out6 {"a":1}`, "out4 [1]", "out7 [1]", "out4 []", `out1 "[1]"`, `out7 "[1]"`, `out9 {"topic":"no payload"}`)
	c := newCtx()
	m := msg.New()
	m.Set("payload", []byte("5"))
	if err := n.(node.Inputter).Input(c, m); err != nil {
		t.Fatal(err)
	}
	if c.Calls()[0][4] == nil || c.Calls()[0][6] == nil || c.Calls()[0][5] != nil {
		t.Fatalf("buffer routed to %v", c.Calls()[0])
	}
}

func TestSwitchHasKey(t *testing.T) {
	got := route(t, rules(`{"t":"hask","v":"length","vt":"str"}`, `{"t":"hask","v":"0","vt":"str"}`, `{"t":"hask","v":"a","vt":"str"}`, `{"t":"hask","v":"1","vt":"num"}`),
		`"s"`, `""`, `[7]`, `[]`, `{"a":1}`, `{"0":1,"1":2}`, `5`, `null`, `{"length":0}`)
	expect(t, got, `out1 "s"`, `out2 "s"`, `out1 ""`, "out1 [7]", "out2 [7]", "out1 []", `out3 {"a":1}`,
		`out2 {"0":1,"1":2}`, `out4 {"0":1,"1":2}`, `out1 {"length":0}`)
}

func TestSwitchEmpty(t *testing.T) {
	got := route(t, rules(`{"t":"empty"}`, `{"t":"nempty"}`), `""`, `[]`, `{}`, `"a"`, `[0]`, `{"a":1}`, `0`, `null`, `false`)
	expect(t, got, `out1 ""`, "out1 []", "out1 {}", `out2 "a"`, "out2 [0]", `out2 {"a":1}`)
}

func TestSwitchTrueFalseNull(t *testing.T) {
	got := route(t, rules(`{"t":"true"}`, `{"t":"false"}`, `{"t":"null"}`, `{"t":"nnull"}`), `true`, `false`, `null`, `"true"`, `0`)
	expect(t, got, "out1 true", "out4 true", "out2 false", "out4 false", "out3 null", `out4 "true"`, "out4 0")
	got = routeMsgs(t, build(t, "switch", rules(`{"t":"null"}`)), newCtx(), `{"topic":1}`)
	expect(t, got, `out1 {"topic":1}`)
}

func TestSwitchElse(t *testing.T) {
	got := route(t, `{"checkall":"false","rules":[{"t":"gt","v":"5","vt":"num"},{"t":"gt","v":"1","vt":"num"},{"t":"else"},{"t":"lt","v":"0","vt":"num"},{"t":"else"}]}`,
		`10`, `3`, `-1`, `0`)
	expect(t, got, "out1 10", "out2 3", "out3 -1", "out3 0")
	got = route(t, rules(`{"t":"gt","v":"5","vt":"num"}`, `{"t":"else"}`, `{"t":"gt","v":"1","vt":"num"}`, `{"t":"else"}`), `10`, `3`, `0`)
	expect(t, got, "out1 10", "out3 10", "out2 3", "out3 3", "out2 0")
	// Only the text "false" stops at the first match.
	got = route(t, `{"checkall":false,"rules":[{"t":"gt","v":"1","vt":"num"},{"t":"gt","v":"2","vt":"num"}]}`, `5`)
	expect(t, got, "out1 5", "out2 5")
}

func TestSwitchPrevious(t *testing.T) {
	got := route(t, rules(`{"t":"eq","v":"","vt":"prev"}`, `{"t":"gt","v":"","vt":"prev"}`), `1`, `1`, `2`, `"2"`, `null`)
	expect(t, got, "out2 1", "out1 1", "out2 2", `out1 "2"`)
}

func TestSwitchValueTypes(t *testing.T) {
	n := build(t, "switch", rules(
		`{"t":"eq","v":"x","vt":"bool"}`,
		`{"t":"eq","v":"{\"a\":1}","vt":"json"}`,
		`{"t":"eq","v":"limit","vt":"flow"}`,
		`{"t":"eq","v":"#:(file)::g","vt":"global"}`,
		`{"t":"eq","v":"other","vt":"msg"}`,
		`{"t":"eq","v":"LIM","vt":"env"}`,
		`{"t":"eq","v":"$flowContext('limit') + 1","vt":"jsonata"}`))
	c := newCtx()
	c.FlowScope.Root.Set("limit", 3.0)
	c.GlobalScope.Root.Set("g", "g")
	got := routeMsgs(t, n, c, `{"payload":false}`, `{"payload":"[object Object]"}`, `{"payload":"3"}`, `{"payload":"g"}`, `{"payload":7,"other":7}`, `{"payload":4}`)
	// An unset environment variable is "", which == false.
	expect(t, got, "out1 false", "out6 false", "out3 \"3\"", `out4 "g"`, `out5 {"payload":7,"other":7}`, "out7 4")
	spec, _ := node.Lookup("switch")
	cfg := config(rules(`{"t":"eq","v":"LIM","vt":"env"}`))
	cfg.Env = func(name string) (any, bool) { return "e", name == "LIM" }
	n2, err := spec.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, routeMsgs(t, n2, newCtx(), `{"payload":"e"}`), `out1 "e"`)
}

func TestSwitchPropertyTypes(t *testing.T) {
	c := newCtx()
	c.FlowScope.Root.Set("mode", "on")
	n := build(t, "switch", `{"property":"mode","propertyType":"flow","rules":[{"t":"eq","v":"on","vt":"str"}]}`)
	expect(t, routeMsgs(t, n, c, `{"payload":1}`), "out1 1")
	n = build(t, "switch", `{"property":"payload.a * 2","propertyType":"jsonata","rules":[{"t":"eq","v":"4","vt":"num"}]}`)
	expect(t, routeMsgs(t, n, c, `{"payload":{"a":2}}`), `out1 {"a":2}`)
	// A failing JSONata property is a warning; the message goes nowhere.
	n = build(t, "switch", `{"property":"$number('x')","propertyType":"jsonata","rules":[{"t":"null"}]}`)
	c.Reset()
	expect(t, routeMsgs(t, n, c, `{"payload":1}`))
	if len(c.Warns()) != 1 || !strings.HasPrefix(c.Warns()[0], "Invalid JSONata expression: ") {
		t.Fatalf("warnings %q", c.Warns())
	}
	n = build(t, "switch", `{"property":"a.b","propertyType":"msg","rules":[{"t":"null"},{"t":"eq","v":"undefined","vt":"str"}]}`)
	expect(t, routeMsgs(t, n, c, `{"payload":1}`), "out1 1")
}

func TestSwitchJSONataRule(t *testing.T) {
	n := build(t, "switch", rules(`{"t":"jsonata_exp","v":"$I = 1 or $N = 5","vt":"jsonata"}`))
	got := routeMsgs(t, n, newCtx(),
		`{"payload":0,"parts":{"id":"a","index":1,"count":3}}`,
		`{"payload":1,"parts":{"id":"b","index":0,"count":5}}`,
		`{"payload":2}`)
	// $I and $N stay bound after the last part, as in Node-RED.
	expect(t, got, `out1 {"payload":0,"parts":{"id":"a","index":1,"count":3}}`,
		`out1 {"payload":1,"parts":{"id":"b","index":0,"count":5}}`, "out1 2")
	n = build(t, "switch", rules(`{"t":"jsonata_exp","v":"$nope()","vt":"jsonata"}`))
	expect(t, routeMsgs(t, n, newCtx(), `{"payload":1}`), "error Invalid JSONata expression: Attempted to invoke a non-function")
}

func TestSwitchSequenceRules(t *testing.T) {
	var seq []string
	for i := range 4 {
		seq = append(seq, fmt.Sprintf(`{"payload":%d,"parts":{"id":"a","index":%d,"count":4}}`, i, i))
	}
	n := build(t, "switch", rules(`{"t":"head","v":"1","vt":"num"}`, `{"t":"index","v":"1","vt":"num","v2":"2","v2t":"num"}`))
	expect(t, routeMsgs(t, n, newCtx(), seq...),
		`out1 {"payload":0,"parts":{"id":"a","index":0,"count":4}}`,
		`out2 {"payload":1,"parts":{"id":"a","index":1,"count":4}}`,
		`out2 {"payload":2,"parts":{"id":"a","index":2,"count":4}}`)
	expect(t, routeMsgs(t, n, newCtx(), `{"payload":1}`), "error TypeError: Cannot read properties of undefined (reading 'index')")

	// tail needs the count: parts are held until the sequence is complete.
	n = build(t, "switch", rules(`{"t":"tail","v":"2","vt":"num"}`, `{"t":"else"}`))
	var tail []string
	for i := range 4 {
		cnt := "null"
		if i == 3 {
			cnt = "4"
		}
		tail = append(tail, fmt.Sprintf(`{"payload":%d,"parts":{"id":"a","index":%d,"count":%s}}`, i, i, cnt))
	}
	c := newCtx()
	expect(t, routeMsgs(t, n, c, tail[:3]...))
	expect(t, routeMsgs(t, n, c, append(tail[3:], `{"payload":"loose"}`)...),
		`out2 {"payload":0,"parts":{"id":"a","index":0,"count":4}}`,
		`out2 {"payload":1,"parts":{"id":"a","index":1,"count":4}}`,
		`out1 {"payload":2,"parts":{"id":"a","index":2,"count":4}}`,
		`out1 {"payload":3,"parts":{"id":"a","index":3,"count":4}}`,
		"error TypeError: Cannot read properties of undefined (reading 'count')")
}

func TestSwitchRepair(t *testing.T) {
	var seq []string
	for i := range 4 {
		seq = append(seq, fmt.Sprintf(`{"payload":%d,"parts":{"id":"a","index":%d,"count":4,"type":"array"}}`, i, i))
	}
	n := build(t, "switch", `{"repair":true,"checkall":"true","rules":[{"t":"gt","v":"1","vt":"num"},{"t":"lt","v":"3","vt":"num"}]}`)
	got := routeMsgs(t, n, newCtx(), seq...)
	expect(t, got,
		`out2 {"payload":0,"parts":{"id":"<new>","index":0,"count":3,"type":"array"}}`,
		`out2 {"payload":1,"parts":{"id":"<new>","index":1,"count":3,"type":"array"}}`,
		`out1 {"payload":2,"parts":{"id":"<new>","index":0,"count":2,"type":"array"}}`,
		`out2 {"payload":2,"parts":{"id":"<new>","index":2,"count":3,"type":"array"}}`,
		`out1 {"payload":3,"parts":{"id":"<new>","index":1,"count":2,"type":"array"}}`)

	// Stopping at the first match: the last part's routing decides how many
	// ports there are, as in Node-RED.
	n = build(t, "switch", `{"repair":true,"checkall":"false","rules":[{"t":"gt","v":"1","vt":"num"},{"t":"lt","v":"3","vt":"num"}]}`)
	var first []string
	for _, i := range []int{3, 0, 1, 2} {
		first = append(first, fmt.Sprintf(`{"payload":%d,"parts":{"id":"a","index":%d,"count":4}}`, i, i))
	}
	expect(t, routeMsgs(t, n, newCtx(), first...),
		`out1 {"payload":3,"parts":{"id":"<new>","index":0,"count":2}}`,
		`out1 {"payload":2,"parts":{"id":"<new>","index":1,"count":2}}`)
}

func TestSwitchHoldsTrackers(t *testing.T) {
	n := build(t, "switch", `{"repair":true,"rules":[{"t":"true"}]}`)
	c := newCtx()
	var done []error
	m := message(`{"payload":true,"parts":{"id":"a","index":0,"count":2}}`)
	m.Track = msg.NewTracker(func(err error) { done = append(done, err) })
	if err := n.(node.Inputter).Input(c, m); err != nil {
		t.Fatal(err)
	}
	m.Track.Done(nil) // the runtime finishes the input
	if len(done) != 0 {
		t.Fatal("a held part was reported done before it was sent")
	}
	if err := n.(node.Closer).Close(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	if len(done) != 1 || done[0] != errClosed {
		t.Fatalf("done %v", done)
	}
}

func TestSwitchTooManyPending(t *testing.T) {
	n := build(t, "switch", `{"rules":[{"t":"tail","v":"1","vt":"num"}]}`)
	c := newCtx()
	c.Settings = map[string]any{"nodeMessageBufferMaxLength": 2.0}
	got := routeMsgs(t, n, c,
		`{"payload":0,"parts":{"id":"a","index":0,"count":5}}`,
		`{"payload":1,"parts":{"id":"b","index":0,"count":5}}`,
		`{"payload":2,"parts":{"id":"c","index":0,"count":5}}`)
	expect(t, got)
	if len(c.Errs()) != 1 || c.Errs()[0].Err.Error() != "too many pending messages in switch node" {
		t.Fatalf("errors %v", c.Errs())
	}
}

func TestSwitchNoRules(t *testing.T) {
	expect(t, route(t, `{"rules":[]}`, `1`))
}

func TestSwitchOutputs(t *testing.T) {
	spec, _ := node.Lookup("switch")
	if n := spec.OutputCount(config(`{"rules":[{"t":"true"},{"t":"else"}]}`)); n != 2 {
		t.Fatalf("outputs from rules: %d", n)
	}
	if n := spec.OutputCount(config(`{"outputs":3,"rules":[{"t":"true"}]}`)); n != 3 {
		t.Fatalf("outputs property: %d", n)
	}
}

func TestSwitchBadConfig(t *testing.T) {
	badConfig(t, "switch", rules(`{"t":"true"}`, `{"t":"regex","v":"([a-","vt":"str"}`), "rules[1].v")
	badConfig(t, "switch", rules(`{"t":"eq","v":"abc","vt":"num"}`), "rules[0].v")
	badConfig(t, "switch", rules(`{"t":"btwn","v":"1","vt":"num","v2":"x","v2t":"num"}`), "rules[0].v2")
	badConfig(t, "switch", rules(`{"t":"jsonata_exp","v":"$x(","vt":"jsonata"}`), "rules[0].v")
	badConfig(t, "switch", rules(`{"t":"like","v":"a"}`), "rules[0].t")
	badConfig(t, "switch", `{"property":"a..b","rules":[]}`, "property")
	badConfig(t, "switch", `{"property":"(","propertyType":"jsonata","rules":[]}`, "property")
	badConfig(t, "switch", `{"property":"x","propertyType":"str","rules":[]}`, "propertyType")
}

func BenchmarkSwitch(b *testing.B) {
	n := build(b, "switch", `{"property":"payload.temp","propertyType":"msg","checkall":"false","rules":[
		{"t":"gt","v":"30","vt":"num"},{"t":"btwn","v":"15","vt":"num","v2":"30","v2t":"num"},
		{"t":"regex","v":"^err","vt":"str","case":true},{"t":"else"}]}`).(node.Inputter)
	c := newCtx()
	in := message(`{"payload":{"temp":21.5,"unit":"C"},"_msgid":"x"}`)
	b.ReportAllocs()
	for b.Loop() {
		c.Reset()
		if err := n.Input(c, in); err != nil {
			b.Fatal(err)
		}
	}
}
