// Package ctxstore is node, flow and global context with Node-RED's named
// context stores (settings.contextStorage): the "memory" module and the
// "localfilesystem" module, whose files are byte for byte those Node-RED 5
// writes, so an existing context directory carries over.
//
// Scopes are named as Node-RED names them: "global", a flow id (a tab or a
// subflow instance), and "<nodeId>:<flowId>" for a node.
//
// Values are held by reference, as in Node-RED: Set stores the value itself
// and Get returns it, so changing a returned object in place changes the
// context (and a file store writes the change with the scope's next flush).
// Many node goroutines share the stores: every store operation is locked,
// but a value obtained from Get is shared with the other goroutines, so a
// caller that mutates it in place must not race with them; Update does a
// read-modify-write under the store's lock. A file store without its cache
// reads the file on every Get and returns fresh copies.
package ctxstore

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
)

// Manager owns the configured context stores and the scopes handed to nodes.
type Manager struct {
	log *slog.Logger
	// byName holds each configured store under its name, and the default
	// store under "_" (a name users cannot configure).
	byName    map[string]store
	list      []string
	def       string
	configure bool // contextStorage had stores: node and flow Delete is a no-op

	mu       sync.Mutex
	contexts map[string]*Context
	warned   map[string]bool

	seedMu     sync.RWMutex
	seed       *msg.Object
	exportSeed bool
}

var storeName = regexp.MustCompile(`^[a-zA-Z0-9_]+$`)

// NewManager builds the stores of settings.contextStorage (nil or empty: one
// memory store named "memory"). userDir is where a localfilesystem store
// without a "dir" keeps its "context" directory. Stores are not read until
// Open.
func NewManager(cfg *msg.Object, userDir string, log *slog.Logger) (*Manager, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Manager{
		log:        log,
		byName:     map[string]store{},
		contexts:   map[string]*Context{},
		warned:     map[string]bool{},
		exportSeed: true,
	}
	if cfg.Len() == 0 {
		m.byName["_"] = newMemStore()
		m.list = []string{"memory"}
		m.def = "memory"
		log.Info("context store", "name", "default", "module", "memory")
		return m, nil
	}
	hasDefault := cfg.Has("default")
	defaultIsAlias := false
	firstName := ""
	var order []string
	for _, name := range cfg.Keys() {
		if name == "_" {
			continue // reserved for the default store
		}
		if !storeName.MatchString(name) {
			return nil, fmt.Errorf("contextStorage: invalid store name %q: use letters, digits and _ only", name)
		}
		v := cfg.Value(name)
		if alias, ok := v.(string); ok && name == "default" {
			if alias == "default" || alias == "_" || !cfg.Has(alias) {
				return nil, fmt.Errorf("contextStorage.default: %q is not a configured store", alias)
			}
			defaultIsAlias = true
			continue
		}
		if !hasDefault && firstName == "" {
			firstName = name
		}
		st, err := newStore(name, v, userDir, log)
		if err != nil {
			return nil, err
		}
		m.byName[name] = st
		order = append(order, name)
	}
	switch {
	case hasDefault && defaultIsAlias:
		alias := cfg.Value("default").(string)
		m.byName["_"] = m.byName[alias]
		m.def = alias
	case hasDefault:
		m.byName["_"] = m.byName["default"]
		m.def = "default"
	case firstName != "":
		m.byName["_"] = m.byName[firstName]
		m.def = firstName
	default:
		// Only the reserved "_" was listed: Node-RED keeps its memory
		// store and lists no store at all.
		m.byName["_"] = newMemStore()
		m.def = "memory"
	}
	m.configure = true
	m.list = order
	return m, nil
}

