package ctxstore

import (
	"strings"
	"sync"

	"github.com/sluicehq/sluice/runtime/msg"
)

// store is one configured context store; scope is "global", a flow id or
// "<nodeId>:<flowId>".
type store interface {
	open() error
	close() error
	get(scope string, keys []string) ([]any, error)
	set(scope string, keys []string, values []any) error
	update(scope, key string, fn func(old any) any) error
	keys(scope string) ([]string, error)
	delete(scope string) error
	clean(active map[string]bool) error
}

// memStore is Node-RED's "memory" module, and the cache of a file store.
// Values are held by reference: Set does not copy, Get returns the stored
// value itself, so in-place changes to an object stick, as in Node-RED.
type memStore struct {
	mu   sync.RWMutex
	data map[string]*msg.Object
}

func newMemStore() *memStore { return &memStore{data: map[string]*msg.Object{}} }

func (s *memStore) open() error  { return nil }
func (s *memStore) close() error { return nil }

func (s *memStore) get(scope string, keys []string) ([]any, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	root := s.data[scope]
	out := make([]any, len(keys))
	for i, k := range keys {
		if root == nil {
			// Node-RED does not even parse the key of an empty scope.
			out[i] = msg.Undefined{}
			continue
		}
		parts, err := parseKey(root, k)
		if err != nil {
			return nil, err
		}
		out[i] = getAt(root, parts)
	}
	return out, nil
}

func (s *memStore) set(scope string, keys []string, values []any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.setLocked(scope, keys, values)
}

func (s *memStore) setLocked(scope string, keys []string, values []any) error {
	root := s.scopeLocked(scope)
	for i, k := range keys {
		parts, err := parseKey(root, k)
		if err != nil {
			return err
		}
		setAt(root, parts, values[i])
	}
	return nil
}

// scopeLocked returns the scope's data, creating it: Node-RED creates the
// scope object on any set, even one that deletes, so a file store then
// writes "{}".
func (s *memStore) scopeLocked(scope string) *msg.Object {
	root := s.data[scope]
	if root == nil {
		root = msg.NewObject(4)
		s.data[scope] = root
	}
	return root
}

func (s *memStore) update(scope, key string, fn func(any) any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	root := s.scopeLocked(scope)
	parts, err := parseKey(root, key)
	if err != nil {
		return err
	}
	setAt(root, parts, fn(getAt(root, parts)))
	return nil
}

func (s *memStore) keys(scope string) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return ownKeys(scope, s.data[scope]), nil
}

// ownKeys lists a scope's top-level keys. Global hides "get", "set" and
// "keys": Node-RED filters them because they once collided with the global
// context object's own methods.
func ownKeys(scope string, root *msg.Object) []string {
	out := make([]string, 0, root.Len())
	for _, k := range root.Keys() {
		if scope == "global" && (k == "get" || k == "set" || k == "keys") {
			continue
		}
		out = append(out, k)
	}
	return out
}

func (s *memStore) delete(scope string) error {
	s.mu.Lock()
	delete(s.data, scope)
	s.mu.Unlock()
	return nil
}

func (s *memStore) clean(active map[string]bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.data {
		if id == "global" {
			continue
		}
		if !active[scopeOwner(id)] {
			delete(s.data, id)
		}
	}
	return nil
}

// scopeOwner is the node id of a node scope, or the flow id of a flow scope.
func scopeOwner(scope string) string {
	owner, _, _ := strings.Cut(scope, ":")
	return owner
}

// snapshot serialises a scope as the file store writes it. circular reports
// that a reference cycle had to be left out.
func (s *memStore) snapshot(scope string) (data []byte, circular bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	root := s.data[scope]
	if root == nil {
		root = msg.NewObject(0)
	}
	return encodeScope(root)
}

// load merges a scope read from disk. Each top-level key is applied as a
// property path, as Node-RED does when it reloads (so a stored key "a.b"
// comes back nested); a key that is no valid path is kept verbatim.
func (s *memStore) load(scope string, data *msg.Object) {
	if data.Len() == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	root := s.scopeLocked(scope)
	for i := 0; i < data.Len(); i++ {
		k, v := data.At(i)
		parts, err := parseKey(root, k)
		if err != nil {
			root.Set(k, v)
			continue
		}
		setAt(root, parts, v)
	}
}

func (s *memStore) reset() {
	s.mu.Lock()
	s.data = map[string]*msg.Object{}
	s.mu.Unlock()
}
