package msg

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// FormatNumber prints f as JavaScript's Number.prototype.toString does.
func FormatNumber(f float64) string {
	switch {
	case f != f:
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		if math.Abs(f) < 1<<53 {
			return strconv.FormatInt(int64(f), 10)
		}
	}
	// Shortest round-trip digits, then laid out with JavaScript's rules.
	s := strconv.FormatFloat(f, 'e', -1, 64)
	neg := false
	if s[0] == '-' {
		neg = true
		s = s[1:]
	}
	mant, expS, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expS)
	digits := strings.Replace(mant, ".", "", 1)
	k := len(digits)
	n := exp + 1 // position of the decimal point relative to digits
	var out string
	switch {
	case k <= n && n <= 21:
		out = digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		out = digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		out = "0." + strings.Repeat("0", -n) + digits
	default:
		e := n - 1
		sign := "+"
		if e < 0 {
			sign = "-"
			e = -e
		}
		if k == 1 {
			out = digits + "e" + sign + strconv.Itoa(e)
		} else {
			out = digits[:1] + "." + digits[1:] + "e" + sign + strconv.Itoa(e)
		}
	}
	if neg {
		return "-" + out
	}
	return out
}

// Marshal encodes v as JavaScript's JSON.stringify(v) would: Buffers as
// {"type":"Buffer","data":[...]}, NaN and Infinity as null, opaque values
// omitted from objects.
func Marshal(v any) []byte {
	var b strings.Builder
	enc := encoder{b: &b}
	enc.value(v, "", "")
	return []byte(b.String())
}

// MarshalIndent encodes v as JSON.stringify(v, null, indent).
func MarshalIndent(v any, indent string) []byte {
	var b strings.Builder
	enc := encoder{b: &b, indent: indent}
	enc.value(v, "", "")
	return []byte(b.String())
}

type encoder struct {
	b      *strings.Builder
	indent string
}

// Serialisable reports whether JSON.stringify would emit v (as opposed to
// skipping it in objects and writing null in arrays).
func Serialisable(v any) bool {
	switch v.(type) {
	case nil, bool, float64, string, []byte, []any, *Object, int, int64, time.Time:
		return true
	}
	_, ok := v.(interface{ ToJSON() any })
	return ok
}

func (e *encoder) nl(cur string) {
	if e.indent != "" {
		e.b.WriteByte('\n')
		e.b.WriteString(cur)
	}
}

func (e *encoder) value(v any, cur, _ string) {
	switch t := v.(type) {
	case nil:
		e.b.WriteString("null")
	case bool:
		if t {
			e.b.WriteString("true")
		} else {
			e.b.WriteString("false")
		}
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			e.b.WriteString("null")
		} else {
			e.b.WriteString(FormatNumber(t))
		}
	case int:
		e.b.WriteString(strconv.Itoa(t))
	case int64:
		e.b.WriteString(strconv.FormatInt(t, 10))
	case string:
		QuoteTo(e.b, t)
	case []byte:
		e.b.WriteString(`{`)
		inner := cur + e.indent
		e.nl(inner)
		e.b.WriteString(`"type":`)
		if e.indent != "" {
			e.b.WriteByte(' ')
		}
		e.b.WriteString(`"Buffer",`)
		e.nl(inner)
		e.b.WriteString(`"data":`)
		if e.indent != "" {
			e.b.WriteByte(' ')
		}
		if len(t) == 0 {
			e.b.WriteString("[]")
		} else {
			e.b.WriteByte('[')
			in2 := inner + e.indent
			for i, c := range t {
				if i > 0 {
					e.b.WriteByte(',')
				}
				e.nl(in2)
				e.b.WriteString(strconv.Itoa(int(c)))
			}
			e.nl(inner)
			e.b.WriteByte(']')
		}
		e.nl(cur)
		e.b.WriteByte('}')
	case []any:
		if len(t) == 0 {
			e.b.WriteString("[]")
			return
		}
		e.b.WriteByte('[')
		inner := cur + e.indent
		for i, el := range t {
			if i > 0 {
				e.b.WriteByte(',')
			}
			e.nl(inner)
			if Serialisable(el) {
				e.value(el, inner, "")
			} else {
				e.b.WriteString("null")
			}
		}
		e.nl(cur)
		e.b.WriteByte(']')
	case *Object:
		if t == nil {
			e.b.WriteString("null")
			return
		}
		e.b.WriteByte('{')
		inner := cur + e.indent
		first := true
		for i, k := range t.keys {
			val := t.vals[i]
			if !Serialisable(val) {
				continue
			}
			if !first {
				e.b.WriteByte(',')
			}
			first = false
			e.nl(inner)
			QuoteTo(e.b, k)
			e.b.WriteByte(':')
			if e.indent != "" {
				e.b.WriteByte(' ')
			}
			e.value(val, inner, "")
		}
		if !first {
			e.nl(cur)
		}
		e.b.WriteByte('}')
	case time.Time:
		// JavaScript's Date.prototype.toJSON.
		QuoteTo(e.b, t.UTC().Format("2006-01-02T15:04:05.000Z"))
	case interface{ ToJSON() any }:
		e.value(t.ToJSON(), cur, "")
	default:
		e.b.WriteString("null")
	}
}

