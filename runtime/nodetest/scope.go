package nodetest

import (
	"sync"

	"github.com/sluicehq/sluice/runtime/msg"
)

// Scope is an in-memory context scope (node, flow or global) that ignores
// the store name. Fail, when set, is returned by every call, to test how a
// node reports a context store that has gone wrong.
type Scope struct {
	mu   sync.Mutex
	Root *msg.Object
	Fail error
}

// NewScope returns an empty scope.
func NewScope() *Scope { return &Scope{Root: msg.NewObject(0)} }

func (s *Scope) Get(key, store string) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return nil, s.Fail
	}
	v, ok, err := msg.Get(s.Root, key)
	if err != nil {
		return nil, err
	}
	if !ok {
		return msg.Undefined{}, nil
	}
	return v, nil
}

func (s *Scope) Set(key string, v any, store string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return s.Fail
	}
	if msg.IsUndefined(v) {
		parts, err := msg.ParsePath(key)
		if err != nil {
			return err
		}
		msg.DeletePath(s.Root, parts)
		return nil
	}
	return msg.Set(s.Root, key, v)
}

func (s *Scope) Keys(store string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return nil, s.Fail
	}
	return s.Root.Keys(), nil
}
