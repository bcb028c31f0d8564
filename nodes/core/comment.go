package core

import "github.com/sluicehq/sluice/runtime/node"

func init() {
	node.Register(&node.Spec{
		Type: "comment", Category: "common", Color: "#ffffff", Icon: "comment.svg",
		Props: []node.Prop{{Name: "name", Kind: node.KindString}, {Name: "info", Kind: node.KindString}},
		Help:  "A note on the canvas; it does nothing at run time.",
		New:   func(*node.Config) (node.Node, error) { return struct{}{}, nil },
	})
	node.Register(&node.Spec{
		Type: "unknown", Category: "common", Color: "#fff0f0", Inputs: 1, Outputs: 1,
		Help: "Stands for a node whose type is not installed; it drops what it receives.",
		New:  func(*node.Config) (node.Node, error) { return struct{}{}, nil },
	})
	node.Register(&node.Spec{
		Type: "global-config", Category: "config", Config: true,
		Props: []node.Prop{{Name: "env", Kind: node.KindArray, Default: []any{}}, {Name: "modules", Kind: node.KindObject}},
		Help:  "Holds the global environment variables set in the editor; the runtime reads them.",
		New:   func(*node.Config) (node.Node, error) { return struct{}{}, nil },
	})
}
