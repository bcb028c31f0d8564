package jsonata

import (
	"math"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
)

// Values are those of runtime/msg: nil, bool, float64, string, []byte
// (a Node.js Buffer, which JSONata sees as an object), []any, *msg.Object,
// msg.Undefined{} — plus, inside an evaluation, *sequence (a JavaScript
// array carrying jsonata's flags) and function values.

type undefinedT = msg.Undefined

var undefined any = msg.Undefined{}

func isUndef(v any) bool {
	_, ok := v.(undefinedT)
	return ok
}

type seqFlags uint8

// The flags jsonata sets on arrays: a sequence (built while navigating),
// keepSingleton (a [] on a step), cons (made by an array constructor),
// outerWrapper (an input array wrapped to be one item) and tupleStream.
const (
	fSeq seqFlags = 1 << iota
	fKeepSingleton
	fCons
	fOuterWrapper
	fTupleStream
)

// sequence is an array with jsonata's flags. Arrays from the input are
// []any and have none.
type sequence struct {
	items []any
	flags seqFlags
	// one holds the item of a one-item sequence, saving an allocation.
	one [1]any
}

func newSeq(n int) *sequence {
	s := &sequence{flags: fSeq}
	if n <= 1 {
		s.items = s.one[:0]
	} else {
		s.items = make([]any, 0, n)
	}
	return s
}

func seqOf(v any) *sequence {
	s := &sequence{flags: fSeq}
	s.one[0] = v
	s.items = s.one[:1]
	return s
}

func (s *sequence) push(v any) { s.items = append(s.items, v) }

func (s *sequence) has(f seqFlags) bool { return s.flags&f != 0 }

// arrayItems returns the elements of an array value, nil otherwise.
func arrayItems(v any) []any {
	switch t := v.(type) {
	case []any:
		return t
	case *sequence:
		return t.items
	}
	return nil
}

// asArray returns the elements and whether v is an array at all.
func asArray(v any) ([]any, bool) {
	switch t := v.(type) {
	case []any:
		return t, true
	case *sequence:
		return t.items, true
	}
	return nil, false
}

func isArray(v any) bool {
	switch v.(type) {
	case []any, *sequence:
		return true
	}
	return false
}

func isSequence(v any) bool {
	s, ok := v.(*sequence)
	return ok && s.flags&fSeq != 0
}

func hasFlag(v any, f seqFlags) bool {
	s, ok := v.(*sequence)
	return ok && s.flags&f != 0
}

// isObject is typeof v === 'object' && v !== null && !array && !function:
// objects, Buffers, Dates and opaque Go values.
func isObject(v any) bool {
	switch v.(type) {
	case nil, undefinedT, bool, float64, string, []any, *sequence:
		return false
	}
	return !isFunction(v)
}

// isObjectOrArray is typeof v === 'object' && v !== null (functions other
// than regexes are not objects in JavaScript's typeof either).
func isObjectOrArray(v any) bool {
	switch v.(type) {
	case nil, undefinedT, bool, float64, string:
		return false
	}
	return !isFunction(v)
}

// objectKeys is Object.keys(v) for an object-like value.
func objectKeys(v any) []string {
	switch t := v.(type) {
	case *msg.Object:
		return t.Keys()
	case []byte:
		keys := make([]string, len(t))
		for i := range t {
			keys[i] = strconv.Itoa(i)
		}
		return keys
	case *sequence:
		keys := make([]string, len(t.items))
		for i := range t.items {
			keys[i] = strconv.Itoa(i)
		}
		return keys
	case []any:
		keys := make([]string, len(t))
		for i := range t {
			keys[i] = strconv.Itoa(i)
		}
		return keys
	case *tuple:
		keys := []string{"@"}
		for _, b := range t.vars {
			keys = append(keys, b.name)
		}
		return keys
	}
	return nil
}

// objectLen is len(Object.keys(v)).
func objectLen(v any) int {
	switch t := v.(type) {
	case *msg.Object:
		return t.Len()
	case []byte:
		return len(t)
	}
	return 0
}

// objectGet reads an own property (and, for a Buffer, its length, as
// Node-RED's patched lookup lets a path read).
func objectGet(v any, key string) (any, bool) {
	switch t := v.(type) {
	case *msg.Object:
		r, ok := t.Get(key)
		return jsonView(r), ok
	case []byte:
		if key == "length" {
			return float64(len(t)), true
		}
		if i, ok := arrayIndex(key); ok && i < len(t) {
			return float64(t[i]), true
		}
	case *tuple:
		if key == "@" {
			return t.at, true
		}
		return t.get(key)
	}
	return nil, false
}

