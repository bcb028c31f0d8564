package core

import (
	"github.com/sluicehq/sluice/runtime/flowfile"
	"github.com/sluicehq/sluice/runtime/node"
)

// The sluice-conflicts pseudo node is written by `sluice merge-driver` when a
// merge has conflicts. Its validation fails with one error per conflict, so
// a file with an unresolved merge is refused by `sluice validate` and deploy.
func init() {
	node.Register(&node.Spec{
		Type: flowfile.ConflictsType, Category: "config", Config: true, Color: "#ff8080",
		Props:    []node.Prop{{Name: "conflicts", Kind: node.KindArray}},
		Help:     "Marks a merge of flow files with unresolved conflicts. Each entry names a node and property with the base, ours and theirs values; the file holds ours. Fix each node, then delete this node.",
		Validate: func(cfg *node.Config) []node.Problem { return flowfile.ConflictProblems(cfg.Raw) },
		New:      func(*node.Config) (node.Node, error) { return struct{}{}, nil },
	})
}
