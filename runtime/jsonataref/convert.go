package jsonataref

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/dop251/goja"

	"github.com/sluicehq/sluice/runtime/msg"
)

// maxDepth bounds conversions so a cyclic value is an error, not a crash.
const maxDepth = 10000

var (
	typeJSObject = reflect.TypeOf(map[string]any(nil))
	typeTime     = reflect.TypeOf(time.Time{})
)

// toJS converts a msg-model value into the runtime.
func (s *state) toJS(v any, depth int) (goja.Value, error) {
	if depth > maxDepth {
		return nil, errorf("jsonataref: value nested deeper than %d levels (cyclic?)", maxDepth)
	}
	switch t := v.(type) {
	case nil:
		return goja.Null(), nil
	case msg.Undefined:
		return goja.Undefined(), nil
	case bool, string, float64, int, int64:
		return s.rt.ToValue(t), nil
	case *msg.Object:
		if t == nil {
			return goja.Null(), nil
		}
		o := s.rt.NewObject()
		for i := 0; i < t.Len(); i++ {
			k, ev := t.At(i)
			jv, err := s.toJS(ev, depth+1)
			if err != nil {
				return nil, err
			}
			if k == "__proto__" {
				// An own property, as JSON.parse makes it, not the prototype.
				err = o.DefineDataProperty(k, jv, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
			} else {
				err = o.Set(k, jv)
			}
			if err != nil {
				return nil, err
			}
		}
		return o, nil
	case []any:
		items := make([]any, len(t))
		for i, e := range t {
			jv, err := s.toJS(e, depth+1)
			if err != nil {
				return nil, err
			}
			items[i] = jv
		}
		return s.rt.NewArray(items...), nil
	case []byte:
		c := make([]byte, len(t))
		copy(c, t)
		return s.rt.New(s.bufCtor, s.rt.ToValue(s.rt.NewArrayBuffer(c)))
	case time.Time:
		return s.rt.New(s.rt.GlobalObject().Get("Date"), s.rt.ToValue(float64(t.UnixMilli())))
	case *msg.Msg:
		if t == nil {
			return goja.Null(), nil
		}
		return s.toJS(t.Object, depth)
	case Function:
		return goja.Undefined(), nil
	case interface{ ToJSON() any }:
		return s.toJS(t.ToJSON(), depth+1)
	}
	// Other Go values (an HTTP request, a session) travel as host objects and
	// come back as themselves.
	return s.rt.ToValue(v), nil
}

// fromJS converts a runtime value into the msg model.
func (s *state) fromJS(v goja.Value, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errorf("jsonataref: result nested deeper than %d levels (cyclic?)", maxDepth)
	}
	if v == nil || goja.IsUndefined(v) {
		return msg.Undefined{}, nil
	}
	if goja.IsNull(v) {
		return nil, nil
	}
	o, ok := v.(*goja.Object)
	if !ok {
		switch x := v.Export().(type) {
		case int64:
			return float64(x), nil
		case float64, string, bool:
			return x, nil
		case nil:
			return nil, nil
		default:
			// BigInt and symbols have no JSON form; their text is the best
			// we can do.
			return v.String(), nil
		}
	}
	switch o.ClassName() {
	case "Array":
		n := int(o.Get("length").ToInteger())
		out := make([]any, n)
		for i := 0; i < n; i++ {
			e, err := s.fromJS(o.Get(strconv.Itoa(i)), depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	case "Function":
		return Function{}, nil
	case "Date":
		if t, ok := o.Export().(time.Time); ok {
			return t, nil
		}
		return nil, nil
	case "Uint8Array":
		if b, ok := o.Export().([]byte); ok {
			c := make([]byte, len(b))
			copy(c, b)
			return c, nil
		}
	}
	if et := o.ExportType(); et != typeJSObject && et != nil {
		if et == typeTime {
			return o.Export(), nil
		}
		if et.Kind() != reflect.Map {
			// A host object: a Go value that went in comes back unchanged.
			return o.Export(), nil
		}
	}
	if isTrue(o.Get("_jsonata_lambda")) || isTrue(o.Get("_jsonata_function")) {
		return Function{}, nil
	}
	if isTrue(o.Get("_isAMomentObject")) {
		// A moment: Node-RED would carry the object on; its JSON form is
		// the instant, as for a Date.
		if f, ok := goja.AssertFunction(o.Get("valueOf")); ok {
			if ms, err := f(o); err == nil {
				return time.UnixMilli(ms.ToInteger()).UTC(), nil
			}
		}
	}
	keys := o.Keys()
	out := msg.NewObject(len(keys))
	for _, k := range keys {
		e, err := s.fromJS(o.Get(k), depth+1)
		if err != nil {
			return nil, err
		}
		out.Set(k, e)
	}
	return out, nil
}

func isTrue(v goja.Value) bool {
	return v != nil && !goja.IsUndefined(v) && v.ToBoolean()
}

// encodeBytes is Node's buf.toString(encoding).
func encodeBytes(b []byte, enc string) (string, error) {
	switch enc {
	case "utf8", "utf-8":
		return strings.ToValidUTF8(string(b), "\uFFFD"), nil
	case "hex":
		return hex.EncodeToString(b), nil
	case "base64":
		return base64.StdEncoding.EncodeToString(b), nil
	case "base64url":
		return base64.RawURLEncoding.EncodeToString(b), nil
	case "latin1", "binary":
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r), nil
	case "ascii":
		r := make([]byte, len(b))
		for i, c := range b {
			r[i] = c & 0x7f
		}
		return string(r), nil
	case "utf16le", "utf-16le", "ucs2", "ucs-2":
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
		}
		return string(utf16.Decode(u)), nil
	}
	return "", fmt.Errorf("Unknown encoding: %s", enc)
}

// decodeString is Node's Buffer.from(str, encoding), as lenient as Node
// with malformed base64 and hex.
func decodeString(str, enc string) ([]byte, error) {
	switch enc {
	case "utf8", "utf-8":
		return []byte(str), nil
	case "latin1", "binary", "ascii":
		u := utf16.Encode([]rune(str))
		b := make([]byte, len(u))
		for i, c := range u {
			b[i] = byte(c)
		}
		return b, nil
	case "base64", "base64url":
		clean := make([]byte, 0, len(str))
		for i := 0; i < len(str); i++ {
			c := str[i]
			switch {
			case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
				clean = append(clean, c)
			case c == '+' || c == '-':
				clean = append(clean, '+')
			case c == '/' || c == '_':
				clean = append(clean, '/')
			case c == '=':
				i = len(str) // padding ends the data
			}
		}
		if len(clean)%4 == 1 {
			clean = clean[:len(clean)-1]
		}
		return base64.RawStdEncoding.DecodeString(string(clean))
	case "hex":
		n := len(str) / 2
		b := make([]byte, 0, n)
		for i := 0; i < n; i++ {
			v, err := hex.DecodeString(str[2*i : 2*i+2])
			if err != nil {
				break
			}
			b = append(b, v[0])
		}
		return b, nil
	case "utf16le", "utf-16le", "ucs2", "ucs-2":
		u := utf16.Encode([]rune(str))
		b := make([]byte, 2*len(u))
		for i, c := range u {
			b[2*i], b[2*i+1] = byte(c), byte(c>>8)
		}
		return b, nil
	}
	return nil, fmt.Errorf("Unknown encoding: %s", enc)
}
