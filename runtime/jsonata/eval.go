package jsonata

import (
	"context"
	"math"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
)

// state is one evaluation: guards against runaway expressions and the
// timestamp $now() and $millis() report.
type state struct {
	ctx      context.Context
	done     <-chan struct{}
	depth    int
	maxDepth int
	// userDepth is set when the caller chose the depth limit (D1011);
	// otherwise the limit only protects the Go stack (U1001).
	userDepth bool
	timeout   time.Duration
	start     time.Time
	ticks     uint32
	now       time.Time
	// sites are the built-ins' latest calls by name.
	sites    []siteEntry
	sitesBuf [4]siteEntry
	// stack holds the arguments of calls in progress.
	stack    []any
	stackBuf [8]any
	// root holds the caller's bindings and $$.
	root     frame
	rootVars [8]binding
	// clock counts evaluation steps the way jsonata's awaits order them;
	// constructors evaluate their items "in parallel" (Promise.all) and
	// the error reported is the one that would have been thrown first.
	clock int64
}

// enter counts one level of evaluation and, now and then, checks the
// context and the time limit.
func (st *state) enter() error {
	st.depth++
	if st.depth > st.maxDepth {
		if st.userDepth {
			return &Error{Code: "D1011", Value: float64(st.maxDepth), hasValue: true}
		}
		return &Error{Code: "U1001", Message: "Stack overflow error: Check for non-terminating recursive function.  Consider rewriting as tail-recursive."}
	}
	st.ticks++
	st.clock++
	if st.ticks&127 == 0 {
		return st.check()
	}
	return nil
}

// tick counts a step of work done outside eval (a regex match, say), so
// loops there stop with the context too.
func (st *state) tick() error {
	st.ticks++
	if st.ticks&127 == 0 {
		return st.check()
	}
	return nil
}

func (st *state) check() error {
	if st.done != nil {
		select {
		case <-st.done:
			return &Error{Message: "JSONata evaluation stopped: " + st.ctx.Err().Error(), Err: st.ctx.Err()}
		default:
		}
	}
	if st.timeout > 0 && time.Since(st.start) > st.timeout {
		return &Error{Code: "D1012", Value: float64(st.timeout.Milliseconds()), hasValue: true}
	}
	return nil
}

func (st *state) eval(expr *node, input any, env *frame) (any, error) {
	if err := st.enter(); err != nil {
		return nil, err
	}
	var result any = undefined
	var err error
	switch expr.typ {
	case ntPath:
		result, err = st.evalPath(expr, input, env)
	case ntBinary:
		result, err = st.evalBinary(expr, input, env)
	case ntUnary:
		result, err = st.evalUnary(expr, input, env)
	case ntName:
		result = lookupField(input, expr.str)
	case ntString, ntNumber, ntValue:
		result = expr.value
	case ntWildcard:
		result = evalWildcard(input)
	case ntDescendant:
		result, err = evalDescendants(input)
	case ntParent:
		result = env.lookup(expr.slot.label)
	case ntCondition:
		result, err = st.evalCondition(expr, input, env)
	case ntBlock:
		result, err = st.evalBlock(expr, input, env)
	case ntBind:
		result, err = st.eval(expr.rhs, input, env)
		if err == nil {
			env.bind(expr.lhs.str, result)
		}
	case ntRegex:
		result = &regexFn{re: expr.re, pos: expr.pos, src: expr.reLit.pattern, nonGlobal: expr.nonGlobal}
	case ntFunction:
		result, err = st.evalFunction(expr, input, env, nil)
	case ntVariable:
		if expr.str == "" {
			result = input
			if s, ok := input.(*sequence); ok && s.flags&fOuterWrapper != 0 {
				if len(s.items) > 0 {
					result = s.items[0]
				} else {
					result = undefined
				}
			}
		} else {
			result = env.lookup(expr.str)
		}
	case ntLambda:
		result = &lambda{input: input, env: env, params: expr.params, sig: expr.signature, body: expr.body, thunk: expr.thunk}
	case ntPartial:
		result, err = st.evalPartial(expr, input, env)
	case ntApply:
		result, err = st.evalApply(expr, input, env)
	case ntTransform:
		result = st.transformer(expr, env)
	}
	if err != nil {
		st.depth--
		return nil, st.stamp(err)
	}
	for _, p := range expr.predicate {
		if result, err = st.evalFilter(p.expr, result, env); err != nil {
			st.depth--
			return nil, err
		}
	}
	if expr.typ != ntPath && expr.group != nil {
		if result, err = st.evalGroup(expr.group.pairs, expr.group.pos, result, env); err != nil {
			st.depth--
			return nil, err
		}
	}
	if s, ok := result.(*sequence); ok && s.flags&fSeq != 0 && s.flags&fTupleStream == 0 {
		if expr.keepArray {
			s.flags |= fKeepSingleton
		}
		switch {
		case len(s.items) == 0:
			result = undefined
		case len(s.items) == 1 && s.flags&fKeepSingleton == 0:
			result = s.items[0]
		}
	}
	st.depth--
	return result, nil
}

