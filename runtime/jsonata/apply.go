package jsonata

import (
	"strings"

	"github.com/dlclark/regexp2/v2"
)

// Function values.

// lambda is a function defined in an expression (or a partial application).
type lambda struct {
	input  any
	env    *frame
	params []*node
	sig    *signature
	body   *node
	thunk  bool
	// native, when set, is the body: a built-in partially applied.
	native callable
	// token and position are those of the last named call, which jsonata
	// stores on the function and uses to report errors from it.
	token    string
	hasToken bool
	position int
}

// builtin is a function implemented in Go: jsonata's built-ins and Go
// functions bound by the caller.
type builtin struct {
	name   string
	sig    *signature
	nargs  int      // JavaScript's function length
	params []string // the parameter names, for partial application
	fn     func(c call, args []any) (any, error)
	// plain marks a bound Go function without a signature: jsonata calls
	// those as plain JavaScript functions.
	plain bool
}

// call is what a built-in sees of its caller (jsonata's `this`).
type call struct {
	st    *state
	env   *frame
	input any
	// raw: the arguments were not evaluated by a function call expression
	// (a tail call, a partial application), so jsonata did not wrap the
	// functions among them in JavaScript closures.
	raw bool
}

// regexFn is a regex literal's value: a matcher function.
type regexFn struct {
	re  *regexp2.Regexp
	src string
	pos int
	// nonGlobal: exec always starts at 0 and lastIndex never moves.
	nonGlobal bool
}

// callable is any function value.
type callable interface{ arity() int }

func (l *lambda) arity() int  { return len(l.params) }
func (b *builtin) arity() int { return b.nargs }
func (r *regexFn) arity() int { return 2 }
func (c *closure) arity() int { return arity(c.fn) }

// closure is the JavaScript function jsonata wraps a function argument in
// (evaluateFunction): calling it applies the function without a context
// value. It is a function to JavaScript (JSON skips it) where a lambda or
// a built-in is an object.
type closure struct {
	fn  any
	env *frame
}

func isFunction(v any) bool {
	switch v.(type) {
	case *lambda, *builtin, *regexFn, *closure:
		return true
	}
	return false
}

func arity(f any) int {
	if c, ok := f.(callable); ok {
		return c.arity()
	}
	return 0
}

// truthy is JavaScript's ToBoolean.
func truthy(v any) bool {
	switch t := v.(type) {
	case nil, undefinedT:
		return false
	case bool:
		return t
	case float64:
		return t != 0 && t == t
	case string:
		return t != ""
	}
	return true
}

func (st *state) evalFunction(expr *node, input any, env *frame, applyTo *any) (any, error) {
	proc, err := st.eval(expr.procedure, input, env)
	if err != nil {
		return nil, err
	}
	if isUndef(proc) && expr.procedure.typ == ntPath {
		first := expr.procedure.steps[0]
		if truthy(env.lookup(first.str)) {
			e := &Error{Code: "T1005", Position: expr.pos}
			e.forceToken(first.str)
			return nil, e
		}
	}
	// The arguments live on the state's stack while the call runs: callees
	// copy what they keep.
	base := len(st.stack)
	defer func() {
		clear(st.stack[base:])
		st.stack = st.stack[:base]
	}()
	if applyTo != nil {
		st.stack = append(st.stack, *applyTo)
	}
	for _, a := range expr.arguments {
		v, err := st.eval(a, input, env)
		if err != nil {
			return nil, err
		}
		switch v.(type) {
		case *lambda, *builtin, *regexFn:
			v = &closure{fn: v, env: env}
		}
		st.stack = append(st.stack, v)
	}
	args := st.stack[base:len(st.stack):len(st.stack)]
	procName, hasName := procedureName(expr.procedure)
	if l, ok := proc.(*lambda); ok {
		l.token, l.hasToken, l.position = procName, hasName, expr.pos
	} else if b, ok := proc.(*builtin); ok && !b.plain {
		st.setSite(b, site{token: procName, hasToken: hasName, pos: expr.pos, named: true})
	} else if proc == nil {
		return nil, decorate(&Error{Message: "Cannot set properties of null (setting 'token')"}, expr.pos, procName, hasName)
	}
	result, err := st.apply(proc, args, input, env, site{token: procName, hasToken: hasName, pos: expr.pos, named: true})
	if err != nil {
		return nil, decorate(err, expr.pos, procName, hasName)
	}
	return result, nil
}

