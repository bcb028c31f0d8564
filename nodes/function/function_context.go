package function

import (
	"github.com/dop251/goja"

	"github.com/sluicehq/sluice/runtime/node"
)

// The context, flow and global objects: get, set and keys with an optional
// store name and an optional callback (err, values...), as Node-RED's.
// Values are stored by reference, like Node-RED's memory store: an object
// read back is the same Go object, so changing it changes the stored value.

type manyScope interface {
	GetMany(keys []string, store string) ([]any, error)
	SetMany(keys []string, values []any, store string) error
}

func (n *fnNode) setContexts() {
	vm := n.vm
	nodeCtx := n.scopeObject(func() node.Scope { return n.c.NodeContext() })
	flowCtx := n.scopeObject(func() node.Scope { return n.c.FlowContext() })
	globalCtx := n.scopeObject(func() node.Scope { return n.c.GlobalContext() })
	_ = nodeCtx.DefineAccessorProperty("flow", vm.ToValue(func(goja.FunctionCall) goja.Value { return flowCtx }), nil, goja.FLAG_FALSE, goja.FLAG_TRUE)
	_ = nodeCtx.DefineAccessorProperty("global", vm.ToValue(func(goja.FunctionCall) goja.Value { return globalCtx }), nil, goja.FLAG_FALSE, goja.FLAG_TRUE)
	_ = vm.Set("context", nodeCtx)
	_ = vm.Set("flow", flowCtx)
	_ = vm.Set("global", globalCtx)
}

// storeAndCallback reads the optional (store, callback) arguments from i on.
func storeAndCallback(c goja.FunctionCall, i int) (store string, cb goja.Callable) {
	a := c.Argument(i)
	if f, ok := goja.AssertFunction(a); ok {
		return "", f
	}
	if !goja.IsUndefined(a) && !goja.IsNull(a) {
		store = a.String()
	}
	cb, _ = goja.AssertFunction(c.Argument(i + 1))
	return store, cb
}

func (n *fnNode) scopeObject(scope func() node.Scope) *goja.Object {
	vm := n.vm
	o := vm.NewObject()
	fail := func(cb goja.Callable, err error) goja.Value {
		if cb == nil {
			panic(n.throwError(err.Error()))
		}
		_, _ = cb(goja.Undefined(), vm.ToValue(n.throwError(err.Error())))
		return goja.Undefined()
	}
	_ = o.Set("get", func(c goja.FunctionCall) goja.Value {
		store, cb := storeAndCallback(c, 1)
		s := scope()
		if keys := n.listOf(c.Argument(0)); keys != nil {
			names := make([]string, len(keys))
			for i, k := range keys {
				names[i] = k.String()
			}
			var vals []any
			var err error
			if ms, ok := s.(manyScope); ok {
				vals, err = ms.GetMany(names, store)
			} else {
				for _, k := range names {
					var v any
					if v, err = s.Get(k, store); err != nil {
						break
					}
					vals = append(vals, v)
				}
			}
			if err != nil {
				return fail(cb, err)
			}
			js := make([]goja.Value, len(vals))
			for i, v := range vals {
				js[i] = n.ctxValue(s, names[i], store, v)
			}
			if cb != nil {
				_, _ = cb(goja.Undefined(), append([]goja.Value{goja.Null()}, js...)...)
				return goja.Undefined()
			}
			return vm.NewArray(valuesAny(js)...)
		}
		key := c.Argument(0).String()
		v, err := s.Get(key, store)
		if err != nil {
			return fail(cb, err)
		}
		jv := n.ctxValue(s, key, store, v)
		if cb != nil {
			_, _ = cb(goja.Undefined(), goja.Null(), jv)
			return goja.Undefined()
		}
		return jv
	})
	_ = o.Set("set", func(c goja.FunctionCall) goja.Value {
		store, cb := storeAndCallback(c, 2)
		s := scope()
		var err error
		if keys := n.listOf(c.Argument(0)); keys != nil {
			vals := n.listOf(c.Argument(1))
			names := make([]string, len(keys))
			gvs := make([]any, len(keys))
			for i, k := range keys {
				names[i] = k.String()
				if i < len(vals) {
					gvs[i] = n.br.toGo(vals[i])
				}
			}
			if ms, ok := s.(manyScope); ok {
				err = ms.SetMany(names, gvs, store)
			} else {
				for i := range names {
					if err = s.Set(names[i], gvs[i], store); err != nil {
						break
					}
				}
			}
		} else {
			err = s.Set(c.Argument(0).String(), n.br.toGo(c.Argument(1)), store)
		}
		if err != nil {
			return fail(cb, err)
		}
		if cb != nil {
			_, _ = cb(goja.Undefined(), goja.Null())
		}
		return goja.Undefined()
	})
	_ = o.Set("keys", func(c goja.FunctionCall) goja.Value {
		store, cb := storeAndCallback(c, 0)
		keys, err := scope().Keys(store)
		if err != nil {
			return fail(cb, err)
		}
		arr := make([]any, len(keys))
		for i, k := range keys {
			arr[i] = k
		}
		jv := vm.ToValue(vm.NewArray(arr...))
		if cb != nil {
			_, _ = cb(goja.Undefined(), goja.Null(), jv)
			return goja.Undefined()
		}
		return jv
	})
	return o
}

// ctxValue shows a stored value; an array read from context writes itself
// back when it grows, so push without a set sticks as in Node-RED.
func (n *fnNode) ctxValue(s node.Scope, key, store string, v any) goja.Value {
	if arr, ok := v.([]any); ok {
		a := &arrProxy{b: n.br, s: arr}
		a.addParent(slot{ctx: func(old, cur []any) {
			if got, err := s.Get(key, store); err == nil {
				if g, ok := got.([]any); ok && sameSlice(g, old) {
					_ = s.Set(key, cur, store)
				}
			}
		}})
		return n.vm.NewDynamicArray(a)
	}
	return n.br.toJS(v)
}

func valuesAny(vs []goja.Value) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}
