package jsonata

import (
	"math"
	"strconv"
	"strings"
)

// Token kinds, as the JSONata tokenizer names them.
const (
	tokName = iota + 1
	tokVariable
	tokOperator
	tokString
	tokNumber
	tokValue
	tokRegex
)

type token struct {
	kind  int
	str   string // name, variable, operator or string text
	value any    // literal value for tokString/tokNumber/tokValue
	re    *regexLit
	// pos is where the tokenizer stood after the token, as JSONata reports
	// positions.
	pos int
}

// regexLit is a regular expression literal: the pattern and its flags.
type regexLit struct {
	pattern string
	flags   string
}

// operatorChars are the characters that end a name; the binding powers
// live with the parser.
var operatorChars = map[rune]bool{
	'.': true, '[': true, ']': true, '{': true, '}': true, '(': true, ')': true,
	',': true, '@': true, '#': true, ';': true, ':': true, '?': true, '+': true,
	'-': true, '*': true, '/': true, '%': true, '|': true, '=': true, '<': true,
	'>': true, '^': true, '&': true, '!': true, '~': true,
}

func isSpace(c rune) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'
}

var escapes = map[rune]rune{
	'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t',
}

// lexer splits an expression into tokens on demand.
type lexer struct {
	src []rune
	pos int
}

func (l *lexer) at(i int) rune {
	if i < 0 || i >= len(l.src) {
		return 0
	}
	return l.src[i]
}

// next returns the next token, nil at the end. With infix set, a '/' is
// the division operator rather than the start of a regex.
func (l *lexer) next(infix bool) (*token, error) {
	n := len(l.src)
	if l.pos >= n {
		return nil, nil
	}
	c := l.at(l.pos)
	for l.pos < n && isSpace(c) {
		l.pos++
		c = l.at(l.pos)
	}
	if c == '/' && l.at(l.pos+1) == '*' {
		start := l.pos
		l.pos += 2
		c = l.at(l.pos)
		for !(c == '*' && l.at(l.pos+1) == '/') {
			l.pos++
			c = l.at(l.pos)
			if l.pos >= n {
				return nil, &Error{Code: "S0106", Position: start}
			}
		}
		l.pos += 2
		return l.next(infix)
	}
	if !infix && c == '/' {
		l.pos++
		re, err := l.scanRegex()
		if err != nil {
			return nil, err
		}
		return &token{kind: tokRegex, re: re, pos: l.pos}, nil
	}
	c1 := l.at(l.pos + 1)
	two := ""
	switch {
	case c == '.' && c1 == '.':
		two = ".."
	case c == ':' && c1 == '=':
		two = ":="
	case c == '!' && c1 == '=':
		two = "!="
	case c == '>' && c1 == '=':
		two = ">="
	case c == '<' && c1 == '=':
		two = "<="
	case c == '*' && c1 == '*':
		two = "**"
	case c == '~' && c1 == '>':
		two = "~>"
	case c == '?' && c1 == ':':
		two = "?:"
	case c == '?' && c1 == '?':
		two = "??"
	}
	if two != "" {
		l.pos += 2
		return &token{kind: tokOperator, str: two, pos: l.pos}, nil
	}
	if operatorChars[c] {
		l.pos++
		return &token{kind: tokOperator, str: string(c), pos: l.pos}, nil
	}
	if c == '"' || c == '\'' {
		return l.scanString(c)
	}
	if c >= '0' && c <= '9' {
		return l.scanNumber()
	}
	if c == '`' {
		l.pos++
		for i := l.pos; i < n; i++ {
			if l.src[i] == '`' {
				name := string(l.src[l.pos:i])
				l.pos = i + 1
				return &token{kind: tokName, str: name, pos: l.pos}, nil
			}
		}
		l.pos = n
		return nil, &Error{Code: "S0105", Position: l.pos}
	}
	i := l.pos
	for i < n && !isSpace(l.src[i]) && !operatorChars[l.src[i]] {
		i++
	}
	if l.at(l.pos) == '$' {
		name := string(l.src[l.pos+1 : i])
		l.pos = i
		return &token{kind: tokVariable, str: name, pos: l.pos}, nil
	}
	name := string(l.src[l.pos:i])
	l.pos = i
	switch name {
	case "or", "in", "and":
		return &token{kind: tokOperator, str: name, pos: l.pos}, nil
	case "true":
		return &token{kind: tokValue, value: true, str: name, pos: l.pos}, nil
	case "false":
		return &token{kind: tokValue, value: false, str: name, pos: l.pos}, nil
	case "null":
		return &token{kind: tokValue, value: nil, str: name, pos: l.pos}, nil
	}
	if l.pos == n && name == "" {
		return nil, nil
	}
	return &token{kind: tokName, str: name, pos: l.pos}, nil
}

