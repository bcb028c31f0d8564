package core

import (
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// catch, status and complete nodes are fed by the runtime (which reads
// their scope); they only pass on what they receive.

func init() {
	watchProps := []node.Prop{
		{Name: "name", Kind: node.KindString},
		{Name: "scope", Default: nil, Label: "null (all nodes), \"group\", or an array of node ids"},
	}
	node.Register(&node.Spec{
		Type: "catch", Category: "common", Color: "#e49191", Icon: "alert.svg", Inputs: 0, Outputs: 1,
		Props: append(append([]node.Prop{}, watchProps...), node.Prop{Name: "uncaught", Kind: node.KindBool, Default: false}),
		Help:  "Catches errors thrown by nodes on the same flow (all nodes, the nodes of its group, or a chosen list). The message gets `error.message` and `error.source` (id, type, name, count). With `uncaught` it only takes errors no other catch node handled.",
		New:   func(*node.Config) (node.Node, error) { return passOn{}, nil },
	})
	node.Register(&node.Spec{
		Type: "status", Category: "common", Color: "#94c1d0", Icon: "status.svg", Inputs: 0, Outputs: 1,
		Props: watchProps,
		Help:  "Reports status changes of other nodes on the same flow as `msg.status` (fill, shape, text, source).",
		New:   func(*node.Config) (node.Node, error) { return passOn{}, nil },
	})
	node.Register(&node.Spec{
		Type: "complete", Category: "common", Color: "#c0edc0", Icon: "alert.svg", Inputs: 0, Outputs: 1,
		Props: []node.Prop{{Name: "name", Kind: node.KindString}, {Name: "scope", Kind: node.KindArray, Default: []any{}}, {Name: "uncaught", Kind: node.KindBool, Default: false}},
		Help:  "Sends a message when one of the chosen nodes has finished handling a message.",
		New:   func(*node.Config) (node.Node, error) { return passOn{}, nil },
	})
	node.Register(&node.Spec{
		Type: "junction", Category: "common", Color: "#d9d9d9", Inputs: 1, Outputs: 1,
		Help: "A wiring point: passes every message on unchanged.",
		New:  func(*node.Config) (node.Node, error) { return passOn{}, nil },
	})
}

type passOn struct{}

func (passOn) Input(c node.Ctx, m *msg.Msg) error {
	c.Send(m)
	return nil
}
