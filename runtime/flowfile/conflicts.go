package flowfile

import (
	"fmt"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// ConflictsID and ConflictsType name the pseudo node in which a merge
// records its conflicts: a node (rather than <<<<<<< markers) keeps the
// file valid JSON that the editor can load, and `sluice validate` refuses it
// with one error per conflict until the node is deleted.
const (
	ConflictsID   = "sluice-conflicts"
	ConflictsType = "sluice-conflicts"
)

// Conflict is one property (or whole node, Property "") changed differently
// on the two sides of a merge. A side where it is absent (deleted) has its
// Has flag false.
type Conflict struct {
	ID        string
	Type      string
	Property  string
	Base      any
	Ours      any
	Theirs    any
	HasBase   bool
	HasOurs   bool
	HasTheirs bool
}

func (c Conflict) object() *msg.Object {
	o := msg.ObjectOf("id", c.ID)
	if c.Type != "" {
		o.Set("type", c.Type)
	}
	o.Set("property", c.Property)
	if c.HasBase {
		o.Set("base", c.Base)
	}
	if c.HasOurs {
		o.Set("ours", c.Ours)
	}
	if c.HasTheirs {
		o.Set("theirs", c.Theirs)
	}
	return o
}

func conflictOf(o *msg.Object) Conflict {
	c := Conflict{}
	c.ID, _ = o.Value("id").(string)
	c.Type, _ = o.Value("type").(string)
	c.Property, _ = o.Value("property").(string)
	c.Base, c.HasBase = o.Get("base")
	c.Ours, c.HasOurs = o.Get("ours")
	c.Theirs, c.HasTheirs = o.Get("theirs")
	return c
}

func side(v any, has bool) string {
	if !has {
		return "absent"
	}
	return clip(string(msg.Marshal(v)), 200)
}

// String describes the conflict for people.
func (c Conflict) String() string {
	what := fmt.Sprintf("property %q", c.Property)
	if c.Property == "" {
		what = "the node"
	}
	switch {
	case c.Property == "" && !c.HasOurs:
		return fmt.Sprintf("node %s: deleted in ours, changed in theirs", c.ID)
	case c.Property == "" && !c.HasTheirs:
		return fmt.Sprintf("node %s: changed in ours, deleted in theirs", c.ID)
	}
	return fmt.Sprintf("node %s: %s changed on both sides: ours %s, theirs %s (base %s)",
		c.ID, what, side(c.Ours, c.HasOurs), side(c.Theirs, c.HasTheirs), side(c.Base, c.HasBase))
}

// ConflictProblems are the validation errors of a sluice-conflicts node:
// one per recorded conflict, against the conflicting node and property.
func ConflictProblems(raw *msg.Object) []node.Problem {
	list, ok := raw.Value("conflicts").([]any)
	if !ok {
		return []node.Problem{{Severity: "error", Code: "merge-conflict", Property: "conflicts",
			Message: "unresolved merge: this node marks a merge with conflicts; resolve them and delete the node"}}
	}
	ps := make([]node.Problem, 0, len(list))
	for i, e := range list {
		o, ok := e.(*msg.Object)
		if !ok {
			ps = append(ps, node.Problem{Severity: "error", Code: "merge-conflict", Property: fmt.Sprintf("conflicts[%d]", i),
				Message: "unresolved merge conflict (malformed entry " + clip(string(msg.Marshal(e)), 100) + ")"})
			continue
		}
		c := conflictOf(o)
		p := node.Problem{Severity: "error", Code: "merge-conflict", ID: c.ID, Type: c.Type, Property: c.Property}
		if p.ID == "" {
			p.ID = ConflictsID
		}
		switch {
		case c.Property == "" && !c.HasOurs:
			p.Message = "merge conflict: deleted in ours but changed in theirs; keep or delete the node, then delete node " + ConflictsID
		case c.Property == "" && !c.HasTheirs:
			p.Message = "merge conflict: changed in ours but deleted in theirs; keep or delete the node, then delete node " + ConflictsID
		default:
			p.Message = fmt.Sprintf("merge conflict: ours %s, theirs %s (base %s); the file holds ours — fix it, then delete node %s",
				side(c.Ours, c.HasOurs), side(c.Theirs, c.HasTheirs), side(c.Base, c.HasBase), ConflictsID)
		}
		ps = append(ps, p)
	}
	if len(ps) == 0 {
		ps = append(ps, node.Problem{Severity: "error", Code: "merge-conflict", ID: ConflictsID, Type: ConflictsType,
			Message: "unresolved merge marker with no conflicts listed; delete the node"})
	}
	return ps
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
