package network

import (
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
)

// Query strings and urlencoded bodies are parsed as Express 4 does with its
// "extended" parser (the qs library): "a=1&a=2" gives an array, "b[c]=3" a
// nested object, "d[]=x" and "d[0]=x" arrays; '+' is a space; a key
// without '=' has the value "". Indices above arrayLimit become object keys,
// brackets deeper than depth stay in the last key, and parameters beyond
// 1000 are ignored, as in qs.

type qsOptions struct {
	arrayLimit int
	depth      int
}

var (
	// Express's query parser uses qs's defaults.
	queryQS = qsOptions{arrayLimit: 20, depth: 5}
	// body-parser's urlencoded parser allows larger arrays and deeper keys.
	formQS = qsOptions{arrayLimit: 100, depth: 32}
)

const qsParameterLimit = 1000

// qsArray is an array under construction: qs builds sparse arrays and
// compacts them at the end.
type qsArray struct {
	items map[int]any
}

func (a *qsArray) set(i int, v any) { a.items[i] = v }

func (a *qsArray) next() int {
	n := -1
	for i := range a.items {
		if i > n {
			n = i
		}
	}
	return n + 1
}

func (a *qsArray) push(v any) { a.items[a.next()] = v }

func (a *qsArray) sorted() []int {
	idx := make([]int, 0, len(a.items))
	for i := range a.items {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	return idx
}

// toObject is qs's arrayToObject: indices become keys.
func (a *qsArray) toObject() *msg.Object {
	o := msg.NewObject(len(a.items))
	for _, i := range a.sorted() {
		o.Set(strconv.Itoa(i), a.items[i])
	}
	return o
}

func decodeQS(s string) string {
	s = strings.ReplaceAll(s, "+", " ")
	if !strings.Contains(s, "%") {
		return s
	}
	if v, err := url.PathUnescape(s); err == nil {
		return v
	}
	// qs keeps what does not decode.
	return s
}

// parseQS parses a query string or urlencoded body into an object.
func parseQS(s string, opt qsOptions) *msg.Object {
	var root any = msg.NewObject(4)
	if s == "" {
		return root.(*msg.Object)
	}
	parts := strings.Split(s, "&")
	if len(parts) > qsParameterLimit {
		parts = parts[:qsParameterLimit]
	}
	simple := !strings.ContainsAny(s, "[]%")
	// Plain keys are collected first, as qs does, so that repeats combine
	// into arrays before bracketed keys are merged in.
	flat := msg.NewObject(len(parts))
	for _, p := range parts {
		if p == "" {
			continue
		}
		var k, v string
		if i := strings.Index(p, "]="); i >= 0 {
			k, v = p[:i+1], p[i+2:]
		} else if i := strings.IndexByte(p, '='); i >= 0 {
			k, v = p[:i], p[i+1:]
		} else {
			k = p
		}
		k, v = decodeQS(k), decodeQS(v)
		if k == "" {
			continue
		}
		if old, ok := flat.Get(k); ok {
			if arr, isArr := old.([]any); isArr {
				flat.Set(k, append(arr, v))
			} else {
				flat.Set(k, []any{old, v})
			}
			continue
		}
		flat.Set(k, v)
	}
	if simple {
		// No brackets: the keys are the object's keys (the common case).
		return flat
	}
	for i := 0; i < flat.Len(); i++ {
		k, v := flat.At(i)
		root = qsMerge(root, qsBuild(k, v, opt), opt)
	}
	o, ok := qsCompact(root).(*msg.Object)
	if !ok {
		return msg.NewObject(0)
	}
	return o
}

// qsSegments splits "a[b][c]" into "a", "[b]", "[c]" up to depth; whatever
// is left is one more segment.
func qsSegments(key string, depth int) []string {
	open := strings.IndexByte(key, '[')
	if open < 0 || !strings.Contains(key[open:], "]") {
		return []string{key}
	}
	var segs []string
	if open > 0 {
		segs = append(segs, key[:open])
	}
	rest := key[open:]
	for n := 0; n < depth; n++ {
		if !strings.HasPrefix(rest, "[") {
			break
		}
		close := strings.IndexByte(rest, ']')
		if close < 0 {
			break
		}
		segs = append(segs, rest[:close+1])
		rest = rest[close+1:]
	}
	if rest != "" {
		segs = append(segs, "["+rest+"]")
	}
	return segs
}

// qsBuild makes the value of one key: {a: {b: v}} for "a[b]".
func qsBuild(key string, val any, opt qsOptions) any {
	segs := qsSegments(key, opt.depth)
	leaf := val
	for i := len(segs) - 1; i >= 0; i-- {
		seg := segs[i]
		if seg == "[]" {
			a := &qsArray{items: map[int]any{}}
			if arr, ok := leaf.([]any); ok {
				for j, e := range arr {
					a.set(j, e)
				}
			} else {
				a.set(0, leaf)
			}
			leaf = a
			continue
		}
		name := seg
		if strings.HasPrefix(seg, "[") && strings.HasSuffix(seg, "]") {
			name = seg[1 : len(seg)-1]
		}
		if n, err := strconv.Atoi(name); err == nil && n >= 0 && strconv.Itoa(n) == name && seg != name && n <= opt.arrayLimit {
			a := &qsArray{items: map[int]any{}}
			a.set(n, leaf)
			leaf = a
			continue
		}
		if name == "" {
			name = "0"
		}
		o := msg.NewObject(1)
		o.Set(name, leaf)
		leaf = o
	}
	return leaf
}

// qsMerge merges source into target as qs's utils.merge does.
func qsMerge(target, source any, opt qsOptions) any {
	if source == nil {
		return target
	}
	switch s := source.(type) {
	case *msg.Object:
		switch t := target.(type) {
		case *msg.Object:
			for i := 0; i < s.Len(); i++ {
				k, v := s.At(i)
				if old, ok := t.Get(k); ok {
					t.Set(k, qsMerge(old, v, opt))
				} else {
					t.Set(k, v)
				}
			}
			return t
		case *qsArray:
			return qsMerge(t.toObject(), s, opt)
		default:
			return []any{target, s}
		}
	case *qsArray:
		switch t := target.(type) {
		case *qsArray:
			for _, i := range s.sorted() {
				v := s.items[i]
				if old, ok := t.items[i]; ok {
					if isQSContainer(old) && isQSContainer(v) {
						t.items[i] = qsMerge(old, v, opt)
					} else {
						t.push(v)
					}
				} else {
					t.items[i] = v
				}
			}
			return t
		case *msg.Object:
			for _, i := range s.sorted() {
				k := strconv.Itoa(i)
				if old, ok := t.Get(k); ok {
					t.Set(k, qsMerge(old, s.items[i], opt))
				} else {
					t.Set(k, s.items[i])
				}
			}
			return t
		default:
			a := &qsArray{items: map[int]any{0: target}}
			for _, i := range s.sorted() {
				a.push(s.items[i])
			}
			return a
		}
	default:
		switch t := target.(type) {
		case *qsArray:
			t.push(source)
			return t
		case []any:
			return append(t, source)
		default:
			// An object and a plain value under one key make a pair
			// (qs's strictMerge).
			return []any{target, source}
		}
	}
}

func isQSContainer(v any) bool {
	switch v.(type) {
	case *msg.Object, *qsArray:
		return true
	}
	return false
}

// qsCompact turns sparse arrays into dense ones, dropping the holes.
func qsCompact(v any) any {
	switch t := v.(type) {
	case *qsArray:
		out := make([]any, 0, len(t.items))
		for _, i := range t.sorted() {
			out = append(out, qsCompact(t.items[i]))
		}
		return out
	case *msg.Object:
		for i := 0; i < t.Len(); i++ {
			k, e := t.At(i)
			t.Set(k, qsCompact(e))
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = qsCompact(e)
		}
		return t
	}
	return v
}

// encodeURIComponent is JavaScript's: everything but A-Z a-z 0-9 - _ . ! ~
// * ' ( ) is percent-encoded as UTF-8. Node's querystring.escape and
// cookie values use the same set.
func encodeURIComponent(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// stringifyQS is Node's querystring.stringify for an object: strings,
// finite numbers and booleans are encoded, arrays repeat their key,
// anything else gives an empty value.
func stringifyQS(o *msg.Object) string {
	var parts []string
	prim := func(v any) string {
		switch t := v.(type) {
		case string:
			return encodeURIComponent(t)
		case float64:
			if t != t || t > 1.7976931348623157e308 || t < -1.7976931348623157e308 {
				return ""
			}
			return encodeURIComponent(msg.FormatNumber(t))
		case bool:
			return strconv.FormatBool(t)
		}
		return ""
	}
	for i := 0; i < o.Len(); i++ {
		k, v := o.At(i)
		ks := encodeURIComponent(k) + "="
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				parts = append(parts, ks+prim(e))
			}
			continue
		}
		parts = append(parts, ks+prim(v))
	}
	return strings.Join(parts, "&")
}
