package engine

import (
	"sort"
	"strings"

	"github.com/sluicehq/sluice/runtime/flow"
	"github.com/sluicehq/sluice/runtime/msg"
)

// Deployment types, as Node-RED's Node-RED-Deployment-Type header names them.
const (
	DeployFull  = "full"
	DeployFlows = "flows"
	DeployNodes = "nodes"
)

// Diff is what changed between two flow sets, by flow-file id, following
// Node-RED's rules (runtime flows util diffConfigs).
type Diff struct {
	Added, Changed, Removed, Rewired, Linked map[string]bool
	// FlowChanged lists tabs whose env changed, or that were added,
	// removed, enabled or disabled: they restart whole.
	FlowChanged map[string]bool
	// GlobalConfigChanged makes any deploy a full one, as in Node-RED
	// (global env may be read by every node).
	GlobalConfigChanged bool
}

// sameDef compares two definitions of one node, ignoring position and
// wires (groups also ignore their member list and geometry).
func sameDef(a, b *flow.Def) bool {
	skip := func(k string, group bool) bool {
		if k == "x" || k == "y" || k == "wires" {
			return true
		}
		return group && (k == "nodes" || k == "style" || k == "w" || k == "h")
	}
	ga, gb := a.Type == "group", b.Type == "group"
	na, nb := 0, 0
	for i := 0; i < a.Raw.Len(); i++ {
		k, v := a.Raw.At(i)
		if skip(k, ga) {
			continue
		}
		na++
		w, ok := b.Raw.Get(k)
		if !ok || !msg.Equal(v, w) {
			return false
		}
	}
	for i := 0; i < b.Raw.Len(); i++ {
		if k, _ := b.Raw.At(i); !skip(k, gb) {
			nb++
		}
	}
	return na == nb
}

