package jsonata

import (
	"context"
	"errors"
	"strings"

	"github.com/sluicehq/sluice/runtime/jsonataref"
	"github.com/sluicehq/sluice/runtime/msg"
)

// The adapter serves runtime/typed (Node-RED's typed inputs) with the
// contract of runtime/jsonataref, so the two engines are interchangeable:
// bindings may hold jsonataref.Func values and jsonataref.Moment, errors
// are *jsonataref.Error and a function in a result is
// jsonataref.Function{}.

// NodeREDExpr is an expression compiled for Node-RED's bindings. It is safe
// for concurrent use.
type NodeREDExpr struct {
	native *Expr
	ref    *jsonataref.Expr
}

// CompileNodeRED compiles expr for evaluation with Node-RED's bindings.
// Expressions that use $moment (moment-timezone, which only the reference
// library has) are handed to jsonataref whole.
func CompileNodeRED(expr string) (*NodeREDExpr, error) {
	if strings.Contains(expr, "$moment") {
		e, err := jsonataref.Compile(expr)
		if err != nil {
			return nil, err
		}
		return &NodeREDExpr{ref: e}, nil
	}
	e, err := Compile(expr)
	if err != nil {
		return nil, RefError(err)
	}
	return &NodeREDExpr{native: e}, nil
}

// String returns the source of the expression.
func (x *NodeREDExpr) String() string {
	if x.ref != nil {
		return x.ref.String()
	}
	return x.native.String()
}

// Eval is EvalContext without a context.
func (x *NodeREDExpr) Eval(input any, bindings map[string]any) (any, error) {
	return x.EvalContext(context.Background(), input, bindings)
}

// EvalContext evaluates with jsonataref's contract for bindings, results
// and errors.
func (x *NodeREDExpr) EvalContext(ctx context.Context, input any, bindings map[string]any) (any, error) {
	if x.ref != nil {
		return x.ref.EvalContext(ctx, input, bindings)
	}
	res, err := x.native.EvalContext(ctx, input, bindings)
	if err != nil {
		return nil, RefError(err)
	}
	return res, nil
}

// RefError converts an *Error to the reference library's error type (other
// errors pass through).
func RefError(err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	return &jsonataref.Error{
		Code:     e.Code,
		Position: e.Position,
		Token:    e.Token,
		Value:    exportValue(e.Value),
		Message:  e.Message,
		Err:      e.Err,
	}
}

// refFunc binds a jsonataref.Func. The reference library hands Go
// functions copies of their arguments and copies their results into the
// evaluation; bound functions rely on that ($clone returns its argument),
// so values are copied here too.
func refFunc(name string, f jsonataref.Func) any {
	fn := f.Fn
	if fn == nil {
		return undefined
	}
	return goFunction(name, func(args []any) (any, error) {
		for i, a := range args {
			args[i] = msg.Clone(a)
		}
		r, err := fn(args)
		if err != nil {
			return nil, err
		}
		return msg.Clone(r), nil
	}, f.Signature)
}

// momentUnavailable stands in for $moment when an expression reaches it
// without naming it (through $eval).
var momentUnavailable = &builtin{name: "moment", params: []string{""}, plain: true, fn: func(c call, args []any) (any, error) {
	return nil, &Error{Message: "$moment is only available to expressions that name it"}
}}
