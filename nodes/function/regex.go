package function

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/dlclark/regexp2/v2"
	"github.com/dlclark/regexp2/v2/syntax"
)

// jsRegexp is a JavaScript RegExp: regexp2 in ECMAScript mode with groups
// numbered in pattern order, as JavaScript numbers them.
type jsRegexp struct {
	re    *regexp2.Regexp
	named bool
}

func compileJS(pattern string, ignoreCase bool) (*jsRegexp, error) {
	opts := regexp2.ECMAScript
	if ignoreCase {
		opts |= regexp2.IgnoreCase
	}
	re, err := regexp2.Compile(pattern, opts, regexp2.OptionMaintainCaptureOrder())
	if err != nil {
		flags := ""
		if ignoreCase {
			flags = "i"
		}
		return nil, &regexpError{pattern: pattern, flags: flags, err: err}
	}
	named := false
	for _, n := range re.GetGroupNames() {
		if _, err := strconv.Atoi(n); err != nil && n != "" {
			named = true
			break
		}
	}
	return &jsRegexp{re: re, named: named}, nil
}

// regexpError words a bad pattern as V8 does.
type regexpError struct {
	pattern, flags string
	err            error
}

func (e *regexpError) Error() string {
	return "Invalid regular expression: /" + e.pattern + "/" + e.flags + ": " + v8Reason(e.err)
}

// v8Reason gives V8's reason for the regexp2 parse errors that have one.
func v8Reason(err error) string {
	var se *syntax.Error
	if !errors.As(err, &se) {
		return err.Error()
	}
	switch se.Code {
	case syntax.ErrUnterminatedBracket:
		return "Unterminated character class"
	case syntax.ErrMissingParen:
		return "Unterminated group"
	case syntax.ErrUnexpectedParen:
		return "Unmatched ')'"
	case syntax.ErrMissingRepeatArgument, syntax.ErrInvalidRepeatOp:
		return "Nothing to repeat"
	case syntax.ErrIllegalEndEscape:
		return "\\ at end of pattern"
	case syntax.ErrInvalidRepeatSize:
		return "numbers out of order in {} quantifier"
	case syntax.ErrReversedCharRange, syntax.ErrInvalidCharRange:
		return "Range out of order in character class"
	case syntax.ErrUnrecognizedGrouping:
		return "Invalid group"
	case syntax.ErrInvalidECMAGroupName, syntax.ErrInvalidGroupName:
		return "Invalid capture group name"
	case syntax.ErrDuplicateGroupName:
		return "Duplicate capture group name"
	case syntax.ErrUndefinedNameRef:
		return "Invalid named capture referenced"
	}
	return se.Code.String()
}

// SyntaxError is how a bad pattern met at run time reaches catch nodes.
type SyntaxError struct{ err error }

func (e *SyntaxError) Error() string { return "SyntaxError: " + e.err.Error() }

// dynamic patterns (from msg or context) are compiled once and kept.
var (
	reCacheMu sync.Mutex
	reCache   = map[string]*jsRegexp{}
)

const reCacheMax = 256

func cachedJS(pattern string, ignoreCase bool) (*jsRegexp, error) {
	key := pattern
	if ignoreCase {
		key = "i" + key
	} else {
		key = "-" + key
	}
	reCacheMu.Lock()
	re, ok := reCache[key]
	reCacheMu.Unlock()
	if ok {
		return re, nil
	}
	re, err := compileJS(pattern, ignoreCase)
	if err != nil {
		return nil, err
	}
	reCacheMu.Lock()
	if len(reCache) >= reCacheMax {
		clear(reCache)
	}
	reCache[key] = re
	reCacheMu.Unlock()
	return re, nil
}

// MatchString is String.prototype.match's truthiness for a non-global regex.
func (r *jsRegexp) MatchString(s string) (bool, error) {
	return r.re.MatchString(s)
}

