// Package flow is the flow model: a Node-RED flow file parsed into tabs,
// subflows, groups, config nodes and nodes, and validated against the node
// specs. It keeps every property of every node (contrib properties survive)
// and knows nothing about running them.
package flow

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// Def is one entry of the flow file.
type Def struct {
	ID       string
	Type     string
	Z        string // tab or subflow the node lives on ("" for global config nodes)
	G        string // group
	Name     string
	Disabled bool
	Wires    [][]string
	Raw      *msg.Object
	Index    int // position in the file
}

// Set is a parsed flow file.
type Set struct {
	Defs     []*Def
	ByID     map[string]*Def
	Tabs     map[string]*Def
	Subflows map[string]*Def
	Groups   map[string]*Def
	Rev      string
	// Problems found while parsing (warnings for what Node-RED tolerates).
	Problems []node.Problem
}

// IsContainer reports whether the type is a structural entry rather than a
// node that runs.
func IsContainer(typ string) bool {
	return typ == "tab" || typ == "subflow" || typ == "group"
}

// Parse reads a flow file: an array of nodes, or Node-RED's v2 API form
// {"rev": ..., "flows": [...]}. JSON errors are reported with line and column.
func Parse(data []byte) (*Set, error) {
	v, err := msg.Unmarshal(data)
	if err != nil {
		if se, ok := err.(*msg.SyntaxError); ok {
			line, col := lineCol(data, se.Offset)
			return nil, fmt.Errorf("flow file is not valid JSON at line %d, column %d: %s", line, col, se.Msg)
		}
		return nil, fmt.Errorf("flow file is not valid JSON: %w", err)
	}
	s := &Set{ByID: map[string]*Def{}, Tabs: map[string]*Def{}, Subflows: map[string]*Def{}, Groups: map[string]*Def{}}
	var list []any
	switch t := v.(type) {
	case []any:
		list = t
	case *msg.Object:
		fl, ok := t.Get("flows")
		arr, isArr := fl.([]any)
		if !ok || !isArr {
			return nil, fmt.Errorf("flow file must be a JSON array of nodes (or an object with a \"flows\" array)")
		}
		list = arr
		if r, ok := t.Get("rev"); ok {
			s.Rev = msg.ToString(r)
		}
	default:
		return nil, fmt.Errorf("flow file must be a JSON array of nodes, got %s", msg.TypeOf(v))
	}
	for i, e := range list {
		o, ok := e.(*msg.Object)
		if !ok {
			s.Problems = append(s.Problems, node.Problem{Severity: "error", Code: "bad-node", Message: fmt.Sprintf("entry %d of the flow file is not an object", i)})
			continue
		}
		d := &Def{Raw: o, Index: i}
		id, idOK := o.Get("id")
		typ, typOK := o.Get("type")
		d.ID, _ = id.(string)
		d.Type, _ = typ.(string)
		if !idOK || d.ID == "" {
			s.Problems = append(s.Problems, node.Problem{Severity: "error", Code: "missing-id", Type: d.Type, Property: "id", Message: fmt.Sprintf("entry %d of the flow file has no id", i)})
			continue
		}
		if !typOK || d.Type == "" {
			s.Problems = append(s.Problems, node.Problem{Severity: "error", Code: "missing-type", ID: d.ID, Property: "type", Message: "node has no type"})
			continue
		}
		if _, dup := s.ByID[d.ID]; dup {
			s.Problems = append(s.Problems, node.Problem{Severity: "error", Code: "duplicate-id", ID: d.ID, Type: d.Type, Property: "id", Message: fmt.Sprintf("id %q is used by more than one node (entries %d and %d)", d.ID, s.ByID[d.ID].Index, i)})
			continue
		}
		d.Z, _ = o.Value("z").(string)
		d.G, _ = o.Value("g").(string)
		d.Name, _ = o.Value("name").(string)
		if dv, ok := o.Get("d"); ok {
			d.Disabled = dv == true
		}
		if d.Type == "tab" {
			if dv, ok := o.Get("disabled"); ok {
				d.Disabled = dv == true
			}
			if d.Name == "" {
				d.Name, _ = o.Value("label").(string)
			}
		}
		if w, ok := o.Get("wires"); ok {
			wires, err := parseWires(w)
			if err != nil {
				s.Problems = append(s.Problems, node.Problem{Severity: "error", Code: "bad-property", ID: d.ID, Type: d.Type, Property: "wires", Message: err.Error()})
			}
			d.Wires = wires
		}
		s.ByID[d.ID] = d
		s.Defs = append(s.Defs, d)
		switch d.Type {
		case "tab":
			s.Tabs[d.ID] = d
		case "subflow":
			s.Subflows[d.ID] = d
		case "group":
			s.Groups[d.ID] = d
		}
	}
	s.tolerate()
	return s, nil
}

