package flowfile

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
)

// Report is the semantic difference between two flow files, flow by flow.
type Report struct {
	Flows []*FlowDiff `json:"flows"`
}

// FlowDiff is what changed on one tab or subflow, or among the global
// config nodes (Kind "config", ID "").
type FlowDiff struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"` // tab | subflow | config | flow (a z with no tab in either file)
	Label  string `json:"label,omitempty"`
	Status string `json:"status"` // added | removed | changed
	// Props are changes to the tab's or subflow's own properties.
	Props        []PropChange `json:"props,omitempty"`
	Added        []NodeRef    `json:"added,omitempty"`
	Removed      []NodeRef    `json:"removed,omitempty"`
	Changed      []NodeChange `json:"changed,omitempty"`
	Moved        []NodeRef    `json:"moved,omitempty"` // only x, y (w, h) changed
	WiresAdded   []Wire       `json:"wiresAdded,omitempty"`
	WiresRemoved []Wire       `json:"wiresRemoved,omitempty"`
}

// NodeRef names a node.
type NodeRef struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
}

// NodeChange is a node whose properties changed.
type NodeChange struct {
	NodeRef
	Props []PropChange `json:"props"`
}

// PropChange is one property's old and new value (absent when the property
// was added or removed). Text properties (code, templates, descriptions)
// also carry a unified line diff.
type PropChange struct {
	Property string          `json:"property"`
	Old      json.RawMessage `json:"old,omitempty"`
	New      json.RawMessage `json:"new,omitempty"`
	Diff     string          `json:"diff,omitempty"`
}

// Wire is one connection from a node's output port to a node.
type Wire struct {
	From string `json:"from"`
	Port int    `json:"port"`
	To   string `json:"to"`
}

// Empty reports whether the files hold the same flows.
func (r *Report) Empty() bool { return len(r.Flows) == 0 }

// positionProps change when a node (or a group: w, h) is moved or resized.
var positionProps = map[string]bool{"x": true, "y": true, "w": true, "h": true}

// Diff compares two flow files node by node.
func Diff(a, b []byte) (*Report, error) {
	fa, err := parseFile(a)
	if err != nil {
		return nil, fmt.Errorf("old file: %w", err)
	}
	fb, err := parseFile(b)
	if err != nil {
		return nil, fmt.Errorf("new file: %w", err)
	}
	aIDs, am, _ := keyed(fa.entries)
	bIDs, bm, _ := keyed(fb.entries)

	flows := map[string]*FlowDiff{}
	var flowOrder []string
	flowOf := func(id string) *FlowDiff {
		fd, ok := flows[id]
		if !ok {
			fd = &FlowDiff{ID: id, Status: "changed"}
			flows[id] = fd
			flowOrder = append(flowOrder, id)
		}
		return fd
	}
	// Containers first, so flows list in tab order (new file, then tabs only
	// the old file had), subflows next, config nodes last.
	for _, kind := range []string{"tab", "subflow"} {
		for _, ids := range [][]string{bIDs, aIDs} {
			for _, id := range ids {
				o := bm[id]
				if o == nil {
					o = am[id]
				}
				if str(o, "type") == kind {
					fd := flowOf(id)
					fd.Kind = kind
				}
			}
		}
	}
	for id, fd := range flows {
		ao, bo := am[id], bm[id]
		switch {
		case ao == nil:
			fd.Status = "added"
		case bo == nil:
			fd.Status = "removed"
		default:
			fd.Props, _ = propChanges(ao, bo)
		}
		if bo != nil {
			fd.Label = flowLabel(bo)
		} else {
			fd.Label = flowLabel(ao)
		}
	}
	isContainer := func(id string) bool { _, ok := flows[id]; return ok }

	groupOf := func(o *msg.Object) *FlowDiff {
		z := str(o, "z")
		fd := flowOf(z)
		if fd.Kind == "" {
			fd.Kind = "flow"
			if z == "" {
				fd.Kind = "config"
			}
		}
		return fd
	}
	for _, id := range bIDs {
		if isContainer(id) {
			continue
		}
		bo := bm[id]
		ao := am[id]
		fd := groupOf(bo)
		if ao == nil {
			fd.Added = append(fd.Added, refOf(bo))
			continue
		}
		props, moved := propChanges(ao, bo)
		if len(props) > 0 {
			fd.Changed = append(fd.Changed, NodeChange{NodeRef: refOf(bo), Props: props})
		} else if moved {
			fd.Moved = append(fd.Moved, refOf(bo))
		}
	}
	for _, id := range aIDs {
		if isContainer(id) || bm[id] != nil {
			continue
		}
		fd := groupOf(am[id])
		fd.Removed = append(fd.Removed, refOf(am[id]))
	}
	// Wires, grouped with the flow of the node they leave from.
	wireIDs := append(append([]string(nil), bIDs...), aIDs...)
	seen := map[string]bool{}
	for _, id := range wireIDs {
		if seen[id] || isContainer(id) {
			continue
		}
		seen[id] = true
		ao, bo := am[id], bm[id]
		aw, bw := wireSet(ao), wireSet(bo)
		src := bo
		if src == nil {
			src = ao
		}
		fd := groupOf(src)
		for _, w := range bw {
			if !containsWire(aw, w) {
				fd.WiresAdded = append(fd.WiresAdded, Wire{From: id, Port: w.Port, To: w.To})
			}
		}
		for _, w := range aw {
			if !containsWire(bw, w) {
				fd.WiresRemoved = append(fd.WiresRemoved, Wire{From: id, Port: w.Port, To: w.To})
			}
		}
	}
	r := &Report{}
	for _, id := range flowOrder {
		fd := flows[id]
		if fd.Status == "changed" && len(fd.Props)+len(fd.Added)+len(fd.Removed)+len(fd.Changed)+len(fd.Moved)+len(fd.WiresAdded)+len(fd.WiresRemoved) == 0 {
			continue
		}
		r.Flows = append(r.Flows, fd)
	}
	// Config nodes after every flow.
	sort.SliceStable(r.Flows, func(i, j int) bool { return r.Flows[i].Kind != "config" && r.Flows[j].Kind == "config" })
	return r, nil
}

