package function

import (
	"math"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
)

// jsParseFloat is JavaScript's parseFloat(v): the longest number at the
// start of String(v) after leading whitespace ("12px" is 12), NaN when
// there is none. Delay, trigger and filter nodes read msg.delay, msg.rate
// and values with it, so "500ms" works there as it does in Node-RED.
func jsParseFloat(v any) float64 {
	var s string
	switch t := v.(type) {
	case float64:
		return t
	case string:
		s = t
	default:
		s = jsString(v)
	}
	s = strings.TrimLeftFunc(s, jsSpace)
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	if strings.HasPrefix(s[i:], "Infinity") {
		if s[0] == '-' {
			return math.Inf(-1)
		}
		return math.Inf(1)
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		j := i + 1
		frac := 0
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
			frac++
		}
		if digits > 0 || frac > 0 {
			i = j
			digits += frac
		}
	}
	if digits == 0 {
		return math.NaN()
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k > j {
			i = k
		}
	}
	f, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f
		}
		return math.NaN()
	}
	return f
}

// jsSpace is JavaScript's whitespace and line terminators.
func jsSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// jsStrictEqual is JavaScript's a === b.
func jsStrictEqual(a, b any) bool {
	if an, ok := msg.Num(a); ok {
		bn, ok := msg.Num(b)
		return ok && an == bn
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case msg.Undefined:
		return msg.IsUndefined(b)
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	}
	return sameRef(a, b)
}

// jsKey is the property name JavaScript makes of a value used as an object
// key (topics are kept that way).
func jsKey(v any) string { return jsString(v) }
