package msg

import (
	"fmt"
	"strconv"
	"strings"
)

// PathPart is one step of a property path: a key (string) or an index.
type PathPart struct {
	Key   string
	Index int
	IsIdx bool
	// Ref is a nested message property reference (a[msg.topic]) resolved at
	// lookup time.
	Ref []PathPart
}

func (p PathPart) String() string {
	if p.IsIdx {
		return strconv.Itoa(p.Index)
	}
	return p.Key
}

// PathError is an invalid property expression.
type PathError struct {
	Expr string
	Msg  string
}

func (e *PathError) Error() string {
	return fmt.Sprintf("Invalid property expression: %s", e.Msg)
}

// ParsePath parses a Node-RED property expression ("payload.a[0]['b c']",
// "a[msg.topic]") as RED.util.normalisePropertyExpression does.
func ParsePath(expr string) ([]PathPart, error) {
	p, n, err := parsePath(expr, 0, false)
	if err != nil {
		return nil, err
	}
	if n != len(expr) {
		return nil, &PathError{expr, fmt.Sprintf("unexpected %c at position %d", expr[n], n)}
	}
	return p, nil
}

func isIdentStop(c byte) bool { return c == '.' || c == '[' || c == ']' }

func parsePath(expr string, i int, nested bool) ([]PathPart, int, error) {
	bad := func(pos int) error {
		if pos >= len(expr) {
			return &PathError{expr, "unterminated expression"}
		}
		return &PathError{expr, fmt.Sprintf("unexpected %c at position %d", expr[pos], pos)}
	}
	if strings.TrimSpace(expr) == "" {
		return nil, 0, &PathError{expr, "empty expression"}
	}
	var parts []PathPart
	expectKey := true
	start := i
	for i < len(expr) {
		c := expr[i]
		switch {
		case c == '.':
			if expectKey || i == start {
				return nil, i, bad(i)
			}
			expectKey = true
			i++
			if i >= len(expr) {
				return nil, i, &PathError{expr, "unterminated expression"}
			}
		case c == '[':
			if i == start {
				return nil, i, bad(i)
			}
			i++
			if i >= len(expr) {
				return nil, i, bad(i)
			}
			q := expr[i]
			switch {
			case q == '"' || q == '\'':
				j := i + 1
				var sb strings.Builder
				for j < len(expr) && expr[j] != q {
					if expr[j] == '\\' && j+1 < len(expr) {
						j++
					}
					sb.WriteByte(expr[j])
					j++
				}
				if j >= len(expr) || j+1 >= len(expr) || expr[j+1] != ']' {
					return nil, j, bad(j + 1)
				}
				parts = append(parts, PathPart{Key: sb.String()})
				i = j + 2
			case q >= '0' && q <= '9':
				j := i
				for j < len(expr) && expr[j] >= '0' && expr[j] <= '9' {
					j++
				}
				if j >= len(expr) || expr[j] != ']' {
					return nil, j, bad(j)
				}
				n, _ := strconv.Atoi(expr[i:j])
				parts = append(parts, PathPart{Index: n, IsIdx: true})
				i = j + 1
			case strings.HasPrefix(expr[i:], "msg."):
				ref, j, err := parsePath(expr, i+4, true)
				if err != nil {
					return nil, j, err
				}
				if j >= len(expr) || expr[j] != ']' {
					return nil, j, bad(j)
				}
				parts = append(parts, PathPart{Ref: ref})
				i = j + 1
			default:
				return nil, i, bad(i)
			}
			expectKey = false
		case c == ']':
			if nested && !expectKey {
				return parts, i, nil
			}
			return nil, i, bad(i)
		default:
			if !expectKey {
				return nil, i, bad(i)
			}
			j := i
			for j < len(expr) && !isIdentStop(expr[j]) {
				j++
			}
			parts = append(parts, PathPart{Key: expr[i:j]})
			i = j
			expectKey = false
		}
	}
	if expectKey {
		return nil, i, &PathError{expr, "unterminated expression"}
	}
	return parts, i, nil
}

// resolve turns nested message references into plain keys.
func resolve(root *Object, parts []PathPart) ([]PathPart, error) {
	var out []PathPart
	for i, p := range parts {
		if p.Ref == nil {
			continue
		}
		if out == nil {
			out = append([]PathPart(nil), parts...)
		}
		v, ok := GetPath(root, p.Ref)
		if !ok {
			return nil, fmt.Errorf("Invalid property expression: undefined reference at position %d : %s", i, pathString(p.Ref))
		}
		if n, ok := Num(v); ok {
			out[i] = PathPart{Index: int(n), IsIdx: true}
		} else {
			out[i] = PathPart{Key: ToString(v)}
		}
	}
	if out == nil {
		return parts, nil
	}
	return out, nil
}

func pathString(parts []PathPart) string {
	var b strings.Builder
	b.WriteString("msg")
	for _, p := range parts {
		if p.IsIdx {
			b.WriteString("[" + strconv.Itoa(p.Index) + "]")
		} else {
			b.WriteString("." + p.Key)
		}
	}
	return b.String()
}

