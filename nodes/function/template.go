package function

import (
	"errors"
	"regexp"
	"strings"
	"sync"

	"github.com/sluicehq/sluice/runtime/jsyaml"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/mustache"
	"github.com/sluicehq/sluice/runtime/node"
	"github.com/sluicehq/sluice/runtime/typed"
)

func init() {
	node.Register(&node.Spec{
		Type:     "template",
		Category: "function",
		Color:    "rgb(243, 181, 103)",
		Icon:     "template.svg",
		Inputs:   1,
		Outputs:  1,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "field", Kind: node.KindString, Default: "payload", TypeProp: "fieldType", Types: []string{"msg", "flow", "global"}, Label: "Property"},
			{Name: "fieldType", Kind: node.KindString, Default: "msg", Options: []string{"msg", "flow", "global"}},
			{Name: "format", Kind: node.KindString, Default: "handlebars", Label: "Syntax highlight"},
			{Name: "syntax", Kind: node.KindString, Default: "mustache", Options: []string{"mustache", "plain"}, Label: "Format"},
			{Name: "template", Kind: node.KindString, Default: "This is the payload: {{payload}} !", Label: "Template"},
			{Name: "output", Kind: node.KindString, Default: "str", Options: []string{"str", "json", "yaml"}, Label: "Output as"},
		},
		// Node-RED's node copies its name, so errors show "name": "".
		NameAlways: true,
		Help:       templateHelp,
		New:        newTemplate,
	})
}

const templateHelp = `Sets a property from a template.

**Mustache** templates are rendered as mustache.js renders them, with the message as the
view: ` + "`{{payload}}`" + ` and ` + "`{{payload.name}}`" + ` are HTML-escaped,
` + "`{{{payload}}}`" + ` and ` + "`{{&payload}}`" + ` are not; ` + "`{{#list}}...{{/list}}`" + ` repeats
over arrays, ` + "`{{^x}}`" + ` renders when x is empty or false. Numbers print as JavaScript
prints them, objects as ` + "`[object Object]`" + `, arrays joined by commas.
` + "`{{flow.name}}`" + `, ` + "`{{global.name}}`" + ` (or ` + "`{{flow[store].name}}`" + `) read context and
` + "`{{env.NAME}}`" + ` environment variables.

**Plain text** leaves the template as it is.

**Output as** a string, or parsed as JSON or YAML into an object. With JSON output, strings
from the message have backslashes, newlines and tabs escaped so that the result stays valid
JSON.

When the template is empty, ` + "`msg.template`" + ` is used instead.

A template whose tags do not balance is refused when the flow is deployed.`

// contextName is a tag that names a flow, global or env value, fetched
// before each rendering as Node-RED does.
type contextName struct {
	name   string
	env    string // env.NAME: the variable
	global bool
	store  string
	key    string
}

var (
	ctxNameRE = regexp.MustCompile(`^(flow|global)(\[(\w+)\])?\.([^\n\r\x{2028}\x{2029}]+)`)
	envNameRE = regexp.MustCompile(`^env\.([^\n\r\x{2028}\x{2029}]+)`)
)

// parsedTemplate is a mustache template with the context names it uses.
type parsedTemplate struct {
	t     *mustache.Template
	names []contextName
}

func prepareTemplate(src string) (*parsedTemplate, error) {
	t, err := mustache.Parse(src)
	if err != nil {
		return nil, err
	}
	p := &parsedTemplate{t: t}
	for _, name := range t.Names() {
		if m := envNameRE.FindStringSubmatch(name); m != nil {
			p.names = append(p.names, contextName{name: name, env: m[1]})
			continue
		}
		if m := ctxNameRE.FindStringSubmatch(name); m != nil {
			p.names = append(p.names, contextName{name: name, global: m[1] == "global", store: m[3], key: m[4]})
		}
	}
	return p, nil
}

type templateNode struct {
	syntax   string // mustache, plain
	output   string // str, json, yaml
	tmpl     any    // the template property as written (msg.Undefined when absent)
	parsed   *parsedTemplate
	fieldTyp string
	field    string
	path     []msg.PathPart // fieldType msg
	store    string         // fieldType flow, global
	key      string

	opts *mustache.Options // for templates without context names

	// dynamic caches the last msg.template parsed, which a flow usually
	// sends again and again.
	mu      sync.Mutex
	dynSrc  string
	dynamic *parsedTemplate
}

