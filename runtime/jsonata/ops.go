package jsonata

import (
	"math"

	"github.com/sluicehq/sluice/runtime/msg"
)

func (st *state) evalBinary(expr *node, input any, env *frame) (any, error) {
	lhs, err := st.eval(expr.lhs, input, env)
	if err != nil {
		return nil, err
	}
	op := expr.str
	if op == "and" || op == "or" {
		res, err := st.evalBoolean(lhs, expr, input, env)
		if err != nil {
			return nil, atOperator(err, expr)
		}
		return res, nil
	}
	rhs, err := st.eval(expr.rhs, input, env)
	if err != nil {
		return nil, err
	}
	var result any
	switch op {
	case "+", "-", "*", "/", "%":
		result, err = numericOp(lhs, rhs, op)
	case "=":
		if isUndef(lhs) || isUndef(rhs) {
			return false, nil
		}
		return deepEqual(lhs, rhs), nil
	case "!=":
		if isUndef(lhs) || isUndef(rhs) {
			return false, nil
		}
		return !deepEqual(lhs, rhs), nil
	case "<", "<=", ">", ">=":
		result, err = compareOp(lhs, rhs, op)
	case "&":
		result, err = concatOp(lhs, rhs)
	case "..":
		result, err = rangeOp(lhs, rhs)
	case "in":
		result = includesOp(lhs, rhs)
	}
	if err != nil {
		return nil, atOperator(err, expr)
	}
	return result, nil
}

// atOperator stamps an operator's position and symbol on an error.
func atOperator(err error, expr *node) error {
	if e, ok := err.(*Error); ok {
		e.Position = expr.pos
		e.forceToken(expr.str)
	}
	return err
}

func numericOp(lhs, rhs any, op string) (any, error) {
	if !isUndef(lhs) {
		ok, err := isNumeric(lhs)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, &Error{Code: "T2001", Value: lhs, hasValue: true}
		}
	}
	if !isUndef(rhs) {
		ok, err := isNumeric(rhs)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, &Error{Code: "T2002", Value: rhs, hasValue: true}
		}
	}
	if isUndef(lhs) || isUndef(rhs) {
		return undefined, nil
	}
	a, b := lhs.(float64), rhs.(float64)
	switch op {
	case "+":
		return num(a + b), nil
	case "-":
		return num(a - b), nil
	case "*":
		return num(a * b), nil
	case "/":
		return num(a / b), nil
	default:
		return num(math.Mod(a, b)), nil
	}
}

// jsType is typeof for the comparison operators.
func jsType(v any) string {
	switch v.(type) {
	case undefinedT:
		return "undefined"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	}
	if isFunction(v) {
		if _, ok := v.(*regexFn); ok {
			return "function"
		}
	}
	return "object"
}

func compareOp(lhs, rhs any, op string) (any, error) {
	lt, rt := jsType(lhs), jsType(rhs)
	lc := lt == "undefined" || lt == "string" || lt == "number"
	rc := rt == "undefined" || rt == "string" || rt == "number"
	if !lc || !rc {
		v := rhs
		if !(lt == "string" || lt == "number") {
			v = lhs
		}
		return nil, &Error{Code: "T2010", Value: v, hasValue: true}
	}
	if lt == "undefined" || rt == "undefined" {
		return undefined, nil
	}
	if lt != rt {
		return nil, &Error{Code: "T2009", Value: lhs, hasValue: true, value2: rhs}
	}
	var c int
	if lt == "number" {
		a, b := lhs.(float64), rhs.(float64)
		if a != a || b != b {
			return false, nil
		}
		switch {
		case a < b:
			c = -1
		case a > b:
			c = 1
		}
	} else {
		c = compareStrings(lhs.(string), rhs.(string))
	}
	switch op {
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	default:
		return c >= 0, nil
	}
}