// stamp records when an error was raised, on the evaluation clock.
func (st *state) stamp(err error) error {
	if e, ok := err.(*Error); ok && !e.timed {
		e.timed = true
		e.tick = st.clock
	}
	return err
}

// parallel runs the items of a constructor as jsonata's Promise.all does:
// each starts at the same clock, the constructor ends when the slowest
// does, and the earliest error wins.
type parallel struct {
	st      *state
	start   int64
	end     int64
	err     *Error
	errTick int64
	other   error
}

func (st *state) beginParallel() *parallel {
	return &parallel{st: st, start: st.clock, end: st.clock}
}

// item starts the next item.
func (p *parallel) item() { p.st.clock = p.start }

// done records an item's outcome.
func (p *parallel) done(err error) {
	if p.st.clock > p.end {
		p.end = p.st.clock
	}
	if err == nil {
		return
	}
	e, ok := err.(*Error)
	if !ok || e.Code == "U1001" || (e.Code == "" && e.Err != nil && p.st.ctx != nil && p.st.ctx.Err() != nil) {
		if p.other == nil {
			p.other = err
		}
		return
	}
	if parallelErrorHook != nil {
		parallelErrorHook(e)
	}
	if p.err == nil || e.tick < p.errTick {
		p.err, p.errTick = e, e.tick
	}
}

// parallelErrorHook, in tests, sees every error a constructor's items
// raised: which one jsonata reports depends on its promise scheduling,
// which the clock only approximates.
var parallelErrorHook func(*Error)

func (p *parallel) finish() error {
	p.st.clock = p.end
	if p.other != nil {
		return p.other
	}
	if p.err != nil {
		return p.err
	}
	return nil
}

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
		if s, ok := resultSeq.(*sequence); ok {
			s.flags |= fKeepSingleton
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

func tupleOf(v any) (*tuple, bool) {
	t, ok := v.(*tuple)
	return t, ok
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

// pushValue is array.push on a value known to be an array.
func pushValue(arr any, v any) any {
	switch t := arr.(type) {
	case *sequence:
		t.push(v)
		return t
	case []any:
		return append(t, v)
	}
	return arr
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

func (st *state) evalCondition(expr *node, input any, env *frame) (any, error) {
	cond, err := st.eval(expr.condition, input, env)
	if err != nil {
		return nil, err
	}
	b, err := toBoolean(cond)
	if err != nil {
		return nil, err
	}
	if b == true {
		return st.eval(expr.then, input, env)
	}
	if expr.els != nil {
		return st.eval(expr.els, input, env)
	}
	return undefined, nil
}

func (st *state) evalBlock(expr *node, input any, env *frame) (any, error) {
	f := newFrame(env)
	var result any = undefined
	for _, e := range expr.expressions {
		var err error
		if result, err = st.eval(e, input, f); err != nil {
			return nil, err
		}
	}
	return result, nil
}

func (st *state) evalUnary(expr *node, input any, env *frame) (any, error) {
	switch expr.str {
	case "-":
		v, err := st.eval(expr.expression, input, env)
		if err != nil {
			return nil, err
		}
		if isUndef(v) {
			return undefined, nil
		}
		num, err := isNumeric(v)
		if err != nil {
			return nil, err
		}
		if num {
			return -v.(float64), nil
		}
		e := &Error{Code: "D1002", Position: expr.pos, Value: v, hasValue: true}
		e.forceToken("-")
		return nil, e
	case "[":
		result := make([]any, 0, len(expr.expressions))
		var par *parallel
		if len(expr.expressions) > 1 {
			par = st.beginParallel()
		}
		for _, item := range expr.expressions {
			if par != nil {
				par.item()
			}
			v, err := st.eval(item, input, env)
			if par != nil {
				par.done(err)
				if par.err != nil || par.other != nil {
					if par.other != nil {
						break
					}
					continue
				}
			} else if err != nil {
				return nil, err
			}
			if isUndef(v) {
				continue
			}
			if a, ok := asArray(v); ok && !(item.typ == ntUnary && item.str == "[") {
				result = append(result, a...)
			} else {
				result = append(result, v)
			}
		}
		if par != nil {
			if err := par.finish(); err != nil {
				return nil, err
			}
		}
		if expr.consarray {
			return &sequence{items: result, flags: fCons}, nil
		}
		return result, nil
	case "{":
		return st.evalGroup(expr.pairs, expr.pos, input, env)
	}
	return undefined, nil
}
