package function

import (
	"time"

	"github.com/dop251/goja"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/typed"
)

// setRED builds RED.util. Property paths are walked in JavaScript (so the
// objects found are the ones the code holds) over parts parsed in Go.
func (n *fnNode) setRED() {
	vm := n.vm
	u := vm.NewObject()
	_ = u.Set("generateId", func(goja.FunctionCall) goja.Value { return vm.ToValue(msg.NewID()) })
	_ = u.Set("cloneMessage", func(c goja.FunctionCall) goja.Value {
		v := c.Argument(0)
		if _, ok := v.(*goja.Object); !ok {
			return v
		}
		return n.br.toJS(n.br.cloneGo(n.br.toGo(v)))
	})
	_ = u.Set("compareObjects", func(c goja.FunctionCall) goja.Value {
		return vm.ToValue(msg.Equal(n.br.toGo(c.Argument(0)), n.br.toGo(c.Argument(1))))
	})
	_ = u.Set("__parts", func(c goja.FunctionCall) goja.Value {
		parts, err := msg.ParsePath(c.Argument(0).String())
		if err != nil {
			panic(n.throwError(err.Error()))
		}
		return n.partsJS(parts)
	})
	_ = u.Set("parseContextStore", func(c goja.FunctionCall) goja.Value {
		store, key := typed.ParseContextStore(c.Argument(0).String())
		o := vm.NewObject()
		_ = o.Set("key", key)
		if store != "" {
			_ = o.Set("store", store)
		}
		return o
	})
	_ = u.Set("getSetting", func(c goja.FunctionCall) goja.Value {
		v, ok := n.c.Env(c.Argument(1).String())
		if !ok {
			return goja.Undefined()
		}
		return n.br.toJS(v)
	})
	_ = u.Set("evaluateNodeProperty", func(c goja.FunctionCall) goja.Value {
		cb, _ := goja.AssertFunction(c.Argument(4))
		res, err := n.evalTyped(c.Argument(1).String(), n.br.toGo(c.Argument(0)), c.Argument(3))
		if cb != nil {
			if err != nil {
				_, _ = cb(goja.Undefined(), n.throwError(err.Error()))
			} else {
				_, _ = cb(goja.Undefined(), goja.Null(), res)
			}
			return goja.Undefined()
		}
		if err != nil {
			panic(n.throwError(err.Error()))
		}
		return res
	})
	_ = u.Set("prepareJSONataExpression", func(c goja.FunctionCall) goja.Value {
		in, err := typed.Prepare(typed.JSONata, c.Argument(0).String())
		if err != nil {
			panic(n.throwError(err.Error()))
		}
		o := vm.NewObject()
		_ = o.Set("__expr", vm.ToValue(in))
		return o
	})
	_ = u.Set("evaluateJSONataExpression", func(c goja.FunctionCall) goja.Value {
		cb, _ := goja.AssertFunction(c.Argument(2))
		var res goja.Value
		var err error
		in, ok := c.Argument(0).(*goja.Object).Get("__expr").Export().(*typed.Input)
		if !ok {
			panic(vm.NewTypeError("not a prepared JSONata expression"))
		}
		var m *msg.Msg
		if o, isObj := c.Argument(1).(*goja.Object); isObj {
			m = n.msgOf(o)
		}
		v, e := in.Eval(n.c, m)
		if e != nil {
			err = e
		} else {
			res = n.br.toJS(v)
		}
		if cb != nil {
			if err != nil {
				_, _ = cb(goja.Undefined(), n.throwError(err.Error()))
			} else {
				_, _ = cb(goja.Undefined(), goja.Null(), res)
			}
			return goja.Undefined()
		}
		if err != nil {
			panic(n.throwError(err.Error()))
		}
		return res
	})
	red := vm.NewObject()
	_ = red.Set("util", u)
	_ = vm.Set("RED", red)
	if _, err := vm.RunProgram(redUtilProg()); err != nil {
		panic(err)
	}
}

// partsJS gives a parsed path to JavaScript: keys as strings, indexes as
// numbers, a nested msg reference as an array of its parts.
func (n *fnNode) partsJS(parts []msg.PathPart) goja.Value {
	out := make([]any, len(parts))
	for i, p := range parts {
		switch {
		case p.Ref != nil:
			out[i] = n.partsJS(p.Ref)
		case p.IsIdx:
			out[i] = float64(p.Index)
		default:
			out[i] = p.Key
		}
	}
	return n.vm.NewArray(out...)
}