// compareStrings orders strings by UTF-16 code units, as JavaScript does.
func compareStrings(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	if i == len(a) || i == len(b) {
		switch {
		case len(a) == len(b):
			return 0
		case len(a) < len(b):
			return -1
		}
		return 1
	}
	// Back up to the start of the differing characters.
	for i > 0 && (a[i]&0xC0 == 0x80) {
		i--
	}
	ra := []rune(a[i:])
	rb := []rune(b[i:])
	for j := 0; j < len(ra) && j < len(rb); j++ {
		if ra[j] == rb[j] {
			continue
		}
		ua, ub := utf16First(ra[j]), utf16First(rb[j])
		if ua != ub {
			if ua < ub {
				return -1
			}
			return 1
		}
		if ra[j] < rb[j] {
			return -1
		}
		return 1
	}
	switch {
	case len(ra) == len(rb):
		return 0
	case len(ra) < len(rb):
		return -1
	}
	return 1
}

func utf16First(r rune) rune {
	if r >= 0x10000 {
		return 0xD800 + (r-0x10000)>>10
	}
	return r
}

func concatOp(lhs, rhs any) (any, error) {
	ls, lok := lhs.(string)
	rs, rok := rhs.(string)
	if lok && rok {
		return ls + rs, nil
	}
	if !lok && !isUndef(lhs) {
		s, err := fnString(lhs, false)
		if err != nil {
			return nil, err
		}
		ls, _ = s.(string)
	}
	if !rok && !isUndef(rhs) {
		s, err := fnString(rhs, false)
		if err != nil {
			return nil, err
		}
		rs, _ = s.(string)
	}
	return ls + rs, nil
}

func isInteger(v any) bool {
	f, ok := v.(float64)
	return ok && !math.IsInf(f, 0) && f == math.Trunc(f)
}

func rangeOp(lhs, rhs any) (any, error) {
	if !isUndef(lhs) && !isInteger(lhs) {
		return nil, &Error{Code: "T2003", Value: lhs, hasValue: true}
	}
	if !isUndef(rhs) && !isInteger(rhs) {
		return nil, &Error{Code: "T2004", Value: rhs, hasValue: true}
	}
	if isUndef(lhs) || isUndef(rhs) {
		return undefined, nil
	}
	a, b := lhs.(float64), rhs.(float64)
	if a > b {
		return undefined, nil
	}
	size := b - a + 1
	if size > 1e7 {
		return nil, &Error{Code: "D2014", Value: size, hasValue: true}
	}
	out := &sequence{items: make([]any, int(size)), flags: fSeq}
	for i := range out.items {
		out.items[i] = num(a + float64(i))
	}
	return out, nil
}

func includesOp(lhs, rhs any) any {
	if isUndef(lhs) || isUndef(rhs) {
		return false
	}
	items, ok := asArray(rhs)
	if !ok {
		items = []any{rhs}
	}
	for _, it := range items {
		if strictEqual(it, lhs) {
			return true
		}
	}
	return false
}

func (st *state) evalBoolean(lhs any, expr *node, input any, env *frame) (any, error) {
	lb, err := boolize(lhs)
	if err != nil {
		return nil, err
	}
	if expr.str == "and" {
		if !lb {
			return false, nil
		}
	} else if lb {
		return true, nil
	}
	rhs, err := st.eval(expr.rhs, input, env)
	if err != nil {
		return nil, err
	}
	return boolize(rhs)
}

func boolize(v any) (bool, error) {
	b, err := toBoolean(v)
	if err != nil {
		return false, err
	}
	return b == true, nil
}

// toBoolean is jsonata's $boolean: undefined stays undefined.
func toBoolean(v any) (any, error) {
	switch t := v.(type) {
	case undefinedT:
		return undefined, nil
	case []any, *sequence:
		items := arrayItems(t)
		switch len(items) {
		case 0:
			return false, nil
		case 1:
			return toBoolean(items[0])
		}
		for _, it := range items {
			b, err := toBoolean(it)
			if err != nil {
				return nil, err
			}
			if b == true {
				return true, nil
			}
		}
		return false, nil
	case string:
		return t != "", nil
	case float64:
		ok, err := isNumeric(t)
		if err != nil {
			return nil, err
		}
		return ok && t != 0, nil
	case bool:
		return t, nil
	case nil:
		return false, nil
	}
	if isFunction(v) {
		return false, nil
	}
	return objectLen(v) > 0, nil
}

