package parser

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// Writing objects as XML the way xml2js's Builder (on xmlbuilder 11) does
// with the options Node-RED passes: xml2js's walk over the object, then
// xmlbuilder's escaping, name checks and layout.

type xmlBuildOptions struct {
	attrKey, charKey string
	rootName         string
	headless         bool
	cdata            bool
	pretty           bool
	indent, newline  string
	decl             *msg.Object // version, encoding, standalone
}

func newXMLBuildOptions(o *msg.Object) xmlBuildOptions {
	b := xmlBuildOptions{attrKey: "$", charKey: "_", rootName: "root", indent: "  ", newline: "\n", pretty: true,
		decl: msg.ObjectOf("version", "1.0", "encoding", "UTF-8", "standalone", true)}
	str := func(k string, def string) string {
		if v, ok := o.Get(k); ok {
			return msg.ToString(v)
		}
		return def
	}
	b.attrKey = str("attrkey", "$")
	b.charKey = str("charkey", "_")
	b.rootName = str("rootName", "root")
	b.headless = msg.Truthy(o.Value("headless"))
	b.cdata = msg.Truthy(o.Value("cdata"))
	if d, ok := o.Value("xmldec").(*msg.Object); ok {
		b.decl = d
	}
	if r, ok := o.Value("renderOpts").(*msg.Object); ok {
		b.pretty = msg.Truthy(r.Value("pretty"))
		if v, ok := r.Get("indent"); ok {
			b.indent = msg.ToString(v)
		}
		if v, ok := r.Get("newline"); ok {
			b.newline = msg.ToString(v)
		}
	}
	return b
}

// xnode is an xmlbuilder node: an element, or text / raw (CDATA) content.
type xnode struct {
	name     string // element name; "" for text and raw
	raw      bool
	value    string
	attrs    []xmlAttr
	children []*xnode
}

func (e *xnode) setAttr(name, value string) {
	for i := range e.attrs {
		if e.attrs[i].name == name {
			e.attrs[i].value = value
			return
		}
	}
	e.attrs = append(e.attrs, xmlAttr{name, value})
}

type xmlBuilder struct {
	opts    xmlBuildOptions
	version string
}

func xmlFromObject(v any, opts xmlBuildOptions) (string, error) {
	b := &xmlBuilder{opts: opts, version: "1.0"}
	if ver, ok := opts.decl.Get("version"); ok && msg.Truthy(ver) {
		b.version = msg.ToString(ver)
	}
	rootName := opts.rootName
	keys := forInKeys(v)
	if len(keys) == 1 && opts.rootName == "root" {
		rootName = keys[0]
		v = member(v, keys[0])
	}
	root, err := b.element(rootName)
	if err != nil {
		return "", err
	}
	if err := b.render(root, v); err != nil {
		return "", err
	}
	var out strings.Builder
	if !opts.headless {
		out.WriteString(`<?xml version="` + b.version + `"`)
		if enc, ok := opts.decl.Get("encoding"); ok && enc != nil && !msg.IsUndefined(enc) {
			out.WriteString(` encoding="` + msg.ToString(enc) + `"`)
		}
		if sa, ok := opts.decl.Get("standalone"); ok && sa != nil && !msg.IsUndefined(sa) {
			yes := "no"
			if msg.Truthy(sa) {
				yes = "yes"
			}
			out.WriteString(` standalone="` + yes + `"`)
		}
		out.WriteString("?>")
		if opts.pretty {
			out.WriteString(opts.newline)
		}
	}
	b.write(&out, root, 0, 0)
	s := out.String()
	if opts.pretty {
		s = strings.TrimSuffix(s, opts.newline)
	}
	return s, nil
}

var xmlNameRE = regexp.MustCompile(`^[:A-Z_a-z\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{2FF}\x{370}-\x{37D}\x{37F}-\x{1FFF}\x{200C}\x{200D}\x{2070}-\x{218F}\x{2C00}-\x{2FEF}\x{3001}-\x{D7FF}\x{F900}-\x{FDCF}\x{FDF0}-\x{FFFD}\x{10000}-\x{EFFFF}][\-.0-9:A-Z_a-z\x{B7}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{37D}\x{37F}-\x{1FFF}\x{200C}\x{200D}\x{203F}\x{2040}\x{2070}-\x{218F}\x{2C00}-\x{2FEF}\x{3001}-\x{D7FF}\x{F900}-\x{FDCF}\x{FDF0}-\x{FFFD}\x{10000}-\x{EFFFF}]*$`)

func (b *xmlBuilder) element(name string) (*xnode, error) {
	if err := b.legalChars(name); err != nil {
		return nil, err
	}
	if !xmlNameRE.MatchString(name) {
		return nil, &node.JSError{Name: "Error", Message: "Invalid character in name"}
	}
	return &xnode{name: name}, nil
}

