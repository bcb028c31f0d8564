package jsonata

import "github.com/sluicehq/sluice/runtime/msg"

type binding struct {
	name string
	val  any
}

// frame is a scope of variable bindings; lookups fall through to the
// enclosing frame and, past the outermost one, to the built-in functions.
type frame struct {
	parent *frame
	vars   []binding
	// shared marks vars borrowed from a tuple: copy them before writing.
	shared bool
	// lazy marks the caller's bindings, converted when first looked up.
	lazy   bool
	inline [2]binding
}

func newFrame(parent *frame) *frame {
	f := &frame{parent: parent}
	f.vars = f.inline[:0]
	return f
}

func (f *frame) bind(name string, v any) {
	for i := range f.vars {
		if f.vars[i].name == name {
			if f.shared {
				f.vars = append([]binding(nil), f.vars...)
				f.shared = false
			}
			f.vars[i].val = v
			return
		}
	}
	f.vars = append(f.vars, binding{name, v})
}

// lookup returns the value bound to name, undefined when unbound.
func (f *frame) lookup(name string) any {
	for fr := f; fr != nil; fr = fr.parent {
		for i := len(fr.vars) - 1; i >= 0; i-- {
			if fr.vars[i].name == name {
				if fr.lazy {
					return fr.resolve(i)
				}
				return fr.vars[i].val
			}
		}
	}
	if b, ok := builtins[name]; ok {
		return b
	}
	return undefined
}

// resolve converts a caller's binding (a Go function, an int) on first use.
func (f *frame) resolve(i int) any {
	v := f.vars[i].val
	switch v.(type) {
	case nil, bool, float64, string, []any, *msg.Object, undefinedT, []byte, *builtin, *lambda:
		return v
	}
	nv := bindingValue(f.vars[i].name, v)
	f.vars[i].val = nv
	return nv
}

// tuple is one binding tuple of a tuple stream: the context value (@)
// and the focus, index and ancestor variables bound along a path.
type tuple struct {
	at   any
	vars []binding
}

func (t *tuple) copy() *tuple {
	return &tuple{at: t.at, vars: append([]binding(nil), t.vars...)}
}

func (t *tuple) set(name string, v any) {
	for i := range t.vars {
		if t.vars[i].name == name {
			t.vars[i].val = v
			return
		}
	}
	t.vars = append(t.vars, binding{name, v})
}

func (t *tuple) get(name string) (any, bool) {
	for _, b := range t.vars {
		if b.name == name {
			return b.val, true
		}
	}
	return undefined, false
}

// frameFromTuple binds a tuple's variables in a new frame.
func frameFromTuple(env *frame, t *tuple) *frame {
	return &frame{parent: env, vars: t.vars[:len(t.vars):len(t.vars)], shared: true}
}
