package engine

import (
	"github.com/sluicehq/sluice/runtime/ctxstore"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// storeContexts adapts the context store manager to Contexts.
type storeContexts struct{ m *ctxstore.Manager }

func (s storeContexts) Scope(scope string) node.Scope { return s.m.Scope(scope) }
func (s storeContexts) FlowScope(id, parent string) node.Scope {
	return s.m.FlowScope(id, parent)
}
func (s storeContexts) Clean(active []string) error { return s.m.Clean(active) }
func (s storeContexts) Delete(scope string) error   { return s.m.Delete(scope) }
func (s storeContexts) Close() error                { return s.m.Close() }

// NewContexts opens the context stores named by settings contextStorage,
// seeding global context from functionGlobalContext.
func NewContexts(opts Options) (Contexts, error) { return defaultContexts(opts) }

func defaultContexts(opts Options) (Contexts, error) {
	var cfg *msg.Object
	var seed *msg.Object
	if opts.Settings != nil {
		if v, ok := opts.Settings.Get("contextStorage"); ok {
			cfg, _ = v.(*msg.Object)
		}
		if v, ok := opts.Settings.Get("functionGlobalContext"); ok {
			seed, _ = v.(*msg.Object)
		}
	}
	m, err := ctxstore.NewManager(cfg, opts.UserDir, opts.Logger)
	if err != nil {
		return nil, err
	}
	if err := m.Open(); err != nil {
		return nil, err
	}
	if seed != nil {
		m.SeedGlobal(seed)
	}
	return storeContexts{m}, nil
}