// decorate adds a call's position and function name to an error that has
// none yet.
func decorate(err error, pos int, token string, hasToken bool) error {
	e, ok := err.(*Error)
	if !ok {
		return err
	}
	if e.Position == 0 {
		e.Position = pos
	}
	if (!e.hasToken || e.tokenVal == "" || e.tokenVal == nil) && hasToken {
		e.forceToken(token)
	}
	return e
}

func procedureName(p *node) (string, bool) {
	if p.typ == ntPath {
		s := p.steps[0]
		switch s.typ {
		case ntName, ntVariable, ntString:
			return s.str, true
		}
		return "", false
	}
	switch p.typ {
	case ntVariable, ntName:
		return p.str, true
	}
	return "", false
}

// site is where a function is called from by name: jsonata stores these on
// the function object and reports errors from the call with them.
type site struct {
	token    string
	hasToken bool
	pos      int
	named    bool
	raw      bool
}

// apply calls proc and runs the trampoline for tail calls.
func (st *state) apply(proc any, args []any, input any, env *frame, s site) (any, error) {
	result, err := st.applyInner(proc, args, input, env, s)
	for err == nil {
		l, ok := result.(*lambda)
		if !ok || !l.thunk {
			break
		}
		body := l.body
		next, err2 := st.eval(body.procedure, l.input, l.env)
		if err2 != nil {
			return nil, err2
		}
		ns := site{pos: body.procedure.pos}
		if body.procedure.typ == ntVariable {
			ns.token, ns.hasToken = body.procedure.str, true
		}
		if err := setOnValue(next, ns); err != nil {
			return nil, err
		}
		ns.named = true
		ns.raw = true
		if nl, ok := next.(*lambda); ok {
			if ns.hasToken {
				nl.token, nl.hasToken = ns.token, true
			}
			nl.position = ns.pos
		} else if nb, ok := next.(*builtin); ok && !nb.plain {
			if ls, ok := st.site(nb); ok && !ns.hasToken {
				ns.token, ns.hasToken = ls.token, ls.hasToken
			}
			st.setSite(nb, ns)
		}
		nargs := make([]any, len(body.arguments))
		for i, a := range body.arguments {
			v, err := st.eval(a, l.input, l.env)
			if err != nil {
				return nil, err
			}
			nargs[i] = v
		}
		result, err = st.applyInner(next, nargs, input, env, ns)
	}
	return result, err
}

// setOnValue reproduces JavaScript refusing to set a property on a
// primitive when a tail call's target is not a function.
func setOnValue(v any, s site) error {
	prop := "position"
	if s.hasToken {
		prop = "token"
	}
	switch t := v.(type) {
	case undefinedT:
		return &Error{Message: "Cannot set properties of undefined (setting '" + prop + "')"}
	case nil:
		return &Error{Message: "Cannot set properties of null (setting '" + prop + "')"}
	case string:
		return &Error{Message: "Cannot create property '" + prop + "' on string '" + t + "'"}
	case float64:
		return &Error{Message: "Cannot create property '" + prop + "' on number '" + formatNumber(t) + "'"}
	case bool:
		return &Error{Message: "Cannot create property '" + prop + "' on boolean '" + toJSString(t) + "'"}
	}
	return nil
}