const hexDigits = "0123456789abcdef"

// QuoteTo writes s as a JSON string the way JSON.stringify does (no HTML
// escaping; control characters as \uXXXX except the short forms).
func QuoteTo(b *strings.Builder, s string) {
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b.WriteString(s[start:i])
			switch c {
			case '"':
				b.WriteString(`\"`)
			case '\\':
				b.WriteString(`\\`)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			case '\b':
				b.WriteString(`\b`)
			case '\f':
				b.WriteString(`\f`)
			default:
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(s[start:i])
			b.WriteString(`\ufffd`)
			i += size
			start = i
			continue
		}
		i += size
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

// Quote returns s as a JSON string literal.
func Quote(s string) string {
	var b strings.Builder
	QuoteTo(&b, s)
	return b.String()
}

// SyntaxError is a JSON parse error worded as V8's JSON.parse words it, since
// flows compare error texts in catch nodes.
type SyntaxError struct {
	Msg    string
	Offset int // byte offset in the input
}

func (e *SyntaxError) Error() string { return e.Msg }

// Unmarshal parses JSON text into the message model, keeping key order.
func Unmarshal(data []byte) (any, error) {
	p := parser{s: data}
	p.ws()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i < len(p.s) {
		return nil, p.errAt("Unexpected non-whitespace character after JSON", p.i)
	}
	return v, nil
}

// UnmarshalString is Unmarshal over a string.
func UnmarshalString(s string) (any, error) { return Unmarshal([]byte(s)) }

type parser struct {
	s []byte
	i int
}

const maxDepth = 10000

func (p *parser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// V8 quotes the whole input when it is short, else up to this many UTF-16
// units either side of the offending token.
const (
	errContext       = 10
	errMinForContext = 2*errContext + 1
)

// errToken reports the character at byte offset pos as unexpected, with the
// context V8 shows; at the end of input it is V8's "end of JSON input".
func (p *parser) errToken(pos int) error {
	if pos >= len(p.s) {
		return &SyntaxError{Msg: "Unexpected end of JSON input", Offset: pos}
	}
	src := string(p.s)
	switch src {
	case "NaN", "Infinity", "undefined", "[object Object]":
		return &SyntaxError{Msg: `"` + src + `" is not valid JSON`, Offset: pos}
	}
	u := utf16.Encode([]rune(src))
	at := utf16Len(p.s[:pos])
	tok := string(utf16.Decode(u[at : at+1]))
	var b strings.Builder
	b.WriteString("Unexpected token '")
	b.WriteString(tok)
	b.WriteString("', ")
	switch {
	case len(u) < errMinForContext:
		b.WriteString(`"` + src + `"`)
	case at < errContext:
		b.WriteString(`"` + string(utf16.Decode(u[:at+errContext])) + `"...`)
	case at >= len(u)-errContext:
		b.WriteString(`..."` + string(utf16.Decode(u[at-errContext:])) + `"`)
	default:
		b.WriteString(`..."` + string(utf16.Decode(u[at-errContext:at+errContext])) + `"...`)
	}
	b.WriteString(" is not valid JSON")
	return &SyntaxError{Msg: b.String(), Offset: pos}
}

// errAt is V8's "<what> at position N (line L column C)", with N
// counted in UTF-16 units as JavaScript counts string positions.
func (p *parser) errAt(what string, pos int) error {
	line, lineStart := 1, 0
	for j := 0; j < pos && j < len(p.s); j++ {
		switch c := p.s[j]; {
		case c == '\n':
			line++
			lineStart = j + 1
		case c == '\r':
			if j+1 < len(p.s) && p.s[j+1] == '\n' && j+1 < pos {
				j++
			}
			line++
			lineStart = j + 1
		case c == 0xe2 && j+2 < len(p.s) && p.s[j+1] == 0x80 && (p.s[j+2] == 0xa8 || p.s[j+2] == 0xa9):
			// U+2028 and U+2029 end lines too.
			j += 2
			line++
			lineStart = j + 1
		}
	}
	if pos > len(p.s) {
		pos = len(p.s)
	}
	at := utf16Len(p.s[:pos])
	col := at - utf16Len(p.s[:min(lineStart, pos)]) + 1
	return &SyntaxError{
		Msg:    fmt.Sprintf("%s at position %d (line %d column %d)", what, at, line, col),
		Offset: pos,
	}
}

func utf16Len(b []byte) int {
	n := 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func (p *parser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, &SyntaxError{Msg: "Maximum call stack size exceeded", Offset: p.i}
	}
	if p.i >= len(p.s) {
		return nil, p.errToken(p.i)
	}
	switch c := p.s[p.i]; {
	case c == '{':
		p.i++
		o := NewObject(4)
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return o, nil
		}
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, p.errAt("Expected property name or '}' in JSON", p.i)
		}
		for {
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			p.ws()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return nil, p.errAt("Expected ':' after property name in JSON", p.i)
			}
			p.i++
			p.ws()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			o.Set(k, v)
			p.ws()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				p.ws()
				if p.i >= len(p.s) || p.s[p.i] != '"' {
					return nil, p.errAt("Expected double-quoted property name in JSON", p.i)
				}
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == '}' {
				p.i++
				return o, nil
			}
			return nil, p.errAt("Expected ',' or '}' after property value in JSON", p.i)
		}
	case c == '[':
		p.i++
		arr := make([]any, 0, 4)
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return arr, nil
		}
		for {
			p.ws()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
			p.ws()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == ']' {
				p.i++
				return arr, nil
			}
			return nil, p.errAt("Expected ',' or ']' after array element in JSON", p.i)
		}
	case c == '"':
		return p.str()
	case c == 't':
		return p.lit("true", true)
	case c == 'f':
		return p.lit("false", false)
	case c == 'n':
		return p.lit("null", nil)
	case c == '-' || (c >= '0' && c <= '9'):
		return p.num()
	default:
		return nil, p.errToken(p.i)
	}
}

