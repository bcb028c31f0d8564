package jsonata

import (
	"os"
	"testing"

	"github.com/sluicehq/sluice/runtime/jsonataref"
	"github.com/sluicehq/sluice/runtime/msg"
)

// benchSpec is testdata/bench.json: typical flow expressions and a message,
// shared with testdata/bench.js, which times the same cases in Node.js.
func benchSpec(tb testing.TB) (input any, names, exprs []string) {
	raw, err := os.ReadFile("testdata/bench.json")
	if err != nil {
		tb.Fatal(err)
	}
	v, err := msg.Unmarshal(raw)
	if err != nil {
		tb.Fatal(err)
	}
	o := v.(*msg.Object)
	for _, c := range o.Value("cases").([]any) {
		co := c.(*msg.Object)
		names = append(names, co.Value("name").(string))
		exprs = append(exprs, co.Value("expr").(string))
	}
	return o.Value("input"), names, exprs
}

// BenchmarkExpressions times the native evaluator on the bench.json cases.
func BenchmarkExpressions(b *testing.B) {
	input, names, exprs := benchSpec(b)
	for i, name := range names {
		e := MustCompile(exprs[i])
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Eval(input, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReference times the reference library (jsonata in goja) on the
// same cases, for comparison.
func BenchmarkReference(b *testing.B) {
	input, names, exprs := benchSpec(b)
	for i, name := range names {
		e, err := jsonataref.Compile(exprs[i])
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Eval(input, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestBenchCasesMatchReference keeps the benchmark expressions honest: the
// native results are the reference's.
func TestBenchCasesMatchReference(t *testing.T) {
	input, names, exprs := benchSpec(t)
	for i, name := range names {
		if d := diff(exprs[i], input); d != "" {
			t.Errorf("%s: %s", name, d)
		}
	}
}
