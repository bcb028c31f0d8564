package ctxstore

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
)

// fileStore is Node-RED's "localfilesystem" module. Layout under dir:
//
//	global/global.json      global context
//	<flowId>/flow.json      flow context
//	<flowId>/<nodeId>.json  node context
//
// With the cache (the default) every scope lives in memory, is loaded on
// open, and a set schedules one write of the changed scopes flushInterval
// later; close writes whatever is pending. Without the cache every access
// reads the file and every set rewrites it.
type fileStore struct {
	name     string
	dir      string
	interval time.Duration
	cache    *memStore // nil when the cache is off
	log      *slog.Logger

	mu       sync.Mutex // guards the fields below
	pending  map[string]bool
	timer    *time.Timer
	closing  bool
	circular map[string]bool // scopes already warned about

	// wmu orders every change on disk (flushes, deletes, cleans and the
	// read-modify-write of the uncached mode), so a flush cannot bring back
	// a file that a delete has just removed.
	wmu sync.Mutex
}

func scopePath(dir, scope string) string {
	if scope == "global" {
		return filepath.Join(dir, "global", "global.json")
	}
	node, flow, ok := strings.Cut(scope, ":")
	if !ok {
		return filepath.Join(dir, scope, "flow.json")
	}
	return filepath.Join(dir, flow, node+".json")
}

func (s *fileStore) open() error {
	s.mu.Lock()
	s.closing = false
	s.pending = map[string]bool{}
	s.circular = map[string]bool{}
	s.mu.Unlock()
	if err := s.ensureDir(); err != nil {
		return err
	}
	if s.cache == nil {
		return nil
	}
	s.cache.reset()
	files, err := s.listFiles()
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := readScopeFile(filepath.Join(s.dir, f.rel))
		if err != nil {
			return fmt.Errorf("context store %q: %w", s.name, err)
		}
		s.cache.load(f.scope, data)
	}
	return nil
}

func (s *fileStore) ensureDir() error {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("context store %q: %w", s.name, err)
	}
	return nil
}

type scopeFile struct {
	rel   string // path below dir
	scope string
}

// listFiles finds the *.json files one directory down, skipping dot
// directories, as Node-RED scans its context directory.
func (s *fileStore) listFiles() ([]scopeFile, error) {
	dirs, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("context store %q: %w", s.name, err)
	}
	var out []scopeFile
	for _, d := range dirs {
		if strings.HasPrefix(d.Name(), ".") || !d.IsDir() {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(s.dir, d.Name()))
		if err != nil {
			return nil, fmt.Errorf("context store %q: %w", s.name, err)
		}
		for _, e := range entries {
			n := e.Name()
			if e.IsDir() || !strings.HasSuffix(n, ".json") {
				continue
			}
			var scope string
			switch {
			case d.Name() == "global":
				scope = "global"
			case n == "flow.json":
				scope = d.Name()
			default:
				scope = strings.TrimSuffix(n, ".json") + ":" + d.Name()
			}
			out = append(out, scopeFile{rel: filepath.Join(d.Name(), n), scope: scope})
		}
	}
	return out, nil
}

// readScopeFile reads one context file; a missing or empty file is an empty
// scope.
func readScopeFile(path string) (*msg.Object, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return msg.NewObject(0), nil
	}
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return msg.NewObject(0), nil
	}
	v, err := msg.Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("invalid JSON in context file %s: %w", path, err)
	}
	switch t := v.(type) {
	case *msg.Object:
		return t, nil
	case []any:
		o := msg.NewObject(len(t))
		for i, e := range t {
			o.Set(fmt.Sprint(i), e)
		}
		return o, nil
	case nil:
		return nil, fmt.Errorf("invalid JSON in context file %s: null is not an object", path)
	default:
		return msg.NewObject(0), nil
	}
}

func (s *fileStore) close() error {
	if s.cache == nil {
		return nil
	}
	s.mu.Lock()
	s.closing = true
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.mu.Unlock()
	return s.flush()
}

// flush writes every scope changed since the last flush. A scope that fails
// to write stays pending, so the next flush (or close) tries again.
func (s *fileStore) flush() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	scopes := make([]string, 0, len(s.pending))
	for sc := range s.pending {
		scopes = append(scopes, sc)
	}
	s.pending = map[string]bool{}
	s.mu.Unlock()
	sort.Strings(scopes)
	var errs []error
	for _, sc := range scopes {
		data, circular := s.cache.snapshot(sc)
		s.warnCircular(sc, circular)
		s.log.Debug("flushing context scope", "store", s.name, "scope", sc)
		if err := writeAtomic(scopePath(s.dir, sc), data); err != nil {
			s.log.Error("error writing context", "store", s.name, "scope", sc, "err", err)
			errs = append(errs, err)
			s.mu.Lock()
			s.pending[sc] = true
			s.mu.Unlock()
		}
	}
	return errors.Join(errs...)
}

