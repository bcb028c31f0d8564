package jsonataref

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
)

func eval(t *testing.T, src string, input any, bindings map[string]any) any {
	t.Helper()
	e, err := Compile(src)
	if err != nil {
		t.Fatalf("Compile(%q): %v", src, err)
	}
	v, err := e.Eval(input, bindings)
	if err != nil {
		t.Fatalf("Eval(%q): %v", src, err)
	}
	return v
}

func jsonOf(v any) string { return string(msg.Marshal(v)) }

func TestKeyOrderRoundTrip(t *testing.T) {
	in := msg.ObjectOf("z", 1.0, "10", "ten", "a", msg.ObjectOf("y", true, "b", nil), "2", "two")
	v := eval(t, "$", in, nil)
	if got, want := jsonOf(v), `{"2":"two","10":"ten","z":1,"a":{"y":true,"b":null}}`; got != want {
		t.Fatalf("got %s want %s", got, want)
	}
	if got := jsonOf(eval(t, "$keys($)", in, nil)); got != `["2","10","z","a"]` {
		t.Fatalf("$keys order: %s", got)
	}
	// Objects built by the expression keep their construction order too.
	if got := jsonOf(eval(t, `{"q": 1, "b": 2, "1": 3}`, nil, nil)); got != `{"1":3,"q":1,"b":2}` {
		t.Fatalf("constructed: %s", got)
	}
}

func TestScalarsAndUndefined(t *testing.T) {
	in := msg.ObjectOf("n", 1.5, "i", 3, "s", "x", "b", false, "z", nil)
	cases := map[string]any{
		"n":             1.5,
		"i + 1":         4.0,
		"s":             "x",
		"b":             false,
		"z":             nil,
		"missing":       msg.Undefined{},
		"[1, 2]":        []any{1.0, 2.0},
		"[[1], 2]":      []any{[]any{1.0}, 2.0},
		"$string(1e21)": "1e+21",
	}
	for src, want := range cases {
		if got := eval(t, src, in, nil); !msg.Equal(got, want) || fmt.Sprintf("%T", got) != fmt.Sprintf("%T", want) {
			t.Errorf("%s: got %#v want %#v", src, got, want)
		}
	}
	// An undefined input is JSONata's "no input".
	if got := eval(t, "$exists($)", msg.Undefined{}, nil); got != false {
		t.Errorf("undefined input: %v", got)
	}
	// A *msg.Msg is evaluated as its body.
	m := msg.Wrap(msg.ObjectOf("payload", "p"))
	if got := eval(t, "payload", m, nil); got != "p" {
		t.Errorf("msg input: %v", got)
	}
}

func TestBuffer(t *testing.T) {
	in := msg.ObjectOf("payload", []byte("hi\x00"))
	cases := map[string]string{
		"payload":                          `{"type":"Buffer","data":[104,105,0]}`,
		"payload.length":                   `3`,
		"$string(payload)":                 `"{\"type\":\"Buffer\",\"data\":[104,105,0]}"`,
		"$keys(payload)":                   `["0","1","2"]`,
		"$type(payload)":                   `"object"`,
		"$count(payload)":                  `1`,
		"payload.toString()":               `"hi\u0000"`,
		"payload.toString('hex')":          `"686900"`,
		"payload.toString('base64')":       `"aGkA"`,
		`$base64encode("hello:world")`:     `"aGVsbG86d29ybGQ="`,
		`$base64decode("aGVsbG86d29ybGQ")`: `"hello:world"`,
	}
	for src, want := range cases {
		if got := jsonOf(eval(t, src, in, nil)); got != want {
			t.Errorf("%s: got %s want %s", src, got, want)
		}
	}
	// A buffer result is a copy: the input is never shared with JavaScript.
	b := []byte{1, 2}
	out := eval(t, "$", b, nil).([]byte)
	out[0] = 9
	if b[0] != 1 {
		t.Fatal("result shares the input's bytes")
	}
}

