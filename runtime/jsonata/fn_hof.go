package jsonata

import (
	"math"
	"math/rand/v2"

	"github.com/sluicehq/sluice/runtime/msg"
)

// hofArgs passes a callback the value and, if it takes them, the position
// and the whole structure. buf is reused between calls (callees do not keep
// their argument slices).
func hofArgs(buf []any, fn any, v, pos, whole any) []any {
	n := arity(fn)
	args := append(buf[:0], v)
	if n >= 2 {
		args = append(args, pos)
	}
	if n >= 3 {
		args = append(args, whole)
	}
	return args
}

func fnMap(c call, a []any) (any, error) {
	buf := make([]any, 0, 3)
	arr := argAt(a, 0)
	if isUndef(arr) {
		return undefined, nil
	}
	fn := argAt(a, 1)
	items := arrayItems(arr)
	result := newSeq(len(items))
	for i, it := range items {
		res, err := c.st.callFunction(c, fn, hofArgs(buf, fn, it, num(float64(i)), arr))
		if err != nil {
			return nil, err
		}
		if !isUndef(res) {
			result.push(res)
		}
	}
	return result, nil
}

func fnFilter(c call, a []any) (any, error) {
	buf := make([]any, 0, 3)
	arr := argAt(a, 0)
	if isUndef(arr) {
		return undefined, nil
	}
	fn := argAt(a, 1)
	result := newSeq(0)
	for i, it := range arrayItems(arr) {
		res, err := c.st.callFunction(c, fn, hofArgs(buf, fn, it, num(float64(i)), arr))
		if err != nil {
			return nil, err
		}
		b, err := toBoolean(res)
		if err != nil {
			return nil, err
		}
		if b == true {
			result.push(it)
		}
	}
	return result, nil
}

func fnSingle(c call, a []any) (any, error) {
	buf := make([]any, 0, 3)
	arr := argAt(a, 0)
	if isUndef(arr) {
		return undefined, nil
	}
	fn := argAt(a, 1)
	found := false
	var result any = undefined
	for i, it := range arrayItems(arr) {
		ok := true
		if !isUndef(fn) {
			res, err := c.st.callFunction(c, fn, hofArgs(buf, fn, it, num(float64(i)), arr))
			if err != nil {
				return nil, err
			}
			b, err := toBoolean(res)
			if err != nil {
				return nil, err
			}
			ok = b == true
		}
		if ok {
			if found {
				return nil, &Error{Code: "D3138", index: float64(i)}
			}
			result, found = it, true
		}
	}
	if !found {
		return nil, &Error{Code: "D3139"}
	}
	return result, nil
}

func fnZip(c call, a []any) (any, error) {
	result := []any{}
	if len(a) == 0 {
		return result, nil
	}
	n := math.MaxInt
	for _, arg := range a {
		if items, ok := asArray(arg); ok {
			n = min(n, len(items))
		} else {
			n = 0
		}
	}
	for i := 0; i < n; i++ {
		t := make([]any, len(a))
		for j, arg := range a {
			t[j] = arrayItems(arg)[i]
		}
		result = append(result, t)
	}
	return result, nil
}

func fnReduce(c call, a []any) (any, error) {
	seq := argAt(a, 0)
	if isUndef(seq) {
		return undefined, nil
	}
	fn := argAt(a, 1)
	init := argAt(a, 2)
	n := arity(fn)
	if n < 2 {
		return nil, &Error{Code: "D3050", index: 1.0}
	}
	items := arrayItems(seq)
	var result any
	index := 0
	if isUndef(init) && len(items) > 0 {
		result = items[0]
		index = 1
	} else {
		result = init
	}
	for index < len(items) {
		args := []any{result, items[index]}
		if n >= 3 {
			args = append(args, float64(index))
		}
		if n >= 4 {
			args = append(args, seq)
		}
		var err error
		if result, err = c.st.callFunction(c, fn, args); err != nil {
			return nil, err
		}
		index++
	}
	return result, nil
}