func parseWires(v any) ([][]string, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("wires must be an array of arrays of node ids, got %s", msg.Marshal(v))
	}
	out := make([][]string, len(arr))
	for i, port := range arr {
		ids, ok := port.([]any)
		if !ok {
			return nil, fmt.Errorf("wires[%d] must be an array of node ids, got %s", i, msg.Marshal(port))
		}
		for _, id := range ids {
			s, ok := id.(string)
			if !ok {
				return nil, fmt.Errorf("wires[%d] holds %s, not a node id", i, msg.Marshal(id))
			}
			out[i] = append(out[i], s)
		}
	}
	return out, nil
}

// tolerate applies what Node-RED does with partial exports: a node whose z
// names no tab or subflow gets that tab created, and wires to nodes that are
// not in the file are dropped. Both are reported as warnings.
func (s *Set) tolerate() {
	var missing []string
	seen := map[string]bool{}
	for _, d := range s.Defs {
		if d.Z == "" || d.Type == "tab" || d.Type == "subflow" {
			continue
		}
		if _, ok := s.Tabs[d.Z]; ok {
			continue
		}
		if _, ok := s.Subflows[d.Z]; ok {
			continue
		}
		if other, ok := s.ByID[d.Z]; ok {
			s.Problems = append(s.Problems, node.Problem{Severity: "error", Code: "bad-property", ID: d.ID, Type: d.Type, Property: "z",
				Message: fmt.Sprintf("names node %q of type %q, which is not a flow", d.Z, other.Type)})
			continue
		}
		s.Problems = append(s.Problems, node.Problem{Severity: "warning", Code: "missing-tab", ID: d.ID, Type: d.Type, Property: "z",
			Message: fmt.Sprintf("node is on flow %q, which is not in the file; the flow is created", d.Z)})
		if !seen[d.Z] {
			seen[d.Z] = true
			missing = append(missing, d.Z)
		}
	}
	for _, z := range missing {
		o := msg.ObjectOf("id", z, "type", "tab", "label", z)
		d := &Def{ID: z, Type: "tab", Name: z, Raw: o, Index: len(s.Defs)}
		s.Defs = append(s.Defs, d)
		s.ByID[z] = d
		s.Tabs[z] = d
	}
	for _, d := range s.Defs {
		for p, ids := range d.Wires {
			kept := ids[:0]
			for _, id := range ids {
				if _, ok := s.ByID[id]; ok {
					kept = append(kept, id)
					continue
				}
				s.Problems = append(s.Problems, node.Problem{Severity: "warning", Code: "dangling-wire", ID: d.ID, Type: d.Type, Property: fmt.Sprintf("wires[%d]", p),
					Message: fmt.Sprintf("wire to node %q, which is not in the file; the wire is dropped", id)})
			}
			d.Wires[p] = kept
		}
	}
}

func lineCol(data []byte, off int) (int, int) {
	line, col := 1, 1
	for i := 0; i < off && i < len(data); i++ {
		if data[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// Errors returns only the error-severity problems.
func Errors(ps []node.Problem) []node.Problem {
	var out []node.Problem
	for _, p := range ps {
		if p.Severity == "error" {
			out = append(out, p)
		}
	}
	return out
}

// LoadError is a refused flow set: every problem at once.
type LoadError struct{ Problems []node.Problem }

func (e *LoadError) Error() string {
	errs := Errors(e.Problems)
	var b strings.Builder
	fmt.Fprintf(&b, "flows refused: %d problem(s)", len(errs))
	for _, p := range errs {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// SortProblems orders problems by severity (errors first), then file order.
func SortProblems(ps []node.Problem, s *Set) {
	pos := func(id string) int {
		if s != nil {
			if d, ok := s.ByID[id]; ok {
				return d.Index
			}
		}
		return -1
	}
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Severity != ps[j].Severity {
			return ps[i].Severity == "error"
		}
		return pos(ps[i].ID) < pos(ps[j].ID)
	})
}
