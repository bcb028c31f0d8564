package jsonata

import (
	"math"
)

func (st *state) evalPath(expr *node, input any, env *frame) (any, error) {
	if expr.simple {
		if v, ok := st.simplePath(expr, input, env); ok {
			return v, nil
		}
	}
	var inputSeq any
	if isArray(input) && expr.steps[0].typ != ntVariable {
		inputSeq = input
	} else {
		inputSeq = seqOf(input)
	}
	var resultSeq any = undefined
	isTuple := false
	var tuples *sequence
	last := len(expr.steps) - 1
	for ii, step := range expr.steps {
		if step.tuple {
			isTuple = true
		}
		var err error
		switch {
		case ii == 0 && step.consarray:
			resultSeq, err = st.eval(step, inputSeq, env)
		case isTuple:
			tuples, err = st.evalTupleStep(step, inputSeq, tuples, env)
		default:
			resultSeq, err = st.evalStep(step, inputSeq, env, ii == last)
		}
		if err != nil {
			return nil, err
		}
		if !isTuple && emptyLength(resultSeq) {
			break
		}
		if !step.hasFocus {
			inputSeq = resultSeq
		}
	}
	if isTuple {
		if expr.tuple {
			if tuples == nil {
				resultSeq = undefined
			} else {
				resultSeq = tuples
			}
		} else {
			var items []any
			if tuples != nil {
				items = tuples.items
			}
			out := newSeq(len(items))
			for _, t := range items {
				out.push(tupleAt(t))
			}
			resultSeq = out
		}
	}
	if expr.keepSingletonArray {
		if s, ok := resultSeq.(*sequence); ok && s.flags&fCons != 0 && s.flags&fSeq == 0 {
			resultSeq = seqOf(s)
		}
		switch s := resultSeq.(type) {
		case *sequence:
			s.flags |= fKeepSingleton
		case []any:
			// jsonata sets the flag on the array itself, an input array
			// here: it then shows as a key ($eval("*", a[])).
			resultSeq = &sequence{items: s, flags: fKeepSingleton}
		}
	}
	if expr.group != nil {
		in := resultSeq
		if isTuple {
			if tuples == nil {
				in = undefined
			} else {
				in = tuples
			}
		}
		return st.evalGroup(expr.group.pairs, expr.group.pos, in, env)
	}
	return resultSeq, nil
}

// simplePath evaluates a path of plain field names (after, perhaps, a
// variable) from a single object without building sequences; ok is false
// when the general algorithm is needed (arrays on the way, sequences).
func (st *state) simplePath(expr *node, input any, env *frame) (any, bool) {
	if st.depth+1 > st.maxDepth {
		return nil, false
	}
	steps := expr.steps
	var cur any
	if first := steps[0]; first.typ == ntVariable {
		if first.str == "" {
			cur = input
			if s, ok := input.(*sequence); ok && s.flags&fOuterWrapper != 0 {
				return nil, false
			}
		} else {
			cur = env.lookup(first.str)
		}
		st.ticks++
		st.clock++
		switch cur.(type) {
		case undefinedT:
			return undefined, true
		case []any, *sequence:
			return nil, false
		}
		steps = steps[1:]
	} else {
		if isArray(input) {
			return nil, false
		}
		cur = input
	}
	last := len(steps) - 1
	for i, step := range steps {
		st.ticks++
		st.clock++
		v := lookupField(cur, step.str)
		switch v.(type) {
		case undefinedT:
			return undefined, true
		case []any:
			if i == last {
				return v, true
			}
			return nil, false
		case *sequence:
			return nil, false
		}
		cur = v
	}
	return cur, true
}

// emptyLength is `v === undefined || v.length === 0`.
func emptyLength(v any) bool {
	switch t := v.(type) {
	case undefinedT:
		return true
	case []any:
		return len(t) == 0
	case *sequence:
		return len(t.items) == 0
	case string:
		return t == ""
	}
	return false
}

func tupleAt(v any) any {
	if t, ok := v.(*tuple); ok {
		return t.at
	}
	return undefined
}

func (st *state) evalStep(expr *node, input any, env *frame, lastStep bool) (any, error) {
	if expr.typ == ntSort {
		result, err := st.evalSort(expr, input, env)
		if err != nil {
			return nil, err
		}
		if expr.stages != nil {
			return st.evalStages(expr.stages, result, env)
		}
		return result, nil
	}
	items := arrayItems(input)
	var buf [1]any
	results := buf[:0]
	for _, item := range items {
		res, err := st.eval(expr, item, env)
		if err != nil {
			return nil, err
		}
		for _, s := range expr.stages {
			if res, err = st.evalFilter(s.expr, res, env); err != nil {
				return nil, err
			}
		}
		if !isUndef(res) {
			results = append(results, res)
		}
	}
	if lastStep && len(results) == 1 && isArray(results[0]) && !isSequence(results[0]) {
		return results[0], nil
	}
	// Flatten: arrays other than constructed ones spill their items.
	n := 0
	for _, r := range results {
		if a, ok := asArray(r); ok && !hasFlag(r, fCons) {
			n += len(a)
		} else {
			n++
		}
	}
	out := newSeq(n)
	for _, r := range results {
		if a, ok := asArray(r); ok && !hasFlag(r, fCons) {
			out.items = append(out.items, a...)
		} else {
			out.items = append(out.items, r)
		}
	}
	return out, nil
}