func (st *state) applyInner(proc any, args []any, input any, env *frame, s site) (any, error) {
	var result any
	var err error
	switch p := proc.(type) {
	case *lambda:
		// apply, applyInner and applyProcedure each await once.
		st.clock += 3
		if p.sig != nil {
			args, err = p.sig.validate(args, input)
		}
		if err == nil {
			result, err = st.applyProcedure(p, args)
		}
		if err != nil {
			if e, ok := err.(*Error); ok {
				if !e.hasToken && p.hasToken {
					e.forceToken(p.token)
				}
				if p.position != 0 {
					e.Position = p.position
				}
			}
			return nil, err
		}
		return result, nil
	case *builtin:
		if p.sig != nil {
			// The validated arguments go on the state's stack too.
			base := len(st.stack)
			var out []any
			out, err = p.sig.validateInto(args, input, st.stack)
			if err == nil {
				args = out[base:len(out):len(out)]
				st.stack = out
				defer func() {
					clear(st.stack[base:])
					st.stack = st.stack[:base]
				}()
			}
		}
		if err == nil {
			result, err = p.fn(call{st: st, env: env, input: input, raw: s.raw}, args)
		}
		if err != nil {
			if e, ok := err.(*Error); ok && !p.plain {
				// jsonata reads the token and position off the function
				// object, where its latest call by name left them.
				if ls, ok := st.site(p); ok {
					s = ls
				}
				if s.named {
					if !e.hasToken && s.hasToken {
						e.forceToken(s.token)
					}
					if s.pos != 0 {
						e.Position = s.pos
					}
				} else if !e.hasToken && builtins[p.name] == p {
					// jsonata reads the token off the function object, where
					// the last call by name left it: for a built-in, almost
					// always its own name.
					e.forceToken(p.name)
				}
			}
			return nil, err
		}
		return result, nil
	case *regexFn:
		str, _ := argAt(args, 0).(string)
		from := 0
		if f, ok := argAt(args, 1).(float64); ok {
			from = int(f)
		}
		return st.regexMatch(p, str, from)
	case *closure:
		return st.apply(p.fn, args, nil, p.env, site{})
	}
	e := &Error{Code: "T1006"}
	if proc != nil && !isUndef(proc) {
		// jsonata reads the token and position off the value, which only
		// objects can carry.
		if isObjectOrArray(proc) && s.named {
			if s.hasToken {
				e.forceToken(s.token)
			}
			e.Position = s.pos
		}
	}
	return nil, e
}

func argAt(args []any, i int) any {
	if i < len(args) {
		return args[i]
	}
	return undefined
}

func (st *state) applyProcedure(p *lambda, args []any) (any, error) {
	env := newFrame(p.env)
	for i, param := range p.params {
		env.bind(param.str, argAt(args, i))
	}
	if p.native != nil {
		return st.applyNative(p.native, env)
	}
	return st.eval(p.body, p.input, env)
}

// applyNative calls a partially applied built-in with its parameters
// looked up by name, bypassing its signature, as jsonata does.
func (st *state) applyNative(fn callable, env *frame) (any, error) {
	switch f := fn.(type) {
	case *builtin:
		args := make([]any, len(f.params))
		for i, name := range f.params {
			args[i] = env.lookup(strings.TrimSpace(name))
		}
		if f.sig != nil {
			// jsonata hands the JavaScript function its arguments as they
			// are; of the wrong type they mostly make it throw a TypeError.
			_, err := f.sig.validate(args, undefined)
			if err == nil {
				for i, p := range f.sig.params {
					if p.typ == "a" && i < len(args) && !isUndef(args[i]) && !isArray(args[i]) {
						err = &Error{}
					}
				}
			}
			if err != nil {
				return nil, &Error{Message: "TypeError: unusable argument for $" + f.name}
			}
		}
		return f.fn(call{st: st, env: env, input: undefined, raw: true}, args)
	case *regexFn:
		str, _ := env.lookup("str").(string)
		from := 0
		if n, ok := env.lookup("fromIndex").(float64); ok {
			from = int(n)
		}
		return st.regexMatch(f, str, from)
	}
	return undefined, nil
}