func newStore(name string, v any, userDir string, log *slog.Logger) (store, error) {
	spec, ok := v.(*msg.Object)
	if !ok || !spec.Has("module") {
		return nil, fmt.Errorf("contextStorage.%s: missing \"module\" option", name)
	}
	mod, ok := spec.Value("module").(string)
	if !ok {
		return nil, fmt.Errorf("contextStorage.%s.module: want a module name (\"memory\" or \"localfilesystem\"), got %s", name, describe(spec.Value("module")))
	}
	conf, _ := spec.Value("config").(*msg.Object)
	if c := spec.Value("config"); c != nil && conf == nil {
		return nil, fmt.Errorf("contextStorage.%s.config: want an object, got %s", name, describe(c))
	}
	switch mod {
	case "memory":
		log.Info("context store", "name", name, "module", mod)
		return newMemStore(), nil
	case "localfilesystem":
		fs, err := newFileStore(name, conf, userDir, log)
		if err != nil {
			return nil, err
		}
		log.Info("context store", "name", name, "module", mod, "dir", fs.dir)
		return fs, nil
	}
	return nil, fmt.Errorf("contextStorage.%s.module: unknown module %q (want \"memory\" or \"localfilesystem\")", name, mod)
}

func newFileStore(name string, conf *msg.Object, userDir string, log *slog.Logger) (*fileStore, error) {
	field := func(f string) string { return fmt.Sprintf("contextStorage.%s.config.%s", name, f) }
	base := "context"
	if v, ok := conf.Get("base"); ok && msg.Truthy(v) {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s: want a directory name, got %s", field("base"), describe(v))
		}
		base = s
	}
	var dir string
	if v, ok := conf.Get("dir"); ok && msg.Truthy(v) {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s: want a path, got %s", field("dir"), describe(v))
		}
		dir = filepath.Join(s, base)
	} else if userDir != "" {
		dir = filepath.Join(userDir, base)
	} else {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("%s: not set and no user directory: %w", field("dir"), err)
		}
		dir = filepath.Join(home, ".node-red", base)
	}
	cache := true
	if v, ok := conf.Get("cache"); ok {
		cache = msg.Truthy(v)
	}
	interval := 30 * time.Second
	if v, ok := conf.Get("flushInterval"); ok {
		secs := msg.ToNumber(v)
		if _, isStr := v.(string); (!isNumber(v) && !isStr) || math.IsNaN(secs) || math.IsInf(secs, 0) {
			return nil, fmt.Errorf("%s: want a number of seconds, got %s", field("flushInterval"), describe(v))
		}
		interval = time.Duration(math.Max(0, secs) * float64(time.Second))
	}
	fs := &fileStore{
		name:     name,
		dir:      dir,
		interval: interval,
		log:      log,
		pending:  map[string]bool{},
		circular: map[string]bool{},
	}
	if cache {
		fs.cache = newMemStore()
	}
	return fs, nil
}

func isNumber(v any) bool { _, ok := msg.Num(v); return ok }

func describe(v any) string {
	if s, ok := v.(string); ok {
		return msg.Quote(s)
	}
	return fmt.Sprintf("%s %s", msg.TypeOf(v), msg.Marshal(v))
}

// uniqueStores lists each store once (the default is also under its name).
func (m *Manager) uniqueStores() []store {
	seen := map[store]bool{}
	var out []store
	for _, name := range append([]string{"_"}, m.list...) {
		st := m.byName[name]
		if st != nil && !seen[st] {
			seen[st] = true
			out = append(out, st)
		}
	}
	return out
}

// Open loads the file stores (creating their directories); a context file
// that is not JSON is an error naming it.
func (m *Manager) Open() error {
	for _, st := range m.uniqueStores() {
		if err := st.open(); err != nil {
			return err
		}
	}
	return nil
}

// Close writes every pending change of the file stores. The stores stay
// usable; changes made after Close are written by the next Close.
func (m *Manager) Close() error {
	var errs []error
	for _, st := range m.uniqueStores() {
		errs = append(errs, st.close())
	}
	return errors.Join(errs...)
}

// Stores lists the configured store names, as the editor shows them.
func (m *Manager) Stores() []string { return append([]string(nil), m.list...) }

