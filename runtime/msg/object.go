// Package msg is Sluice's message model: a JSON-like tree whose objects keep
// JavaScript's property order, numbers that behave as JavaScript numbers and
// []byte for Node.js Buffers.
//
// Values are one of: nil (JSON null), bool, float64, string, []byte, []any,
// *Object, or an opaque Go value (an HTTP request, a websocket session) that
// is carried by reference and never serialised.
package msg

import (
	"strconv"
)

// Object is an ordered string-keyed map with JavaScript's own-property order:
// integer-like keys first in ascending numeric order, then the other keys in
// insertion order. Node-RED's observable output (JSON.stringify, $keys, csv
// columns) depends on that order, which a Go map cannot give.
type Object struct {
	keys []string
	vals []any
	nInt int            // how many leading keys are integer-like
	idx  map[string]int // built lazily for larger objects
}

// indexThreshold is the size above which lookups go through a map; below it a
// linear scan over a few keys is faster than hashing.
const indexThreshold = 12

// NewObject returns an empty object with room for n keys.
func NewObject(n int) *Object {
	return &Object{keys: make([]string, 0, n), vals: make([]any, 0, n)}
}

// ObjectOf builds an object from alternating key, value arguments.
func ObjectOf(kv ...any) *Object {
	o := NewObject(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		o.Set(kv[i].(string), kv[i+1])
	}
	return o
}

// Len is the number of keys.
func (o *Object) Len() int {
	if o == nil {
		return 0
	}
	return len(o.keys)
}

// Keys returns the keys in JavaScript order. The slice must not be modified.
func (o *Object) Keys() []string {
	if o == nil {
		return nil
	}
	return o.keys
}

// At returns the i-th key and value.
func (o *Object) At(i int) (string, any) { return o.keys[i], o.vals[i] }

func (o *Object) find(k string) int {
	if o == nil {
		return -1
	}
	if o.idx != nil {
		if i, ok := o.idx[k]; ok {
			return i
		}
		return -1
	}
	for i, kk := range o.keys {
		if kk == k {
			return i
		}
	}
	return -1
}

// Get returns the value of k and whether k is present.
func (o *Object) Get(k string) (any, bool) {
	i := o.find(k)
	if i < 0 {
		return nil, false
	}
	return o.vals[i], true
}

// Value returns the value of k, nil when absent.
func (o *Object) Value(k string) any {
	v, _ := o.Get(k)
	return v
}

// Has reports whether k is present.
func (o *Object) Has(k string) bool { return o.find(k) >= 0 }

// IsArrayIndex reports whether k is a canonical array index ("0", "17"), the
// keys JavaScript orders first.
func IsArrayIndex(k string) bool {
	if k == "" || len(k) > 10 {
		return false
	}
	if k == "0" {
		return true
	}
	if k[0] == '0' {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < '0' || k[i] > '9' {
			return false
		}
	}
	n, err := strconv.ParseUint(k, 10, 64)
	return err == nil && n < 4294967295
}

// Set sets k to v, keeping the position of an existing key.
func (o *Object) Set(k string, v any) {
	if i := o.find(k); i >= 0 {
		o.vals[i] = v
		return
	}
	if IsArrayIndex(k) {
		n, _ := strconv.ParseUint(k, 10, 64)
		pos := 0
		for pos < o.nInt {
			m, _ := strconv.ParseUint(o.keys[pos], 10, 64)
			if m > n {
				break
			}
			pos++
		}
		o.keys = append(o.keys, "")
		o.vals = append(o.vals, nil)
		copy(o.keys[pos+1:], o.keys[pos:])
		copy(o.vals[pos+1:], o.vals[pos:])
		o.keys[pos] = k
		o.vals[pos] = v
		o.nInt++
		o.reindex()
		return
	}
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
	if o.idx != nil {
		o.idx[k] = len(o.keys) - 1
	} else if len(o.keys) > indexThreshold {
		o.reindex()
	}
}

// Delete removes k; it reports whether k was present.
func (o *Object) Delete(k string) bool {
	i := o.find(k)
	if i < 0 {
		return false
	}
	if i < o.nInt {
		o.nInt--
	}
	o.keys = append(o.keys[:i], o.keys[i+1:]...)
	o.vals = append(o.vals[:i], o.vals[i+1:]...)
	o.reindex()
	return true
}

func (o *Object) reindex() {
	if len(o.keys) <= indexThreshold {
		o.idx = nil
		return
	}
	if o.idx == nil {
		o.idx = make(map[string]int, len(o.keys))
	} else {
		clear(o.idx)
	}
	for i, k := range o.keys {
		o.idx[k] = i
	}
}

// Clone returns a deep copy of v: objects, arrays and buffers are copied,
// opaque Go values are shared (as Node-RED shares req/res when cloning).
func Clone(v any) any {
	switch t := v.(type) {
	case *Object:
		return t.Clone()
	case []any:
		c := make([]any, len(t))
		for i, e := range t {
			c[i] = Clone(e)
		}
		return c
	case []byte:
		c := make([]byte, len(t))
		copy(c, t)
		return c
	default:
		return v
	}
}

// Clone returns a deep copy of o.
func (o *Object) Clone() *Object {
	if o == nil {
		return nil
	}
	c := &Object{keys: make([]string, len(o.keys)), vals: make([]any, len(o.vals)), nInt: o.nInt}
	copy(c.keys, o.keys)
	for i, v := range o.vals {
		c.vals[i] = Clone(v)
	}
	if o.idx != nil {
		c.reindex()
	}
	return c
}

// Equal is deep equality as JSON values (key order ignored).
func Equal(a, b any) bool {
	switch x := a.(type) {
	case *Object:
		y, ok := b.(*Object)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for i, k := range x.keys {
			yv, ok := y.Get(k)
			if !ok || !Equal(x.vals[i], yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case []byte:
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || (x != x && y != y))
	default:
		return a == b
	}
}

// MarshalJSON lets encoding/json write an Object as JSON.stringify would.
func (o *Object) MarshalJSON() ([]byte, error) { return Marshal(o), nil }
