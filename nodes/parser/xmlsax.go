package parser

import (
	"encoding/xml"
	"strconv"
	"strings"
	"unicode"
)

// A strict XML reader that behaves as sax (the parser under xml2js, which
// Node-RED's xml node uses): the same text and attribute values, the same
// first error with sax's message and its Line/Column/Char position, and
// the HTML named entities sax knows.

type saxHandler interface {
	open(name string, attrs []xmlAttr) error
	close(name string) (done bool, err error) // done: the root closed
	text(s string, cdata bool) error
}

type xmlAttr struct{ name, value string }

// saxError is a parse error as sax reports it.
type saxError struct{ msg string }

func (e *saxError) Error() string { return "Error: " + e.msg }
func (e *saxError) Stack() string { return e.Error() }

type saxState int

const (
	sBegin saxState = iota
	sBeginWhite
	sText
	sTextEntity
	sOpenWaka
	sSGMLDecl
	sSGMLQuoted
	sDoctype
	sDoctypeQuoted
	sDoctypeDTD
	sDoctypeDTDQuoted
	sComment
	sCommentEnding
	sCommentEnded
	sCDATA
	sCDATAEnding
	sCDATAEnding2
	sProcInst
	sProcInstBody
	sProcInstEnding
	sOpenTag
	sOpenTagSlash
	sAttrib
	sAttribName
	sAttribNameWhite
	sAttribValue
	sAttribValueQuoted
	sAttribValueClosed
	sAttribEntity
	sCloseTag
	sCloseTagWhite
)

type saxParser struct {
	h      saxHandler
	state  saxState
	line   int
	column int
	ch     string

	textNode   strings.Builder
	tagName    string
	attrs      []xmlAttr
	attrName   string
	attrValue  strings.Builder
	quote      rune
	entity     string
	sgml       string
	cdata      strings.Builder
	doctype    int // 0 none, 1 in doctype, 2 seen
	sawRoot    bool
	closedRoot bool
	depth      []string
}

