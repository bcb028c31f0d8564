package engine

import (
	"sort"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// flowScope is a tab, or one instance of a subflow (which is a flow of its
// own inside its parent, as in Node-RED).
type flowScope struct {
	d      *deployment
	id     string
	name   string
	parent *flowScope // nil for tabs
	// instance is the subflow instance node that represents this scope in
	// its parent (errors and status not handled inside go up as from it).
	instance   *instance
	statusPort bool
	env        envList
	groups     map[string]*groupScope
	nodes      map[string]*instance // alias → instance, for lookups from inside
	catchers   []*instance
	statusers  []*instance
	completers map[string][]*instance // watched node alias → complete nodes
	ctxScope   node.Scope
	subflowID  string // the subflow definition id (instances)
	path       string
}

type groupScope struct {
	id, name string
	parent   *groupScope
	env      envList
}

type watcher struct {
	scope    []string // nil: all nodes
	group    bool     // scope "group"
	uncaught bool
}

func (f *flowScope) context() node.Scope {
	return f.ctxScope
}

// lookup resolves a flow-file id as seen from this scope: a node of this
// subflow instance first, then the parent flows, then any node.
func (f *flowScope) lookup(id string) *instance {
	for s := f; s != nil; s = s.parent {
		if in, ok := s.nodes[id]; ok {
			return in
		}
	}
	return f.d.nodes[id]
}

func watcherOf(in *instance) watcher {
	var w watcher
	switch s := in.def.Raw.Value("scope").(type) {
	case []any:
		w.scope = make([]string, 0, len(s))
		for _, v := range s {
			if id, ok := v.(string); ok {
				w.scope = append(w.scope, id)
			}
		}
	case string:
		w.group = s == "group"
	}
	w.uncaught = in.def.Raw.Value("uncaught") == true
	return w
}

func inScope(w watcher, target *instance, reporting *instance) bool {
	if w.scope == nil {
		return true
	}
	for _, id := range w.scope {
		if id == reporting.alias || id == reporting.id {
			return true
		}
	}
	return false
}

type candidate struct {
	in   *instance
	dist int
}

// candidates are the catch or status nodes of this scope that take an event
// from reporting, nearest group first, as Node-RED orders them.
func (f *flowScope) candidates(watchers []*instance, reporting *instance) []candidate {
	var out []candidate
	for _, t := range watchers {
		w := watcherOf(t)
		if t.group != nil && w.group && reporting.group == nil {
			continue
		}
		if w.scope != nil && !inScope(w, t, reporting) {
			continue
		}
		dist := 0
		if reporting.group != nil {
			g := reporting.group
			for g != nil && (t.group == nil || g.id != t.group.id) {
				dist++
				g = g.parent
			}
			if g == nil && t.group != nil && w.group {
				continue
			}
		}
		out = append(out, candidate{t, dist})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].dist < out[j].dist })
	return out
}

// handleError routes an error to catch nodes; unhandled errors in a subflow
// go to its parent flow, reported by the subflow instance.
func (f *flowScope) handleError(src *instance, err error, m *msg.Msg, reporting *instance) bool {
	count := 1.0
	if eo, ok := m.Value("error").(*msg.Object); ok {
		if so, ok := eo.Value("source").(*msg.Object); ok {
			if so.Value("id") == src.id {
				c, _ := msg.Num(so.Value("count"))
				count = c + 1
				if count == 10 {
					src.log.Warn("Message exceeded maximum number of catches")
					return false
				}
			}
		}
	}
	handled := false
	handledByUncaught := false
	for _, c := range f.candidates(f.catchers, reporting) {
		if c.in.def.Raw.Value("uncaught") == true && !handledByUncaught {
			if handled {
				continue
			}
			handledByUncaught = true
		}
		em := m.Clone()
		// The copy a catch node gets is a new delivery; the source learns of
		// the failure through the original's tracker.
		em.Track = nil
		if old, ok := em.Get("error"); ok {
			em.Set("_error", old)
		}
		eo := msg.NewObject(3)
		eo.Set("message", err.Error())
		so := source(src)
		so.Set("count", count)
		eo.Set("source", so)
		if ce, ok := err.(interface{ Code() string }); ok {
			eo.Set("code", ce.Code())
		}
		if se, ok := err.(interface{ Stack() string }); ok {
			eo.Set("stack", se.Stack())
		}
		em.Set("error", eo)
		c.in.push(em)
		handled = true
	}
	if !handled && f.parent != nil && f.instance != nil {
		handled = f.parent.handleError(src, err, m, f.instance)
	}
	return handled
}

func (f *flowScope) handleStatus(src *instance, s node.Status, reporting *instance) bool {
	handled := false
	for _, c := range f.candidates(f.statusers, reporting) {
		so := msg.NewObject(4)
		if s.Fill != "" {
			so.Set("fill", s.Fill)
		}
		if s.Shape != "" {
			so.Set("shape", s.Shape)
		}
		if s.Text != "" {
			so.Set("text", s.Text)
		}
		if s.Event != "" {
			so.Set("event", s.Event)
		}
		if s.Session != nil {
			so.Set("_session", s.Session.Clone())
		}
		so.Set("source", source(src))
		m := msg.Wrap(msg.NewObject(2))
		m.Set("status", so)
		m.Set("_msgid", msg.NewID())
		c.in.push(m)
		handled = true
	}
	if !handled && f.parent != nil && f.instance != nil && !f.statusPort {
		handled = f.parent.handleStatus(src, s, f.instance)
	}
	return handled
}

func (f *flowScope) handleComplete(src *instance, m *msg.Msg) {
	if src.spec != nil && src.spec.NoComplete {
		return
	}
	list := f.completers[src.alias]
	for _, c := range list {
		cm := m.Clone()
		cm.Track = nil
		cm.Set("complete", msg.ObjectOf("source", source(src)))
		c.push(cm)
	}
}

// source describes a node in error, status and complete messages; Node-RED
// leaves name out when the node has none.
func source(src *instance) *msg.Object {
	o := msg.ObjectOf("id", src.id, "type", src.typ)
	if src.name != "" || (src.spec != nil && src.spec.NameAlways && src.def.Raw.Has("name")) {
		o.Set("name", src.name)
	}
	return o
}