func (s *fileStore) warnCircular(scope string, circular bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !circular {
		delete(s.circular, scope)
		return
	}
	if !s.circular[scope] {
		s.circular[scope] = true
		s.log.Warn(fmt.Sprintf("Context %s contains a circular reference that cannot be persisted", scope), "store", s.name)
	}
}

// writeAtomic replaces path through a synced temporary file and a rename, so
// a crash leaves the old file or the new one, never half of one.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// markDirty schedules a flush unless one is due or the store is closing (the
// close flush will write it).
func (s *fileStore) markDirty(scope string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending[scope] = true
	if s.timer != nil || s.closing {
		return
	}
	s.timer = time.AfterFunc(s.interval, func() {
		s.mu.Lock()
		s.timer = nil
		s.mu.Unlock()
		_ = s.flush() // logged inside; the scope stays pending
	})
}

func (s *fileStore) get(scope string, keys []string) ([]any, error) {
	if s.cache != nil {
		return s.cache.get(scope, keys)
	}
	root, err := readScopeFile(scopePath(s.dir, scope))
	if err != nil {
		return nil, fmt.Errorf("context store %q: %w", s.name, err)
	}
	tmp := &memStore{data: map[string]*msg.Object{scope: root}}
	if root.Len() == 0 {
		delete(tmp.data, scope)
	}
	return tmp.get(scope, keys)
}

func (s *fileStore) set(scope string, keys []string, values []any) error {
	if s.cache != nil {
		err := s.cache.set(scope, keys, values)
		s.markDirty(scope)
		return err
	}
	return s.rewrite(scope, func(m *memStore) error { return m.setLocked(scope, keys, values) })
}

func (s *fileStore) update(scope, key string, fn func(any) any) error {
	if s.cache != nil {
		err := s.cache.update(scope, key, fn)
		s.markDirty(scope)
		return err
	}
	return s.rewrite(scope, func(m *memStore) error {
		root := m.scopeLocked(scope)
		parts, err := parseKey(root, key)
		if err != nil {
			return err
		}
		setAt(root, parts, fn(getAt(root, parts)))
		return nil
	})
}

// rewrite is the uncached set: read the scope's file, change it, write it.
func (s *fileStore) rewrite(scope string, change func(*memStore) error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	path := scopePath(s.dir, scope)
	root, err := readScopeFile(path)
	if err != nil {
		return fmt.Errorf("context store %q: %w", s.name, err)
	}
	tmp := &memStore{data: map[string]*msg.Object{scope: root}}
	if err := change(tmp); err != nil {
		return err
	}
	data, circular := tmp.snapshot(scope)
	s.warnCircular(scope, circular)
	if err := writeAtomic(path, data); err != nil {
		return fmt.Errorf("context store %q: writing %s: %w", s.name, path, err)
	}
	return nil
}

func (s *fileStore) keys(scope string) ([]string, error) {
	if s.cache != nil {
		return s.cache.keys(scope)
	}
	root, err := readScopeFile(scopePath(s.dir, scope))
	if err != nil {
		return nil, fmt.Errorf("context store %q: %w", s.name, err)
	}
	return append([]string{}, root.Keys()...), nil
}

func (s *fileStore) delete(scope string) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.cache != nil {
		s.cache.delete(scope)
	}
	s.mu.Lock()
	delete(s.pending, scope)
	s.mu.Unlock()
	err := os.Remove(scopePath(s.dir, scope))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("context store %q: %w", s.name, err)
	}
	return nil
}

// clean drops the context of nodes and flows that are no longer deployed:
// a flow's whole directory when the flow is gone, a node's file when the
// node is. Global is never cleaned.
func (s *fileStore) clean(active map[string]bool) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.cache != nil {
		s.cache.clean(active)
	}
	s.mu.Lock()
	s.circular = map[string]bool{}
	for sc := range s.pending {
		// Node-RED would write an empty file for a cleaned scope that was
		// still pending; there is nothing left to keep.
		if sc != "global" && !active[scopeOwner(sc)] {
			delete(s.pending, sc)
		}
	}
	s.mu.Unlock()
	files, err := s.listFiles()
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range files {
		flowDir, name := filepath.Split(f.rel)
		flowDir = filepath.Clean(flowDir)
		switch {
		case flowDir == "global":
		case !active[flowDir]:
			if err := os.RemoveAll(filepath.Join(s.dir, flowDir)); err != nil {
				errs = append(errs, err)
			}
		case name != "flow.json" && !active[strings.TrimSuffix(name, ".json")]:
			if err := os.Remove(filepath.Join(s.dir, f.rel)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("context store %q: %w", s.name, err)
	}
	return nil
}
