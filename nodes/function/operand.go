package function

import (
	"math"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
	"github.com/sluicehq/sluice/runtime/typed"
)

// operand is a switch rule value (v or v2) or the switch property: a typed
// input evaluated per message as RED.util.evaluateNodeProperty does, plus
// the switch's own "prev" type.
type operand struct {
	typ   string
	val   any            // constants
	path  []msg.PathPart // msg
	ctx   ctxRef         // flow, global
	expr  *typed.Input   // jsonata, date
	fresh bool           // json, bin: a new copy per message
}

// newOperand prepares raw of type typ; prop names it in errors.
func newOperand(cfg *node.Config, typ string, raw any, prop string, numeric bool) (*operand, error) {
	o := &operand{typ: typ}
	text := ""
	if raw != nil && !msg.IsUndefined(raw) {
		text = msg.ToString(raw)
	}
	switch typ {
	case "prev":
	case "msg":
		p, err := msgPath(text)
		if err != nil {
			return nil, node.BadProp(prop, raw, "%v", err)
		}
		o.path = p
	case "flow", "global":
		o.ctx = parseCtxRef(typ, text)
	case "str":
		// String(v): a missing value is "undefined", as in Node-RED.
		o.val = msg.ToString(rawOrUndefined(raw))
	case "num":
		f := msg.ToNumber(rawOrUndefined(raw))
		if math.IsNaN(f) && numeric {
			return nil, node.BadProp(prop, raw, "not a number")
		}
		o.val = f
	case "bool":
		o.val = strings.EqualFold(text, "true")
	case "json", "bin":
		v, err := msg.UnmarshalString(text)
		if err != nil {
			return nil, node.BadProp(prop, raw, "%v", err)
		}
		if typ == "bin" {
			b, ok := bufferFrom(v)
			if !ok {
				return nil, node.BadProp(prop, raw, "a buffer is a JSON array of bytes or a string")
			}
			v = b
		}
		o.val, o.fresh = v, true
	case "env":
		o.val = envProp(cfg, text)
	case "jsonata", "date":
		in, err := typed.Prepare(typ, text)
		if err != nil {
			if typ == "jsonata" {
				return nil, node.BadProp(prop, raw, "%v", exprError(err))
			}
			return nil, node.BadProp(prop, raw, "%v", err)
		}
		o.expr = in
	default:
		// Types evaluateNodeProperty does not know (istype's "string",
		// "array", ...) give the raw value back.
		o.val = rawOrUndefined(raw)
	}
	return o, nil
}

func rawOrUndefined(v any) any {
	if v == nil {
		return msg.Undefined{}
	}
	return v
}

// eval returns the operand's value for m; read failures are undefined, as
// Node-RED turns them into undefined. Only JSONata errors are reported.
func (o *operand) eval(c node.Ctx, m *msg.Msg, prev any, bind map[string]any) (any, error) {
	switch o.typ {
	case "prev":
		return prev, nil
	case "msg":
		v, err := readProp(m.Object, o.path)
		if err != nil {
			return msg.Undefined{}, nil
		}
		return v, nil
	case "flow", "global":
		v, err := o.ctx.get(c, m)
		if err != nil {
			return msg.Undefined{}, nil
		}
		return v, nil
	case "jsonata":
		v, err := evalJSONata(o.expr, c, m, bind)
		if err != nil {
			return nil, exprError(err)
		}
		return v, nil
	case "date":
		return o.expr.Eval(c, m)
	}
	if o.fresh {
		return msg.Clone(o.val), nil
	}
	return o.val, nil
}

// evalJSONata evaluates a prepared expression with extra $variables.
func evalJSONata(in *typed.Input, c node.Ctx, m *msg.Msg, bind map[string]any) (any, error) {
	return in.EvalWith(c, m, bind)
}
