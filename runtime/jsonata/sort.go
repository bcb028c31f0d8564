package jsonata

// evalSort is the order-by step: a stable merge sort on the terms.
func (st *state) evalSort(expr *node, input any, env *frame) (any, error) {
	isTupleSort := hasFlag(input, fTupleStream)
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
	return mergeSort(input, comparator)
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