func newTemplate(cfg *node.Config) (node.Node, error) {
	n := &templateNode{
		syntax:   cfg.StrOr("syntax", "mustache"),
		output:   cfg.StrOr("output", "str"),
		fieldTyp: cfg.StrOr("fieldType", "msg"),
	}
	if v, ok := cfg.Raw.Get("template"); ok {
		n.tmpl = v
	} else {
		n.tmpl = msg.Undefined{}
	}
	field := cfg.StrOr("field", "payload")
	n.field = field
	switch n.fieldTyp {
	case "msg":
		p, err := msgPath(field)
		if err != nil {
			return nil, node.BadProp("field", field, "%v", err)
		}
		n.path = p
	case "flow", "global":
		n.store, n.key = typed.ParseContextStore(field)
		if _, err := msg.ParsePath(n.key); err != nil {
			return nil, node.BadProp("field", field, "%v", err)
		}
	default:
		return nil, node.BadProp("fieldType", n.fieldTyp, `must be "msg", "flow" or "global"`)
	}
	switch n.output {
	case "str", "json", "yaml":
	default:
		return nil, node.BadProp("output", n.output, `must be "str", "json" or "yaml"`)
	}
	n.opts = &mustache.Options{Missing: missingEmpty}
	if n.output == "json" {
		n.opts.RootString = jsonEscaper.Replace
	}
	if s, ok := n.tmpl.(string); ok && n.syntax == "mustache" && s != "" {
		p, err := prepareTemplate(s)
		if err != nil {
			return nil, node.BadProp("template", nil, "mustache: %v", err)
		}
		n.parsed = p
	}
	return n, nil
}

func (n *templateNode) Input(c node.Ctx, m *msg.Msg) error {
	src, parsed := n.tmpl, n.parsed
	if v, ok := m.Get("template"); ok && (n.tmpl == "" || n.tmpl == nil) {
		src, parsed = v, nil
	}
	var value any = src
	if n.syntax == "mustache" {
		s, err := n.render(c, m, src, parsed)
		if err != nil {
			return err
		}
		value = s
	}
	switch n.output {
	case "json":
		v, err := msg.UnmarshalString(jsText(value))
		if err != nil {
			return errors.New(err.Error())
		}
		value = v
	case "yaml":
		v, err := jsyaml.Load(jsText(value))
		if err != nil {
			return err
		}
		value = v
	}
	if n.fieldTyp == "msg" {
		if _, err := setProp(m.Object, n.path, value); err != nil {
			if err == errSkip {
				return &TypeError{Msg: "Cannot set property " + n.field}
			}
			return err
		}
		c.Send(m)
		return nil
	}
	scope := c.FlowContext()
	if n.fieldTyp == "global" {
		scope = c.GlobalContext()
	}
	if err := scope.Set(n.key, value, n.store); err != nil {
		return err
	}
	c.Send(m)
	return nil
}

// jsText is String(v) as JSON.parse and js-yaml apply it to their input.
func jsText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return jsString(v)
}

func (n *templateNode) render(c node.Ctx, m *msg.Msg, src any, p *parsedTemplate) (string, error) {
	s, ok := src.(string)
	if !ok {
		// mustache.js refuses what is not a string: falsy values when
		// rendering, anything else already while scanning it.
		if msg.Truthy(src) {
			return "", errors.New("this.tail.search is not a function")
		}
		kind := msg.TypeOf(src)
		if _, isArr := src.([]any); isArr {
			kind = "array"
		}
		return "", errors.New(`Invalid template! Template should be a "string" but "` + kind + `" was given as the first argument for mustache#render(template, view, partials)`)
	}
	if p == nil {
		var err error
		if p, err = n.dynamicTemplate(s); err != nil {
			return "", err
		}
	}
	var vals []any
	if len(p.names) > 0 {
		vals = make([]any, len(p.names))
		for i, cn := range p.names {
			if cn.env != "" {
				vals[i] = typed.EvalEnv(cn.env, c.Env)
				continue
			}
			scope := c.FlowContext()
			if cn.global {
				scope = c.GlobalContext()
			}
			v, err := scope.Get(cn.key, cn.store)
			if err != nil {
				return "", err
			}
			vals[i] = v
		}
	}
	opts := n.opts
	if len(p.names) > 0 {
		opts = &mustache.Options{
			// Node-RED answers names the message lacks from the context
			// values fetched above, and with "" for anything else.
			Missing: func(name string) any {
				for i, cn := range p.names {
					if cn.name == name {
						return vals[i]
					}
				}
				return ""
			},
			RootString: n.opts.RootString,
		}
	}
	return p.t.Render(m.Object, opts)
}

func missingEmpty(string) any { return "" }

// jsonEscaper keeps message strings valid inside JSON string literals; only
// these characters, not quotes, as in Node-RED.
var jsonEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\t", `\t`, "\r", `\r`, "\f", `\f`, "\b", `\b`)

func (n *templateNode) dynamicTemplate(s string) (*parsedTemplate, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.dynamic != nil && n.dynSrc == s {
		return n.dynamic, nil
	}
	p, err := prepareTemplate(s)
	if err != nil {
		return nil, err
	}
	n.dynSrc, n.dynamic = s, p
	return p, nil
}