func (st *state) evalStages(stages []stage, input any, env *frame) (any, error) {
	result := input
	for _, s := range stages {
		switch s.kind {
		case stageFilter:
			var err error
			if result, err = st.evalFilter(s.expr, result, env); err != nil {
				return nil, err
			}
		case stageIndex:
			for i, t := range arrayItems(result) {
				if tp, ok := t.(*tuple); ok {
					tp.set(s.value, float64(i))
				}
			}
		}
	}
	return result, nil
}

func (st *state) evalTupleStep(expr *node, input any, tuples *sequence, env *frame) (*sequence, error) {
	if expr.typ == ntSort {
		var result any
		if tuples != nil {
			r, err := st.evalSort(expr, tuples, env)
			if err != nil {
				return nil, err
			}
			result = r
		} else {
			sorted, err := st.evalSort(expr, input, env)
			if err != nil {
				return nil, err
			}
			items := arrayItems(sorted)
			out := &sequence{items: make([]any, 0, len(items)), flags: fSeq | fTupleStream}
			idx := expr.index
			if !expr.hasIndex {
				// jsonata writes the position under the key "undefined".
				idx = "undefined"
			}
			for i, v := range items {
				out.push(&tuple{at: v, vars: []binding{{idx, float64(i)}}})
			}
			result = out
		}
		if expr.stages != nil {
			r, err := st.evalStages(expr.stages, result, env)
			if err != nil {
				return nil, err
			}
			result = r
		}
		return toTupleSeq(result), nil
	}
	if tuples == nil {
		items := arrayItems(input)
		tuples = &sequence{items: make([]any, len(items)), flags: fSeq}
		for i, v := range items {
			tuples.items[i] = &tuple{at: v}
		}
	}
	result := &sequence{items: make([]any, 0, len(tuples.items)), flags: fSeq | fTupleStream}
	for _, tv := range tuples.items {
		tb, ok := tv.(*tuple)
		if !ok {
			tb = &tuple{at: tv}
		}
		stepEnv := frameFromTuple(env, tb)
		res, err := st.eval(expr, tb.at, stepEnv)
		if err != nil {
			return nil, err
		}
		if isUndef(res) {
			continue
		}
		resItems, isArr := asArray(res)
		if !isArr {
			resItems = []any{res}
		}
		stream := hasFlag(res, fTupleStream)
		for bb, rv := range resItems {
			t := tb.copy()
			if stream {
				if rt, ok := rv.(*tuple); ok {
					t.at = rt.at
					for _, b := range rt.vars {
						t.set(b.name, b.val)
					}
				}
			} else {
				if expr.focus != "" {
					t.set(expr.focus, rv)
					t.at = tb.at
				} else {
					t.at = rv
				}
				if expr.index != "" {
					t.set(expr.index, float64(bb))
				}
				if expr.ancestor != nil {
					t.set(expr.ancestor.label, tb.at)
				}
			}
			result.push(t)
		}
	}
	if expr.stages != nil {
		r, err := st.evalStages(expr.stages, result, env)
		if err != nil {
			return nil, err
		}
		return toTupleSeq(r), nil
	}
	return result, nil
}

// toTupleSeq keeps a tuple stream a *sequence whatever sorting made of it
// (jsonata's sort returns a plain array of the tuples, which loses the
// tupleStream flag: that is kept too).
func toTupleSeq(v any) *sequence {
	switch t := v.(type) {
	case *sequence:
		return t
	case []any:
		return &sequence{items: t}
	}
	return &sequence{}
}

func (st *state) evalFilter(pred *node, input any, env *frame) (any, error) {
	results := newSeq(0)
	stream := hasFlag(input, fTupleStream)
	if stream {
		results.flags |= fTupleStream
	}
	items, isArr := asArray(input)
	if !isArr {
		items = []any{input}
	}
	if pred.typ == ntNumber {
		index := int(math.Floor(pred.value.(float64)))
		f := math.Floor(pred.value.(float64))
		if f < 0 {
			f += float64(len(items))
			index = int(f)
		}
		if f >= 0 && f < float64(len(items)) {
			item := items[index]
			if !isUndef(item) {
				if isArray(item) {
					return item, nil
				}
				results.push(item)
			}
		}
		return results, nil
	}
	for index, item := range items {
		context := item
		fenv := env
		if stream {
			if t, ok := item.(*tuple); ok {
				context = t.at
				fenv = frameFromTuple(env, t)
			}
		}
		res, err := st.eval(pred, context, fenv)
		if err != nil {
			return nil, err
		}
		num, err := isNumeric(res)
		if err != nil {
			return nil, err
		}
		if num {
			res = []any{res}
		}
		allNums, err := isArrayOfNumbers(res)
		if err != nil {
			return nil, err
		}
		if allNums {
			for _, r := range arrayItems(res) {
				ii := math.Floor(r.(float64))
				if ii < 0 {
					ii += float64(len(items))
				}
				if ii == float64(index) {
					results.push(item)
				}
			}
		} else {
			b, err := toBoolean(res)
			if err != nil {
				return nil, err
			}
			if b == true {
				results.push(item)
			}
		}
	}
	return results, nil
}