// evalTyped is RED.util.evaluateNodeProperty.
func (n *fnNode) evalTyped(typ string, value any, msgArg goja.Value) (goja.Value, error) {
	if typ == typed.Date && value == "" {
		return n.vm.ToValue(float64(time.Now().UnixMilli())), nil
	}
	in, err := typed.Prepare(typ, value)
	if err != nil {
		return nil, err
	}
	var m *msg.Msg
	if o, ok := msgArg.(*goja.Object); ok {
		m = n.msgOf(o)
	}
	v, err := in.Eval(n.c, m)
	if err != nil {
		return nil, err
	}
	if typ == typed.Msg && m != nil {
		// The msg type reads the message itself: keep the code's objects.
		if o, ok := msgArg.(*goja.Object); ok {
			get, _ := goja.AssertFunction(n.vm.Get("RED").(*goja.Object).Get("util").(*goja.Object).Get("getMessageProperty"))
			return get(goja.Undefined(), o, n.vm.ToValue(value))
		}
	}
	return n.br.toJS(v), nil
}

// redUtilJS completes RED.util with the property path helpers, written as
// Node-RED specifies them (util.getObjectProperty and friends).
const redUtilJS = `(function(u){
	const parts = u.__parts;
	delete u.__parts;
	function resolve(p, root) {
		return p.map(k => {
			if (!Array.isArray(k)) { return k; }
			const v = get(root, resolve(k, root));
			if (v === undefined) { throw new Error("Invalid expression: undefined reference"); }
			return v;
		});
	}
	function get(obj, p) {
		let result;
		p.reduce((o, k) => { result = (typeof o[k] !== "undefined" ? o[k] : undefined); return result; }, obj);
		return result;
	}
	u.normalisePropertyExpression = function(str, msg) { return resolve(parts(str), msg); };
	u.getObjectProperty = function(obj, expr) { return get(obj, resolve(parts(expr), obj)); };
	u.getMessageProperty = function(msg, expr) {
		if (expr.indexOf("msg.") === 0) { expr = expr.substring(4); }
		return u.getObjectProperty(msg, expr);
	};
	u.setObjectProperty = function(obj, prop, value, createMissing) {
		if (typeof createMissing === "undefined") { createMissing = (typeof value !== "undefined"); }
		const p = resolve(parts(prop), obj);
		let cur = obj;
		for (let i = 0; i < p.length - 1; i++) {
			const key = p[i];
			const make = () => { cur[key] = (typeof p[i+1] === "string") ? {} : []; cur = cur[key]; };
			if (typeof key === "string" || (typeof key === "number" && !Array.isArray(cur))) {
				if (Object.hasOwn(cur, key)) {
					const v = cur[key];
					if ((typeof v !== "object" && typeof v !== "function") || v === null) { return false; }
					cur = v;
				} else if (createMissing) { make(); } else { return false; }
			} else if (typeof key === "number") {
				if (cur[key] === undefined) {
					if (createMissing) { make(); } else { return false; }
				} else { cur = cur[key]; }
			}
		}
		const key = p[p.length - 1];
		if (typeof value === "undefined") {
			if (typeof key === "number" && Array.isArray(cur)) { cur.splice(key, 1); } else { delete cur[key]; }
		} else {
			if (typeof cur === "object" && cur !== null) { cur[key] = value; } else { return false; }
		}
		return true;
	};
	u.setMessageProperty = function(msg, prop, value, createMissing) {
		if (prop.indexOf("msg.") === 0) { prop = prop.substring(4); }
		return u.setObjectProperty(msg, prop, value, createMissing);
	};
	u.ensureString = function(o) {
		if (Buffer.isBuffer(o)) { return o.toString(); }
		if (typeof o === "object") { return JSON.stringify(o); }
		if (typeof o === "string") { return o; }
		return "" + o;
	};
	u.ensureBuffer = function(o) {
		if (Buffer.isBuffer(o)) { return o; }
		if (typeof o === "object") { o = JSON.stringify(o); } else if (typeof o !== "string") { o = "" + o; }
		return Buffer.from(o);
	};
})(RED.util)`
