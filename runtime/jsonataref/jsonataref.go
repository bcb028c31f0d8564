// Package jsonataref evaluates JSONata with the reference implementation:
// the jsonata 2.2.2 JavaScript library (see js/VERSION) run in goja. It is
// exact but slow; a native evaluator is meant to replace it behind the same
// API and to be checked against it.
//
// Values go in and come out in the runtime/msg model: *msg.Object keeps key
// order both ways, numbers are float64, null is nil and undefined is
// msg.Undefined{}, time.Time is a JavaScript Date (a moment result comes
// back as time.Time too), a JavaScript function in a result is Function{},
// and other Go values travel as host objects that come back unchanged.
//
// []byte becomes what JSONata sees of a Node.js Buffer in Node-RED: an
// object, not an array. So, as in Node-RED, `payload` returns the buffer,
// `payload.length` its length, `$keys(payload)` its indices,
// `$string(payload)` {"type":"Buffer","data":[...]}, `$count(payload)` 1
// and `payload[0]` the buffer itself. A Buffer in a result is []byte.
//
// The library runs with Node-RED's change to its field lookup (see
// patchLookup) so that `$moment().format()` works as in Node-RED.
package jsonataref

import (
	"context"
	"fmt"
	"strings"
)

// Error is a JSONata error, as the library reports it: a code such as
// "S0201" (syntax) or "T2001" (type), the character position in the
// expression, the offending token and the library's message.
type Error struct {
	Code     string
	Position int
	Token    string
	Value    any
	Message  string
	// Err is a Go error raised by a bound function, when that is the cause.
	Err error
}

func (e *Error) Error() string {
	if e.Message == "" && e.Code != "" {
		return "JSONata error " + e.Code
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Func is a Go function bound as a JSONata function. Signature is a JSONata
// function signature ("<s-:s>"); with one, JSONata validates the arguments
// and can supply the context value for a missing one ("-"), as for the
// built-ins. Arguments arrive in the msg model; a missing argument is
// msg.Undefined{}.
type Func struct {
	Fn        func(args []any) (any, error)
	Signature string
}

// builtin names a JavaScript-side binding that has no Go form.
type builtin int

// Moment, as a binding value, binds moment-timezone's moment() (the $moment
// Node-RED offers). The library is loaded into a runtime on first use.
const Moment builtin = 1

// Function stands for a JavaScript function in a result (a lambda, a
// built-in, a regex): it cannot leave the JavaScript runtime. JSON skips it.
type Function struct{}

func (Function) String() string { return "function" }

// Expr is a compiled expression; it is safe for concurrent use.
type Expr struct {
	src string
}

// Compile parses expr; a syntax error is an *Error.
func Compile(expr string) (*Expr, error) {
	s, err := get()
	if err != nil {
		return nil, err
	}
	defer put(s)
	if _, err := s.compiled(expr); err != nil {
		return nil, err
	}
	return &Expr{src: expr}, nil
}

// String returns the source of the expression.
func (e *Expr) String() string { return e.src }

// Eval evaluates the expression against input. Bindings become $name
// variables: plain values in the msg model, Func or
// func(args []any) (any, error) for functions, Moment for $moment. A result
// of undefined is msg.Undefined{}; evaluation errors are *Error.
func (e *Expr) Eval(input any, bindings map[string]any) (any, error) {
	return e.EvalContext(context.Background(), input, bindings)
}

// EvalContext is Eval that stops the evaluation when ctx ends (JSONata
// expressions can loop forever).
func (e *Expr) EvalContext(ctx context.Context, input any, bindings map[string]any) (any, error) {
	s, err := get()
	if err != nil {
		return nil, err
	}
	res, err, healthy := s.eval(ctx, e.src, input, bindings)
	if healthy {
		put(s)
	}
	return res, err
}

// errorf builds an *Error without a JSONata code (conversion problems).
func errorf(format string, args ...any) *Error {
	return &Error{Message: fmt.Sprintf(format, args...)}
}

// patchLookup applies Node-RED's change to the library's field lookup:
// Node-RED lets a path step read inherited properties (so that
// `$moment().format()` and `payload.length` on a Buffer work), except for the
// ones that reach the prototype machinery.
func patchLookup(src string) (string, error) {
	const orig = "Object.prototype.hasOwnProperty.call(input, key) && !isFunction(input)"
	const repl = "!__sluiceBlockedKey(key) && !isFunction(input)"
	if strings.Count(src, orig) != 1 {
		return "", fmt.Errorf("jsonataref: the lookup function of the bundled jsonata.js is not where expected")
	}
	return strings.Replace(src, orig, repl, 1), nil
}