// evalGroup builds an object from key/value expressions over the input:
// both the object constructor and the group-by on a path.
func (st *state) evalGroup(pairs [][2]*node, pos int, input any, env *frame) (any, error) {
	reduce := hasFlag(input, fTupleStream)
	items, isArr := asArray(input)
	if !isArr {
		items = []any{input}
	}
	if len(items) == 0 && !reduce {
		items = []any{undefined}
	}
	if len(items) == 1 && !reduce {
		return st.evalObject(pairs, pos, items[0], env)
	}
	type group struct {
		data      any
		exprIndex int
	}
	var groups []group
	index := msg.NewObject(len(pairs))
	for _, item := range items {
		ienv := env
		context := item
		if reduce {
			if t, ok := item.(*tuple); ok {
				ienv = frameFromTuple(env, t)
				context = t.at
			}
		}
		for pi, pair := range pairs {
			key, err := st.eval(pair[0], context, ienv)
			if err != nil {
				return nil, err
			}
			if isUndef(key) {
				continue
			}
			ks, ok := key.(string)
			if !ok {
				return nil, &Error{Code: "T1003", Position: pos, Value: key, hasValue: true}
			}
			if ks == "_jsonata_lambda" || ks == "_jsonata_function" {
				return nil, &Error{Code: "D1013", Position: pos, Value: ks, hasValue: true}
			}
			if gi, ok := index.Get(ks); ok {
				g := &groups[gi.(int)]
				if g.exprIndex != pi {
					return nil, &Error{Code: "D1009", Position: pos, Value: ks, hasValue: true}
				}
				g.data = appendValues(g.data, item)
			} else {
				index.Set(ks, len(groups))
				groups = append(groups, group{data: item, exprIndex: pi})
			}
		}
	}
	result := msg.NewObject(index.Len())
	var par *parallel
	if index.Len() > 1 {
		par = st.beginParallel()
	}
	for i := 0; i < index.Len(); i++ {
		key, gi := index.At(i)
		g := groups[gi.(int)]
		context := g.data
		genv := env
		if reduce {
			t := reduceTupleStream(g.data)
			context = t.at
			genv = frameFromTuple(env, t)
		}
		if par != nil {
			par.item()
		}
		v, err := st.eval(pairs[g.exprIndex][1], context, genv)
		if par != nil {
			par.done(err)
			if par.other != nil {
				break
			}
			if par.err != nil {
				continue
			}
		} else if err != nil {
			return nil, err
		}
		if !isUndef(v) {
			result.Set(key, v)
		}
	}
	if par != nil {
		if err := par.finish(); err != nil {
			return nil, err
		}
	}
	return result, nil
}

// evalObject is evalGroup for a single item, the usual object
// constructor: each key names one value, so there is nothing to group.
func (st *state) evalObject(pairs [][2]*node, pos int, item any, env *frame) (any, error) {
	// The keys first, in order; the result object orders them as jsonata's
	// group table does, which is also the order the values are computed in.
	result := msg.NewObject(len(pairs))
	for pi, pair := range pairs {
		key, err := st.eval(pair[0], item, env)
		if err != nil {
			return nil, err
		}
		if isUndef(key) {
			continue
		}
		ks, ok := key.(string)
		if !ok {
			return nil, &Error{Code: "T1003", Position: pos, Value: key, hasValue: true}
		}
		if ks == "_jsonata_lambda" || ks == "_jsonata_function" {
			return nil, &Error{Code: "D1013", Position: pos, Value: ks, hasValue: true}
		}
		if result.Has(ks) {
			return nil, &Error{Code: "D1009", Position: pos, Value: ks, hasValue: true}
		}
		result.Set(ks, pairIndex(pi))
	}
	var par *parallel
	if result.Len() > 1 {
		par = st.beginParallel()
	}
	missing := 0
	for i := 0; i < result.Len(); i++ {
		key, pi := result.At(i)
		if par != nil {
			par.item()
		}
		v, err := st.eval(pairs[pi.(pairIndex)][1], item, env)
		if par != nil {
			par.done(err)
			if par.other != nil {
				break
			}
			if par.err != nil {
				continue
			}
		} else if err != nil {
			return nil, err
		}
		if isUndef(v) {
			missing++
		}
		result.Set(key, v)
	}
	if par != nil {
		if err := par.finish(); err != nil {
			return nil, err
		}
	}
	if missing > 0 {
		for i := result.Len() - 1; i >= 0; i-- {
			if k, v := result.At(i); isUndef(v) {
				result.Delete(k)
			}
		}
	}
	return result, nil
}