func TestDatesAndHostValues(t *testing.T) {
	when := time.Date(2024, 2, 3, 4, 5, 6, 7e6, time.UTC)
	got := eval(t, "$", when, nil)
	if tt, ok := got.(time.Time); !ok || !tt.Equal(when) {
		t.Fatalf("date: %#v", got)
	}
	if s := eval(t, "$string($)", when, nil); s != `"2024-02-03T04:05:06.007Z"` {
		t.Fatalf("date JSON: %v", s)
	}
	type session struct{ id string }
	host := &session{id: "s1"}
	res := eval(t, "{'s': sess, 'n': 1}", msg.ObjectOf("sess", host), nil).(*msg.Object)
	if res.Value("s") != host {
		t.Fatalf("host value came back as %#v", res.Value("s"))
	}
	if fn := eval(t, "function($x){$x}", nil, nil); fn != (Function{}) {
		t.Fatalf("lambda result: %#v", fn)
	}
}

func TestProtoKey(t *testing.T) {
	in := msg.NewObject(1)
	in.Set("__proto__", msg.ObjectOf("polluted", true))
	// (A single key comes back as a string: JSONata unwraps singletons.)
	if got := jsonOf(eval(t, "$keys($)", in, nil)); got != `"__proto__"` {
		t.Fatalf("__proto__ key: %s", got)
	}
	if got := eval(t, "polluted", in, nil); !msg.IsUndefined(got) {
		t.Fatalf("__proto__ became the prototype: %v", got)
	}
}

func TestBindings(t *testing.T) {
	var seen []any
	b := map[string]any{
		"v": msg.ObjectOf("k", []any{1.0, "two"}),
		"f": func(args []any) (any, error) {
			seen = args
			return msg.ObjectOf("n", float64(len(args))), nil
		},
		"ctx": Func{Fn: func(args []any) (any, error) { return args[0], nil }, Signature: "<s-:s>"},
	}
	if got := jsonOf(eval(t, "$v.k[1]", nil, b)); got != `"two"` {
		t.Errorf("plain binding: %s", got)
	}
	if got := jsonOf(eval(t, "$f(1, 'a', {'x': [true]})", nil, b)); got != `{"n":3}` {
		t.Errorf("func result: %s", got)
	}
	if jsonOf(seen) != `[1,"a",{"x":[true]}]` {
		t.Errorf("func args: %s", jsonOf(seen))
	}
	eval(t, "$f()", nil, b)
	if len(seen) != 0 {
		t.Errorf("no args: %#v", seen)
	}
	eval(t, "$f(nothing)", nil, b)
	if len(seen) != 1 || !msg.IsUndefined(seen[0]) {
		t.Errorf("undefined arg: %#v", seen)
	}
	// The signature's "-" takes the context value.
	if got := eval(t, "name.$ctx()", msg.ObjectOf("name", "ctxval"), b); got != "ctxval" {
		t.Errorf("context arg: %v", got)
	}
	e, _ := Compile("$ctx(1)")
	_, err := e.Eval(nil, b)
	var je *Error
	if !errors.As(err, &je) || je.Code != "T0410" {
		t.Errorf("signature check: %v", err)
	}
	// The same runtime, next evaluation, other function under the same name.
	b["f"] = func(args []any) (any, error) { return "second", nil }
	if got := eval(t, "$f()", nil, b); got != "second" {
		t.Errorf("rebound func: %v", got)
	}
}

func TestGoError(t *testing.T) {
	sentinel := errors.New("store exploded")
	b := map[string]any{
		"boom": func(args []any) (any, error) { return nil, sentinel },
		"coded": func(args []any) (any, error) {
			return nil, &Error{Code: "D9999", Message: "custom"}
		},
	}
	e, _ := Compile("1 + $boom()")
	_, err := e.Eval(nil, b)
	if !errors.Is(err, sentinel) {
		t.Fatalf("Go error lost: %#v", err)
	}
	if je := err.(*Error); je.Message != "store exploded" || je.Position == 0 {
		t.Errorf("error fields: %#v", je)
	}
	e, _ = Compile("$coded()")
	_, err = e.Eval(nil, b)
	if je, ok := err.(*Error); !ok || je.Code != "D9999" || je.Message != "custom" {
		t.Errorf("coded error: %#v", err)
	}
}

func TestCompileError(t *testing.T) {
	_, err := Compile("payload.a +")
	je, ok := err.(*Error)
	if !ok {
		t.Fatalf("not *Error: %#v", err)
	}
	if je.Code != "S0207" || je.Position != 11 || je.Token != "(end)" || je.Message != "Unexpected end of expression" {
		t.Fatalf("fields: %#v", je)
	}
	_, err = Compile(`"unterminated`)
	if je, ok := err.(*Error); !ok || je.Code != "S0101" {
		t.Fatalf("S0101: %#v", err)
	}
}

