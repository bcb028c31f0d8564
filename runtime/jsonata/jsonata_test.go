package jsonata

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/jsonataref"
	"github.com/sluicehq/sluice/runtime/msg"
)

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	v, err := msg.UnmarshalString(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func evalOK(t *testing.T, expr string, input any, bindings map[string]any) any {
	t.Helper()
	e, err := Compile(expr)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	v, err := e.Eval(input, bindings)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

func evalErr(t *testing.T, expr string, input any, bindings map[string]any) *Error {
	t.Helper()
	e, err := Compile(expr)
	if err == nil {
		_, err = e.Eval(input, bindings)
	}
	var je *Error
	if !errors.As(err, &je) {
		t.Fatalf("%s: want *Error, got %v", expr, err)
	}
	return je
}

func TestCompileErrors(t *testing.T) {
	for _, c := range []struct {
		expr, code, token, msg string
		pos                    int
	}{
		{"payload +", "S0207", "(end)", "Unexpected end of expression", 9},
		{"a.1", "S0213", "", "The literal value 1 cannot be used as a step within a path expression", 3},
		{`"abc`, "S0101", "", "String literal must be terminated by a matching quote", 4},
		{"[1,2", "S0203", "(end)", `Expected "]" before end of expression`, 4},
		{"function($a, b){1}", "S0208", "b", "Parameter 2 of function definition must be a variable name (start with $)", 14},
		{"a ! b", "S0204", "!", `Unknown operator: "!"`, 3},
	} {
		_, err := Compile(c.expr)
		var je *Error
		if !errors.As(err, &je) {
			t.Errorf("%s: want *Error, got %v", c.expr, err)
			continue
		}
		if je.Code != c.code || je.Token != c.token || je.Message != c.msg || je.Position != c.pos {
			t.Errorf("%s: got %s %q %q at %d", c.expr, je.Code, je.Token, je.Message, je.Position)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	in := mustJSON(t, `{"a":"x","n":5}`)
	e := evalErr(t, `a + 1`, in, nil)
	if e.Code != "T2001" || e.Token != "+" || e.Position != 3 || e.Message != `The left side of the "+" operator must evaluate to a number` {
		t.Errorf("T2001: %+v", e)
	}
	e = evalErr(t, `$number(a)`, in, nil)
	if e.Code != "D3030" || e.Token != "number" || e.Message != `Unable to cast value to a number: "x"` {
		t.Errorf("D3030: %+v", e)
	}
	e = evalErr(t, `$error("boom")`, in, nil)
	if e.Code != "D3137" || e.Message != "boom" {
		t.Errorf("$error: %+v", e)
	}
	e = evalErr(t, `sum(n)`, in, nil)
	if e.Code != "T1005" || e.Message != "Attempted to invoke a non-function. Did you mean $sum?" {
		t.Errorf("T1005: %+v", e)
	}
}

func TestResults(t *testing.T) {
	in := mustJSON(t, `{"payload":{"items":[{"p":2,"q":3},{"p":4,"q":1}],"s":"abc"}}`)
	if v := evalOK(t, `$sum(payload.items.(p*q))`, in, nil); v != 10.0 {
		t.Errorf("sum: %v", v)
	}
	if v := evalOK(t, `payload.nothing`, in, nil); !msg.IsUndefined(v) {
		t.Errorf("missing: %#v", v)
	}
	v := evalOK(t, `payload.items[p>1].p`, in, nil)
	if !msg.Equal(v, []any{2.0, 4.0}) {
		t.Errorf("filter: %v", v)
	}
	// Key order follows JavaScript: integer-like keys first.
	v = evalOK(t, `{"b": 1, "a": 2, "1": 3}`, nil, nil)
	if got := string(msg.Marshal(v)); got != `{"1":3,"b":1,"a":2}` {
		t.Errorf("key order: %s", got)
	}
	if v := evalOK(t, `$string(0.1 + 0.2)`, nil, nil); v != "0.3" {
		t.Errorf("$string precision: %v", v)
	}
	// Node.js's answer (goja, under the reference, prints null).
	if v := evalOK(t, `$string(-1e-7)`, nil, nil); v != "-1e-7" {
		t.Errorf("$string of a small negative number: %v", v)
	}
	if v := evalOK(t, `function($x){$x}`, nil, nil); v != (Function{}) {
		t.Errorf("function result: %#v", v)
	}
	if v := evalOK(t, `[1..3]`, nil, nil); !msg.Equal(v, []any{1.0, 2.0, 3.0}) {
		t.Errorf("range: %#v", v)
	}
}

func TestBindings(t *testing.T) {
	var seen []any
	b := map[string]any{
		"n":   5.0,
		"i":   7, // Go ints are numbers
		"obj": msg.ObjectOf("k", "v"),
		"twice": Func{Fn: func(args []any) (any, error) {
			seen = args
			return args[0].(float64) * 2, nil
		}, Signature: "<n-:n>"},
		"plain": func(args []any) (any, error) { return float64(len(args)), nil },
		"fail":  func(args []any) (any, error) { return nil, errors.New("no luck") },
	}
	if v := evalOK(t, `$twice($n) + $i`, nil, b); v != 17.0 {
		t.Errorf("bound: %v", v)
	}
	// The "-" signature fills the argument from the context.
	if v := evalOK(t, `x.$twice()`, mustJSON(t, `{"x":21}`), b); v != 42.0 || len(seen) != 1 {
		t.Errorf("context arg: %v %v", v, seen)
	}
	e := evalErr(t, `$twice("a")`, nil, b)
	if e.Code != "T0410" || e.Token != "twice" {
		t.Errorf("signature: %+v", e)
	}
	if v := evalOK(t, `$plain(1, 2, 3)`, nil, b); v != 3.0 {
		t.Errorf("plain: %v", v)
	}
	if v := evalOK(t, `$obj.k`, nil, b); v != "v" {
		t.Errorf("object binding: %v", v)
	}
	_, err := MustCompile(`$fail()`).Eval(nil, b)
	if err == nil || err.Error() != "no luck" || errors.Unwrap(err) == nil {
		t.Errorf("Go error: %v", err)
	}
}

func TestGuards(t *testing.T) {
	// A tail-recursive loop never deepens: only the context ends it.
	loop := MustCompile(`($f := function($n){ $f($n + 1) }; $f(0))`)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := loop.EvalContext(ctx, nil, nil)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("context: %v after %v", err, time.Since(start))
	}
	_, err = loop.WithOptions(Options{Timeout: 20 * time.Millisecond}).Eval(nil, nil)
	var je *Error
	if !errors.As(err, &je) || je.Code != "D1012" {
		t.Errorf("timeout: %v", err)
	}
	deep := MustCompile(`($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))`)
	_, err = deep.WithOptions(Options{MaxDepth: 500}).Eval(nil, nil)
	if !errors.As(err, &je) || je.Code != "D1011" {
		t.Errorf("depth: %v", err)
	}
	_, err = deep.Eval(nil, nil)
	if !errors.As(err, &je) || je.Code != "U1001" {
		t.Errorf("default depth: %v", err)
	}
	// Deep but finite recursion is fine.
	if v := evalOK(t, `($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(3000))`, nil, nil); v != 3000.0 {
		t.Errorf("recursion: %v", v)
	}
}

func TestNowIsStable(t *testing.T) {
	v := evalOK(t, `[$millis(), $millis(), $now() = $now(), $toMillis($now()) = $millis()]`, nil, nil).([]any)
	if v[0] != v[1] || v[2] != true || v[3] != true {
		t.Errorf("$now/$millis: %v", v)
	}
	ms := v[0].(float64)
	if d := time.Since(time.UnixMilli(int64(ms))); d < 0 || d > time.Minute {
		t.Errorf("$millis is not now: %v", ms)
	}
}

func TestBuffer(t *testing.T) {
	in := msg.ObjectOf("payload", []byte{1, 2, 250})
	for expr, want := range map[string]any{
		`payload.length`:       3.0,
		`$count(payload)`:      1.0,
		`$keys(payload)`:       []any{"0", "1", "2"},
		`$string(payload)`:     `{"type":"Buffer","data":[1,2,250]}`,
		`payload."2"`:          250.0,
		`$type(payload)`:       "object",
		`$sum(payload.*)`:      253.0,
		`$exists(payload)`:     true,
		`payload[0] = payload`: true,
	} {
		if v := evalOK(t, expr, in, nil); !msg.Equal(v, want) {
			t.Errorf("%s: got %#v, want %#v", expr, v, want)
		}
	}
	if v := evalOK(t, `payload`, in, nil); !msg.Equal(v, []byte{1, 2, 250}) {
		t.Errorf("buffer result: %#v", v)
	}
}

type jsonable struct{ n float64 }

func (j jsonable) ToJSON() any { return msg.ObjectOf("n", j.n) }

func TestToJSONValues(t *testing.T) {
	in := msg.ObjectOf("v", jsonable{4})
	if v := evalOK(t, `v.n * 2`, in, nil); v != 8.0 {
		t.Errorf("ToJSON: %v", v)
	}
}

func TestLoneSurrogateEscape(t *testing.T) {
	if e := evalErr(t, `$encodeUrlComponent("\uD800")`, nil, nil); e.Code != "D3140" {
		t.Errorf("lone surrogate: %+v", e)
	}
	if v := evalOK(t, `$encodeUrlComponent("\uD83D\uDE00")`, nil, nil); v != "%F0%9F%98%80" {
		t.Errorf("surrogate pair: %v", v)
	}
}

func TestConcurrentEval(t *testing.T) {
	e := MustCompile(`{"total": $sum(items.(p * q)), "names": items^(>p).n, "s": $replace($join(items.n, ","), /([a-c])/, "<$1>") ~> $replace(/[<>]/, "")}`)
	in := mustJSON(t, `{"items":[{"n":"a","p":1,"q":2},{"n":"b","p":3,"q":4},{"n":"c","p":2,"q":2}]}`)
	want := `{"total":18,"names":["b","c","a"],"s":"a,b,c"}`
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				v, err := e.Eval(in, nil)
				if err != nil || string(msg.Marshal(v)) != want {
					t.Errorf("got %s %v", msg.Marshal(v), err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// The input is untouched.
	if got := string(msg.Marshal(in)); got != `{"items":[{"n":"a","p":1,"q":2},{"n":"b","p":3,"q":4},{"n":"c","p":2,"q":2}]}` {
		t.Errorf("input changed: %s", got)
	}
}

func TestTransformLeavesInput(t *testing.T) {
	in := mustJSON(t, `{"a":{"b":1}}`)
	v := evalOK(t, `$ ~> |a|{"b": 2, "c": 3}|`, in, nil)
	if got := string(msg.Marshal(v)); got != `{"a":{"b":2,"c":3}}` {
		t.Errorf("transform: %s", got)
	}
	if got := string(msg.Marshal(in)); got != `{"a":{"b":1}}` {
		t.Errorf("input changed: %s", got)
	}
}

func TestNodeREDAdapter(t *testing.T) {
	_, err := CompileNodeRED("payload +")
	var re *jsonataref.Error
	if !errors.As(err, &re) || re.Code != "S0207" {
		t.Fatalf("compile error: %#v", err)
	}
	clone := jsonataref.Func{Fn: func(args []any) (any, error) { return args[0], nil }, Signature: "<(oa)-:o>"}
	in := mustJSON(t, `{"payload":{"a":1}}`)
	x, err := CompileNodeRED(`[$clone(payload), $env("HOME"), $ ~> |payload|{"a": 2}|]`)
	if err != nil {
		t.Fatal(err)
	}
	b := map[string]any{
		"clone":  clone,
		"env":    jsonataref.Func{Fn: func(args []any) (any, error) { return "/home/" + args[0].(string), nil }},
		"moment": jsonataref.Moment,
	}
	v, err := x.Eval(in, b)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(msg.Marshal(v)); got != `[{"a":1},"/home/HOME",{"payload":{"a":2}}]` {
		t.Errorf("adapter: %s", got)
	}
	if got := string(msg.Marshal(in)); got != `{"payload":{"a":1}}` {
		t.Errorf("input changed through the bound $clone: %s", got)
	}
	_, err = x.Eval(in, map[string]any{"clone": clone, "env": jsonataref.Func{Fn: func([]any) (any, error) { return nil, errors.New("bad env") }}})
	if !errors.As(err, &re) || !strings.Contains(re.Message, "bad env") {
		t.Errorf("Go error through the adapter: %#v", err)
	}
	// $moment runs in the reference library.
	m, err := CompileNodeRED(`$moment(0).utc().format("YYYY")`)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := m.Eval(nil, b); err != nil || v != "1970" {
		t.Errorf("$moment: %v %v", v, err)
	}
}

func TestDeepExpression(t *testing.T) {
	src := strings.Repeat("(", 50000) + "1" + strings.Repeat(")", 50000)
	if _, err := Compile(src); err == nil {
		t.Error("no error for a deeply nested expression")
	}
	src = strings.Repeat("-", 50000) + "1"
	if _, err := Compile(src); err == nil {
		t.Error("no error for a long chain of prefixes")
	}
}
