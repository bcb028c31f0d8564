package jsonata

import "github.com/sluicehq/sluice/runtime/msg"

// frame is a scope of variable bindings; lookups fall through to the
// enclosing frame and, past the outermost one, to the built-in functions.
type frame struct {
	parent *frame
	names  []string
	vals   []any
	// shared marks slices borrowed from a tuple: copy them before writing.
	shared bool
	// lazy marks the caller's bindings, converted when first looked up.
	lazy bool
}

func newFrame(parent *frame) *frame {
	return &frame{parent: parent}
}

func (f *frame) bind(name string, v any) {
	for i, n := range f.names {
		if n == name {
			if f.shared {
				f.names = append([]string(nil), f.names...)
				f.vals = append([]any(nil), f.vals...)
				f.shared = false
			}
			f.vals[i] = v
			return
		}
	}
	f.names = append(f.names, name)
	f.vals = append(f.vals, v)
}

// lookup returns the value bound to name, undefined when unbound.
func (f *frame) lookup(name string) any {
	for fr := f; fr != nil; fr = fr.parent {
		for i := len(fr.names) - 1; i >= 0; i-- {
			if fr.names[i] == name {
				if fr.lazy {
					return fr.resolve(i)
				}
				return fr.vals[i]
			}
		}
	}
	if b, ok := builtins[name]; ok {
		return b
	}
	return undefined
}

// tuple is one binding tuple of a tuple stream: the context value (@)
// and the focus, index and ancestor variables bound along a path.
type tuple struct {
	at    any
	names []string
	vals  []any
}

func (t *tuple) copy() *tuple {
	return &tuple{
		at:    t.at,
		names: append([]string(nil), t.names...),
		vals:  append([]any(nil), t.vals...),
	}
}

func (t *tuple) set(name string, v any) {
	for i, n := range t.names {
		if n == name {
			t.vals[i] = v
			return
		}
	}
	t.names = append(t.names, name)
	t.vals = append(t.vals, v)
}

func (t *tuple) get(name string) (any, bool) {
	for i, n := range t.names {
		if n == name {
			return t.vals[i], true
		}
	}
	return undefined, false
}

// frameFromTuple binds a tuple's variables in a new frame.
func frameFromTuple(env *frame, t *tuple) *frame {
	return &frame{
		parent: env,
		names:  t.names[:len(t.names):len(t.names)],
		vals:   t.vals[:len(t.vals):len(t.vals)],
		shared: true,
	}
}

// resolve converts a caller's binding (a Go function, an int) on first use.
func (f *frame) resolve(i int) any {
	v := f.vals[i]
	switch v.(type) {
	case nil, bool, float64, string, []any, *msg.Object, undefinedT, []byte, *builtin, *lambda:
		return v
	}
	nv := bindingValue(f.names[i], v)
	f.vals[i] = nv
	return nv
}
