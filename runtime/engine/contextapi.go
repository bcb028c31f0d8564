package engine

import (
	"github.com/sluicehq/sluice/runtime/node"
)

func (s storeContexts) Stores() []string     { return s.m.Stores() }
func (s storeContexts) DefaultStore() string { return s.m.DefaultStore() }

// ContextStores lists the configured context stores, the default first,
// for the admin API's context view.
func (e *Engine) ContextStores() []string {
	st, ok := e.opts.Contexts.(interface {
		Stores() []string
		DefaultStore() string
	})
	if !ok {
		return []string{"memory"}
	}
	def := st.DefaultStore()
	out := []string{}
	if def != "" {
		out = append(out, def)
	}
	for _, s := range st.Stores() {
		if s != def {
			out = append(out, s)
		}
	}
	return out
}

// ContextScope returns the context of "global", of a flow (a tab or subflow
// instance id) or of a node (its runtime id), as the admin API's
// /context/{global|flow/:id|node/:id} address them. ok is false for a node
// that is not running: its context's name depends on its flow.
func (e *Engine) ContextScope(kind, id string) (node.Scope, bool) {
	e.mu.Lock()
	d := e.cur
	e.mu.Unlock()
	switch kind {
	case "global":
		return e.global(), true
	case "flow":
		if d != nil {
			if f, ok := d.flows[id]; ok && f.ctxScope != nil {
				return f.ctxScope, true
			}
		}
		return e.flowContext(id, "global"), true
	case "node":
		if d != nil {
			if in, ok := d.nodes[id]; ok && in.nodeCtx != nil {
				return in.nodeCtx, true
			}
		}
	}
	return nil, false
}
