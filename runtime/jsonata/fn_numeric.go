package jsonata

import (
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
)

func numbers(v any) []float64 {
	items := arrayItems(v)
	out := make([]float64, len(items))
	for i, it := range items {
		out[i], _ = it.(float64)
	}
	return out
}

func fnSum(c call, a []any) (any, error) {
	v := argAt(a, 0)
	if isUndef(v) {
		return undefined, nil
	}
	total := 0.0
	for _, n := range numbers(v) {
		total += n
	}
	return total, nil
}

func fnCount(c call, a []any) (any, error) {
	v := argAt(a, 0)
	if isUndef(v) {
		return 0.0, nil
	}
	return float64(len(arrayItems(v))), nil
}

func fnMax(c call, a []any) (any, error) {
	ns := numbers(argAt(a, 0))
	if len(ns) == 0 {
		return undefined, nil
	}
	m := math.Inf(-1)
	for _, n := range ns {
		if n != n {
			return math.NaN(), nil
		}
		if n > m || (n == 0 && m == 0 && !math.Signbit(n)) {
			m = n
		}
	}
	return m, nil
}

func fnMin(c call, a []any) (any, error) {
	ns := numbers(argAt(a, 0))
	if len(ns) == 0 {
		return undefined, nil
	}
	m := math.Inf(1)
	for _, n := range ns {
		if n != n {
			return math.NaN(), nil
		}
		if n < m || (n == 0 && m == 0 && math.Signbit(n)) {
			m = n
		}
	}
	return m, nil
}

func fnAverage(c call, a []any) (any, error) {
	ns := numbers(argAt(a, 0))
	if len(ns) == 0 {
		return undefined, nil
	}
	total := 0.0
	for _, n := range ns {
		total += n
	}
	return total / float64(len(ns)), nil
}

var (
	decimalNumberRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?$`)
	radixNumberRE   = regexp.MustCompile(`^(0[xX][0-9A-Fa-f]+)|(0[oO][0-7]+)|(0[bB][0-1]+)$`)
)

func fnNumber(c call, a []any) (any, error) {
	switch t := argAt(a, 0).(type) {
	case undefinedT:
		return undefined, nil
	case float64:
		return t, nil
	case string:
		if decimalNumberRE.MatchString(t) {
			if f := msg.StringToNumber(t); !math.IsInf(f, 0) && !math.IsNaN(f) {
				return f, nil
			}
		}
		if radixNumberRE.MatchString(t) {
			return msg.StringToNumber(t), nil
		}
	case bool:
		if t {
			return 1.0, nil
		}
		return 0.0, nil
	}
	return nil, &Error{Code: "D3030", Value: argAt(a, 0), hasValue: true, index: 1.0}
}

func unaryMath(f func(float64) float64) implFn {
	return func(c call, a []any) (any, error) {
		v, ok := argAt(a, 0).(float64)
		if !ok {
			return undefined, nil
		}
		return f(v), nil
	}
}

var (
	fnFloor = unaryMath(math.Floor)
	fnCeil  = unaryMath(math.Ceil)
	fnAbs   = unaryMath(math.Abs)
)

// jsRound is Math.round: to the nearest integer, halves toward +Infinity.
func jsRound(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	r := math.Floor(x)
	if x-r >= 0.5 {
		r++
	}
	if r == 0 && math.Signbit(x) {
		return math.Copysign(0, -1)
	}
	return r
}

// roundHalfEven is jsonata's $round, shifting the decimal point through
// the number's text to avoid binary rounding errors.
func roundHalfEven(arg float64, precision float64, hasPrecision bool) float64 {
	shift := hasPrecision && precision != 0 && !math.IsNaN(precision)
	if shift {
		arg = shiftDecimal(arg, precision)
	}
	result := jsRound(arg)
	diff := result - arg
	if math.Abs(diff) == 0.5 && math.Abs(math.Mod(result, 2)) == 1 {
		result--
	}
	if shift {
		result = shiftDecimal(result, -precision)
	}
	if result == 0 {
		result = 0
	}
	return result
}

// shiftDecimal is +(mantissa + 'e' + (exponent + by)) on the number's
// JavaScript text.
func shiftDecimal(v float64, by float64) float64 {
	s := formatNumber(v)
	mant, exp, hasExp := strings.Cut(s, "e")
	e := by
	if hasExp {
		x, _ := strconv.ParseFloat(exp, 64)
		e = x + by
	}
	f := msg.StringToNumber(mant + "e" + formatNumber(e))
	return f
}

func fnRound(c call, a []any) (any, error) {
	v, ok := argAt(a, 0).(float64)
	if !ok {
		return undefined, nil
	}
	p, hasP := argAt(a, 1).(float64)
	return roundHalfEven(v, p, hasP), nil
}

func fnSqrt(c call, a []any) (any, error) {
	v, ok := argAt(a, 0).(float64)
	if !ok {
		return undefined, nil
	}
	if v < 0 {
		return nil, &Error{Code: "D3060", Value: v, hasValue: true, index: 1.0}
	}
	return math.Sqrt(v), nil
}

// jsPow is Math.pow, which differs from math.Pow on a few special values.
func jsPow(x, y float64) float64 {
	if math.IsNaN(y) {
		return math.NaN()
	}
	if math.IsInf(y, 0) && (x == 1 || x == -1) {
		return math.NaN()
	}
	return math.Pow(x, y)
}

func fnPower(c call, a []any) (any, error) {
	v, ok := argAt(a, 0).(float64)
	if !ok {
		return undefined, nil
	}
	e, _ := argAt(a, 1).(float64)
	r := jsPow(v, e)
	if math.IsInf(r, 0) || math.IsNaN(r) {
		return nil, &Error{Code: "D3061", Value: v, hasValue: true, exp: e, index: 1.0}
	}
	return r, nil
}

func fnRandom(c call, a []any) (any, error) { return rand.Float64(), nil }

func fnNot(c call, a []any) (any, error) {
	v := argAt(a, 0)
	if isUndef(v) {
		return undefined, nil
	}
	b, err := toBoolean(v)
	if err != nil {
		return nil, err
	}
	return b != true, nil
}

func fnFormatBase(c call, a []any) (any, error) {
	v, ok := argAt(a, 0).(float64)
	if !ok {
		return undefined, nil
	}
	v = roundHalfEven(v, 0, false)
	radix := 10.0
	if r, ok := argAt(a, 1).(float64); ok {
		radix = roundHalfEven(r, 0, false)
	}
	if radix < 2 || radix > 36 || radix != radix {
		return nil, &Error{Code: "D3100", Value: radix, hasValue: true}
	}
	return formatRadix(v, int(radix)), nil
}

// formatRadix is Number.prototype.toString(radix) for integers.
func formatRadix(v float64, radix int) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	if math.IsInf(v, 0) {
		if v > 0 {
			return "Infinity"
		}
		return "-Infinity"
	}
	if radix == 10 {
		return formatNumber(v)
	}
	if math.Abs(v) < 1<<63 {
		return strconv.FormatInt(int64(v), radix)
	}
	neg := v < 0
	v = math.Abs(v)
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	var out []byte
	for v >= 1 {
		d := math.Mod(v, float64(radix))
		out = append(out, digits[int(d)])
		v = math.Floor(v / float64(radix))
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
