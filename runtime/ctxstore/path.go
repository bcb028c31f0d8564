package ctxstore

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
)

// KeyError is a context key that is not a valid property expression; Err is
// the *msg.PathError or the undefined-reference error Node-RED would throw.
type KeyError struct {
	Key string
	Err error
}

func (e *KeyError) Error() string { return fmt.Sprintf("context key %q: %v", e.Key, e.Err) }
func (e *KeyError) Unwrap() error { return e.Err }

// parseKey parses key and resolves nested references (a[msg.b]) against the
// scope's own data, as Node-RED resolves them against the context object.
func parseKey(root *msg.Object, key string) ([]msg.PathPart, error) {
	parts, err := msg.ParsePath(key)
	if err != nil {
		return nil, &KeyError{Key: key, Err: err}
	}
	refs := 0
	for i, p := range parts {
		if p.Ref == nil {
			continue
		}
		refs++
		v, ok := msg.GetPath(root, p.Ref)
		if !ok || msg.IsUndefined(v) {
			return nil, &KeyError{Key: key, Err: fmt.Errorf("Invalid expression started at position %d", refPos(key, refs))}
		}
		if n, isNum := msg.Num(v); isNum && n == math.Trunc(n) && n >= 0 && n < 1<<31 {
			parts[i] = msg.PathPart{Index: int(n), IsIdx: true}
		} else {
			parts[i] = msg.PathPart{Key: msg.ToString(v)}
		}
	}
	return parts, nil
}

// refPos is the offset just after the '[' that opens the n-th reference,
// where Node-RED's error text points.
func refPos(key string, n int) int {
	off := 0
	for ; n > 0; n-- {
		i := strings.Index(key[off:], "[msg.")
		if i < 0 {
			return 0
		}
		off += i + 1
	}
	return off
}

// getAt reads the value at parts; a missing step is undefined, never an
// error, as Node-RED swallows the TypeError of reading below undefined.
func getAt(root *msg.Object, parts []msg.PathPart) any {
	v, ok := msg.GetPath(root, parts)
	if !ok {
		return msg.Undefined{}
	}
	return v
}

// objectLike reports whether JavaScript's typeof would say "object" (and not
// null): only such values can hold a property below them.
func objectLike(v any) bool {
	switch v.(type) {
	case nil, msg.Undefined, bool, float64, int, int64, string:
		return false
	}
	return true
}

// arrayIndex reads p as an index into an array: bracket indexes and
// canonical numeric keys ("a.0") both address elements.
func arrayIndex(p msg.PathPart) (int, bool) {
	if p.IsIdx {
		return p.Index, p.Index >= 0
	}
	if !msg.IsArrayIndex(p.Key) {
		return 0, false
	}
	n, err := strconv.Atoi(p.Key)
	return n, err == nil
}

func propKey(p msg.PathPart) string {
	if p.IsIdx {
		return strconv.Itoa(p.Index)
	}
	return p.Key
}

// setAt assigns value at parts below obj with the rules of Node-RED's
// setObjectProperty: missing parents are created (an object, or an array
// when the next step is a bracket index) unless value is undefined; a
// primitive or null in the way makes it a silent no-op; undefined deletes,
// splicing the element out when the last step is a bracket index into an
// array. It returns obj, or the slice that replaces it when an array had to
// grow or shrink (the caller stores it back into its own parent).
func setAt(obj any, parts []msg.PathPart, value any) any {
	key := parts[0]
	if len(parts) == 1 {
		return assignLast(obj, key, value)
	}
	create := !msg.IsUndefined(value)
	newChild := func() any {
		if parts[1].IsIdx {
			return []any{}
		}
		return msg.NewObject(1)
	}
	switch o := obj.(type) {
	case *msg.Object:
		k := propKey(key)
		cur, own := o.Get(k)
		switch {
		case own && !objectLike(cur):
			return obj
		case !own && !create:
			return obj
		case !own:
			cur = newChild()
		}
		o.Set(k, setAt(cur, parts[1:], value))
		return obj
	case []any:
		idx, ok := arrayIndex(key)
		if !ok {
			// "length" is a number, anything else would be a property that
			// JSON drops: nothing observable to set.
			return obj
		}
		var cur any = msg.Undefined{}
		if idx < len(o) {
			cur = o[idx]
		}
		if msg.IsUndefined(cur) {
			if !create {
				return obj
			}
			cur = newChild()
		} else if !objectLike(cur) {
			return obj
		}
		return putIndex(o, idx, setAt(cur, parts[1:], value))
	default:
		// Buffers hold numbers; opaque values have no settable properties.
		return obj
	}
}

func assignLast(obj any, key msg.PathPart, value any) any {
	del := msg.IsUndefined(value)
	switch o := obj.(type) {
	case *msg.Object:
		if del {
			o.Delete(propKey(key))
		} else {
			o.Set(propKey(key), value)
		}
		return obj
	case []any:
		idx, ok := arrayIndex(key)
		if !ok {
			return obj
		}
		if del {
			if idx >= len(o) {
				return obj
			}
			if key.IsIdx {
				// arr.splice(i, 1)
				copy(o[idx:], o[idx+1:])
				o[len(o)-1] = nil
				return o[:len(o)-1]
			}
			// delete arr["i"] leaves a hole.
			o[idx] = msg.Undefined{}
			return obj
		}
		return putIndex(o, idx, value)
	case []byte:
		idx, ok := arrayIndex(key)
		if !del && ok && idx < len(o) {
			o[idx] = toUint8(msg.ToNumber(value))
		}
		return obj
	}
	return obj
}

// putIndex sets a[idx], growing a with holes as a JavaScript array grows.
func putIndex(a []any, idx int, v any) []any {
	if idx < len(a) {
		a[idx] = v
		return a
	}
	for len(a) < idx {
		a = append(a, msg.Undefined{})
	}
	return append(a, v)
}

// toUint8 is how a typed-array element store converts a number.
func toUint8(f float64) byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	m := math.Mod(math.Trunc(f), 256)
	if m < 0 {
		m += 256
	}
	return byte(m)
}
