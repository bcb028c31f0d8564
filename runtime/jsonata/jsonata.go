// Package jsonata evaluates JSONata 2.x expressions natively, with the
// semantics of the jsonata 2.2.2 JavaScript library (checked against it
// through runtime/jsonataref) on the runtime/msg value model.
//
// Inputs and results are msg values: nil (null), bool, float64, string,
// []byte (a Node.js Buffer, which JSONata sees as an object, as in
// Node-RED: payload.length, $keys, $string as {"type":"Buffer",...}),
// []any, *msg.Object (JavaScript key order) and msg.Undefined{} for
// undefined. A function in a result (a lambda, a built-in, a regex) is
// Function{}. Values with a ToJSON() method are seen as their JSON form;
// other Go values are objects without keys.
//
// Where it differs from jsonata 2.2.2, on purpose or by necessity:
//   - Array and object constructors evaluate their items one after the
//     other. jsonata runs them through Promise.all, so a variable bound
//     with := inside one item is not yet visible to the next one there;
//     when several items fail, the error reported follows an
//     approximation of jsonata's promise scheduling.
//   - Go strings are UTF-8: a lone surrogate in input data cannot exist
//     (one written as an escape in an expression is kept, so $encodeUrl
//     still refuses it); $split with "" splits code points, not UTF-16
//     units. Positions and lengths otherwise follow JavaScript.
//   - Nesting is bounded (DefaultMaxDepth levels of evaluation, error
//     U1001) where Node.js only runs out of memory; expressions nest at
//     most 2000 levels deep.
//   - A built-in called other than by name (through ~> or a higher-order
//     function) reports errors with its name as token and, when it was not
//     called by name in the same evaluation, no position: jsonata reports
//     where the shared function object was last called, in any
//     evaluation.
//   - A partially applied built-in given arguments of the wrong type fails
//     with a TypeError-like error; in JavaScript some such calls happen to
//     work ($map over a string's characters).
//   - Node-RED lets a path read inherited JavaScript properties
//     (payload.toString); only a Buffer's length is provided.
package jsonata

import (
	"context"
	"sync"
	"time"

	"github.com/sluicehq/sluice/runtime/jsonataref"
	"github.com/sluicehq/sluice/runtime/msg"
)

// Expr is a compiled expression; it is safe for concurrent use.
type Expr struct {
	src  string
	ast  *node
	opts Options
}

// Options are guardrails for an evaluation.
type Options struct {
	// Timeout ends an evaluation that runs longer (error D1012).
	Timeout time.Duration
	// MaxDepth bounds the nesting of evaluation (error D1011). Zero means
	// the default, which only protects the Go stack (error U1001).
	MaxDepth int
}

// DefaultMaxDepth is the nesting allowed without an explicit MaxDepth:
// about 16000 levels of non-tail recursion, up to some 64 MB of Go stack.
const DefaultMaxDepth = 50000

// Func is a Go function bound as a JSONata function. With a Signature
// ("<s-:s>") arguments are validated, and the context value stands in for
// a missing "-" argument, as for the built-ins. Arguments arrive as msg
// values (missing ones as msg.Undefined{}) and are shared with the
// evaluation: Fn must not modify them.
type Func struct {
	Fn        func(args []any) (any, error)
	Signature string
}

// Function stands for a function value in a result (the reference
// library's marker, so results of both engines compare equal).
type Function = jsonataref.Function

// Compile parses expr; a syntax error is an *Error.
func Compile(expr string) (*Expr, error) {
	ast, err := parse(expr)
	if err != nil {
		if e, ok := err.(*Error); ok {
			e.populateMessage()
		}
		return nil, err
	}
	return &Expr{src: expr, ast: ast}, nil
}

// MustCompile is Compile that panics on error.
func MustCompile(expr string) *Expr {
	e, err := Compile(expr)
	if err != nil {
		panic(err)
	}
	return e
}

// WithOptions returns a copy of the expression evaluated with opts.
func (e *Expr) WithOptions(opts Options) *Expr {
	c := *e
	c.opts = opts
	return &c
}

// String returns the source of the expression.
func (e *Expr) String() string { return e.src }

// Eval evaluates the expression against input. Bindings become $name
// variables: msg values, Func or func(args []any) (any, error) for
// functions. A result of undefined is msg.Undefined{}; errors are *Error.
func (e *Expr) Eval(input any, bindings map[string]any) (any, error) {
	return e.EvalContext(context.Background(), input, bindings)
}

