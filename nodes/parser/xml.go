package parser

import (
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type:     "xml",
		Category: "parser",
		Color:    "#DEBD5C",
		Icon:     "parser-xml.svg",
		Inputs:   1,
		Outputs:  1,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "property", Kind: node.KindString, Default: "payload", Required: true, Types: []string{"msg"}, Label: "Property"},
			{Name: "attr", Kind: node.KindString, Default: "", Label: "Property name for XML tag attributes"},
			{Name: "chr", Kind: node.KindString, Default: "", Label: "Property name for tag text content"},
		},
		Help: xmlHelp,
		New:  newXML,
	})
}

const xmlHelp = `Converts between an XML string and the object it describes, with xml2js's conventions.

**XML to object**: elements become properties holding arrays of children, attributes go under
` + "`$`" + ` and text under ` + "`_`" + ` (both names can be changed); an element with only text becomes the
string. ` + "`msg.options`" + ` passes xml2js parser options (explicitArray, explicitRoot, mergeAttrs,
ignoreAttrs, explicitCharkey, trim, normalize, normalizeTags, emptyTag).

**Object to XML**: the reverse, with an XML declaration; ` + "`msg.options`" + ` passes builder
options (rootName, headless, renderOpts.pretty, xmldec, cdata).

Malformed XML is an error for catch nodes, with the parser's message and position.`

const xmlErrJS = "This node only handles xml strings or js objects."

type xmlNode struct {
	path    []msg.PathPart
	attrKey string
	charKey string
}

func newXML(cfg *node.Config) (node.Node, error) {
	prop := cfg.StrOr("property", "payload")
	p, err := msg.ParsePath(strings.TrimPrefix(prop, "msg."))
	if err != nil {
		return nil, node.BadProp("property", prop, "%v", err)
	}
	return &xmlNode{path: p, attrKey: cfg.Str("attr"), charKey: cfg.Str("chr")}, nil
}

func (n *xmlNode) Input(c node.Ctx, m *msg.Msg) error {
	value, err := getProp(m.Object, n.path)
	if err != nil {
		return err
	}
	switch v := value.(type) {
	case msg.Undefined:
		c.Send(m)
		return nil
	case string:
		opts := xmlOptionsOf(m)
		opts.Set("async", true)
		opts.Set("attrkey", firstTruthy(n.attrKey, opts.Value("attrkey"), "$"))
		opts.Set("charkey", firstTruthy(n.charKey, opts.Value("charkey"), "_"))
		out, err := xmlToObject(v, newXMLParseOptions(opts))
		if err != nil {
			return err
		}
		if _, err := msg.SetPath(m.Object, n.path, out, true); err != nil {
			return err
		}
		c.Send(m)
		return nil
	case float64, bool, int, int64:
		c.Warn(xmlErrJS)
		return nil
	}
	var opts *msg.Object
	if o, ok := m.Value("options").(*msg.Object); ok {
		opts = o
	} else {
		opts = msg.ObjectOf("renderOpts", msg.ObjectOf("pretty", false))
	}
	opts.Set("async", false)
	out, err := xmlFromObject(value, newXMLBuildOptions(opts))
	if err != nil {
		return err
	}
	if _, err := msg.SetPath(m.Object, n.path, out, true); err != nil {
		return err
	}
	c.Send(m)
	return nil
}

// xmlOptionsOf is msg.options when it is an object (Node-RED writes the
// options it adds into it), else a fresh object.
func xmlOptionsOf(m *msg.Msg) *msg.Object {
	if o, ok := m.Value("options").(*msg.Object); ok {
		return o
	}
	return msg.NewObject(3)
}

// firstTruthy is a || b || c for strings.
func firstTruthy(a string, b any, c string) string {
	if a != "" {
		return a
	}
	if msg.Truthy(b) {
		return msg.ToString(b)
	}
	return c
}
