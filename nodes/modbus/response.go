package modbus

import (
	"fmt"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "modbus-response", Category: "modbus", Color: "#E9967A", Icon: "modbus.png",
		Inputs: 1, Outputs: 0,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "registerShowMax", Kind: node.KindNumber, Default: 20, Label: "Show at most"},
		},
		Help: "Shows the response from the second output of a modbus read, getter or write node in its status: " +
			"the values, or only how many there are when more than `registerShowMax`.",
		New: newResponse,
	})
}

type responseNode struct{ max int }

func newResponse(cfg *node.Config) (node.Node, error) {
	m, err := cfg.Num("registerShowMax", 20)
	if err != nil {
		return nil, err
	}
	return &responseNode{max: int(m)}, nil
}

func (n *responseNode) Input(c node.Ctx, m *msg.Msg) error {
	var text string
	p, _ := m.Payload().(*msg.Object)
	switch {
	case p != nil && p.Has("data"):
		if d, ok := p.Value("data").([]any); ok && len(d) > n.max {
			text = fmt.Sprintf("data: %d items", len(d))
		} else {
			text = string(msg.Marshal(p.Value("data")))
		}
	case p != nil && p.Has("address"):
		if l, ok := p.Value("length").(float64); ok && int(l) > n.max {
			text = fmt.Sprintf("written: %d items at %s", int(l), msg.Marshal(p.Value("address")))
		} else {
			text = string(msg.Marshal(p))
		}
	default:
		text = string(msg.Marshal(m.Payload()))
	}
	if len(text) > 100 {
		text = text[:100] + "…"
	}
	c.Status(node.Status{Fill: "green", Shape: "dot", Text: text})
	return nil
}
