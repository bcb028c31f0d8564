package jsonata

import (
	"math"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
)

// text is a string with the UTF-16 indexing JavaScript uses for match
// positions.
type text struct {
	s      string
	runes  []rune
	astral bool // some character needs two UTF-16 units
}

func newText(s string) *text {
	t := &text{s: s, runes: []rune(s)}
	for _, r := range t.runes {
		if r >= 0x10000 {
			t.astral = true
			break
		}
	}
	return t
}

func (t *text) len16() int {
	if !t.astral {
		return len(t.runes)
	}
	return utf16Len(t.s)
}

// u16 converts a rune index to a UTF-16 index.
func (t *text) u16(ri int) int {
	if !t.astral {
		return ri
	}
	n := 0
	for _, r := range t.runes[:ri] {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// runeAt converts a UTF-16 index to a rune index (rounding up inside a
// surrogate pair).
func (t *text) runeAt(u int) int {
	if !t.astral {
		return min(max(u, 0), len(t.runes))
	}
	n := 0
	for i, r := range t.runes {
		if n >= u {
			return i
		}
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return len(t.runes)
}

// substring is String.prototype.substring on UTF-16 indices.
func (t *text) substring(from, to int) string {
	if from > to {
		from, to = to, from
	}
	a, b := t.runeAt(from), t.runeAt(to)
	return string(t.runes[a:b])
}

// regexMatch runs a regex from a UTF-16 index and returns jsonata's match
// object {match, start, end, groups, next}, or undefined.
func (st *state) regexMatch(p *regexFn, str string, from int) (any, error) {
	return st.regexMatchText(p, newText(str), from)
}

func (st *state) regexMatchText(p *regexFn, t *text, from int) (any, error) {
	if err := st.tick(); err != nil {
		return nil, err
	}
	lastIndex := from
	if p.nonGlobal {
		from = 0
	}
	if from > t.len16() {
		return undefined, nil
	}
	m, err := p.re.FindRunesMatchStartingAt(t.runes, t.runeAt(from))
	if err != nil {
		return nil, &Error{Message: err.Error(), Err: err}
	}
	if m == nil {
		return undefined, nil
	}
	start := t.u16(m.RuneIndex)
	end := t.u16(m.RuneIndex + m.RuneLength)
	n := m.GroupCount()
	groups := make([]any, 0, max(n-1, 0))
	for g := 1; g < n; g++ {
		grp := m.GroupByNumber(g)
		if grp == nil || len(grp.Captures) == 0 {
			groups = append(groups, undefined)
		} else {
			groups = append(groups, grp.String())
		}
	}
	o := msg.NewObject(5)
	o.Set("match", m.String())
	o.Set("start", float64(start))
	o.Set("end", float64(end))
	o.Set("groups", groups)
	if !p.nonGlobal {
		lastIndex = end
	}
	o.Set("next", &builtin{name: "next", plain: true, fn: func(c call, _ []any) (any, error) {
		if lastIndex >= t.len16() {
			return undefined, nil
		}
		nx, err := st.regexMatchText(p, t, lastIndex)
		if err != nil {
			return nil, err
		}
		if no, ok := nx.(*msg.Object); ok {
			if s, _ := no.Value("match").(string); s == "" {
				return nil, &Error{Code: "D1004", Position: p.pos, Value: p.src, hasValue: true}
			}
		}
		return nx, nil
	}})
	return o, nil
}

// matchResult is what a matcher function returned.
type matchResult struct {
	obj   any
	match string
	start float64
	end   float64
	grps  any
	next  any
}

// callMatcher invokes a matcher (a regex or a function in its image) on
// str and checks the shape of what it returns.
func (st *state) callMatcher(c call, matcher any, str any) (*matchResult, error) {
	if err := st.tick(); err != nil {
		return nil, err
	}
	if err := rawFunction(c, matcher, "matcher"); err != nil {
		return nil, err
	}
	res, err := st.apply(matcher, []any{str}, nil, c.env, site{})
	if err != nil {
		return nil, err
	}
	if isUndef(res) {
		return nil, nil
	}
	mr := &matchResult{obj: res, grps: undefined, next: undefined}
	if truthy(res) {
		startV, _ := ownGet(res, "start")
		groupsV, _ := ownGet(res, "groups")
		nextV, _ := ownGet(res, "next")
		_, startNum := startV.(float64)
		if !(startNum || isArray(groupsV) || isFunction(nextV)) {
			return nil, &Error{Code: "T1010"}
		}
		mv, _ := ownGet(res, "match")
		mr.match, _ = mv.(string)
		if !isUndef(mv) {
			if _, ok := mv.(string); !ok {
				mr.match = toJSString(mv)
			}
		}
		mr.start, _ = startV.(float64)
		ev, _ := ownGet(res, "end")
		mr.end, _ = ev.(float64)
		mr.grps = groupsV
		mr.next = nextV
	}
	return mr, nil
}

func fnMatch(c call, a []any) (any, error) {
	str, ok := argAt(a, 0).(string)
	if !ok {
		return undefined, nil
	}
	limit, hasLimit := argAt(a, 2).(float64)
	if hasLimit && limit < 0 {
		return nil, &Error{Code: "D3040", Value: limit, hasValue: true, index: 3.0}
	}
	result := newSeq(0)
	if hasLimit && !(limit > 0) {
		return result, nil
	}
	count := 0.0
	m, err := c.st.callMatcher(c, argAt(a, 1), str)
	if err != nil {
		return nil, err
	}
	for m != nil && (!hasLimit || count < limit) {
		o := msg.NewObject(3)
		mv, _ := ownGet(m.obj, "match")
		sv, _ := ownGet(m.obj, "start")
		o.Set("match", mv)
		o.Set("index", sv)
		o.Set("groups", m.grps)
		result.push(o)
		m, err = c.st.callMatcher(c, m.next, undefined)
		if err != nil {
			return nil, err
		}
		count++
	}
	return result, nil
}

func fnContains(c call, a []any) (any, error) {
	str, ok := argAt(a, 0).(string)
	token := argAt(a, 1)
	if !ok || isUndef(token) {
		return undefined, nil
	}
	if ts, ok := token.(string); ok {
		return strings.Contains(str, ts), nil
	}
	m, err := c.st.callMatcher(c, token, str)
	if err != nil {
		return nil, err
	}
	return m != nil, nil
}

// substitute expands $0, $1.. and $$ in a replacement string.
func substitute(replacement string, match string, groups []any) string {
	var b strings.Builder
	position := 0
	index := strings.IndexByte(replacement, '$')
	for index != -1 && position < len(replacement) {
		b.WriteString(replacement[position:index])
		position = index + 1
		var dollar byte
		if position < len(replacement) {
			dollar = replacement[position]
		}
		switch {
		case dollar == '$':
			b.WriteByte('$')
			position++
		case dollar == '0':
			b.WriteString(match)
			position++
		default:
			maxDigits := 1
			if len(groups) > 0 {
				maxDigits = int(math.Floor(math.Log(float64(len(groups)))*math.Log10E)) + 1
			}
			idx, ok := parseIntPrefix(replacement[position:min(position+maxDigits, len(replacement))])
			if maxDigits > 1 && ok && idx > len(groups) {
				idx, ok = parseIntPrefix(replacement[position:min(position+maxDigits-1, len(replacement))])
			}
			if ok {
				if len(groups) > 0 && idx >= 1 && idx-1 < len(groups) {
					if s, isStr := groups[idx-1].(string); isStr {
						b.WriteString(s)
					} else if !isUndef(groups[idx-1]) {
						b.WriteString(toJSString(groups[idx-1]))
					}
				}
				position += len(formatNumber(float64(idx)))
			} else {
				b.WriteByte('$')
			}
		}
		index = strings.IndexByte(replacement[min(position, len(replacement)):], '$')
		if index >= 0 {
			index += position
		}
	}
	if position < len(replacement) {
		b.WriteString(replacement[position:])
	}
	return b.String()
}

// parseIntPrefix is parseInt(s, 10): the leading digits.
func parseIntPrefix(s string) (int, bool) {
	n, i := 0, 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		n = n*10 + int(s[i]-'0')
		i++
	}
	return n, i > 0
}

func fnReplace(c call, a []any) (any, error) {
	str, ok := argAt(a, 0).(string)
	if !ok {
		return undefined, nil
	}
	pattern := argAt(a, 1)
	replacement := argAt(a, 2)
	if ps, ok := pattern.(string); ok && ps == "" {
		return nil, &Error{Code: "D3010", Value: pattern, hasValue: true, index: 2.0}
	}
	limit, hasLimit := argAt(a, 3).(float64)
	if hasLimit && limit < 0 {
		return nil, &Error{Code: "D3011", Value: limit, hasValue: true, index: 4.0}
	}
	if hasLimit && !(limit > 0) {
		return str, nil
	}
	count := 0.0
	if ps, ok := pattern.(string); ok {
		rs := joinText(replacement)
		if isFunction(replacement) {
			// String concatenation prints the function: its JavaScript
			// source for a closure, [object Object] for jsonata's function
			// objects.
			rs = "[object Object]"
			if _, ok := replacement.(*closure); ok {
				rs = closureSource
			}
		}
		var b strings.Builder
		position := 0
		for {
			i := strings.Index(str[position:], ps)
			if i < 0 || (hasLimit && !(count < limit)) {
				break
			}
			b.WriteString(str[position : position+i])
			b.WriteString(rs)
			position += i + len(ps)
			count++
		}
		b.WriteString(str[position:])
		return b.String(), nil
	}
	t := newText(str)
	m, err := c.st.callMatcher(c, pattern, str)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return str, nil
	}
	var b strings.Builder
	position := 0
	for m != nil && (!hasLimit || count < limit) {
		b.WriteString(t.substring(position, int(m.start)))
		var with any
		if rs, ok := replacement.(string); ok {
			with = substitute(rs, m.match, arrayItems(m.grps))
		} else {
			if err := rawFunction(c, replacement, "replacer"); err != nil {
				return nil, err
			}
			w, err := c.st.apply(replacement, []any{m.obj}, nil, c.env, site{})
			if err != nil {
				return nil, err
			}
			with = w
		}
		ws, ok := with.(string)
		if !ok {
			return nil, &Error{Code: "D3012", Value: with, hasValue: true}
		}
		b.WriteString(ws)
		position = int(m.start) + utf16Len(m.match)
		count++
		m, err = c.st.callMatcher(c, m.next, undefined)
		if err != nil {
			return nil, err
		}
	}
	b.WriteString(t.substring(position, t.len16()))
	return b.String(), nil
}

func fnSplit(c call, a []any) (any, error) {
	str, ok := argAt(a, 0).(string)
	if !ok {
		return undefined, nil
	}
	limit, hasLimit := argAt(a, 2).(float64)
	if hasLimit && limit < 0 {
		return nil, &Error{Code: "D3020", Value: limit, hasValue: true, index: 3.0}
	}
	result := []any{}
	if hasLimit && !(limit > 0) {
		return result, nil
	}
	sep := argAt(a, 1)
	if ss, ok := sep.(string); ok {
		var parts []string
		if ss == "" {
			for _, r := range str {
				parts = append(parts, string(r))
			}
		} else {
			parts = strings.Split(str, ss)
		}
		if hasLimit {
			n := uint32(int64(limit))
			if int(n) < len(parts) {
				parts = parts[:n]
			}
		}
		for _, p := range parts {
			result = append(result, p)
		}
		return result, nil
	}
	t := newText(str)
	m, err := c.st.callMatcher(c, sep, str)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return append(result, str), nil
	}
	count := 0.0
	start := 0
	for m != nil && (!hasLimit || count < limit) {
		result = append(result, t.substring(start, int(m.start)))
		start = int(m.end)
		m, err = c.st.callMatcher(c, m.next, undefined)
		if err != nil {
			return nil, err
		}
		count++
	}
	if !hasLimit || count < limit {
		result = append(result, t.substring(start, t.len16()))
	}
	return result, nil
}

// closureSource is the text of the closure jsonata 2.2.2 wraps function
// arguments in, as String() prints it.
const closureSource = "async function (...params) {\n" +
	"                    // invoke func\n" +
	"                    return await apply(arg, params, null, environment);\n" +
	"                }"