// DefaultStore names the store used when none is given.
func (m *Manager) DefaultStore() string { return m.def }

// SeedGlobal sets settings.functionGlobalContext: global Get falls back to
// it for keys no store holds, and global Keys lists its keys first. It is
// never written to a store.
func (m *Manager) SeedGlobal(seed *msg.Object) {
	m.seedMu.Lock()
	m.seed = seed
	m.seedMu.Unlock()
}

// ExportGlobalContextKeys is settings.exportGlobalContextKeys: when false,
// global Keys leaves out the seeded keys.
func (m *Manager) ExportGlobalContextKeys(on bool) {
	m.seedMu.Lock()
	m.exportSeed = on
	m.seedMu.Unlock()
}

func (m *Manager) seedState() (*msg.Object, bool) {
	m.seedMu.RLock()
	defer m.seedMu.RUnlock()
	return m.seed, m.exportSeed
}

// storeFor picks a store by name; an unknown name falls back to the default
// store with one warning per name, as Node-RED does.
func (m *Manager) storeFor(name string) store {
	if st, ok := m.byName[name]; ok {
		return st
	}
	if name != m.def {
		m.mu.Lock()
		first := !m.warned[name]
		m.warned[name] = true
		m.mu.Unlock()
		if first {
			m.log.Warn(fmt.Sprintf("Unknown context store '%s' specified. Using default store.", name))
		}
	}
	return m.byName["_"]
}

// Scope returns the context of a scope: "global", a flow id, or
// "<nodeId>:<flowId>" for a node.
func (m *Manager) Scope(scope string) *Context {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.scopeLocked(scope)
}

func (m *Manager) scopeLocked(scope string) *Context {
	if c, ok := m.contexts[scope]; ok {
		return c
	}
	c := &Context{m: m, id: scope}
	m.contexts[scope] = c
	return c
}

// Global is the global context.
func (m *Manager) Global() *Context { return m.Scope("global") }

// NodeScope is the context of node nodeID in flow flowID.
func (m *Manager) NodeScope(nodeID, flowID string) *Context {
	return m.Scope(nodeID + ":" + flowID)
}

// FlowScope is the context of flow flowID whose "$parent." keys reach
// parentID's context: a top-level flow's parent is "global", a subflow
// instance's is the flow holding the instance, "" is none.
func (m *Manager) FlowScope(flowID, parentID string) *Context {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.scopeLocked(flowID)
	if parentID != "" && parentID != flowID {
		c.parent.Store(m.scopeLocked(parentID))
	} else {
		c.parent.Store(nil)
	}
	return c
}

// Delete does what Node-RED does when a node closes or global context is
// cleared: "global" is emptied in every store (the functionGlobalContext
// seed stays); a node or flow scope is removed from the default store only
// when contextStorage configures no store, otherwise it is kept (Clean
// removes the context of nodes that are gone after a deploy).
func (m *Manager) Delete(scope string) error {
	if scope == "global" {
		var errs []error
		for _, st := range m.uniqueStores() {
			errs = append(errs, st.delete("global"))
		}
		return errors.Join(errs...)
	}
	if m.configure {
		return nil
	}
	m.mu.Lock()
	delete(m.contexts, scope)
	m.mu.Unlock()
	return m.byName["_"].delete(scope)
}

// Clean removes, from every store, the context of nodes and flows not in
// active (the ids of every deployed node and flow, with subflow instance
// contents as "<instanceId>-<nodeId>"), as Node-RED does after a deploy.
// Global context is kept.
func (m *Manager) Clean(active []string) error {
	set := make(map[string]bool, len(active))
	for _, id := range active {
		set[id] = true
	}
	var errs []error
	for _, st := range m.uniqueStores() {
		errs = append(errs, st.clean(set))
	}
	m.mu.Lock()
	for id := range m.contexts {
		if id != "global" && !set[scopeOwner(id)] {
			delete(m.contexts, id)
		}
	}
	m.mu.Unlock()
	return errors.Join(errs...)
}
