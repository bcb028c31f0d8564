package parser

import (
	"errors"
	"strings"

	"github.com/sluicehq/sluice/runtime/jsyaml"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type:     "yaml",
		Category: "parser",
		Color:    "#DEBD5C",
		Icon:     "parser-yaml.svg",
		Inputs:   1,
		Outputs:  1,
		Props: []node.Prop{
			{Name: "property", Kind: node.KindString, Default: "payload", Required: true, Types: []string{"msg"}, Label: "Property"},
			{Name: "name", Kind: node.KindString, Default: ""},
		},
		Help: yamlHelp,
		New:  newYAML,
	})
}

const yamlHelp = `Converts between a YAML string and the object it describes.

A string is parsed (YAML 1.2 core types, timestamps as dates, merge keys); an object or array
is written as YAML in block style, keys in their order, strings quoted only where YAML would
read them as something else. Buffers and other values are ignored with a warning; a message
without the property passes through. A parse error goes to catch nodes.`

const (
	yamlErrDroppedObject = "Ignored non-object payload"
	yamlErrDropped       = "Ignored unsupported payload type"
	yamlErrConvert       = "Failed to convert payload"
)

type yamlNode struct {
	path []msg.PathPart
}

func newYAML(cfg *node.Config) (node.Node, error) {
	prop := cfg.StrOr("property", "payload")
	p, err := msg.ParsePath(strings.TrimPrefix(prop, "msg."))
	if err != nil {
		return nil, node.BadProp("property", prop, "%v", err)
	}
	return &yamlNode{path: p}, nil
}

func (n *yamlNode) Input(c node.Ctx, m *msg.Msg) error {
	value, err := getProp(m.Object, n.path)
	if err != nil {
		return err
	}
	switch v := value.(type) {
	case msg.Undefined:
		c.Send(m)
		return nil
	case string:
		out, err := jsyaml.Load(v)
		if err != nil {
			return err
		}
		if _, err := msg.SetPath(m.Object, n.path, out, true); err != nil {
			return err
		}
		c.Send(m)
		return nil
	case []byte:
		c.Warn(yamlErrDroppedObject)
		return nil
	case *msg.Object, []any, nil:
		out, err := yamlDump(v)
		if err != nil {
			return errors.New(yamlErrConvert)
		}
		if _, err := msg.SetPath(m.Object, n.path, out, true); err != nil {
			return err
		}
		c.Send(m)
		return nil
	}
	if isObjectType(value) {
		// Dates and other objects js-yaml cannot write.
		if out, err := yamlDump(value); err == nil {
			if _, err := msg.SetPath(m.Object, n.path, out, true); err != nil {
				return err
			}
			c.Send(m)
			return nil
		}
		return errors.New(yamlErrConvert)
	}
	c.Warn(yamlErrDropped)
	return nil
}

// getProp reads a property as RED.util.getMessageProperty does; stepping
// through a missing parent is JavaScript's TypeError (with a stack for
// catch nodes).
func getProp(root *msg.Object, path []msg.PathPart) (any, error) {
	v, err := readProp(root, path)
	if err != nil {
		return nil, &node.JSError{Name: "TypeError", Message: strings.TrimPrefix(err.Error(), "TypeError: ")}
	}
	return v, nil
}
