package parser

import (
	"strings"

	"golang.org/x/net/html"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type:     "html",
		Category: "parser",
		Color:    "#DEBD5C",
		Icon:     "parser-html.svg",
		Inputs:   1,
		Outputs:  1,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "property", Kind: node.KindString, Default: "payload", Types: []string{"msg"}, Label: "Property"},
			{Name: "outproperty", Kind: node.KindString, Default: "payload", Types: []string{"msg"}, Label: "Output property"},
			{Name: "tag", Kind: node.KindString, Default: "", Label: "Selector"},
			{Name: "ret", Kind: node.KindString, Default: "html", Options: []string{"html", "text", "attr", "compl"}, Label: "Output"},
			{Name: "as", Kind: node.KindString, Default: "single", Options: []string{"single", "multi"}, Label: "as"},
			{Name: "chr", Kind: node.KindString, Default: "_", Label: "Property name for HTML content"},
		},
		Help: htmlHelp,
		New:  newHTML,
	})
}

const htmlHelp = `Extracts elements from an HTML document with a CSS selector.

For each matching element it returns its HTML content, its text content, an object of its
attributes, or its attributes plus its HTML content (under the *chr* key): all in one array,
or as one message per element (with ` + "`msg.parts`" + `). Without a selector in the node,
` + "`msg.select`" + ` gives it. Besides CSS selectors, the positional filters :first, :last,
:eq(n), :gt(n), :lt(n), :even and :odd may end a selector.`

type htmlNode struct {
	in, out []msg.PathPart
	tag     string
	ret     string
	multi   bool
	chr     string
}

func newHTML(cfg *node.Config) (node.Node, error) {
	n := &htmlNode{tag: cfg.Str("tag"), ret: cfg.StrOr("ret", "html"), multi: cfg.StrOr("as", "single") == "multi", chr: cfg.StrOr("chr", "_")}
	prop := cfg.StrOr("property", "payload")
	var err error
	if n.in, err = msg.ParsePath(strings.TrimPrefix(prop, "msg.")); err != nil {
		return nil, node.BadProp("property", prop, "%v", err)
	}
	out := cfg.StrOr("outproperty", prop)
	if n.out, err = msg.ParsePath(strings.TrimPrefix(out, "msg.")); err != nil {
		return nil, node.BadProp("outproperty", out, "%v", err)
	}
	return n, nil
}

func (n *htmlNode) Input(c node.Ctx, m *msg.Msg) error {
	value, err := getProp(m.Object, n.in)
	if err != nil {
		return err
	}
	if msg.IsUndefined(value) {
		c.Send(m)
		return nil
	}
	tag := n.tag
	if m.Has("select") && tag == "" {
		tag = msg.ToString(m.Value("select"))
	}
	var src string
	switch v := value.(type) {
	case string:
		src = v
	case []byte:
		src = strings.ToValidUTF8(string(v), "\uFFFD")
	default:
		src = msg.ToString(v)
	}
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		return err
	}
	var found []*html.Node
	if tag != "" {
		sel, err := compileSelector(tag)
		if err != nil {
			return err
		}
		found = sel.match(doc)
	}
	var pay []any
	for i, el := range found {
		v := n.extract(el)
		if n.multi {
			if !htmlTruthy(v) {
				continue
			}
			out := m.Clone()
			if _, err := msg.SetPath(out.Object, n.out, v, true); err != nil {
				return err
			}
			out.Set("parts", msg.ObjectOf("id", m.Value("_msgid"), "index", float64(i), "count", float64(len(found)), "type", "string", "ch", ""))
			c.Send(out)
			continue
		}
		pay = append(pay, v)
	}
	if !n.multi {
		if pay == nil {
			pay = []any{}
		}
		if _, err := msg.SetPath(m.Object, n.out, pay, true); err != nil {
			return err
		}
		c.Send(m)
	}
	return nil
}

func htmlTruthy(v any) bool {
	if s, ok := v.(string); ok {
		return s != ""
	}
	return v != nil
}

func (n *htmlNode) extract(el *html.Node) any {
	switch n.ret {
	case "html":
		return xmlOfFragment(strings.TrimSpace(innerHTML(el)))
	case "text":
		return textContent(el)
	case "attr":
		return attribs(el, nil)
	case "compl":
		o := msg.NewObject(len(el.Attr) + 1)
		o.Set(n.chr, strings.TrimSpace(innerHTML(el)))
		return attribs(el, o)
	}
	return nil
}

// attribs adds an element's attributes, in document order, to o.
func attribs(el *html.Node, o *msg.Object) *msg.Object {
	if o == nil {
		o = msg.NewObject(len(el.Attr))
	}
	seen := map[string]bool{}
	for _, a := range el.Attr {
		name := attrName(a)
		if seen[name] {
			continue
		}
		seen[name] = true
		o.Set(name, a.Val)
	}
	return o
}

func attrName(a html.Attribute) string {
	if a.Namespace != "" {
		return a.Namespace + ":" + a.Key
	}
	return a.Key
}

// textContent is cheerio's text(): the text below an element, leaving out
// comments, scripts and styles.
func textContent(n *html.Node) string {
	if n.Type == html.ElementNode && (n.Data == "script" || n.Data == "style") {
		return ""
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch c.Type {
			case html.TextNode:
				b.WriteString(c.Data)
			case html.ElementNode:
				if c.Data == "script" || c.Data == "style" {
					continue
				}
				walk(c)
			}
		}
	}
	walk(n)
	return b.String()
}
