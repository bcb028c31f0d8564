package mustache

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// kind is what a token does when rendered.
type kind uint8

const (
	kText     kind = iota
	kEscaped       // {{name}}
	kRaw           // {{{name}}} and {{&name}}
	kSection       // {{#name}}
	kInverted      // {{^name}}
	kClose         // {{/name}}; only during parsing
	kPartial       // {{>name}}
	kComment       // {{!...}}
	kDelims        // {{=<% %>=}}
)

// token is one piece of a parsed template. Sections hold their body.
type token struct {
	kind  kind
	value string // text, or the tag's content
	// parts is a dotted name split at its dots; nil for plain names.
	parts []string
	body  []token
	// Partials only: the line's indentation so far, whether other text
	// precedes the tag and whether it is the line's first tag.
	indent     string
	lineText   bool
	firstOnTag bool
}

// ParseError is a template mustache.js refuses; Pos counts UTF-16 code
// units, as JavaScript positions do, so messages match Node-RED's.
type ParseError struct {
	Msg string
	Pos int
	// Name is the section name for section errors.
	Name string
}

func (e *ParseError) Error() string { return e.Msg }

func utf16Pos(s string, byteOff int) int {
	if byteOff > len(s) {
		byteOff = len(s)
	}
	n := 0
	for _, r := range s[:byteOff] {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// isSpace is JavaScript's \s.
func isSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// flat is a token before nesting; text arrives one character at a time so
// that the whitespace of standalone lines can be dropped character by
// character, as mustache.js does.
type flat struct {
	token
	deleted bool
	start   int // byte offset of a tag's opening delimiter
}

type parser struct {
	src         string
	pos         int
	open, close string
}

// skipSpace returns the offset after the whitespace at i.
func (p *parser) skipSpace(i int) int {
	for i < len(p.src) {
		r, n := utf8.DecodeRuneInString(p.src[i:])
		if !isSpace(r) {
			break
		}
		i += n
	}
	return i
}

// findSpaced returns the first offset ≥ from where optional whitespace and
// then lit begin, or -1: a search for /\s*lit/.
func (p *parser) findSpaced(from int, lit string) int {
	k := strings.Index(p.src[from:], lit)
	if k < 0 {
		return -1
	}
	j := from + k
	for j > from {
		r, n := utf8.DecodeLastRuneInString(p.src[from:j])
		if !isSpace(r) {
			break
		}
		j -= n
	}
	return j
}

// scanUntil moves to the next /\s*lit/ and returns what it passed; with no
// match it consumes the rest.
func (p *parser) scanUntil(lit string) string {
	j := p.findSpaced(p.pos, lit)
	if j < 0 {
		j = len(p.src)
	}
	s := p.src[p.pos:j]
	p.pos = j
	return s
}

// scanSpaced consumes /\s*lit/ at the current offset.
func (p *parser) scanSpaced(lit string) bool {
	i := p.skipSpace(p.pos)
	if !strings.HasPrefix(p.src[i:], lit) {
		return false
	}
	p.pos = i + len(lit)
	return true
}

func (p *parser) setDelims(spec string) error {
	// value.split(/\s+/, 2)
	var parts []string
	rest := spec
	for len(parts) < 2 {
		i := strings.IndexFunc(rest, isSpace)
		if i < 0 {
			parts = append(parts, rest)
			break
		}
		parts = append(parts, rest[:i])
		j := i
		for j < len(rest) {
			r, n := utf8.DecodeRuneInString(rest[j:])
			if !isSpace(r) {
				break
			}
			j += n
		}
		rest = rest[j:]
	}
	if len(parts) != 2 {
		return &ParseError{Msg: "Invalid tags: " + strings.Join(parts, ","), Pos: utf16Pos(p.src, p.pos)}
	}
	p.open, p.close = parts[0], parts[1]
	return nil
}

// Parse reads a template the way mustache.js 4 does, with the same errors.
func Parse(src string) (*Template, error) {
	toks, err := parse(src)
	if err != nil {
		return nil, err
	}
	return &Template{src: src, tokens: toks}, nil
}

func parse(src string) ([]token, error) {
	if src == "" {
		return nil, nil
	}
	p := &parser{src: src, open: "{{", close: "}}"}
	var (
		toks            []flat
		sections        []int
		spaces          []int
		hasTag          bool
		nonSpace        bool
		lineHasNonSpace bool
		indent          strings.Builder
		tagIndex        int
	)
	stripSpace := func() {
		if hasTag && !nonSpace {
			for _, i := range spaces {
				toks[i].deleted = true
			}
		}
		spaces = spaces[:0]
		hasTag, nonSpace = false, false
	}
	for p.pos < len(src) {
		end := len(src)
		if k := strings.Index(src[p.pos:], p.open); k >= 0 {
			end = p.pos + k
		}
		for i := p.pos; i < end; {
			r, n := utf8.DecodeRuneInString(src[i:])
			if isSpace(r) {
				spaces = append(spaces, len(toks))
				indent.WriteString(src[i : i+n])
			} else {
				nonSpace, lineHasNonSpace = true, true
				indent.WriteByte(' ')
			}
			toks = append(toks, flat{token: token{kind: kText, value: src[i : i+n]}})
			i += n
			if r == '\n' {
				stripSpace()
				indent.Reset()
				tagIndex = 0
				lineHasNonSpace = false
			}
		}
		p.pos = end
		if end == len(src) {
			break
		}
		start := p.pos
		p.pos = p.skipSpace(p.pos + len(p.open))
		hasTag = true

		k := kEscaped
		typ := byte(0)
		if p.pos < len(src) && strings.IndexByte("#^/>{&=!", src[p.pos]) >= 0 {
			typ = src[p.pos]
			p.pos++
		}
		p.pos = p.skipSpace(p.pos)
		var value string
		switch typ {
		case '=':
			value = p.scanUntil("=")
			p.scanSpaced("=")
			p.scanUntil(p.close)
		case '{':
			value = p.scanUntil("}" + p.close)
			p.scanSpaced("}")
			p.scanUntil(p.close)
		default:
			value = p.scanUntil(p.close)
		}
		if !p.scanSpaced(p.close) {
			return nil, &ParseError{Msg: "Unclosed tag at " + strconv.Itoa(utf16Pos(src, p.pos)), Pos: utf16Pos(src, p.pos)}
		}
		switch typ {
		case '#':
			k = kSection
		case '^':
			k = kInverted
		case '/':
			k = kClose
		case '>':
			k = kPartial
		case '{', '&':
			k = kRaw
		case '=':
			k = kDelims
		case '!':
			k = kComment
		}
		t := flat{token: token{kind: k, value: value}, start: start}
		if k == kPartial {
			t.indent = indent.String()
			t.firstOnTag = tagIndex == 0
			t.lineText = lineHasNonSpace
		}
		tagIndex++
		toks = append(toks, t)
		switch k {
		case kSection, kInverted:
			sections = append(sections, len(toks)-1)
		case kClose:
			if len(sections) == 0 {
				pos := utf16Pos(src, start)
				return nil, &ParseError{Msg: "Unopened section \"" + value + "\" at " + strconv.Itoa(pos), Pos: pos, Name: value}
			}
			open := toks[sections[len(sections)-1]].value
			sections = sections[:len(sections)-1]
			if open != value {
				pos := utf16Pos(src, start)
				return nil, &ParseError{Msg: "Unclosed section \"" + open + "\" at " + strconv.Itoa(pos), Pos: pos, Name: open}
			}
		case kEscaped, kRaw:
			nonSpace = true
		case kDelims:
			if err := p.setDelims(value); err != nil {
				return nil, err
			}
		}
	}
	stripSpace()
	if len(sections) > 0 {
		open := toks[sections[len(sections)-1]].value
		pos := utf16Pos(src, p.pos)
		return nil, &ParseError{Msg: "Unclosed section \"" + open + "\" at " + strconv.Itoa(pos), Pos: pos, Name: open}
	}
	return nest(squash(toks)), nil
}

// squash joins neighbouring text and drops deleted whitespace.
func squash(toks []flat) []token {
	out := make([]token, 0, len(toks)/4+1)
	var text strings.Builder
	inText := false
	flush := func() {
		if inText {
			out = append(out, token{kind: kText, value: text.String()})
			text.Reset()
			inText = false
		}
	}
	for i := range toks {
		t := &toks[i]
		if t.deleted {
			continue
		}
		if t.kind == kText {
			text.WriteString(t.value)
			inText = true
			continue
		}
		flush()
		if t.kind != kComment && t.kind != kDelims && t.kind != kClose {
			t.parts = splitName(t.value)
		}
		out = append(out, t.token)
	}
	flush()
	return out
}

// splitName splits a dotted name; mustache.js treats a name as dotted when
// a dot appears after its first character.
func splitName(name string) []string {
	if strings.IndexByte(name, '.') <= 0 {
		return nil
	}
	return strings.Split(name, ".")
}

// nest moves the tokens between a section tag and its close into the
// section's body.
func nest(toks []token) []token {
	type frame struct {
		sec   token
		outer []token
	}
	var stack []frame
	var cur []token
	for _, t := range toks {
		switch t.kind {
		case kSection, kInverted:
			stack = append(stack, frame{sec: t, outer: cur})
			cur = nil
		case kClose:
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			f.sec.body = cur
			cur = append(f.outer, f.sec)
		default:
			cur = append(cur, t)
		}
	}
	return cur
}
