package jsonata

import (
	"context"
	"time"
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

// timestamp is the time $now() and $millis() report: taken once per
// evaluation, when first needed.
func (st *state) timestamp() time.Time {
	if st.now.IsZero() {
		st.now = time.Now()
	}
	return st.now
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
	f := env
	if !expr.frameless {
		f = newFrame(env)
	}
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