// pairIndex marks a key whose value is not computed yet.
type pairIndex int

func reduceTupleStream(v any) *tuple {
	items, ok := asArray(v)
	if !ok {
		if t, ok := v.(*tuple); ok {
			return t.copy()
		}
		return &tuple{at: v}
	}
	if len(items) == 0 {
		return &tuple{at: undefined}
	}
	first, _ := items[0].(*tuple)
	if first == nil {
		first = &tuple{at: items[0]}
	}
	result := first.copy()
	for _, it := range items[1:] {
		t, ok := it.(*tuple)
		if !ok {
			continue
		}
		result.at = appendValues(result.at, t.at)
		for _, b := range t.vars {
			cur, _ := result.get(b.name)
			result.set(b.name, appendValues(cur, b.val))
		}
	}
	return result
}

// evalSort is the order-by step: a stable merge sort on the terms.
func (st *state) evalSort(expr *node, input any, env *frame) (any, error) {
	isTupleSort := hasFlag(input, fTupleStream)
	var sortErr error
	comparator := func(a, b any) (bool, error) {
		comp := 0
		for _, term := range expr.terms {
			if comp != 0 {
				break
			}
			ctxA, envA := a, env
			if isTupleSort {
				if t, ok := a.(*tuple); ok {
					ctxA, envA = t.at, frameFromTuple(env, t)
				}
			}
			aa, err := st.eval(term.expr, ctxA, envA)
			if err != nil {
				return false, err
			}
			ctxB, envB := b, env
			if isTupleSort {
				if t, ok := b.(*tuple); ok {
					ctxB, envB = t.at, frameFromTuple(env, t)
				}
			}
			bb, err := st.eval(term.expr, ctxB, envB)
			if err != nil {
				return false, err
			}
			at, bt := jsType(aa), jsType(bb)
			if at == "undefined" {
				if bt == "undefined" {
					comp = 0
				} else {
					comp = 1
				}
				continue
			}
			if bt == "undefined" {
				comp = -1
				continue
			}
			if !(at == "string" || at == "number") || !(bt == "string" || bt == "number") {
				v := bb
				if !(at == "string" || at == "number") {
					v = aa
				}
				return false, &Error{Code: "T2008", Position: expr.pos, Value: v, hasValue: true}
			}
			if at != bt {
				return false, &Error{Code: "T2007", Position: expr.pos, Value: aa, hasValue: true, value2: bb}
			}
			if strictEqual(aa, bb) {
				continue
			}
			if lessThan(aa, bb) {
				comp = -1
			} else {
				comp = 1
			}
			if term.descending {
				comp = -comp
			}
		}
		return comp == 1, nil
	}
	res, err := mergeSort(input, comparator)
	if sortErr != nil {
		return nil, sortErr
	}
	return res, err
}

func lessThan(a, b any) bool {
	switch x := a.(type) {
	case float64:
		return x < b.(float64)
	case string:
		return compareStrings(x, b.(string)) < 0
	}
	return false
}

