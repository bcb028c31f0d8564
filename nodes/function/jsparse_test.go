package function

import (
	"math"
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
)

func TestJSParseFloat(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want float64
	}{
		{"12", 12}, {" 12px", 12}, {"-1.5e3x", -1500}, {".5", 0.5}, {"5.", 5}, {"1e", 1}, {"1e+", 1},
		{"+3", 3}, {"Infinity and more", math.Inf(1)}, {"-Infinity", math.Inf(-1)}, {"0x10", 0},
		{"\u00a0\n7", 7}, {true, math.NaN()}, {nil, math.NaN()}, {[]any{5.0, 6.0}, 5}, {"", math.NaN()},
		{".", math.NaN()}, {"-", math.NaN()}, {"e5", math.NaN()}, {[]byte("42"), 42}, {3.25, 3.25},
	} {
		got := jsParseFloat(tc.in)
		if !(got == tc.want || math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("parseFloat(%#v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestJSStrictEqual(t *testing.T) {
	o := msg.NewObject(0)
	for _, tc := range []struct {
		a, b any
		want bool
	}{
		{1.0, 1.0, true}, {1.0, "1", false}, {"a", "a", true}, {nil, nil, true}, {nil, msg.Undefined{}, false},
		{math.NaN(), math.NaN(), false}, {o, o, true}, {o, msg.NewObject(0), false}, {true, true, true},
	} {
		if got := jsStrictEqual(tc.a, tc.b); got != tc.want {
			t.Errorf("%#v === %#v: %v", tc.a, tc.b, got)
		}
	}
}
