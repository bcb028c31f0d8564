package jsonata

import (
	"github.com/sluicehq/sluice/runtime/msg"
)

// evalGroup builds an object from key/value expressions over the input:
// both the object constructor and the group-by on a path.
func (st *state) evalGroup(pairs [][2]*node, pos int, input any, env *frame) (any, error) {
	reduce := hasFlag(input, fTupleStream)
	items, isArr := asArray(input)
	if !isArr {
		items = []any{input}
	}
	if len(items) == 0 && !reduce {
		items = []any{undefined}
	}
	if len(items) == 1 && !reduce {
		return st.evalObject(pairs, pos, items[0], env)
	}
	type group struct {
		data      any
		exprIndex int
		// owned: data is a slice this function made, so it can grow in
		// place (jsonata copies on every append).
		owned bool
	}
	var groups []group
	index := msg.NewObject(len(pairs))
	for _, item := range items {
		ienv := env
		context := item
		if reduce {
			if t, ok := item.(*tuple); ok {
				ienv = frameFromTuple(env, t)
				context = t.at
			}
		}
		for pi, pair := range pairs {
			key, err := st.eval(pair[0], context, ienv)
			if err != nil {
				return nil, err
			}
			if isUndef(key) {
				continue
			}
			ks, ok := key.(string)
			if !ok {
				return nil, &Error{Code: "T1003", Position: pos, Value: key, hasValue: true}
			}
			if ks == "_jsonata_lambda" || ks == "_jsonata_function" {
				return nil, &Error{Code: "D1013", Position: pos, Value: ks, hasValue: true}
			}
			if gi, ok := index.Get(ks); ok {
				g := &groups[gi.(int)]
				if g.exprIndex != pi {
					return nil, &Error{Code: "D1009", Position: pos, Value: ks, hasValue: true}
				}
				if g.owned && !isUndef(item) {
					items := g.data.([]any)
					if ia, ok := asArray(item); ok {
						g.data = append(items, ia...)
					} else {
						g.data = append(items, item)
					}
				} else {
					g.data = appendValues(g.data, item)
					_, g.owned = g.data.([]any)
				}
			} else {
				index.Set(ks, len(groups))
				groups = append(groups, group{data: item, exprIndex: pi})
			}
		}
	}
	result := msg.NewObject(index.Len())
	var par *parallel
	if index.Len() > 1 {
		par = st.beginParallel()
	}
	for i := 0; i < index.Len(); i++ {
		key, gi := index.At(i)
		g := groups[gi.(int)]
		context := g.data
		genv := env
		if reduce {
			t := reduceTupleStream(g.data)
			context = t.at
			genv = frameFromTuple(env, t)
		}
		if par != nil {
			par.item()
		}
		v, err := st.eval(pairs[g.exprIndex][1], context, genv)
		if par != nil {
			par.done(err)
			if par.other != nil {
				break
			}
			if par.err != nil {
				continue
			}
		} else if err != nil {
			return nil, err
		}
		if !isUndef(v) {
			result.Set(key, v)
		}
	}
	if par != nil {
		if err := par.finish(); err != nil {
			return nil, err
		}
	}
	return result, nil
}

// evalObject is evalGroup for a single item, the usual object
// constructor: each key names one value, so there is nothing to group.
func (st *state) evalObject(pairs [][2]*node, pos int, item any, env *frame) (any, error) {
	// The keys first, in order; the result object orders them as jsonata's
	// group table does, which is also the order the values are computed in.
	result := msg.NewObject(len(pairs))
	for pi, pair := range pairs {
		key, err := st.eval(pair[0], item, env)
		if err != nil {
			return nil, err
		}
		if isUndef(key) {
			continue
		}
		ks, ok := key.(string)
		if !ok {
			return nil, &Error{Code: "T1003", Position: pos, Value: key, hasValue: true}
		}
		if ks == "_jsonata_lambda" || ks == "_jsonata_function" {
			return nil, &Error{Code: "D1013", Position: pos, Value: ks, hasValue: true}
		}
		if result.Has(ks) {
			return nil, &Error{Code: "D1009", Position: pos, Value: ks, hasValue: true}
		}
		result.Set(ks, pairIndex(pi))
	}
	var par *parallel
	if result.Len() > 1 {
		par = st.beginParallel()
	}
	missing := 0
	for i := 0; i < result.Len(); i++ {
		key, pi := result.At(i)
		if par != nil {
			par.item()
		}
		v, err := st.eval(pairs[pi.(pairIndex)][1], item, env)
		if par != nil {
			par.done(err)
			if par.other != nil {
				break
			}
			if par.err != nil {
				continue
			}
		} else if err != nil {
			return nil, err
		}
		if isUndef(v) {
			missing++
		}
		result.Set(key, v)
	}
	if par != nil {
		if err := par.finish(); err != nil {
			return nil, err
		}
	}
	if missing > 0 {
		for i := result.Len() - 1; i >= 0; i-- {
			if k, v := result.At(i); isUndef(v) {
				result.Delete(k)
			}
		}
	}
	return result, nil
}

// pairIndex marks a key whose value is not computed yet.
type pairIndex int

func reduceTupleStream(v any) *tuple {
	items, ok := asArray(v)
	if !ok {
		if t, ok := v.(*tuple); ok {
			return t.copy()
		}
		return &tuple{at: v}
	}
	if len(items) == 0 {
		return &tuple{at: undefined}
	}
	first, _ := items[0].(*tuple)
	if first == nil {
		first = &tuple{at: items[0]}
	}
	result := first.copy()
	for _, it := range items[1:] {
		t, ok := it.(*tuple)
		if !ok {
			continue
		}
		result.at = appendValues(result.at, t.at)
		for _, b := range t.vars {
			cur, _ := result.get(b.name)
			result.set(b.name, appendValues(cur, b.val))
		}
	}
	return result
}