func (l *lexer) scanString(quote rune) (*token, error) {
	n := len(l.src)
	l.pos++
	var sb strings.Builder
	for l.pos < n {
		c := l.src[l.pos]
		if c == '\\' {
			l.pos++
			c = l.at(l.pos)
			if e, ok := escapes[c]; ok {
				sb.WriteRune(e)
			} else if c == 'u' {
				hex := string(l.src[min(l.pos+1, n):min(l.pos+5, n)])
				if !isHex(hex) {
					return nil, &Error{Code: "S0104", Position: l.pos}
				}
				cp, _ := strconv.ParseUint(hex, 16, 32)
				l.pos += 4
				// A surrogate pair spelt as two escapes is one character.
				if cp >= 0xD800 && cp <= 0xDBFF && l.at(l.pos+1) == '\\' && l.at(l.pos+2) == 'u' {
					lo := string(l.src[min(l.pos+3, n):min(l.pos+7, n)])
					if len(lo) == 4 && isHex(lo) {
						if lc, _ := strconv.ParseUint(lo, 16, 32); lc >= 0xDC00 && lc <= 0xDFFF {
							cp = (cp-0xD800)<<10 + (lc - 0xDC00) + 0x10000
							l.pos += 6
						}
					}
				}
				if cp >= 0xD800 && cp <= 0xDFFF {
					// A lone surrogate has no UTF-8 form: keep its WTF-8
					// bytes, which string functions then treat as invalid
					// (as $encodeUrl must).
					sb.WriteByte(byte(0xE0 | cp>>12))
					sb.WriteByte(byte(0x80 | (cp>>6)&0x3F))
					sb.WriteByte(byte(0x80 | cp&0x3F))
				} else {
					sb.WriteRune(rune(cp))
				}
			} else {
				return nil, tokErr(&Error{Code: "S0103", Position: l.pos}, string(c))
			}
		} else if c == quote {
			l.pos++
			return &token{kind: tokString, str: sb.String(), value: sb.String(), pos: l.pos}, nil
		} else {
			sb.WriteRune(c)
		}
		l.pos++
	}
	return nil, &Error{Code: "S0101", Position: l.pos}
}

// isHex is /^[0-9a-fA-F]+$/.
func isHex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// scanNumber reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([Ee][-+]?[0-9]+)? (the sign
// never reaches here: '-' is an operator).
func (l *lexer) scanNumber() (*token, error) {
	n := len(l.src)
	i := l.pos
	digits := func() int {
		s := i
		for i < n && l.src[i] >= '0' && l.src[i] <= '9' {
			i++
		}
		return i - s
	}
	if l.src[i] == '0' {
		i++
	} else {
		digits()
	}
	if i < n && l.src[i] == '.' {
		save := i
		i++
		if digits() == 0 {
			i = save
		}
	}
	if i < n && (l.src[i] == 'e' || l.src[i] == 'E') {
		save := i
		i++
		if i < n && (l.src[i] == '+' || l.src[i] == '-') {
			i++
		}
		if digits() == 0 {
			i = save
		}
	}
	text := string(l.src[l.pos:i])
	f, err := strconv.ParseFloat(text, 64)
	if (err != nil && !isRangeErr(err)) || math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, tokErr(&Error{Code: "S0102", Position: l.pos}, text)
	}
	l.pos = i
	return &token{kind: tokNumber, value: f, str: text, pos: l.pos}, nil
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// scanRegex reads a regex literal after its opening '/': the pattern up to
// an unescaped '/' outside brackets, then i/m flags.
func (l *lexer) scanRegex() (*regexLit, error) {
	n := len(l.src)
	start := l.pos
	depth := 0
	closing := func(p int) bool {
		if l.at(p) == '/' && depth == 0 {
			bs := 0
			for l.at(p-(bs+1)) == '\\' {
				bs++
			}
			return bs%2 == 0
		}
		return false
	}
	for l.pos < n {
		c := l.src[l.pos]
		if closing(l.pos) {
			pattern := string(l.src[start:l.pos])
			if pattern == "" {
				return nil, &Error{Code: "S0301", Position: l.pos}
			}
			l.pos++
			fs := l.pos
			for l.pos < n && (l.src[l.pos] == 'i' || l.src[l.pos] == 'm') {
				l.pos++
			}
			return &regexLit{pattern: pattern, flags: string(l.src[fs:l.pos])}, nil
		}
		prev := l.at(l.pos - 1)
		if (c == '(' || c == '[' || c == '{') && prev != '\\' {
			depth++
		}
		if (c == ')' || c == ']' || c == '}') && prev != '\\' {
			depth--
		}
		l.pos++
	}
	return nil, &Error{Code: "S0302", Position: l.pos}
}