func TestEvalError(t *testing.T) {
	e, err := Compile(`"s" - 1`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Eval(nil, nil)
	je, ok := err.(*Error)
	if !ok || je.Code != "T2001" || je.Position != 5 || je.Token != "-" || je.Value != "s" {
		t.Fatalf("%#v", err)
	}
	if !strings.Contains(je.Message, "left side") {
		t.Fatalf("message: %q", je.Message)
	}
}

func TestEvalContextStops(t *testing.T) {
	e, err := Compile("($f := function($n){ $n < 0 ? 0 : $f($n + 1) }; $f(0))")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	_, err = e.EvalContext(ctx, nil, nil)
	if err == nil {
		t.Fatal("runaway expression returned no error")
	}
	if time.Since(t0) > 5*time.Second {
		t.Fatalf("stopped after %v", time.Since(t0))
	}
	// Later evaluations are not hit by the interrupt.
	if got := eval(t, "1 + 1", nil, nil); got != 2.0 {
		t.Fatalf("after interrupt: %v", got)
	}
}

func TestLoneSurrogate(t *testing.T) {
	// JSONata's own \u escape makes the lone surrogate inside JavaScript.
	e, _ := Compile(`$encodeUrlComponent("\ud800")`)
	_, err := e.Eval(nil, nil)
	if je, ok := err.(*Error); !ok || je.Code != "D3140" {
		t.Fatalf("%#v", err)
	}
}

func TestMoment(t *testing.T) {
	b := map[string]any{"moment": Moment}
	if got := eval(t, "$moment(0).tz('Asia/Tokyo').format()", nil, b); got != "1970-01-01T09:00:00+09:00" {
		t.Fatalf("tz: %v", got)
	}
	if got := eval(t, "$moment('2020-01-02', 'YYYY-MM-DD').add(1, 'days').format('YYYY-MM-DD')", nil, b); got != "2020-01-03" {
		t.Fatalf("add: %v", got)
	}
	got := eval(t, "$moment(86400000)", nil, b)
	if tt, ok := got.(time.Time); !ok || tt.UnixMilli() != 86400000 {
		t.Fatalf("moment result: %#v", got)
	}
}

func TestConcurrent(t *testing.T) {
	e, err := Compile("$sum(payload.v) & $x")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				in := msg.ObjectOf("payload", msg.ObjectOf("v", []any{float64(g), float64(i)}))
				v, err := e.Eval(in, map[string]any{"x": "!"})
				if want := msg.FormatNumber(float64(g+i)) + "!"; err != nil || v != want {
					t.Errorf("got %v %v want %s", v, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestCyclicInput(t *testing.T) {
	o := msg.NewObject(1)
	a := []any{o}
	o.Set("a", a)
	e, _ := Compile("a")
	if _, err := e.Eval(o, nil); err == nil {
		t.Fatal("cyclic input accepted")
	}
}

func BenchmarkEvalSimple(b *testing.B) {
	e, err := Compile("payload.a + 1")
	if err != nil {
		b.Fatal(err)
	}
	in := msg.ObjectOf("payload", msg.ObjectOf("a", 1.0), "topic", "t", "_msgid", "abc")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Eval(in, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvalTransform(b *testing.B) {
	e, err := Compile(`{"total": $sum(payload.items.(price * qty)), "names": payload.items[price > 2].name, "at": $string(payload.id)}`)
	if err != nil {
		b.Fatal(err)
	}
	items := make([]any, 20)
	for i := range items {
		items[i] = msg.ObjectOf("name", fmt.Sprintf("item%d", i), "price", float64(i%5), "qty", float64(i))
	}
	in := msg.ObjectOf("payload", msg.ObjectOf("id", 42.0, "items", items), "topic", "t")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Eval(in, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvalParallel(b *testing.B) {
	e, err := Compile("payload.a + 1")
	if err != nil {
		b.Fatal(err)
	}
	in := msg.ObjectOf("payload", msg.ObjectOf("a", 1.0))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.Eval(in, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkNewRuntime(b *testing.B) {
	for b.Loop() {
		if _, err := newState(); err != nil {
			b.Fatal(err)
		}
	}
}
