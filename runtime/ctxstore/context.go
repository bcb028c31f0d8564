package ctxstore

import (
	"errors"
	"regexp"
	"strings"
	"sync/atomic"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// ErrInvalidKey is an empty context key (or an empty key list).
var ErrInvalidKey = errors.New("Invalid context key")

// Context is one scope's view of the stores. It is a handle: cheap to keep,
// safe for concurrent use.
type Context struct {
	m      *Manager
	id     string
	parent atomic.Pointer[Context]
}

var _ node.Scope = (*Context)(nil)

// ID is the scope name.
func (c *Context) ID() string { return c.id }

// storeInKey reads the "#:(store)::key" form typed inputs use.
var storeInKey = regexp.MustCompile(`^#:\((\S+?)\)::(.*)$`)

// SplitStore splits a "#:(store)::key" context reference into store and key;
// a plain key has no store.
func SplitStore(key string) (store, rest string) {
	if m := storeInKey.FindStringSubmatch(key); m != nil {
		return m[1], m[2]
	}
	return "", key
}

// follow resolves "$parent." prefixes: each one steps to the parent flow's
// context. ok is false when the key names no value (a "$parent" with nothing
// after it, or no parent to step to).
func (c *Context) follow(key string) (ctx *Context, rest string, ok bool) {
	if key == "$parent" {
		return nil, "", false
	}
	const p = "$parent."
	if !strings.HasPrefix(key, p) {
		return c, key, true
	}
	ctx = c.parent.Load()
	key = key[len(p):]
	for ctx != nil && strings.HasPrefix(key, p) {
		ctx = ctx.parent.Load()
		key = key[len(p):]
	}
	return ctx, key, ctx != nil && key != ""
}

// Get returns the value at key (a property path such as "a.b[0]") from the
// named store ("" for the default; an unknown name uses the default with a
// warning). A missing value is msg.Undefined{}; a key that is not a valid
// path is a *KeyError. "$parent.x" reads x from the parent flow's context.
func (c *Context) Get(key, store string) (any, error) {
	if key == "" {
		return nil, ErrInvalidKey
	}
	if store == "" {
		store, key = SplitStore(key)
	}
	ctx, key, ok := c.follow(key)
	if !ok {
		return msg.Undefined{}, nil
	}
	vals, err := ctx.getMany([]string{key}, store)
	if err != nil {
		return nil, err
	}
	return vals[0], nil
}

// GetMany returns the values of several keys from one store, as
// context.get([...]) does ("$parent." and "#:(store)::" are not read here).
func (c *Context) GetMany(keys []string, store string) ([]any, error) {
	if err := checkKeys(keys); err != nil {
		return nil, err
	}
	return c.getMany(keys, store)
}

func checkKeys(keys []string) error {
	if len(keys) == 0 {
		return ErrInvalidKey
	}
	for _, k := range keys {
		if k == "" {
			return ErrInvalidKey
		}
	}
	return nil
}

func (c *Context) getMany(keys []string, store string) ([]any, error) {
	if store == "" {
		store = "_"
	}
	vals, err := c.m.storeFor(store).get(c.id, keys)
	if err != nil {
		return nil, err
	}
	if c.id == "global" {
		if err := c.fillSeed(keys, vals); err != nil {
			return nil, err
		}
	}
	return vals, nil
}

// fillSeed answers keys no store holds from functionGlobalContext.
func (c *Context) fillSeed(keys []string, vals []any) error {
	seed, _ := c.m.seedState()
	if seed == nil {
		return nil
	}
	for i, v := range vals {
		if !msg.IsUndefined(v) {
			continue
		}
		parts, err := parseKey(seed, keys[i])
		if err != nil {
			return err
		}
		vals[i] = getAt(seed, parts)
	}
	return nil
}

// Set stores value at key, creating missing parent objects (or arrays, for
// a bracket index); value msg.Undefined{} deletes the key, nil stores null.
// The value is stored by reference, not copied.
func (c *Context) Set(key string, value any, store string) error {
	if key == "" {
		return ErrInvalidKey
	}
	if store == "" {
		store, key = SplitStore(key)
	}
	ctx, key, ok := c.follow(key)
	if !ok {
		return nil
	}
	return ctx.setMany([]string{key}, []any{value}, store)
}

// SetMany sets several keys in one store, as context.set([...], [...]) does:
// a key without a value gets null.
func (c *Context) SetMany(keys []string, values []any, store string) error {
	if err := checkKeys(keys); err != nil {
		return err
	}
	vals := make([]any, len(keys))
	for i := range vals {
		if i < len(values) {
			vals[i] = values[i]
		}
	}
	return c.setMany(keys, vals, store)
}

func (c *Context) setMany(keys []string, values []any, store string) error {
	if store == "" {
		store = "_"
	}
	return c.m.storeFor(store).set(c.id, keys, values)
}

// Update replaces the value at key with fn(old) while holding the store's
// lock, so concurrent updates of one key do not lose each other's changes
// (fn must not use this context). old is msg.Undefined{} when absent;
// returning msg.Undefined{} deletes.
func (c *Context) Update(key, store string, fn func(old any) any) error {
	if key == "" {
		return ErrInvalidKey
	}
	if store == "" {
		store, key = SplitStore(key)
	}
	ctx, key, ok := c.follow(key)
	if !ok {
		return nil
	}
	if store == "" {
		store = "_"
	}
	f := fn
	if ctx.id == "global" {
		f = func(old any) any {
			if msg.IsUndefined(old) {
				vals := []any{old}
				if err := ctx.fillSeed([]string{key}, vals); err == nil {
					old = vals[0]
				}
			}
			return fn(old)
		}
	}
	return ctx.m.storeFor(store).update(ctx.id, key, f)
}

// Keys lists the scope's top-level keys in the named store, in JavaScript
// key order. Global lists the functionGlobalContext keys first.
func (c *Context) Keys(store string) ([]string, error) {
	if store == "" {
		store = "_"
	}
	keys, err := c.m.storeFor(store).keys(c.id)
	if err != nil || c.id != "global" {
		return keys, err
	}
	seed, export := c.m.seedState()
	if seed == nil || !export {
		return keys, nil
	}
	out := make([]string, 0, seed.Len()+len(keys))
	seen := make(map[string]bool, cap(out))
	for _, k := range append(append([]string(nil), seed.Keys()...), keys...) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out, nil
}
