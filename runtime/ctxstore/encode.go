package ctxstore

import (
	"github.com/sluicehq/sluice/runtime/msg"
)

// encodeScope writes a scope as Node-RED's file store does:
// JSON.stringify(data, replacer, 4), where the replacer turns a reference
// back to an enclosing object or array into undefined (so the property is
// dropped, or null in an array) instead of failing.
func encodeScope(root *msg.Object) ([]byte, bool) {
	var v any = root
	circular := hasCycle(root, nil)
	if circular {
		v = dropCycles(root, nil)
	}
	return msg.MarshalIndent(v, "    "), circular
}

// identity of a container for cycle checks: objects by pointer, arrays by
// their first element's address (an empty array cannot hold itself).
func identity(v any) any {
	switch t := v.(type) {
	case *msg.Object:
		return t
	case []any:
		if len(t) > 0 {
			return &t[0]
		}
	}
	return nil
}

func onStack(stack []any, id any) bool {
	for _, s := range stack {
		if s == id {
			return true
		}
	}
	return false
}

func hasCycle(v any, stack []any) bool {
	id := identity(v)
	if id == nil {
		return false
	}
	if onStack(stack, id) {
		return true
	}
	stack = append(stack, id)
	switch t := v.(type) {
	case *msg.Object:
		for i := 0; i < t.Len(); i++ {
			_, c := t.At(i)
			if hasCycle(c, stack) {
				return true
			}
		}
	case []any:
		for _, c := range t {
			if hasCycle(c, stack) {
				return true
			}
		}
	}
	return false
}

// dropCycles copies v without the references that close a cycle. Only the
// enclosing chain counts: an object referenced twice side by side is
// written twice, as JSON.stringify does.
func dropCycles(v any, stack []any) any {
	id := identity(v)
	if id == nil {
		return v
	}
	stack = append(stack, id)
	switch t := v.(type) {
	case *msg.Object:
		out := msg.NewObject(t.Len())
		for i := 0; i < t.Len(); i++ {
			k, c := t.At(i)
			if cid := identity(c); cid != nil && onStack(stack, cid) {
				continue
			}
			out.Set(k, dropCycles(c, stack))
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, c := range t {
			if cid := identity(c); cid != nil && onStack(stack, cid) {
				out[i] = msg.Undefined{}
				continue
			}
			out[i] = dropCycles(c, stack)
		}
		return out
	}
	return v
}