func (st *state) evalPartial(expr *node, input any, env *frame) (any, error) {
	args := make([]any, len(expr.arguments))
	for i, a := range expr.arguments {
		if a.typ == ntOperator && a.str == "?" {
			args[i] = placeholder{}
			continue
		}
		v, err := st.eval(a, input, env)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	proc, err := st.eval(expr.procedure, input, env)
	if err != nil {
		return nil, err
	}
	if isUndef(proc) && expr.procedure.typ == ntPath {
		first := expr.procedure.steps[0]
		if truthy(env.lookup(first.str)) {
			e := &Error{Code: "T1007", Position: expr.pos}
			e.forceToken(first.str)
			return nil, e
		}
	}
	switch p := proc.(type) {
	case *lambda:
		return partialLambda(p, args, env), nil
	case *builtin:
		return partialNative(p, p.params, args, env, expr)
	case *regexFn:
		return partialNative(p, []string{"str", " fromIndex"}, args, env, expr)
	case *closure:
		// jsonata re-parses the JavaScript closure's parameter list,
		// "...params", which is not JSONata.
		e := &Error{Code: "S0202", Position: 12, Value: ")", hasValue: true}
		e.forceToken("..")
		return nil, e
	}
	e := &Error{Code: "T1008", Position: expr.pos}
	if name, ok := procedureName(expr.procedure); ok {
		e.forceToken(name)
	}
	return nil, e
}

// placeholder is a '?' argument of a partial application.
type placeholder struct{}

func partialLambda(p *lambda, args []any, env *frame) *lambda {
	penv := p.env
	if penv == nil {
		penv = env
	}
	f := newFrame(penv)
	var unbound []*node
	for i, param := range p.params {
		a := argAt(args, i)
		if _, ok := a.(placeholder); ok {
			unbound = append(unbound, param)
		} else {
			f.bind(param.str, a)
		}
	}
	if unbound == nil {
		unbound = []*node{}
	}
	return &lambda{input: p.input, env: f, params: unbound, body: p.body, native: p.native}
}

func partialNative(fn callable, params []string, args []any, env *frame, expr *node) (any, error) {
	nodes := make([]*node, len(params))
	for i, name := range params {
		name = strings.TrimSpace(name)
		if strings.ContainsAny(name, " =") {
			// jsonata re-parses the JavaScript parameter list; a default
			// value is not a variable name.
			e := &Error{Code: "S0208", Position: 26, Value: float64(i + 1), hasValue: true}
			e.forceToken("=")
			return nil, e
		}
		nodes[i] = &node{typ: ntVariable, str: name}
	}
	l := &lambda{params: nodes, native: fn, input: undefined}
	return partialLambda(l, args, env), nil
}

// chainBody is λ($f, $g) { λ($x){ $g($f($x)) } }, used for f ~> g when
// both are functions.
var chainAST = mustParse("function($f, $g) { function($x){ $g($f($x)) } }")

func mustParse(src string) *node {
	n, err := parse(src)
	if err != nil {
		panic(err)
	}
	return n
}

func (st *state) evalApply(expr *node, input any, env *frame) (any, error) {
	lhs, err := st.eval(expr.lhs, input, env)
	if err != nil {
		return nil, err
	}
	if expr.rhs.typ == ntFunction {
		return st.evalFunction(expr.rhs, input, env, &lhs)
	}
	fn, err := st.eval(expr.rhs, input, env)
	if err != nil {
		return nil, err
	}
	if !isFunction(fn) {
		return nil, &Error{Code: "T2006", Position: expr.pos, Value: fn, hasValue: true}
	}
	if isFunction(lhs) {
		chain, err := st.eval(chainAST, nil, env)
		if err != nil {
			return nil, err
		}
		return st.apply(chain, []any{lhs, fn}, nil, env, site{})
	}
	return st.apply(fn, []any{lhs}, nil, env, site{})
}

// callFunction invokes a function value from a built-in (the higher-order
// functions): jsonata wraps function arguments so they run without a
// context value.
func (st *state) callFunction(c call, fn any, args []any) (any, error) {
	if err := rawFunction(c, fn, "func"); err != nil {
		return nil, err
	}
	return st.apply(fn, args, nil, c.env, site{})
}

// rawFunction is the TypeError jsonata's higher-order functions meet when
// handed a built-in unwrapped: they call fn.apply, which a built-in's
// definition object does not have (a lambda object has one).
func rawFunction(c call, fn any, name string) error {
	if b, ok := fn.(*builtin); ok && c.raw && !b.plain {
		return &Error{Message: name + ".apply is not a function"}
	}
	return nil
}

// siteEntry is where a built-in was last called by name in this
// evaluation (jsonata keeps that on the shared function object).
type siteEntry struct {
	b *builtin
	s site
}

func (st *state) setSite(b *builtin, s site) {
	for i := range st.sites {
		if st.sites[i].b == b {
			st.sites[i].s = s
			return
		}
	}
	st.sites = append(st.sites, siteEntry{b, s})
}

func (st *state) site(b *builtin) (site, bool) {
	for _, e := range st.sites {
		if e.b == b {
			return e.s, true
		}
	}
	return site{}, false
}
