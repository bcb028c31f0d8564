package typed

import (
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
)

// getProperty reads a message property as RED.util.getMessageProperty does:
// a missing property is undefined, but stepping into a missing or null
// parent fails as JavaScript's property access does.
func getProperty(root *msg.Object, expr string, parts []msg.PathPart) (any, error) {
	if err := checkRefs(root, expr, parts); err != nil {
		return nil, err
	}
	if v, ok := msg.GetPath(root, parts); ok {
		return v, nil
	}
	// Slow path, only for misses: find the step that failed.
	for i := 1; i < len(parts); i++ {
		v, ok := msg.GetPath(root, parts[:i])
		switch {
		case !ok || msg.IsUndefined(v):
			return nil, readError("undefined", root, parts[i])
		case v == nil:
			return nil, readError("null", root, parts[i])
		}
	}
	return msg.Undefined{}, nil
}

func readError(what string, root *msg.Object, p msg.PathPart) error {
	name := p.Key
	if p.IsIdx {
		name = fmt.Sprint(p.Index)
	} else if p.Ref != nil {
		if v, ok := msg.GetPath(root, p.Ref); ok {
			name = msg.ToString(v)
		}
	}
	return fmt.Errorf("Cannot read properties of %s (reading '%s')", what, name)
}

// checkRefs fails for a nested msg reference (a[msg.topic]) that does not
// resolve, which msg.GetPath would only report as a miss.
func checkRefs(root *msg.Object, expr string, parts []msg.PathPart) error {
	n := 0
	for _, p := range parts {
		if p.Ref == nil {
			continue
		}
		n++
		if v, ok := msg.GetPath(root, p.Ref); !ok || msg.IsUndefined(v) {
			return fmt.Errorf("Invalid expression started at position %d", refPosition(expr, n))
		}
	}
	return nil
}

// refPosition is the offset of the n-th "[msg" in expr, past the bracket.
func refPosition(expr string, n int) int {
	off := 0
	for ; n > 0; n-- {
		i := strings.Index(expr[off:], "[msg")
		if i < 0 {
			return 0
		}
		off += i + 1
	}
	return off
}

// contextKey resolves the nested msg references of a flow or global key and
// writes it back in Node-RED's bracket form: a["x"][2].
func contextKey(root *msg.Object, expr string, parts []msg.PathPart) (string, error) {
	if err := checkRefs(root, expr, parts); err != nil {
		return "", err
	}
	var b strings.Builder
	for i, p := range parts {
		var v any
		switch {
		case p.Ref != nil:
			v, _ = msg.GetPath(root, p.Ref)
		case p.IsIdx:
			v = float64(p.Index)
		default:
			v = p.Key
		}
		if i == 0 {
			b.WriteString(msg.ToString(v))
			continue
		}
		b.WriteByte('[')
		if s, ok := v.(string); ok {
			q := `"`
			if strings.Contains(s, `"`) {
				q = `'`
			}
			b.WriteString(q + s + q)
		} else {
			b.WriteString(msg.ToString(v))
		}
		b.WriteByte(']')
	}
	return b.String(), nil
}