func (p *parser) lit(word string, v any) (any, error) {
	for j := 0; j < len(word); j++ {
		if p.i >= len(p.s) || p.s[p.i] != word[j] {
			return nil, p.errToken(p.i)
		}
		p.i++
	}
	return v, nil
}

func (p *parser) num() (any, error) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
		if p.i >= len(p.s) || p.s[p.i] < '0' || p.s[p.i] > '9' {
			return nil, p.errAt("No number after minus sign in JSON", p.i)
		}
	}
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.s[p.i] == '0' {
		p.i++
		if p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			return nil, p.errAt("Unexpected number in JSON", p.i)
		}
	} else {
		digits()
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, p.errAt("Unterminated fractional number in JSON", p.i)
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, p.errAt("Exponent part is missing a number in JSON", p.i)
		}
	}
	f, err := strconv.ParseFloat(string(p.s[start:p.i]), 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return f, nil // ±Inf or 0, as JavaScript rounds
		}
		return nil, p.errAt("Unexpected number in JSON", start)
	}
	return f, nil
}

func (p *parser) str() (string, error) {
	p.i++ // opening quote
	start := p.i
	// Fast path: no escapes.
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '"' {
			s := string(p.s[start:p.i])
			p.i++
			return s, nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		p.i++
	}
	var b []byte
	b = append(b, p.s[start:p.i]...)
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return string(b), nil
		case c < 0x20:
			return "", p.errAt("Bad control character in string literal in JSON", p.i)
		case c == '\\':
			p.i++
			if p.i >= len(p.s) {
				return "", p.errToken(p.i)
			}
			e := p.s[p.i]
			p.i++
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", p.errAt("Bad Unicode escape in JSON", p.i)
				}
				if utf16.IsSurrogate(r) {
					if p.i+1 < len(p.s) && p.s[p.i] == '\\' && p.s[p.i+1] == 'u' {
						save := p.i
						p.i += 2
						r2, ok := p.hex4()
						if ok {
							if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
								b = utf8.AppendRune(b, d)
								continue
							}
						}
						p.i = save
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
			default:
				return "", p.errAt("Bad escaped character in JSON", p.i-1)
			}
		default:
			b = append(b, c)
			p.i++
		}
	}
	return "", p.errAt("Unterminated string in JSON", p.i)
}

// hex4 reads four hex digits; on failure p.i is left at the first non-hex
// character, where V8 reports the error.
func (p *parser) hex4() (rune, bool) {
	var r rune
	for k := 0; k < 4; k++ {
		if p.i >= len(p.s) {
			return 0, false
		}
		c := p.s[p.i]
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
		p.i++
	}
	return r, true
}