func flowLabel(o *msg.Object) string {
	if l := str(o, "label"); l != "" {
		return l
	}
	return str(o, "name")
}

func refOf(o *msg.Object) NodeRef {
	return NodeRef{ID: str(o, "id"), Type: str(o, "type"), Name: str(o, "name")}
}

// propChanges lists changed properties other than wires, in canonical key
// order. A change of position alone is not listed but reported as moved.
func propChanges(a, b *msg.Object) (out []PropChange, moved bool) {
	var pos []PropChange
	defer func() {
		if len(out) > 0 {
			out = append(out, pos...)
		}
	}()
	keys := nodeKeys(b)
	for _, k := range nodeKeys(a) {
		if !b.Has(k) {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if k == "wires" {
			continue
		}
		av, aok := a.Get(k)
		bv, bok := b.Get(k)
		if aok == bok && (!aok || msg.Equal(av, bv)) {
			continue
		}
		pc := PropChange{Property: k}
		if aok {
			pc.Old = msg.Marshal(av)
		}
		if bok {
			pc.New = msg.Marshal(bv)
		}
		if positionProps[k] {
			moved = true
			pos = append(pos, pc)
			continue
		}
		as, aStr := av.(string)
		bs, bStr := bv.(string)
		if (aStr || !aok) && (bStr || !bok) && (codeProps[k] || strings.Contains(as+bs, "\n")) {
			pc.Diff = UnifiedDiff(as, bs, 3)
		}
		out = append(out, pc)
	}
	return out, moved
}

type portWire struct {
	Port int
	To   string
}

func wireSet(o *msg.Object) []portWire {
	if o == nil {
		return nil
	}
	wl, ok := wireList(o.Value("wires"))
	if !ok {
		return nil
	}
	var out []portWire
	for p, ids := range wl {
		for _, id := range ids {
			out = append(out, portWire{p, id})
		}
	}
	return out
}

func containsWire(ws []portWire, w portWire) bool {
	for _, x := range ws {
		if x == w {
			return true
		}
	}
	return false
}

// WriteText writes the report for people; it writes nothing when the files
// hold the same flows.
func (r *Report) WriteText(w io.Writer) {
	for _, fd := range r.Flows {
		switch fd.Kind {
		case "config":
			fmt.Fprintln(w, "config nodes")
		case "flow":
			fmt.Fprintf(w, "flow %s (not in either file)\n", fd.ID)
		default:
			title := fd.Kind
			if title == "tab" {
				title = "flow"
			}
			fmt.Fprintf(w, "%s %q (%s)", title, fd.Label, fd.ID)
			if fd.Status != "changed" {
				n := len(fd.Added) + len(fd.Removed)
				fmt.Fprintf(w, " %s with %d node(s)\n", fd.Status, n)
				continue
			}
			fmt.Fprintln(w)
		}
		for _, pc := range fd.Props {
			writeProp(w, "  ", pc)
		}
		for _, n := range fd.Added {
			fmt.Fprintf(w, "  + %s\n", nodeTitle(n))
		}
		for _, n := range fd.Removed {
			fmt.Fprintf(w, "  - %s\n", nodeTitle(n))
		}
		for _, c := range fd.Changed {
			fmt.Fprintf(w, "  ~ %s\n", nodeTitle(c.NodeRef))
			for _, pc := range c.Props {
				writeProp(w, "      ", pc)
			}
		}
		if len(fd.WiresAdded)+len(fd.WiresRemoved) > 0 {
			fmt.Fprintln(w, "  wires:")
			for _, x := range fd.WiresAdded {
				fmt.Fprintf(w, "    + %s[%d] → %s\n", x.From, x.Port, x.To)
			}
			for _, x := range fd.WiresRemoved {
				fmt.Fprintf(w, "    - %s[%d] → %s\n", x.From, x.Port, x.To)
			}
		}
		if len(fd.Moved) > 0 {
			ids := make([]string, len(fd.Moved))
			for i, n := range fd.Moved {
				ids[i] = n.ID
			}
			fmt.Fprintf(w, "  moved %d node(s) (position only): %s\n", len(ids), strings.Join(ids, ", "))
		}
	}
}

func nodeTitle(n NodeRef) string {
	if n.Name != "" {
		return fmt.Sprintf("%s %q (%s)", n.Type, n.Name, n.ID)
	}
	return fmt.Sprintf("%s (%s)", n.Type, n.ID)
}

func writeProp(w io.Writer, indent string, pc PropChange) {
	if pc.Diff != "" {
		fmt.Fprintf(w, "%s%s:\n", indent, pc.Property)
		for _, l := range strings.Split(strings.TrimSuffix(pc.Diff, "\n"), "\n") {
			fmt.Fprintf(w, "%s    %s\n", indent, l)
		}
		return
	}
	show := func(r json.RawMessage) string {
		if r == nil {
			return "(absent)"
		}
		return clip(string(r), 120)
	}
	fmt.Fprintf(w, "%s%s: %s → %s\n", indent, pc.Property, show(pc.Old), show(pc.New))
}