// legalChars is xmlbuilder's check that text holds only XML characters.
func (b *xmlBuilder) legalChars(s string) error {
	idx := 0
	for _, r := range s {
		bad := r == 0xFFFE || r == 0xFFFF
		if b.version == "1.0" {
			bad = bad || r <= 0x08 || r == 0x0B || r == 0x0C || r >= 0x0E && r <= 0x1F
		} else if b.version == "1.1" {
			bad = bad || r == 0
		}
		if bad {
			return &node.JSError{Name: "Error", Message: "Invalid character in string: " + s + " at index " + strconv.Itoa(idx)}
		}
		idx += len(utf16.Encode([]rune{r}))
	}
	return nil
}

func (b *xmlBuilder) text(e *xnode, v any) error {
	esc := textEscaper.Replace(msg.ToString(v))
	if err := b.legalChars(esc); err != nil {
		return err
	}
	e.children = append(e.children, &xnode{value: esc})
	return nil
}

var (
	textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#xD;")
	attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;", "\t", "&#x9;", "\n", "&#xA;", "\r", "&#xD;")
)

func (b *xmlBuilder) rawCDATA(e *xnode, s string) {
	e.children = append(e.children, &xnode{raw: true, value: "<![CDATA[" + strings.Replace(s, "]]>", "]]]]><![CDATA[>", 1) + "]]>"})
}

func needsCDATA(v any) bool {
	s, ok := v.(string)
	return ok && strings.ContainsAny(s, "&<>")
}

func (b *xmlBuilder) child(e *xnode, name string) (*xnode, error) {
	c, err := b.element(name)
	if err != nil {
		return nil, err
	}
	e.children = append(e.children, c)
	return c, nil
}

// render is xml2js's walk: scalars become text, arrays repeat their
// items' keys, objects give attributes, text and child elements.
func (b *xmlBuilder) render(e *xnode, v any) error {
	if !isObjectType(v) {
		if b.opts.cdata && needsCDATA(v) {
			b.rawCDATA(e, v.(string))
			return nil
		}
		return b.text(e, v)
	}
	if arr, ok := v.([]any); ok {
		for _, item := range arr {
			for _, k := range forInKeys(item) {
				c, err := b.child(e, k)
				if err != nil {
					return err
				}
				if err := b.render(c, member(item, k)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, k := range forInKeys(v) {
		val := member(v, k)
		switch {
		case k == b.opts.attrKey:
			if isObjectType(val) {
				for _, an := range forInKeys(val) {
					av := member(val, an)
					if av == nil || msg.IsUndefined(av) {
						continue
					}
					if err := b.legalChars(an); err != nil {
						return err
					}
					if !xmlNameRE.MatchString(an) {
						return &node.JSError{Name: "Error", Message: "Invalid character in name"}
					}
					esc := attrEscaper.Replace(msg.ToString(av))
					if err := b.legalChars(esc); err != nil {
						return err
					}
					e.setAttr(an, esc)
				}
			}
		case k == b.opts.charKey:
			if b.opts.cdata && needsCDATA(val) {
				b.rawCDATA(e, val.(string))
			} else if err := b.text(e, val); err != nil {
				return err
			}
		default:
			if arr, ok := val.([]any); ok {
				for _, item := range arr {
					c, err := b.child(e, k)
					if err != nil {
						return err
					}
					if s, ok := item.(string); ok {
						if b.opts.cdata && needsCDATA(s) {
							b.rawCDATA(c, s)
						} else if err := b.text(c, s); err != nil {
							return err
						}
						continue
					}
					if err := b.render(c, item); err != nil {
						return err
					}
				}
				continue
			}
			c, err := b.child(e, k)
			if err != nil {
				return err
			}
			if isObjectType(val) {
				if err := b.render(c, val); err != nil {
					return err
				}
				continue
			}
			if b.opts.cdata && needsCDATA(val) {
				b.rawCDATA(c, val.(string))
				continue
			}
			if val == nil || msg.IsUndefined(val) {
				val = ""
			}
			if err := b.text(c, val); err != nil {
				return err
			}
		}
	}
	return nil
}

// write lays an element out as xmlbuilder's string writer does.
func (b *xmlBuilder) write(out *strings.Builder, e *xnode, level, suppress int) {
	pretty := b.opts.pretty && suppress == 0
	indent := func(l int) {
		if pretty && l > 0 {
			out.WriteString(strings.Repeat(b.opts.indent, l))
		}
	}
	endline := func() {
		if pretty {
			out.WriteString(b.opts.newline)
		}
	}
	if e.name == "" {
		indent(level)
		out.WriteString(e.value)
		endline()
		return
	}
	indent(level)
	out.WriteString("<" + e.name)
	for _, a := range e.attrs {
		out.WriteString(" " + a.name + `="` + a.value + `"`)
	}
	empty := true
	for _, c := range e.children {
		if c.name != "" || c.value != "" {
			empty = false
			break
		}
	}
	switch {
	case empty:
		out.WriteString("/>")
		endline()
	case b.opts.pretty && len(e.children) == 1 && e.children[0].name == "":
		out.WriteString(">")
		b.write(out, e.children[0], level+1, suppress+1)
		out.WriteString("</" + e.name + ">")
		endline()
	default:
		out.WriteString(">")
		endline()
		for _, c := range e.children {
			b.write(out, c, level+1, suppress)
		}
		indent(level)
		out.WriteString("</" + e.name + ">")
		endline()
	}
}
