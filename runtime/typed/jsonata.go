package typed

import (
	"context"
	"os"
	"regexp"
	"sync"
	"time"

	"github.com/sluicehq/sluice/runtime/jsonata"
	"github.com/sluicehq/sluice/runtime/jsonataref"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// JSONataEngine is the JSONata implementation behind typed inputs. Binding
// values follow jsonataref's contract: plain msg values, jsonataref.Func
// for functions, jsonataref.Moment for $moment.
type JSONataEngine interface {
	Compile(expr string) (JSONataExpr, error)
}

// JSONataExpr is a compiled expression, safe for concurrent use.
type JSONataExpr interface {
	EvalContext(ctx context.Context, input any, bindings map[string]any) (any, error)
}

// ReferenceJSONata is the jsonata library itself run in goja: exact but
// slow. NativeJSONata (the default) is checked against it.
var ReferenceJSONata JSONataEngine = refEngine{}

type refEngine struct{}

func (refEngine) Compile(expr string) (JSONataExpr, error) {
	e, err := jsonataref.Compile(expr)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// NativeJSONata is runtime/jsonata, a Go evaluator with jsonata 2.2.2's
// semantics; expressions using $moment run in the reference library.
var NativeJSONata JSONataEngine = nativeEngine{}

type nativeEngine struct{}

func (nativeEngine) Compile(expr string) (JSONataExpr, error) {
	e, err := jsonata.CompileNodeRED(expr)
	if err != nil {
		return nil, err
	}
	return e, nil
}

var engine = NativeJSONata

// SetJSONataEngine replaces the JSONata implementation (for inputs prepared
// afterwards); call it before flows load.
func SetJSONataEngine(e JSONataEngine) { engine = e }

// legacyRE is Node-RED's test for expressions written against `msg`
// (msg.payload) rather than the message as context (payload).
var legacyRE = regexp.MustCompile(`(^|[^a-zA-Z0-9_'".])msg([^a-zA-Z0-9_'"]|$)`)

func (in *Input) evalJSONata(c node.Ctx, m *msg.Msg, extra map[string]any) (any, error) {
	var input any = msg.Undefined{}
	if m != nil {
		input = m.Object
	}
	if in.legacy {
		o := msg.NewObject(1)
		o.Set("msg", input)
		input = o
	}
	b := Bindings(c)
	for k, v := range extra {
		b[k] = v
	}
	ctx := context.Background()
	if c != nil {
		if stop := c.Stopping(); stop != nil {
			ctx = stopContext(stop)
		}
	}
	return in.expr.EvalContext(ctx, input, b)
}

// Bindings are the functions Node-RED adds to every JSONata expression a
// node evaluates: $flowContext(key[, store]), $globalContext(key[, store]),
// $env(name), $moment(...) and $clone(value). (Node-RED has no $parent:
// JSONata's parent operator is %.)
func Bindings(c node.Ctx) map[string]any {
	b := map[string]any{
		"moment": jsonataref.Moment,
		"clone":  cloneFunc,
	}
	if c == nil {
		// Node-RED's answers without a node.
		b["flowContext"] = emptyFunc
		b["globalContext"] = emptyFunc
		b["env"] = jsonataref.Func{Fn: func(args []any) (any, error) {
			if v, ok := os.LookupEnv(argString(args, 0)); ok {
				return v, nil
			}
			return "", nil
		}}
		return b
	}
	b["flowContext"] = contextFunc(c.FlowContext)
	b["globalContext"] = contextFunc(c.GlobalContext)
	b["env"] = jsonataref.Func{Fn: func(args []any) (any, error) {
		v, ok := c.Env(argString(args, 0))
		if !ok || msg.IsUndefined(v) {
			return "", nil
		}
		return v, nil
	}}
	return b
}

// $clone deep-copies its argument, or the context value without one. The
// trip into and out of the JSONata runtime copies already.
var cloneFunc = jsonataref.Func{
	Fn:        func(args []any) (any, error) { return args[0], nil },
	Signature: "<(oa)-:o>",
}

var emptyFunc = jsonataref.Func{Fn: func([]any) (any, error) { return "", nil }}

func contextFunc(scope func() node.Scope) jsonataref.Func {
	return jsonataref.Func{Fn: func(args []any) (any, error) {
		return scope().Get(argString(args, 0), argString(args, 1))
	}}
}

// argString is args[i] as a string; a missing or undefined argument is "".
func argString(args []any, i int) string {
	if i >= len(args) || msg.IsUndefined(args[i]) || args[i] == nil {
		return ""
	}
	if s, ok := args[i].(string); ok {
		return s
	}
	return msg.ToString(args[i])
}

// stopContext is a context that ends when the node stops, so a runaway
// expression does not outlive its node.
type stopContext <-chan struct{}

func (s stopContext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (s stopContext) Done() <-chan struct{}       { return s }
func (s stopContext) Value(any) any               { return nil }
func (s stopContext) Err() error {
	select {
	case <-s:
		return context.Canceled
	default:
		return nil
	}
}

var (
	momentOnce sync.Once
	momentExpr *jsonataref.Expr
	momentErr  error
)

// momentFormat is the "date" type with a moment.js format: the current time
// formatted by moment, as Node-RED does.
func momentFormat(format string) (any, error) {
	momentOnce.Do(func() {
		momentExpr, momentErr = jsonataref.Compile("$moment().format($f)")
	})
	if momentErr != nil {
		return nil, momentErr
	}
	return momentExpr.Eval(msg.Undefined{}, map[string]any{"moment": jsonataref.Moment, "f": format})
}