func sameWires(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

func sameCreds(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// DiffSets compares the running set with a new one. Credentials count as
// configuration: a node whose credentials changed has changed.
func DiffSets(old, cur *flow.Set, oldCreds, newCreds map[string]map[string]string) *Diff {
	df := &Diff{Added: map[string]bool{}, Changed: map[string]bool{}, Removed: map[string]bool{}, Rewired: map[string]bool{}, Linked: map[string]bool{}, FlowChanged: map[string]bool{}}
	changedSubflows := map[string]bool{}
	inSubflow := func(s *flow.Set, z string) bool { _, ok := s.Subflows[z]; return ok }
	// markContainer: a change inside a subflow template changes the
	// subflow (and so every instance of it) instead of the node.
	markContainer := func(id, z string) bool {
		if inSubflow(cur, z) {
			changedSubflows[z] = true
			return true
		}
		return false
	}
	for id, t := range old.Tabs {
		nt, ok := cur.Tabs[id]
		switch {
		case !ok:
			df.Removed[id] = true
			df.FlowChanged[id] = true
		case t.Disabled != nt.Disabled:
			df.FlowChanged[id] = true
			if t.Disabled {
				df.Added[id] = true
			} else {
				df.Removed[id] = true
			}
		case !msg.Equal(t.Raw.Value("env"), nt.Raw.Value("env")):
			df.FlowChanged[id] = true
		}
	}
	for id := range cur.Tabs {
		if _, ok := old.Tabs[id]; !ok {
			df.Added[id] = true
			df.FlowChanged[id] = true
		}
	}
	links := map[string][]string{}
	link := func(a, b string) { links[a] = append(links[a], b); links[b] = append(links[b], a) }
	for _, o := range old.Defs {
		if o.Type == "tab" {
			continue
		}
		for _, ws := range o.Wires {
			for _, w := range ws {
				link(o.ID, w)
			}
		}
		n, ok := cur.ByID[o.ID]
		if !ok || (df.Removed[o.Z] && old.Tabs[o.Z] != nil) {
			df.Removed[o.ID] = true
			if ok || cur.ByID[o.Z] != nil {
				markContainer(o.ID, o.Z)
			}
			continue
		}
		if df.Added[o.Z] {
			df.Added[o.ID] = true
			continue
		}
		if !o.Disabled && n.Disabled {
			df.Removed[o.ID] = true
		}
		if n.Type == "subflow" {
			// A subflow's own definition (ports, env, status) changes it.
			if !sameDef(o, n) || !portsSame(o, n) {
				changedSubflows[o.ID] = true
			}
			continue
		}
		if !sameDef(o, n) || o.Type != n.Type || !sameCreds(oldCreds[o.ID], newCreds[o.ID]) {
			if !markContainer(o.ID, n.Z) {
				df.Changed[o.ID] = true
			}
			if n.Type == "global-config" {
				df.GlobalConfigChanged = true
			}
		}
		if !sameWires(o.Wires, n.Wires) {
			if !markContainer(o.ID, n.Z) {
				df.Rewired[o.ID] = true
			}
		}
	}
	for _, n := range cur.Defs {
		for _, ws := range n.Wires {
			for _, w := range ws {
				link(n.ID, w)
			}
		}
		if _, ok := old.ByID[n.ID]; !ok && n.Type != "tab" {
			if n.Type == "subflow" {
				changedSubflows[n.ID] = true
				continue
			}
			if !markContainer(n.ID, n.Z) {
				df.Added[n.ID] = true
			}
		}
	}
	// A node whose property names a changed or removed node (a config
	// node, mostly) has changed too; repeat until nothing more changes.
	touched := map[string]bool{}
	for more := true; more; {
		more = false
		for _, n := range cur.Defs {
			if df.Changed[n.ID] || touched[n.ID] || flow.IsContainer(n.Type) {
				continue
			}
			for i := 0; i < n.Raw.Len(); i++ {
				k, v := n.Raw.At(i)
				ref, isStr := v.(string)
				if !isStr || k == "z" || k == "id" || k == "wires" || k == "type" || ref == "" || (!df.Changed[ref] && !df.Removed[ref] && !changedSubflows[ref]) {
					continue
				}
				if k == "g" {
					if o := old.ByID[n.ID]; o != nil && o.G == n.G {
						continue // the group changed, not this node's membership
					}
				}
				touched[n.ID] = true
				if !markContainer(n.ID, n.Z) {
					df.Changed[n.ID] = true
				}
				more = true
				break
			}
		}
	}
	// A changed group changes its members, nested groups included.
	for more := true; more; {
		more = false
		for _, g := range cur.Defs {
			if g.Type != "group" {
				continue
			}
			if !df.Changed[g.ID] && g.G != "" && df.Changed[g.G] {
				df.Changed[g.ID] = true
				more = true
			}
			if !df.Changed[g.ID] {
				continue
			}
			for _, m := range asList(g.Raw.Value("nodes")) {
				if id, ok := m.(string); ok && !df.Changed[id] {
					df.Changed[id] = true
					more = true
				}
			}
		}
	}
	// Every instance of a changed subflow changed; an instance inside
	// another subflow changes that subflow in turn.
	stack := make([]string, 0, len(changedSubflows))
	for id := range changedSubflows {
		stack = append(stack, id)
	}
	seen := map[string]bool{}
	for len(stack) > 0 {
		sf := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[sf] {
			continue
		}
		seen[sf] = true
		for _, n := range cur.Defs {
			if n.Type != "subflow:"+sf {
				continue
			}
			if inSubflow(cur, n.Z) {
				stack = append(stack, n.Z)
				continue
			}
			df.Changed[n.ID] = true
		}
	}
	// Nodes wired, directly or through others, to a modified node.
	var queue []string
	for _, m := range []map[string]bool{df.Added, df.Changed, df.Removed, df.Rewired} {
		for id := range m {
			queue = append(queue, id)
		}
	}
	visited := map[string]bool{}
	for len(queue) > 0 {
		id := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if visited[id] {
			continue
		}
		visited[id] = true
		if len(links[id]) == 0 {
			continue
		}
		if !df.Changed[id] && !df.Added[id] && !df.Removed[id] && !df.Rewired[id] {
			df.Linked[id] = true
		}
		queue = append(queue, links[id]...)
	}
	return df
}

func portsSame(a, b *flow.Def) bool {
	for _, k := range []string{"in", "out", "status", "env"} {
		if !msg.Equal(a.Raw.Value(k), b.Raw.Value(k)) {
			return false
		}
	}
	return true
}

// restart is the set of top-level flow-file ids (nodes on tabs, config
// nodes, subflow instances on tabs) whose instances a deploy of type typ
// replaces; nil means everything.
func (df *Diff) restart(cur *flow.Set, typ string) map[string]bool {
	if df.GlobalConfigChanged || (typ != DeployNodes && typ != DeployFlows) {
		return nil
	}
	out := map[string]bool{}
	for _, m := range []map[string]bool{df.Changed, df.Removed, df.Added} {
		for id := range m {
			out[id] = true
		}
	}
	if typ == DeployFlows {
		for _, m := range []map[string]bool{df.Rewired, df.Linked} {
			for id := range m {
				out[id] = true
			}
		}
	}
	if len(df.FlowChanged) > 0 {
		for _, n := range cur.Defs {
			if df.FlowChanged[n.Z] {
				out[n.ID] = true
			}
		}
	}
	return out
}

// rootOf is the flow-file id that decides whether an instance is kept: the
// node itself on a tab, or the outermost subflow instance it belongs to.
func rootOf(id string, scope *flowScope) string {
	if scope == nil || scope.instance == nil {
		return id
	}
	s := scope
	for s.parent != nil && s.parent.instance != nil {
		s = s.parent
	}
	return s.instance.def.ID
}

// String lists the diff for logs and tests: "+a ~b -c >d =e".
func (df *Diff) String() string {
	var b strings.Builder
	for _, p := range []struct {
		sign string
		m    map[string]bool
	}{{"+", df.Added}, {"~", df.Changed}, {"-", df.Removed}, {">", df.Rewired}, {"=", df.Linked}} {
		for _, id := range sortedKeys(p.m) {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(p.sign + id)
		}
	}
	return b.String()
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
