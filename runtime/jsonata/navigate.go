package jsonata

import (
	"github.com/sluicehq/sluice/runtime/msg"
)

// lookupField is jsonata's lookup: a field of an object, or of every
// object in an array (flattening array values one level).
func lookupField(input any, key string) any {
	if items, ok := asArray(input); ok {
		result := newSeq(0)
		for _, it := range items {
			res := lookupField(it, key)
			if isUndef(res) {
				continue
			}
			if ri, ok := asArray(res); ok {
				result.items = append(result.items, ri...)
			} else {
				result.push(res)
			}
		}
		return result
	}
	switch t := input.(type) {
	case *msg.Object:
		if v, ok := t.Get(key); ok {
			return jsonView(v)
		}
	case []byte, *tuple:
		if v, ok := objectGet(t, key); ok {
			return v
		}
	}
	return undefined
}

func evalWildcard(input any) any {
	if s, ok := input.(*sequence); ok && s.flags&fOuterWrapper != 0 && len(s.items) > 0 {
		input = s.items[0]
	}
	results := newSeq(0)
	// Appending an array value makes jsonata's result a plain array.
	plain := false
	if isObjectOrArray(input) {
		for _, k := range objectKeys(input) {
			v, _ := ownGet(input, k)
			if isArray(v) {
				results.items = flatten(v, results.items)
				plain = true
			} else {
				results.push(v)
			}
		}
	}
	if seq, ok := input.(*sequence); ok {
		// Object.keys of a jsonata sequence lists its enumerable flags too.
		for _, f := range []seqFlags{fSeq, fKeepSingleton, fTupleStream, fOuterWrapper} {
			if seq.flags&f != 0 {
				results.push(true)
			}
		}
	}
	if plain {
		return results.items
	}
	return results
}

// flatten spreads nested arrays (which, built only from JSON and
// constructors, cannot be cyclic without an object in between).
func flatten(arg any, out []any) []any {
	if items, ok := asArray(arg); ok {
		for _, it := range items {
			out = flatten(it, out)
		}
		return out
	}
	return append(out, arg)
}

func evalDescendants(input any) (any, error) {
	if isUndef(input) {
		return undefined, nil
	}
	results := newSeq(0)
	if !recurseDescendants(input, results, 0) {
		return nil, errCyclic()
	}
	if len(results.items) == 1 {
		return results.items[0], nil
	}
	return results, nil
}

func recurseDescendants(input any, results *sequence, depth int) bool {
	if depth > maxValueDepth {
		return false
	}
	items, isArr := asArray(input)
	if !isArr {
		results.push(input)
		if isObject(input) {
			for _, k := range objectKeys(input) {
				v, _ := objectGet(input, k)
				if !recurseDescendants(v, results, depth+1) {
					return false
				}
			}
		}
		return true
	}
	for _, m := range items {
		if !recurseDescendants(m, results, depth+1) {
			return false
		}
	}
	return true
}

// appendValues is jsonata's append: undefined disappears, arrays are
// concatenated and the result is a plain array.
func appendValues(a, b any) any {
	if isUndef(a) {
		return b
	}
	if isUndef(b) {
		return a
	}
	ai, ok := asArray(a)
	if !ok {
		ai = []any{a}
	}
	bi, ok := asArray(b)
	if !ok {
		bi = []any{b}
	}
	out := make([]any, 0, len(ai)+len(bi))
	out = append(out, ai...)
	return append(out, bi...)
}
