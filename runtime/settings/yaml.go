package settings

import (
	"fmt"

	"github.com/sluicehq/sluice/runtime/msg"
	"go.yaml.in/yaml/v3"
)

// parseYAML reads a YAML settings file into the message model, keeping key
// order, and records the line of every path for error messages.
func parseYAML(data []byte, file string) (*msg.Object, map[string]int, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	lines := map[string]int{}
	if len(doc.Content) == 0 {
		return msg.NewObject(0), lines, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return msg.NewObject(0), lines, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("%s:%d: expected a mapping of setting names to values (uiPort: 1880, ...)", file, root.Line)
	}
	c := yamlConv{file: file, lines: lines}
	v, err := c.value(root, "", 0)
	if err != nil {
		return nil, nil, err
	}
	return v.(*msg.Object), lines, nil
}

type yamlConv struct {
	file  string
	lines map[string]int
}

func (c *yamlConv) errorf(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", c.file, n.Line, fmt.Sprintf(format, args...))
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (c *yamlConv) value(n *yaml.Node, path string, depth int) (any, error) {
	if depth > 64 {
		return nil, c.errorf(n, "%s: nested too deeply (an alias that refers to itself?)", path)
	}
	switch n.Kind {
	case yaml.AliasNode:
		return c.value(n.Alias, path, depth+1)
	case yaml.ScalarNode:
		return c.scalar(n, path)
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, e := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			c.lines[p] = e.Line
			v, err := c.value(e, p, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case yaml.MappingNode:
		return c.mapping(n, path, depth)
	}
	return nil, c.errorf(n, "%s: unsupported YAML node", path)
}

// mapping builds an object. Keys from merge keys (<<: *base) come first and
// are overridden by the mapping's own keys, as YAML specifies.
func (c *yamlConv) mapping(n *yaml.Node, path string, depth int) (*msg.Object, error) {
	o := msg.NewObject(len(n.Content) / 2)
	own := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, vn := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			if err := c.merge(o, vn, path, depth); err != nil {
				return nil, err
			}
			continue
		}
		if k.Kind != yaml.ScalarNode {
			return nil, c.errorf(k, "%s: keys must be plain names", path)
		}
		p := join(path, k.Value)
		if first, dup := own[k.Value]; dup {
			return nil, c.errorf(k, "%s: duplicate key (first at line %d)", p, first)
		}
		own[k.Value] = k.Line
		c.lines[p] = k.Line
		v, err := c.value(vn, p, depth+1)
		if err != nil {
			return nil, err
		}
		o.Set(k.Value, v)
	}
	return o, nil
}

func (c *yamlConv) merge(o *msg.Object, vn *yaml.Node, path string, depth int) error {
	sources := []*yaml.Node{vn}
	if vn.Kind == yaml.SequenceNode {
		sources = vn.Content
	}
	for _, s := range sources {
		v, err := c.value(s, path, depth+1)
		if err != nil {
			return err
		}
		m, ok := v.(*msg.Object)
		if !ok {
			return c.errorf(s, "%s: a merge key (<<) needs a mapping", path)
		}
		for i := 0; i < m.Len(); i++ {
			if k, mv := m.At(i); !o.Has(k) {
				o.Set(k, mv)
			}
		}
	}
	return nil
}

func (c *yamlConv) scalar(n *yaml.Node, path string) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, c.errorf(n, "%s: %v", path, err)
		}
		return b, nil
	case "!!int", "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, c.errorf(n, "%s: %v", path, err)
		}
		return f, nil
	case "!!str", "!!timestamp":
		return n.Value, nil
	case "!!binary":
		var b []byte
		if err := n.Decode(&b); err != nil {
			return nil, c.errorf(n, "%s: %v", path, err)
		}
		return string(b), nil
	}
	return nil, c.errorf(n, "%s: unsupported YAML tag %s", path, n.Tag)
}