// EvalContext is Eval that stops when ctx ends (expressions can loop).
func (e *Expr) EvalContext(ctx context.Context, input any, bindings map[string]any) (any, error) {
	st := statePool.Get().(*state)
	defer func() {
		// Nothing made during the evaluation keeps the state: functions
		// leave it as Function{} markers.
		*st = state{}
		statePool.Put(st)
	}()
	st.ctx, st.done, st.maxDepth = ctx, ctx.Done(), DefaultMaxDepth
	if e.opts.MaxDepth > 0 {
		st.maxDepth = e.opts.MaxDepth
		st.userDepth = true
	}
	if e.opts.Timeout > 0 {
		st.timeout = e.opts.Timeout
		st.start = time.Now()
	}
	if st.done != nil {
		if err := st.check(); err != nil {
			return nil, err
		}
	}
	st.stack = st.stackBuf[:0]
	st.sites = st.sitesBuf[:0]
	env := &st.root
	env.lazy = true
	env.vars = st.rootVars[:0]
	for k, v := range bindings {
		env.vars = append(env.vars, binding{k, v})
	}
	input = jsonView(input)
	env.vars = append(env.vars, binding{"$", input})
	if items, ok := input.([]any); ok {
		input = &sequence{items: []any{items}, flags: fSeq | fOuterWrapper}
	}
	res, err := st.eval(e.ast, input, env)
	if err != nil {
		if je, ok := err.(*Error); ok {
			if !je.custom {
				je.populateMessage()
			}
		}
		return nil, err
	}
	return exportChecked(res)
}

var statePool = sync.Pool{New: func() any { return new(state) }}

// importValue makes Go-side variants of msg values uniform.
func importValue(v any) any {
	switch t := v.(type) {
	case *msg.Msg:
		if t == nil {
			return nil
		}
		return t.Object
	case int:
		return float64(t)
	case int64:
		return float64(t)
	case time.Time:
		return v
	}
	return v
}

func bindingValue(name string, v any) any {
	switch f := v.(type) {
	case Func:
		return goFunction(name, f.Fn, f.Signature)
	case *Func:
		return goFunction(name, f.Fn, f.Signature)
	case func([]any) (any, error):
		return goFunction(name, f, "")
	case jsonataref.Func:
		return refFunc(name, f)
	case *jsonataref.Func:
		return refFunc(name, *f)
	}
	if v == jsonataref.Moment {
		return momentUnavailable
	}
	return importValue(v)
}

// goFunction wraps a bound Go function as a JSONata function value.
func goFunction(name string, fn func([]any) (any, error), sig string) any {
	b := &builtin{name: name, params: []string{""}}
	if sig != "" {
		s, err := parseSignature(sig)
		if err == nil {
			b.sig = s
		}
	} else {
		b.plain = true
	}
	b.fn = func(c call, args []any) (any, error) {
		in := make([]any, len(args))
		for i, a := range args {
			v, err := exportChecked(a)
			if err != nil {
				return nil, err
			}
			in[i] = v
		}
		out, err := fn(in)
		if err != nil {
			if _, ok := err.(*Error); ok {
				return nil, err
			}
			return nil, &Error{Message: err.Error(), Err: err}
		}
		if out == nil {
			return nil, nil
		}
		return importValue(out), nil
	}
	return b
}

// maxValueDepth bounds walks over values: only a transform that puts an
// object inside itself makes a cycle, and that must not crash the process.
const maxValueDepth = 10000

func errCyclic() *Error {
	return &Error{Message: "JSONata result nested deeper than 10000 levels (cyclic?)"}
}

// exportValue turns evaluation values into msg values: sequences become
// []any and functions Function{}. Containers built during the evaluation
// are fixed in place; input values never hold internal types, so they are
// only read.
func exportValue(v any) any {
	r, _, _ := export(v, 0)
	return r
}

func exportChecked(v any) (any, error) {
	r, _, err := export(v, 0)
	return r, err
}

func export(v any, depth int) (any, bool, error) {
	if depth > maxValueDepth {
		return nil, false, errCyclic()
	}
	switch t := v.(type) {
	case nil, bool, float64, string, []byte, undefinedT:
		return v, false, nil
	case *sequence:
		out := t.items
		if out == nil {
			out = []any{}
		}
		for i, it := range out {
			nv, changed, err := export(it, depth+1)
			if err != nil {
				return nil, false, err
			}
			if changed {
				out[i] = nv
			}
		}
		return out, true, nil
	case []any:
		for i, it := range t {
			nv, changed, err := export(it, depth+1)
			if err != nil {
				return nil, false, err
			}
			if changed {
				t[i] = nv
			}
		}
		return t, false, nil
	case *msg.Object:
		for i := 0; i < t.Len(); i++ {
			k, ev := t.At(i)
			nv, changed, err := export(ev, depth+1)
			if err != nil {
				return nil, false, err
			}
			if changed {
				t.Set(k, nv)
			}
		}
		return t, false, nil
	case *lambda, *builtin, *regexFn, *closure:
		return Function{}, true, nil
	case *tuple:
		r, _, err := export(t.at, depth+1)
		return r, true, err
	case placeholder:
		return undefined, true, nil
	}
	return v, false, nil
}