func child(v any, p PathPart) (any, bool) {
	switch t := v.(type) {
	case *Object:
		if p.IsIdx {
			return t.Get(strconv.Itoa(p.Index))
		}
		return t.Get(p.Key)
	case []any:
		idx := p.Index
		if !p.IsIdx {
			if p.Key == "length" {
				return float64(len(t)), true
			}
			n, err := strconv.Atoi(p.Key)
			if err != nil {
				return nil, false
			}
			idx = n
		}
		if idx < 0 || idx >= len(t) {
			return nil, false
		}
		return t[idx], true
	case []byte:
		if !p.IsIdx {
			if p.Key == "length" {
				return float64(len(t)), true
			}
			return nil, false
		}
		if p.Index < 0 || p.Index >= len(t) {
			return nil, false
		}
		return float64(t[p.Index]), true
	case string:
		if p.Key == "length" && !p.IsIdx {
			return float64(len([]rune(t))), true
		}
		if p.IsIdx {
			r := []rune(t)
			if p.Index >= 0 && p.Index < len(r) {
				return string(r[p.Index]), true
			}
		}
	}
	return nil, false
}

// GetPath returns the value at parts under root.
func GetPath(root *Object, parts []PathPart) (any, bool) {
	parts, err := resolve(root, parts)
	if err != nil {
		return nil, false
	}
	var cur any = root
	for _, p := range parts {
		v, ok := child(cur, p)
		if !ok {
			return nil, false
		}
		cur = v
	}
	return cur, true
}

// Get parses expr and returns the value at it; a bad expression is an error.
func Get(root *Object, expr string) (any, bool, error) {
	parts, err := ParsePath(expr)
	if err != nil {
		return nil, false, err
	}
	v, ok := GetPath(root, parts)
	return v, ok, nil
}

// SetPath sets the value at parts, creating missing objects and arrays when
// createMissing is set (an index step creates an array, a key an object), as
// RED.util.setMessageProperty does. It reports whether the value was set.
func SetPath(root *Object, parts []PathPart, value any, createMissing bool) (bool, error) {
	parts, err := resolve(root, parts)
	if err != nil {
		return false, err
	}
	if len(parts) == 0 {
		return false, nil
	}
	var cur any = root
	for i := 0; i < len(parts)-1; i++ {
		p := parts[i]
		next, ok := child(cur, p)
		if !ok || next == nil || !isContainer(next) {
			if !createMissing {
				if ok && next != nil && !isContainer(next) {
					// Node-RED fails silently when an intermediate is a primitive.
					return false, nil
				}
				return false, nil
			}
			if ok && next != nil && !isContainer(next) {
				// A primitive in the way: Node-RED cannot set a property on it.
				return false, nil
			}
			if parts[i+1].IsIdx {
				next = []any{}
			} else {
				next = NewObject(1)
			}
			cur = assign(cur, p, next, parts[:i], root)
			if cur == nil {
				return false, nil
			}
			// assign may have replaced the slice (append); re-read it.
			next, _ = child(cur, p)
		}
		cur = next
	}
	res := assign(cur, parts[len(parts)-1], value, parts[:len(parts)-1], root)
	return res != nil, nil
}

func isContainer(v any) bool {
	switch v.(type) {
	case *Object, []any, []byte:
		return true
	}
	return false
}

// assign sets cur[p] = v. Arrays grow by writing them back at their own path
// from root, since a Go slice cannot grow in place. It returns the container
// that now holds the value, or nil when nothing was set.
func assign(cur any, p PathPart, v any, prefix []PathPart, root *Object) any {
	switch t := cur.(type) {
	case *Object:
		if p.IsIdx {
			t.Set(strconv.Itoa(p.Index), v)
		} else {
			t.Set(p.Key, v)
		}
		return t
	case []any:
		idx := p.Index
		if !p.IsIdx {
			n, err := strconv.Atoi(p.Key)
			if err != nil {
				return nil
			}
			idx = n
		}
		if idx < 0 {
			return nil
		}
		if idx < len(t) {
			t[idx] = v
			return t
		}
		grown := make([]any, idx+1, max(idx+1, 2*len(t)))
		copy(grown, t)
		for j := len(t); j < idx; j++ {
			grown[j] = nil
		}
		grown[idx] = v
		if len(prefix) == 0 {
			return nil
		}
		parent, ok := GetPath(root, prefix[:len(prefix)-1])
		if !ok {
			return nil
		}
		if assign(parent, prefix[len(prefix)-1], grown, prefix[:len(prefix)-1], root) == nil {
			return nil
		}
		return grown
	case []byte:
		if p.IsIdx && p.Index >= 0 && p.Index < len(t) {
			t[p.Index] = byte(int(ToNumber(v)))
			return t
		}
	}
	return nil
}

// Set parses expr and sets the value there, creating missing parents.
func Set(root *Object, expr string, value any) error {
	parts, err := ParsePath(expr)
	if err != nil {
		return err
	}
	_, err = SetPath(root, parts, value, true)
	return err
}

// DeletePath removes the value at parts; it reports whether it existed.
func DeletePath(root *Object, parts []PathPart) bool {
	parts, err := resolve(root, parts)
	if err != nil || len(parts) == 0 {
		return false
	}
	parent, ok := GetPath(root, parts[:len(parts)-1])
	if !ok {
		return false
	}
	last := parts[len(parts)-1]
	switch t := parent.(type) {
	case *Object:
		if last.IsIdx {
			return t.Delete(strconv.Itoa(last.Index))
		}
		return t.Delete(last.Key)
	case []any:
		// delete arr[i] leaves a hole, which JSON shows as null.
		idx := last.Index
		if !last.IsIdx {
			n, err := strconv.Atoi(last.Key)
			if err != nil {
				return false
			}
			idx = n
		}
		if idx >= 0 && idx < len(t) {
			t[idx] = Undefined{}
			return true
		}
	}
	return false
}
