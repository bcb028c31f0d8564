package jsonata

import (
	"github.com/sluicehq/sluice/runtime/msg"
)

// transformer is the function |pattern|update,delete| evaluates to.
func (st *state) transformer(expr *node, env *frame) any {
	b := &builtin{name: "transform", nargs: 1, params: []string{"obj"}}
	b.sig = transformSig
	b.fn = func(c call, args []any) (any, error) {
		obj := argAt(args, 0)
		if isUndef(obj) {
			return undefined, nil
		}
		cloneFn := env.lookup("clone")
		if !isFunction(cloneFn) {
			return nil, &Error{Code: "T2013", Position: expr.pos}
		}
		result, err := st.apply(cloneFn, []any{obj}, nil, env, site{})
		if err != nil {
			return nil, err
		}
		matches, err := st.eval(expr.pattern, result, env)
		if err != nil {
			return nil, err
		}
		if isUndef(matches) {
			return result, nil
		}
		list, ok := asArray(matches)
		if !ok {
			list = []any{matches}
		}
		for _, match := range list {
			update, err := st.eval(expr.update, match, env)
			if err != nil {
				return nil, err
			}
			if !isUndef(update) {
				uo, ok := update.(*msg.Object)
				if !ok {
					if !isObject(update) {
						return nil, &Error{Code: "T2011", Position: expr.update.pos, Value: update, hasValue: true}
					}
				}
				if mo, ok := match.(*msg.Object); ok && uo != nil {
					for i := 0; i < uo.Len(); i++ {
						k, v := uo.At(i)
						mo.Set(k, v)
					}
				} else if uo != nil && uo.Len() > 0 {
					if err := setOnPrimitive(match, uo.Keys()[0]); err != nil {
						return nil, err
					}
				}
			}
			if expr.del != nil {
				dels, err := st.eval(expr.del, match, env)
				if err != nil {
					return nil, err
				}
				if !isUndef(dels) {
					val := dels
					dl, ok := asArray(dels)
					if !ok {
						dl = []any{dels}
					}
					if !isArrayOfStrings(dl) {
						return nil, &Error{Code: "T2012", Position: expr.del.pos, Value: val, hasValue: true}
					}
					if mo, ok := match.(*msg.Object); ok {
						for _, d := range dl {
							mo.Delete(d.(string))
						}
					}
				}
			}
		}
		return result, nil
	}
	return b
}

var transformSig, _ = parseSignature("<(oa):o>")

// setOnPrimitive is the TypeError JavaScript raises when a transform sets a
// property on a value that cannot hold one.
func setOnPrimitive(v any, prop string) error {
	switch t := v.(type) {
	case nil:
		return &Error{Message: "Cannot set properties of null (setting '" + prop + "')"}
	case undefinedT:
		return &Error{Message: "Cannot set properties of undefined (setting '" + prop + "')"}
	case string:
		return &Error{Message: "Cannot create property '" + prop + "' on string '" + t + "'"}
	case float64:
		return &Error{Message: "Cannot create property '" + prop + "' on number '" + formatNumber(t) + "'"}
	case bool:
		return &Error{Message: "Cannot create property '" + prop + "' on boolean '" + toJSString(t) + "'"}
	}
	return nil
}