// mergeSort is jsonata's $sort algorithm: swap when comp(a, b) is true.
// An input of one item or none comes back as it is.
func mergeSort(arr any, comp func(a, b any) (bool, error)) (any, error) {
	items, ok := asArray(arr)
	if !ok || len(items) <= 1 {
		return arr, nil
	}
	var msort func(a []any) ([]any, error)
	msort = func(a []any) ([]any, error) {
		if len(a) <= 1 {
			return a, nil
		}
		mid := len(a) / 2
		left, err := msort(append([]any(nil), a[:mid]...))
		if err != nil {
			return nil, err
		}
		right, err := msort(append([]any(nil), a[mid:]...))
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, len(a))
		for len(left) > 0 && len(right) > 0 {
			swap, err := comp(left[0], right[0])
			if err != nil {
				return nil, err
			}
			if swap {
				out = append(out, right[0])
				right = right[1:]
			} else {
				out = append(out, left[0])
				left = left[1:]
			}
		}
		out = append(out, left...)
		return append(out, right...), nil
	}
	return msort(items)
}

// transformer is the function |pattern|update,delete| evaluates to.
func (st *state) transformer(expr *node, env *frame) any {
	b := &builtin{name: "transform", nargs: 1, params: []string{"obj"}}
	b.sig = transformSig
	b.fn = func(c call, args []any) (any, error) {
		obj := argAt(args, 0)
		if isUndef(obj) {
			return undefined, nil
		}
		cloneFn := env.lookup("clone")
		if !isFunction(cloneFn) {
			return nil, &Error{Code: "T2013", Position: expr.pos}
		}
		result, err := st.apply(cloneFn, []any{obj}, nil, env, site{})
		if err != nil {
			return nil, err
		}
		matches, err := st.eval(expr.pattern, result, env)
		if err != nil {
			return nil, err
		}
		if isUndef(matches) {
			return result, nil
		}
		list, ok := asArray(matches)
		if !ok {
			list = []any{matches}
		}
		for _, match := range list {
			update, err := st.eval(expr.update, match, env)
			if err != nil {
				return nil, err
			}
			if !isUndef(update) {
				uo, ok := update.(*msg.Object)
				if !ok {
					if !isObject(update) {
						return nil, &Error{Code: "T2011", Position: expr.update.pos, Value: update, hasValue: true}
					}
				}
				if mo, ok := match.(*msg.Object); ok && uo != nil {
					for i := 0; i < uo.Len(); i++ {
						k, v := uo.At(i)
						mo.Set(k, v)
					}
				} else if uo != nil && uo.Len() > 0 {
					if err := setOnPrimitive(match, uo.Keys()[0]); err != nil {
						return nil, err
					}
				}
			}
			if expr.del != nil {
				dels, err := st.eval(expr.del, match, env)
				if err != nil {
					return nil, err
				}
				if !isUndef(dels) {
					val := dels
					dl, ok := asArray(dels)
					if !ok {
						dl = []any{dels}
					}
					if !isArrayOfStrings(dl) {
						return nil, &Error{Code: "T2012", Position: expr.del.pos, Value: val, hasValue: true}
					}
					if mo, ok := match.(*msg.Object); ok {
						for _, d := range dl {
							mo.Delete(d.(string))
						}
					}
				}
			}
		}
		return result, nil
	}
	return b
}

var transformSig, _ = parseSignature("<(oa):o>")

// setOnPrimitive is the TypeError JavaScript raises when a transform sets a
// property on a value that cannot hold one.
func setOnPrimitive(v any, prop string) error {
	switch t := v.(type) {
	case nil:
		return &Error{Message: "Cannot set properties of null (setting '" + prop + "')"}
	case undefinedT:
		return &Error{Message: "Cannot set properties of undefined (setting '" + prop + "')"}
	case string:
		return &Error{Message: "Cannot create property '" + prop + "' on string '" + t + "'"}
	case float64:
		return &Error{Message: "Cannot create property '" + prop + "' on number '" + formatNumber(t) + "'"}
	case bool:
		return &Error{Message: "Cannot create property '" + prop + "' on boolean '" + toJSString(t) + "'"}
	}
	return nil
}
