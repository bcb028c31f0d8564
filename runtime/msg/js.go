package msg

import (
	"math"
	"strconv"
	"strings"
)

// ToString converts v as JavaScript's String(v) does.
func ToString(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case Undefined:
		return "undefined"
	case bool:
		if t {
			return "true"
		}
		return "false"
	case float64:
		return FormatNumber(t)
	case int:
		return strconv.Itoa(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case string:
		return t
	case []byte:
		return string(t)
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			if e == nil {
				continue
			}
			if _, u := e.(Undefined); u {
				continue
			}
			parts[i] = ToString(e)
		}
		return strings.Join(parts, ",")
	case *Object:
		return "[object Object]"
	case interface{ String() string }:
		return t.String()
	default:
		return "[object Object]"
	}
}

// Undefined is JavaScript's undefined where a value must say so explicitly
// (an array element, a typed input that evaluated to nothing).
type Undefined struct{}

// IsUndefined reports whether v is the Undefined marker.
func IsUndefined(v any) bool { _, ok := v.(Undefined); return ok }

// ToNumber converts v as JavaScript's Number(v) does.
func ToNumber(v any) float64 {
	switch t := v.(type) {
	case nil:
		return 0
	case Undefined:
		return math.NaN()
	case bool:
		if t {
			return 1
		}
		return 0
	case float64:
		return t
	case int:
		return float64(t)
	case int64:
		return float64(t)
	case string:
		return StringToNumber(t)
	case []byte:
		return StringToNumber(string(t))
	case []any:
		switch len(t) {
		case 0:
			return 0
		case 1:
			return ToNumber(ToString(t))
		}
		return math.NaN()
	default:
		return math.NaN()
	}
}

// StringToNumber is JavaScript's Number(string).
func StringToNumber(s string) float64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	switch s {
	case "Infinity", "+Infinity":
		return math.Inf(1)
	case "-Infinity":
		return math.Inf(-1)
	}
	if len(s) > 2 && s[0] == '0' {
		base := 0
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			n, err := strconv.ParseUint(s[2:], base, 64)
			if err != nil {
				return math.NaN()
			}
			return float64(n)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return math.NaN()
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f
		}
		return math.NaN()
	}
	return f
}

// Truthy is JavaScript's ToBoolean.
func Truthy(v any) bool {
	switch t := v.(type) {
	case nil, Undefined:
		return false
	case bool:
		return t
	case float64:
		return t != 0 && !math.IsNaN(t)
	case int:
		return t != 0
	case string:
		return t != ""
	default:
		return true
	}
}

// TypeOf returns JavaScript's typeof for v.
func TypeOf(v any) string {
	switch v.(type) {
	case Undefined:
		return "undefined"
	case bool:
		return "boolean"
	case float64, int, int64:
		return "number"
	case string:
		return "string"
	default:
		return "object"
	}
}

// Num returns v as float64 when it is a number.
func Num(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case int:
		return float64(t), true
	case int64:
		return float64(t), true
	}
	return 0, false
}