func fnSift(c call, a []any) (any, error) {
	buf := make([]any, 0, 3)
	arg := argAt(a, 0)
	fn := argAt(a, 1)
	if isUndef(fn) && objectLen(arg) > 0 {
		// The signature lets the function be left out, but jsonata then
		// reads its arity off undefined.
		return nil, &Error{Message: "Cannot read properties of undefined (reading 'arity')"}
	}
	result := msg.NewObject(0)
	for _, k := range objectKeys(arg) {
		v, _ := ownGet(arg, k)
		res, err := c.st.callFunction(c, fn, hofArgs(buf, fn, v, k, arg))
		if err != nil {
			return nil, err
		}
		b, err := toBoolean(res)
		if err != nil {
			return nil, err
		}
		if b == true {
			result.Set(k, v)
		}
	}
	if result.Len() == 0 {
		return undefined, nil
	}
	return result, nil
}

func fnEach(c call, a []any) (any, error) {
	buf := make([]any, 0, 3)
	obj := argAt(a, 0)
	fn := argAt(a, 1)
	result := newSeq(0)
	if !isObjectOrArray(obj) {
		return result, nil
	}
	for _, k := range objectKeys(obj) {
		v, _ := ownGet(obj, k)
		res, err := c.st.callFunction(c, fn, hofArgs(buf, fn, v, k, obj))
		if err != nil {
			return nil, err
		}
		if !isUndef(res) {
			result.push(res)
		}
	}
	return result, nil
}

func keysOf(arg any) []string {
	if items, ok := asArray(arg); ok {
		merged := msg.NewObject(0)
		for _, it := range items {
			for _, k := range keysOf(it) {
				merged.Set(k, true)
			}
		}
		return merged.Keys()
	}
	if isObject(arg) {
		return objectKeys(arg)
	}
	return nil
}

func fnKeys(c call, a []any) (any, error) {
	keys := keysOf(argAt(a, 0))
	result := newSeq(len(keys))
	for _, k := range keys {
		result.push(k)
	}
	return result, nil
}

func fnLookup(c call, a []any) (any, error) {
	key := toJSString(argAt(a, 1))
	return lookupField(argAt(a, 0), key), nil
}

func spread(arg any) any {
	if items, ok := asArray(arg); ok {
		var result any = newSeq(0)
		for _, it := range items {
			result = appendValues(result, spread(it))
		}
		return result
	}
	if isObject(arg) {
		result := newSeq(0)
		for _, k := range objectKeys(arg) {
			v, _ := objectGet(arg, k)
			o := msg.NewObject(1)
			o.Set(k, v)
			result.push(o)
		}
		return result
	}
	return arg
}

func fnSpread(c call, a []any) (any, error) { return spread(argAt(a, 0)), nil }

func fnMerge(c call, a []any) (any, error) {
	arg := argAt(a, 0)
	if isUndef(arg) {
		return undefined, nil
	}
	result := msg.NewObject(0)
	for _, obj := range arrayItems(arg) {
		for _, k := range objectKeys(obj) {
			v, _ := ownGet(obj, k)
			result.Set(k, v)
		}
	}
	return result, nil
}

func fnReverse(c call, a []any) (any, error) {
	arr := argAt(a, 0)
	if isUndef(arr) {
		return undefined, nil
	}
	items := arrayItems(arr)
	if len(items) <= 1 {
		return arr, nil
	}
	out := make([]any, len(items))
	for i, v := range items {
		out[len(items)-1-i] = v
	}
	return out, nil
}

func fnError(c call, a []any) (any, error) {
	m, _ := argAt(a, 0).(string)
	if m == "" {
		m = "$error() function evaluated"
	}
	return nil, &Error{Code: "D3137", Message: m, custom: true}
}

func fnAssert(c call, a []any) (any, error) {
	if !truthy(argAt(a, 0)) {
		m, _ := argAt(a, 1).(string)
		if m == "" {
			m = "$assert() statement failed"
		}
		return nil, &Error{Code: "D3141", Message: m, custom: true}
	}
	return undefined, nil
}

func fnType(c call, a []any) (any, error) {
	v := argAt(a, 0)
	switch v.(type) {
	case undefinedT:
		return undefined, nil
	case nil:
		return "null", nil
	case string:
		return "string", nil
	case bool:
		return "boolean", nil
	case float64:
		ok, err := isNumeric(v)
		if err != nil {
			return nil, err
		}
		if ok {
			return "number", nil
		}
		return "object", nil
	}
	if isArray(v) {
		return "array", nil
	}
	if isFunction(v) {
		return "function", nil
	}
	return "object", nil
}