// ReplaceAll is s.replace(/re/g, repl) with JavaScript's replacement
// patterns ($$, $&, $`, $', $n, $nn, $<name>).
func (r *jsRegexp) ReplaceAll(s, repl string) (string, error) {
	runes := []rune(s)
	m, err := r.re.FindRunesMatch(runes)
	if err != nil || m == nil {
		return s, err
	}
	var b strings.Builder
	last := 0
	for m != nil {
		b.WriteString(string(runes[last:m.RuneIndex]))
		r.expand(&b, repl, runes, m)
		last = m.RuneIndex + m.RuneLength
		m, err = r.re.FindNextMatch(m)
		if err != nil {
			return s, err
		}
	}
	b.WriteString(string(runes[last:]))
	return b.String(), nil
}

func (r *jsRegexp) expand(b *strings.Builder, repl string, runes []rune, m *regexp2.Match) {
	if !strings.Contains(repl, "$") {
		b.WriteString(repl)
		return
	}
	ngroups := m.GroupCount() - 1
	group := func(n int) string {
		g := m.GroupByNumber(n)
		if g == nil || len(g.Captures) == 0 {
			return ""
		}
		return g.String()
	}
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c != '$' || i+1 >= len(repl) {
			b.WriteByte(c)
			continue
		}
		switch n := repl[i+1]; {
		case n == '$':
			b.WriteByte('$')
			i++
		case n == '&':
			b.WriteString(m.String())
			i++
		case n == '`':
			b.WriteString(string(runes[:m.RuneIndex]))
			i++
		case n == '\'':
			b.WriteString(string(runes[m.RuneIndex+m.RuneLength:]))
			i++
		case n >= '0' && n <= '9':
			d := int(n - '0')
			if i+2 < len(repl) && repl[i+2] >= '0' && repl[i+2] <= '9' {
				dd := d*10 + int(repl[i+2]-'0')
				if dd >= 1 && dd <= ngroups {
					b.WriteString(group(dd))
					i += 2
					continue
				}
			}
			if d >= 1 && d <= ngroups {
				b.WriteString(group(d))
				i++
				continue
			}
			b.WriteByte('$')
		case n == '<' && r.named:
			end := strings.IndexByte(repl[i+2:], '>')
			if end < 0 {
				b.WriteByte('$')
				continue
			}
			name := repl[i+2 : i+2+end]
			if g := m.GroupByName(name); g != nil && len(g.Captures) > 0 {
				b.WriteString(g.String())
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
}

// replaceLiteral is s.replace(new RegExp(escaped(from), "g"), repl): every
// occurrence of from, with the same replacement patterns. An empty from
// matches between every character.
func replaceLiteral(s, from, repl string) string {
	hasDollar := strings.Contains(repl, "$")
	if from == "" {
		var b strings.Builder
		for i := 0; i < len(s); {
			_, size := utf8.DecodeRuneInString(s[i:])
			writeLiteralRepl(&b, repl, hasDollar, s, i, i, from)
			b.WriteString(s[i : i+size])
			i += size
		}
		writeLiteralRepl(&b, repl, hasDollar, s, len(s), len(s), from)
		return b.String()
	}
	if !strings.Contains(s, from) {
		return s
	}
	if !hasDollar {
		return strings.ReplaceAll(s, from, repl)
	}
	var b strings.Builder
	last := 0
	for {
		i := strings.Index(s[last:], from)
		if i < 0 {
			break
		}
		start := last + i
		b.WriteString(s[last:start])
		writeLiteralRepl(&b, repl, true, s, start, start+len(from), from)
		last = start + len(from)
	}
	b.WriteString(s[last:])
	return b.String()
}

// writeLiteralRepl expands repl for a match of a pattern without groups.
func writeLiteralRepl(b *strings.Builder, repl string, hasDollar bool, s string, start, end int, match string) {
	if !hasDollar {
		b.WriteString(repl)
		return
	}
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c != '$' || i+1 >= len(repl) {
			b.WriteByte(c)
			continue
		}
		switch repl[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '&':
			b.WriteString(match)
			i++
		case '`':
			b.WriteString(s[:start])
			i++
		case '\'':
			b.WriteString(s[end:])
			i++
		default:
			b.WriteByte('$')
		}
	}
}