func saxParse(s string, h saxHandler) error {
	p := &saxParser{h: h, state: sBegin}
	for _, c := range s {
		p.ch = string(c)
		if c == '\n' {
			p.line++
			p.column = 0
		} else if c >= 0x10000 {
			p.column += 2
		} else {
			p.column++
		}
		done, err := p.step(c)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
	p.ch = ""
	if p.sawRoot && !p.closedRoot {
		return p.fail("Unclosed root tag")
	}
	switch p.state {
	case sBegin, sBeginWhite, sText:
	default:
		return p.fail("Unexpected end")
	}
	return nil
}

func (p *saxParser) fail(m string) error {
	return &saxError{m + "\nLine: " + strconv.Itoa(p.line) + "\nColumn: " + strconv.Itoa(p.column) + "\nChar: " + p.ch}
}

func isSaxWhite(c rune) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func isNameStart(c rune) bool {
	switch {
	case c == ':' || c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
		return true
	case c >= 0xC0 && c <= 0xD6, c >= 0xD8 && c <= 0xF6, c >= 0xF8 && c <= 0x2FF,
		c >= 0x370 && c <= 0x37D, c >= 0x37F && c <= 0x1FFF, c >= 0x200C && c <= 0x200D,
		c >= 0x2070 && c <= 0x218F, c >= 0x2C00 && c <= 0x2FEF, c >= 0x3001 && c <= 0xD7FF,
		c >= 0xF900 && c <= 0xFDCF, c >= 0xFDF0 && c <= 0xFFFD:
		return true
	}
	return false
}

func isNameBody(c rune) bool {
	return isNameStart(c) || c == 0xB7 || c >= 0x300 && c <= 0x36F || c >= 0x203F && c <= 0x2040 ||
		c == '.' || c == '-' || c >= '0' && c <= '9'
}

func isEntityStart(c rune) bool { return c == '#' || isNameStart(c) }
func isEntityBody(c rune) bool  { return c == '#' || isNameBody(c) }

// flush hands accumulated text to the handler.
func (p *saxParser) flush() error {
	if p.textNode.Len() == 0 {
		return nil
	}
	t := p.textNode.String()
	p.textNode.Reset()
	return p.h.text(t, false)
}

func (p *saxParser) step(c rune) (bool, error) {
	switch p.state {
	case sBegin:
		p.state = sBeginWhite
		if c == 0xFEFF {
			return false, nil
		}
		return false, p.beginWhite(c)
	case sBeginWhite:
		return false, p.beginWhite(c)
	case sText:
		if c == '<' {
			p.state = sOpenWaka
			return false, nil
		}
		if !isSaxWhite(c) && (!p.sawRoot || p.closedRoot) {
			return false, p.fail("Text data outside of root node.")
		}
		if c == '&' {
			p.state = sTextEntity
			p.entity = ""
		} else {
			p.textNode.WriteRune(c)
		}
	case sTextEntity, sAttribEntity:
		return false, p.entityChar(c)
	case sOpenWaka:
		switch {
		case c == '!':
			p.state, p.sgml = sSGMLDecl, ""
		case isSaxWhite(c):
		case isNameStart(c):
			p.state, p.tagName = sOpenTag, string(c)
		case c == '/':
			p.state, p.tagName = sCloseTag, ""
		case c == '?':
			p.state = sProcInst
		default:
			return false, p.fail("Unencoded <")
		}
	case sSGMLDecl:
		decl := p.sgml + string(c)
		switch {
		case decl == "--":
			p.state, p.sgml = sComment, ""
		case p.doctype == 1 && p.sgml != "":
			p.state, p.sgml = sDoctypeDTD, ""
		case strings.EqualFold(decl, "[CDATA["):
			if err := p.flush(); err != nil {
				return false, err
			}
			p.state, p.sgml = sCDATA, ""
			p.cdata.Reset()
		case strings.EqualFold(decl, "DOCTYPE"):
			if p.doctype != 0 || p.sawRoot {
				return false, p.fail("Inappropriately located doctype declaration")
			}
			p.state, p.sgml, p.doctype = sDoctype, "", 1
		case c == '>':
			p.state, p.sgml = sText, ""
		case c == '"' || c == '\'':
			p.state, p.quote = sSGMLQuoted, c
			p.sgml += string(c)
		default:
			p.sgml += string(c)
		}
	case sSGMLQuoted:
		if c == p.quote {
			p.state = sSGMLDecl
		}
		p.sgml += string(c)
	case sDoctype:
		switch {
		case c == '>':
			p.state, p.doctype = sText, 2
		case c == '[':
			p.state = sDoctypeDTD
		case c == '"' || c == '\'':
			p.state, p.quote = sDoctypeQuoted, c
		}
	case sDoctypeQuoted:
		if c == p.quote {
			p.state = sDoctype
		}
	case sDoctypeDTD:
		switch {
		case c == ']':
			p.state = sDoctype
		case c == '"' || c == '\'':
			p.state, p.quote = sDoctypeDTDQuoted, c
		}
	case sDoctypeDTDQuoted:
		if c == p.quote {
			p.state = sDoctypeDTD
		}
	case sComment:
		if c == '-' {
			p.state = sCommentEnding
		}
	case sCommentEnding:
		if c == '-' {
			p.state = sCommentEnded
		} else {
			p.state = sComment
		}
	case sCommentEnded:
		if c != '>' {
			return false, p.fail("Malformed comment")
		}
		if p.doctype == 1 {
			p.state = sDoctypeDTD
		} else {
			p.state = sText
		}
	case sCDATA:
		if c == ']' {
			p.state = sCDATAEnding
		} else {
			p.cdata.WriteRune(c)
		}
	case sCDATAEnding:
		if c == ']' {
			p.state = sCDATAEnding2
		} else {
			p.cdata.WriteRune(']')
			p.cdata.WriteRune(c)
			p.state = sCDATA
		}
	case sCDATAEnding2:
		switch c {
		case '>':
			if p.cdata.Len() > 0 {
				if err := p.h.text(p.cdata.String(), true); err != nil {
					return false, err
				}
			}
			p.cdata.Reset()
			p.state = sText
		case ']':
			p.cdata.WriteRune(']')
		default:
			p.cdata.WriteString("]]")
			p.cdata.WriteRune(c)
			p.state = sCDATA
		}
	case sProcInst:
		if c == '?' {
			p.state = sProcInstEnding
		} else if isSaxWhite(c) {
			p.state = sProcInstBody
		}
	case sProcInstBody:
		if c == '?' {
			p.state = sProcInstEnding
		}
	case sProcInstEnding:
		if c == '>' {
			p.state = sText
		} else {
			p.state = sProcInstBody
		}
	case sOpenTag:
		if isNameBody(c) {
			p.tagName += string(c)
			return false, nil
		}
		p.attrs = nil
		switch {
		case c == '>':
			return false, p.openTag()
		case c == '/':
			p.state = sOpenTagSlash
		default:
			if !isSaxWhite(c) {
				return false, p.fail("Invalid character in tag name")
			}
			p.state = sAttrib
		}
	case sOpenTagSlash:
		if c != '>' {
			return false, p.fail("Forward-slash in opening tag not followed by >")
		}
		name := p.tagName
		if err := p.openTag(); err != nil {
			return false, err
		}
		p.tagName = name
		return p.closeTag()
	case sAttrib:
		switch {
		case isSaxWhite(c):
		case c == '>':
			return false, p.openTag()
		case c == '/':
			p.state = sOpenTagSlash
		case isNameStart(c):
			p.attrName = string(c)
			p.attrValue.Reset()
			p.state = sAttribName
		default:
			return false, p.fail("Invalid attribute name")
		}
	case sAttribName:
		switch {
		case c == '=':
			p.state = sAttribValue
		case c == '>':
			return false, p.fail("Attribute without value")
		case isSaxWhite(c):
			p.state = sAttribNameWhite
		case isNameBody(c):
			p.attrName += string(c)
		default:
			return false, p.fail("Invalid attribute name")
		}
	case sAttribNameWhite:
		switch {
		case c == '=':
			p.state = sAttribValue
		case isSaxWhite(c):
		default:
			return false, p.fail("Attribute without value")
		}
	case sAttribValue:
		switch {
		case isSaxWhite(c):
		case c == '"' || c == '\'':
			p.quote, p.state = c, sAttribValueQuoted
		default:
			return false, p.fail("Unquoted attribute value")
		}
	case sAttribValueQuoted:
		switch {
		case c == p.quote:
			p.addAttr()
			p.state = sAttribValueClosed
		case c == '&':
			p.state, p.entity = sAttribEntity, ""
		default:
			p.attrValue.WriteRune(c)
		}
	case sAttribValueClosed:
		switch {
		case isSaxWhite(c):
			p.state = sAttrib
		case c == '>':
			return false, p.openTag()
		case c == '/':
			p.state = sOpenTagSlash
		case isNameStart(c):
			return false, p.fail("No whitespace between attributes")
		default:
			return false, p.fail("Invalid attribute name")
		}
	case sCloseTag:
		if p.tagName == "" {
			switch {
			case isSaxWhite(c):
			case !isNameStart(c):
				return false, p.fail("Invalid tagname in closing tag.")
			default:
				p.tagName = string(c)
			}
			return false, nil
		}
		switch {
		case c == '>':
			return p.closeTag()
		case isNameBody(c):
			p.tagName += string(c)
		case !isSaxWhite(c):
			return false, p.fail("Invalid tagname in closing tag")
		default:
			p.state = sCloseTagWhite
		}
	case sCloseTagWhite:
		switch {
		case isSaxWhite(c):
		case c == '>':
			return p.closeTag()
		default:
			return false, p.fail("Invalid characters in closing tag")
		}
	}
	return false, nil
}

func (p *saxParser) beginWhite(c rune) error {
	if c == '<' {
		p.state = sOpenWaka
	} else if !isSaxWhite(c) {
		return p.fail("Non-whitespace before first tag.")
	}
	return nil
}

func (p *saxParser) addAttr() {
	for _, a := range p.attrs {
		if a.name == p.attrName {
			return // the first of two equal attributes wins
		}
	}
	p.attrs = append(p.attrs, xmlAttr{p.attrName, p.attrValue.String()})
	p.attrName = ""
	p.attrValue.Reset()
}

func (p *saxParser) openTag() error {
	if err := p.flush(); err != nil {
		return err
	}
	p.sawRoot = true
	p.depth = append(p.depth, p.tagName)
	attrs := p.attrs
	p.attrs = nil
	p.state = sText
	return p.h.open(p.tagName, attrs)
}

func (p *saxParser) closeTag() (bool, error) {
	if p.tagName == "" {
		return false, p.fail("Weird empty close tag.")
	}
	if err := p.flush(); err != nil {
		return false, err
	}
	if len(p.depth) == 0 {
		return false, p.fail("Unmatched closing tag: " + p.tagName)
	}
	if p.depth[len(p.depth)-1] != p.tagName {
		return false, p.fail("Unexpected close tag")
	}
	p.depth = p.depth[:len(p.depth)-1]
	name := p.tagName
	p.tagName = ""
	p.state = sText
	done, err := p.h.close(name)
	if len(p.depth) == 0 {
		p.closedRoot = true
	}
	return done, err
}

func (p *saxParser) entityChar(c rune) error {
	ret, buf := sText, &p.textNode
	if p.state == sAttribEntity {
		ret, buf = sAttribValueQuoted, &p.attrValue
	}
	switch {
	case c == ';':
		v, ok := saxEntity(p.entity)
		if !ok {
			return p.fail("Invalid character entity")
		}
		buf.WriteString(v)
		p.entity = ""
		p.state = ret
	case p.entity == "" && isEntityStart(c) || p.entity != "" && isEntityBody(c):
		p.entity += string(c)
	default:
		return p.fail("Invalid character in entity name")
	}
	return nil
}

var xmlEntities = map[string]string{"amp": "&", "gt": ">", "lt": "<", "quot": `"`, "apos": "'"}

// saxEntity resolves an entity reference the way sax does: the XML and
// HTML named entities (exact, then lower case), then character references
// that round-trip and name an XML character.
func saxEntity(e string) (string, bool) {
	for _, name := range []string{e, strings.ToLower(e)} {
		if v, ok := xmlEntities[name]; ok {
			return v, true
		}
		if v, ok := xml.HTMLEntity[name]; ok {
			return v, true
		}
	}
	e = strings.ToLower(e)
	if !strings.HasPrefix(e, "#") {
		return "", false
	}
	base, digits := 10, e[1:]
	if strings.HasPrefix(digits, "x") {
		base, digits = 16, digits[1:]
	}
	// parseInt reads the leading digits; the rest must be nothing.
	n, err := strconv.ParseInt(strings.TrimLeft(digits, "0"), base, 32)
	if strings.TrimLeft(digits, "0") == "" && digits != "" {
		n, err = 0, nil
	}
	if err != nil || digits == "" {
		return "", false
	}
	r := rune(n)
	if !(r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF) {
		return "", false
	}
	return string(r), true
}

// jsWhitespaceOnly is /^\s*$/ with JavaScript's \s.
func jsWhitespaceOnly(s string) bool {
	for _, r := range s {
		if !isJSSpace(r) {
			return false
		}
	}
	return true
}

func isJSSpace(r rune) bool {
	return unicode.IsSpace(r) || r == 0xFEFF
}

// jsTrim is String.prototype.trim.
func jsTrim(s string) string { return strings.TrimFunc(s, isJSSpace) }