func fnSort(c call, a []any) (any, error) {
	arr := argAt(a, 0)
	if isUndef(arr) {
		return undefined, nil
	}
	items := arrayItems(arr)
	if len(items) <= 1 {
		return arr, nil
	}
	fn := argAt(a, 1)
	var comp func(x, y any) (bool, error)
	if isUndef(fn) {
		nums, err := isArrayOfNumbers(arr)
		if err != nil {
			return nil, err
		}
		if !nums && !isArrayOfStrings(arr) {
			return nil, &Error{Code: "D3070", index: 1.0}
		}
		comp = func(x, y any) (bool, error) {
			switch xv := x.(type) {
			case float64:
				return xv > y.(float64), nil
			case string:
				return compareStrings(xv, y.(string)) > 0, nil
			}
			return false, nil
		}
	} else {
		if _, isLambda := fn.(*lambda); isLambda && c.raw {
			// $sort calls its comparator directly, which a lambda object
			// (not wrapped in a closure) is not.
			return nil, &Error{Message: "comp is not a function"}
		}
		comp = func(x, y any) (bool, error) {
			r, err := c.st.callFunction(c, fn, []any{x, y})
			if err != nil {
				return false, err
			}
			return truthy(r), nil
		}
	}
	return mergeSort(arr, comp)
}

func fnShuffle(c call, a []any) (any, error) {
	arr := argAt(a, 0)
	if isUndef(arr) {
		return undefined, nil
	}
	items := arrayItems(arr)
	if len(items) <= 1 {
		return arr, nil
	}
	out := make([]any, len(items))
	for i, v := range items {
		j := rand.IntN(i + 1)
		if i != j {
			out[i] = out[j]
		}
		out[j] = v
	}
	return out, nil
}

func fnDistinct(c call, a []any) (any, error) {
	arr := argAt(a, 0)
	if isUndef(arr) {
		return undefined, nil
	}
	items, ok := asArray(arr)
	if !ok || len(items) <= 1 {
		return arr, nil
	}
	var out []any
	for _, v := range items {
		dup := false
		for _, r := range out {
			if deepEqual(v, r) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, v)
		}
	}
	if isSequence(arr) {
		return &sequence{items: out, flags: fSeq}, nil
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

func fnClone(c call, a []any) (any, error) {
	arg := argAt(a, 0)
	if isUndef(arg) {
		return undefined, nil
	}
	return jsonClone(arg)
}

// jsonClone is JSON.parse($string(v)): a deep copy as JSON would make it.
func jsonClone(v any) (any, error) {
	s, err := fnString(v, false)
	if err != nil {
		return nil, err
	}
	str, ok := s.(string)
	if !ok {
		return undefined, nil
	}
	if _, isStr := v.(string); isStr || isFunction(v) {
		r, err := msg.UnmarshalString(str)
		if err != nil {
			return nil, &Error{Message: err.Error(), Err: err}
		}
		return r, nil
	}
	return msg.UnmarshalString(str)
}

func fnEval(c call, a []any) (any, error) {
	expr := argAt(a, 0)
	if isUndef(expr) {
		return undefined, nil
	}
	input := c.input
	focus := argAt(a, 1)
	if !isUndef(focus) {
		input = focus
		if isArray(input) && !isSequence(input) {
			input = &sequence{items: []any{input}, flags: fSeq | fOuterWrapper}
		}
	}
	src, _ := expr.(string)
	ast, err := parse(src)
	if err != nil {
		e := err.(*Error)
		e.populateMessage()
		return nil, &Error{Code: "D3120", Value: e.Message, hasValue: true, Err: e}
	}
	res, err := c.st.eval(ast, input, c.env)
	if err != nil {
		if e, ok := err.(*Error); ok {
			if e.Code == "U1001" || (e.Code == "" && e.Err != nil && c.st.ctx != nil && c.st.ctx.Err() != nil) {
				return nil, err
			}
			if !e.custom {
				e.populateMessage()
			}
			return nil, &Error{Code: "D3121", Value: e.Message, hasValue: true, Err: e}
		}
		return nil, err
	}
	return res, nil
}
