package jsonata

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
)

// stringifier is JSON.stringify, optionally with $string's replacer
// (non-integers to 15 significant digits, functions as "").
type stringifier struct {
	b        strings.Builder
	indent   string
	replacer bool
	err      error
	depth    int
}

// jsonStringify is JSON.stringify(v); defined is false when the result
// would be undefined.
func jsonStringify(v any) (string, bool) {
	s := &stringifier{}
	if !s.value(v, "") || s.err != nil {
		return "", false
	}
	return s.b.String(), true
}

// toPrecision15 is Number(n.toPrecision(15)).
func toPrecision15(f float64) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 15, 64), 64)
	if err != nil {
		return f
	}
	return r
}

// prepare applies toJSON and the replacer; ok is false for values JSON
// skips.
func (s *stringifier) prepare(v any) (any, bool) {
	switch t := v.(type) {
	case []byte:
		data := make([]any, len(t))
		for i, c := range t {
			data[i] = float64(c)
		}
		v = msg.ObjectOf("type", "Buffer", "data", data)
	case time.Time:
		v = t.UTC().Format("2006-01-02T15:04:05.000Z")
	case *msg.Msg:
		if t != nil {
			v = t.Object
		}
	}
	if s.replacer {
		switch t := v.(type) {
		case float64:
			if math.IsInf(t, 0) {
				if s.err == nil {
					s.err = &Error{Code: "D1001", Value: t, hasValue: true}
				}
				return nil, false
			}
			if t == t && t != math.Trunc(t) {
				v = toPrecision15(t)
			}
		}
		if isFunction(v) {
			v = ""
		}
	}
	switch t := v.(type) {
	case undefinedT:
		return nil, false
	case *lambda:
		// A lambda is an object holding its environment, whose base frame
		// refers to itself.
		if !s.replacer {
			if s.err == nil {
				s.err = errCircular()
			}
			return nil, false
		}
	case *builtin:
		// A built-in is a plain object in jsonata; JSON keeps its flag and
		// what is left of its signature.
		if !t.plain {
			o := msg.NewObject(2)
			o.Set("_jsonata_function", true)
			if t.sig != nil {
				o.Set("signature", msg.ObjectOf("definition", t.sig.definition))
			}
			return o, true
		}
	}
	if isFunction(v) {
		return nil, false
	}
	return v, true
}

func (s *stringifier) nl(cur string) {
	if s.indent != "" {
		s.b.WriteByte('\n')
		s.b.WriteString(cur)
	}
}

// value writes v and reports whether anything was written.
func (s *stringifier) value(v any, cur string) bool {
	s.depth++
	defer func() { s.depth-- }()
	if s.depth > maxValueDepth {
		if s.err == nil {
			s.err = errCircular()
		}
		return false
	}
	v, ok := s.prepare(v)
	if !ok {
		return false
	}
	switch t := v.(type) {
	case nil:
		s.b.WriteString("null")
	case bool:
		if t {
			s.b.WriteString("true")
		} else {
			s.b.WriteString("false")
		}
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			s.b.WriteString("null")
		} else {
			s.b.WriteString(formatNumber(t))
		}
	case string:
		msg.QuoteTo(&s.b, t)
	case []any, *sequence:
		items := arrayItems(t)
		if len(items) == 0 {
			s.b.WriteString("[]")
			return true
		}
		inner := cur + s.indent
		s.b.WriteByte('[')
		for i, it := range items {
			if i > 0 {
				s.b.WriteByte(',')
			}
			s.nl(inner)
			if !s.value(it, inner) {
				s.b.WriteString("null")
			}
		}
		s.nl(cur)
		s.b.WriteByte(']')
	case *msg.Object:
		inner := cur + s.indent
		s.b.WriteByte('{')
		n := 0
		for i := 0; i < t.Len(); i++ {
			k, ev := t.At(i)
			ev, ok := s.prepare(ev)
			if !ok {
				continue
			}
			if n > 0 {
				s.b.WriteByte(',')
			}
			n++
			s.nl(inner)
			msg.QuoteTo(&s.b, k)
			s.b.WriteByte(':')
			if s.indent != "" {
				s.b.WriteByte(' ')
			}
			s.value(ev, inner)
		}
		if n > 0 {
			s.nl(cur)
		}
		s.b.WriteByte('}')
	default:
		// Opaque Go values (and RegExp tokens) have no JSON form.
		s.b.WriteString("{}")
	}
	return true
}

// fnString is $string.
func fnString(arg any, prettify bool) (any, error) {
	switch t := arg.(type) {
	case undefinedT:
		return undefined, nil
	case string:
		return t, nil
	case float64:
		if math.IsInf(t, 0) || math.IsNaN(t) {
			return nil, &Error{Code: "D3001", Value: t, hasValue: true}
		}
	}
	if isFunction(arg) {
		return "", nil
	}
	if s, ok := arg.(*sequence); ok && s.flags&fOuterWrapper != 0 && len(s.items) > 0 {
		arg = s.items[0]
	}
	st := &stringifier{replacer: true}
	if prettify {
		st.indent = "  "
	}
	written := st.value(arg, "")
	if st.err != nil {
		return nil, st.err
	}
	if !written {
		return undefined, nil
	}
	return st.b.String(), nil
}

func errCircular() *Error { return &Error{Message: "Converting circular structure to JSON"} }
