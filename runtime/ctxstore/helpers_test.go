package ctxstore

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
)

// logBuf collects log output from many goroutines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newLog() (*slog.Logger, *logBuf) {
	b := &logBuf{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// obj parses JSON into the message model.
func obj(t *testing.T, js string) *msg.Object {
	t.Helper()
	v, err := msg.UnmarshalString(js)
	if err != nil {
		t.Fatalf("bad test JSON %s: %v", js, err)
	}
	o, ok := v.(*msg.Object)
	if !ok {
		t.Fatalf("test JSON %s is not an object", js)
	}
	return o
}

func newMgr(t *testing.T, cfg string, userDir string) (*Manager, *logBuf) {
	t.Helper()
	var c *msg.Object
	if cfg != "" {
		c = obj(t, cfg)
	}
	log, buf := newLog()
	m, err := NewManager(c, userDir, log)
	if err != nil {
		t.Fatalf("NewManager(%s): %v", cfg, err)
	}
	if err := m.Open(); err != nil {
		t.Fatalf("Open: %v", err)
	}
	return m, buf
}

func mustGet(t *testing.T, c *Context, key, store string) any {
	t.Helper()
	v, err := c.Get(key, store)
	if err != nil {
		t.Fatalf("Get(%q, %q): %v", key, store, err)
	}
	return v
}

func mustSet(t *testing.T, c *Context, key string, v any, store string) {
	t.Helper()
	if err := c.Set(key, v, store); err != nil {
		t.Fatalf("Set(%q, %q): %v", key, store, err)
	}
}

// js renders a value as JSON, with undefined spelled out so tests can tell
// it from null.
func js(v any) string {
	if msg.IsUndefined(v) {
		return "undefined"
	}
	return string(msg.Marshal(v))
}

func wantJS(t *testing.T, what string, got any, want string) {
	t.Helper()
	if g := js(got); g != want {
		t.Errorf("%s = %s, want %s", what, g, want)
	}
}

func wantKeys(t *testing.T, c *Context, store string, want ...string) {
	t.Helper()
	got, err := c.Keys(store)
	if err != nil {
		t.Fatalf("Keys(%q): %v", store, err)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Keys(%q) = %q, want %q", store, got, want)
	}
}
