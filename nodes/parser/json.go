// Package parser holds Node-RED's parser nodes (json, ...).
package parser

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type:     "json",
		Category: "parser",
		Color:    "#DEBD5C",
		Icon:     "parser-json.svg",
		Inputs:   1,
		Outputs:  1,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "property", Kind: node.KindString, Default: "payload", Required: true, Types: []string{"msg"}, Label: "Property"},
			{Name: "action", Kind: node.KindString, Default: "", Options: []string{"", "str", "obj"}, Label: "Action"},
			{Name: "pretty", Kind: node.KindBool, Default: false, Label: "Format JSON string"},
		},
		Help: jsonHelp,
		New:  newJSON,
	})
}

const jsonHelp = `Converts between a JSON string and the object it describes.

**Input**: the chosen message property (default ` + "`msg.payload`" + `).
- A string (or Buffer) is parsed into an object.
- An object, array, number, boolean or null is written out as a JSON string.

**Action** forces one direction: *Always convert to JSON String* leaves strings alone,
*Always convert to JavaScript Object* leaves objects alone. *Format JSON string* indents
the output with four spaces.

**Validation**: when the message carries ` + "`msg.schema`" + ` (a JSON Schema), the object is
checked against it; on success ` + "`msg.schema`" + ` is removed, on failure the error goes to
catch nodes and ` + "`msg.schemaError`" + ` lists the problems.

A parse error goes to catch nodes with JavaScript's JSON.parse message; a message without
the property passes through unchanged.`

const (
	errSchema        = "JSON Schema error"
	errSchemaCompile = "JSON Schema error: failed to compile schema"
)

type jsonNode struct {
	action string
	indent string
	prop   string
	path   []msg.PathPart

	// the last schema seen, compiled; Node-RED recompiles only when the
	// schema's JSON text changes.
	schemaText string
	schema     *schema
}

func newJSON(cfg *node.Config) (node.Node, error) {
	n := &jsonNode{action: cfg.Str("action"), prop: cfg.StrOr("property", "payload")}
	switch n.action {
	case "", "str", "obj":
	default:
		return nil, node.BadProp("action", n.action, `must be "", "str" or "obj"`)
	}
	if msg.Truthy(cfg.Get("pretty")) {
		n.indent = "    "
	}
	p, err := msg.ParsePath(strings.TrimPrefix(n.prop, "msg."))
	if err != nil {
		return nil, node.BadProp("property", n.prop, "%v", err)
	}
	n.path = p
	return n, nil
}

func (n *jsonNode) Input(c node.Ctx, m *msg.Msg) error {
	validate := false
	if s, ok := m.Get("schema"); ok && msg.Truthy(s) {
		if err := n.loadSchema(s); err != nil {
			return errors.New(errSchemaCompile)
		}
		validate = true
	}
	value, err := readProp(m.Object, n.path)
	if err != nil {
		return err
	}
	switch v := value.(type) {
	case msg.Undefined:
		c.Send(m)
		return nil
	case string, []byte:
		if n.action == "str" {
			if validate {
				// Node-RED checks msg[property] here, not the nested path.
				top, err := jsonParse(m.Value(n.prop))
				if err != nil {
					return err
				}
				if err := n.check(m, top); err != nil {
					return err
				}
			}
			c.Send(m)
			return nil
		}
		parsed, err := jsonParse(v)
		if err != nil {
			return err
		}
		if _, err := msg.SetPath(m.Object, n.path, parsed, true); err != nil {
			return err
		}
		if validate {
			if err := n.check(m, topValue(m, n.prop)); err != nil {
				return err
			}
		}
		c.Send(m)
		return nil
	default:
		if n.action == "obj" {
			if validate {
				if err := n.check(m, v); err != nil {
					return err
				}
			}
			c.Send(m)
			return nil
		}
		if validate {
			if err := n.check(m, v); err != nil {
				return err
			}
		}
		var out []byte
		if n.indent != "" {
			out = msg.MarshalIndent(v, n.indent)
		} else {
			out = msg.Marshal(v)
		}
		if _, err := msg.SetPath(m.Object, n.path, string(out), true); err != nil {
			return err
		}
		c.Send(m)
		return nil
	}
}

// topValue is msg[prop] as Node-RED reads it for validation after parsing:
// a plain key lookup, so a nested property path finds nothing.
func topValue(m *msg.Msg, prop string) any {
	v, ok := m.Get(prop)
	if !ok {
		return msg.Undefined{}
	}
	return v
}

// check validates v against the compiled schema; on failure it records
// msg.schemaError and returns the error for catch nodes.
func (n *jsonNode) check(m *msg.Msg, v any) error {
	errs := n.schema.validate(v)
	if errs == nil {
		m.Delete("schema")
		return nil
	}
	m.Set("schemaError", errs.objects())
	return fmt.Errorf("%s: %s", errSchema, errs.text())
}

func (n *jsonNode) loadSchema(s any) error {
	text := string(msg.Marshal(s))
	if n.schema != nil && text == n.schemaText {
		return nil
	}
	sc, err := compileSchema(s)
	if err != nil {
		n.schema, n.schemaText = nil, ""
		return err
	}
	n.schema, n.schemaText = sc, text
	return nil
}

// jsonParse is JSON.parse(v): Buffers are decoded as UTF-8 first, other
// values go through String() as JavaScript does.
func jsonParse(v any) (any, error) {
	switch t := v.(type) {
	case string:
		return msg.UnmarshalString(t)
	case []byte:
		return msg.UnmarshalString(strings.ToValidUTF8(string(t), "\uFFFD"))
	case msg.Undefined:
		return nil, &msg.SyntaxError{Msg: `"undefined" is not valid JSON`}
	}
	return msg.UnmarshalString(msg.ToString(v))
}

// readProp reads a property as RED.util.getMessageProperty does: stepping
// through null or undefined is JavaScript's TypeError, which Node-RED
// reports with its name.
func readProp(root *msg.Object, parts []msg.PathPart) (any, error) {
	if v, ok := msg.GetPath(root, parts); ok {
		return v, nil
	}
	for i := 0; i < len(parts)-1; i++ {
		v, ok := msg.GetPath(root, parts[:i+1])
		switch {
		case !ok || msg.IsUndefined(v):
			return nil, fmt.Errorf("TypeError: Cannot read properties of undefined (reading '%s')", parts[i+1])
		case v == nil:
			return nil, fmt.Errorf("TypeError: Cannot read properties of null (reading '%s')", parts[i+1])
		}
	}
	return msg.Undefined{}, nil
}