func arrayIndex(k string) (int, bool) {
	if !msg.IsArrayIndex(k) {
		return 0, false
	}
	n, err := strconv.Atoi(k)
	return n, err == nil
}

// isNumeric is jsonata's isNumeric: a number that is not NaN; an infinite
// number is an error (D1001).
func isNumeric(v any) (bool, error) {
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) {
		return false, nil
	}
	if math.IsInf(f, 0) {
		return false, &Error{Code: "D1001", Value: f, hasValue: true}
	}
	return true, nil
}

func isArrayOfStrings(v any) bool {
	items, ok := asArray(v)
	if !ok {
		return false
	}
	for _, it := range items {
		if _, ok := it.(string); !ok {
			return false
		}
	}
	return true
}

func isArrayOfNumbers(v any) (bool, error) {
	items, ok := asArray(v)
	if !ok {
		return false, nil
	}
	for _, it := range items {
		n, err := isNumeric(it)
		if err != nil {
			return false, err
		}
		if !n {
			return false, nil
		}
	}
	return true, nil
}

// deepEqual is jsonata's isDeepEqual.
func deepEqual(a, b any) bool { return deepEqualAt(a, b, 0) }

func deepEqualAt(a, b any, depth int) bool {
	if depth > maxValueDepth {
		return false
	}
	if strictEqual(a, b) {
		return true
	}
	ai, aArr := asArray(a)
	bi, bArr := asArray(b)
	if aArr && bArr {
		if len(ai) != len(bi) {
			return false
		}
		for i := range ai {
			if !deepEqualAt(ai[i], bi[i], depth+1) {
				return false
			}
		}
		return true
	}
	if !isObjectOrArray(a) || !isObjectOrArray(b) {
		return false
	}
	// Objects (or an array against an object): the same keys and values.
	ak, bk := ownNames(a), ownNames(b)
	if len(ak) != len(bk) {
		return false
	}
	set := make(map[string]bool, len(ak))
	for _, k := range ak {
		set[k] = true
	}
	for _, k := range bk {
		if !set[k] {
			return false
		}
	}
	for _, k := range ak {
		av, _ := ownGet(a, k)
		bv, _ := ownGet(b, k)
		if !deepEqualAt(av, bv, depth+1) {
			return false
		}
	}
	return true
}

// ownNames is Object.getOwnPropertyNames (arrays have "length" too).
func ownNames(v any) []string {
	keys := objectKeys(v)
	if isArray(v) {
		keys = append(keys, "length")
	}
	return keys
}

func ownGet(v any, k string) (any, bool) {
	if items, ok := asArray(v); ok {
		if k == "length" {
			return float64(len(items)), true
		}
		if i, ok := arrayIndex(k); ok && i < len(items) {
			return items[i], true
		}
		return undefined, false
	}
	r, ok := objectGet(v, k)
	if !ok {
		return undefined, false
	}
	return r, true
}

// strictEqual is JavaScript's ===.
func strictEqual(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	case undefinedT:
		return isUndef(b)
	case *msg.Object:
		y, ok := b.(*msg.Object)
		return ok && x == y
	case *sequence:
		y, ok := b.(*sequence)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		return ok && len(x) == len(y) && (len(x) == 0 && x == nil && y == nil || len(x) > 0 && &x[0] == &y[0])
	case []byte:
		y, ok := b.([]byte)
		return ok && len(x) == len(y) && len(x) > 0 && &x[0] == &y[0]
	case time.Time:
		return false
	}
	if isFunction(a) {
		return a == b
	}
	defer func() { _ = recover() }()
	return a == b
}

// formatNumber prints a number as JavaScript does.
func formatNumber(f float64) string { return msg.FormatNumber(f) }

// jsonView is the value JSONata sees of a Go value that has a JSON form of
// its own (ToJSON, as jsonataref converts such values).
func jsonView(v any) any {
	switch v.(type) {
	case nil, bool, float64, string, *msg.Object, []any, undefinedT, []byte:
		return v
	}
	if tj, ok := v.(interface{ ToJSON() any }); ok {
		return importValue(tj.ToJSON())
	}
	return importValue(v)
}

// smallInts are boxed integers, so common results do not allocate.
var smallInts = func() (t [1024]any) {
	for i := range t {
		t[i] = float64(i)
	}
	return
}()

// num boxes a number, without allocating for small non-negative integers.
func num(f float64) any {
	if f >= 0 && f < 1024 {
		if i := int(f); float64(i) == f && !(f == 0 && math.Signbit(f)) {
			return smallInts[i]
		}
	}
	return f
}
