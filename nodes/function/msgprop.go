package function

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/sluicehq/sluice/runtime/msg"
)

// errSkip is a JavaScript exception inside a change rule, which Node-RED
// swallows: the rule has no effect and the message goes on.
var errSkip = errors.New("rule skipped")

// resolveRefs replaces nested msg references (a[msg.topic]) by the values
// they point at; an undefined reference is Node-RED's "Invalid expression".
func resolveRefs(root *msg.Object, parts []msg.PathPart) ([]msg.PathPart, error) {
	var out []msg.PathPart
	for i, p := range parts {
		if p.Ref == nil {
			continue
		}
		if out == nil {
			out = append([]msg.PathPart(nil), parts...)
		}
		v, ok := msg.GetPath(root, p.Ref)
		if !ok || msg.IsUndefined(v) {
			return nil, fmt.Errorf("Invalid expression started at position %d", i)
		}
		if n, isNum := msg.Num(v); isNum && n >= 0 && n == float64(int(n)) {
			out[i] = msg.PathPart{Index: int(n), IsIdx: true}
		} else {
			out[i] = msg.PathPart{Key: msg.ToString(v)}
		}
	}
	if out == nil {
		return parts, nil
	}
	return out, nil
}

// index reports whether p addresses an array element: [0], or a.0 when
// more steps follow (Node-RED parses a digit step to a number only when a
// dot ends it).
func index(p msg.PathPart) (int, bool) {
	if p.IsIdx {
		return p.Index, true
	}
	if isDigits(p.Key) {
		n, err := strconv.Atoi(p.Key)
		return n, err == nil
	}
	return 0, false
}

// setProp is RED.util.setMessageProperty(msg, path, v): missing parents
// are created unless v is undefined, which deletes (splicing arrays). It
// returns false where Node-RED does (a parent that cannot hold properties),
// and errSkip where Node-RED would throw.
func setProp(root *msg.Object, parts []msg.PathPart, v any) (bool, error) {
	parts, err := resolveRefs(root, parts)
	if err != nil || len(parts) == 0 {
		return false, errSkip
	}
	del := msg.IsUndefined(v)
	var cur any = root
	for i := 0; i < len(parts)-1; i++ {
		next, ok := msg.GetPath(root, parts[:i+1])
		exists := ok && !msg.IsUndefined(next)
		_, inArray := cur.([]any)
		_, idx := index(parts[i])
		switch {
		case inArray && idx:
			if !exists {
				if del {
					return false, nil
				}
				return true, set(root, parts, v)
			}
			if !isObjectLike(next) {
				if i == len(parts)-2 {
					// The final assignment finds no object and fails.
					return false, nil
				}
				// Node-RED steps into the primitive and throws.
				return false, errSkip
			}
		case exists:
			if !isObjectLike(next) {
				return false, nil
			}
			if _, isBuf := next.([]byte); isBuf {
				if i+1 < len(parts)-1 {
					return false, nil
				}
			}
		default:
			if del {
				return false, nil
			}
			return true, set(root, parts, v)
		}
		cur = next
	}
	last := parts[len(parts)-1]
	if del {
		switch t := cur.(type) {
		case *msg.Object:
			t.Delete(last.String())
		case []any:
			n, ok := index(last)
			if !ok || n >= len(t) {
				break
			}
			if !last.IsIdx {
				// a.1 ends in the text "1": delete leaves a hole.
				t[n] = msg.Undefined{}
				break
			}
			copy(t[n:], t[n+1:])
			t[len(t)-1] = nil
			return true, set(root, parts[:len(parts)-1], t[:len(t)-1])
		}
		return true, nil
	}
	if b, ok := cur.([]byte); ok {
		// Typed arrays ignore writes outside their length.
		if n, ok := index(last); ok && n < len(b) {
			b[n] = toUint8(v)
		}
		return true, nil
	}
	return true, set(root, parts, v)
}

func set(root *msg.Object, parts []msg.PathPart, v any) error {
	if len(parts) == 0 {
		return nil
	}
	_, err := msg.SetPath(root, parts, v, true)
	return err
}
