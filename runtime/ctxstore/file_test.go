package ctxstore

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
)

// nrConfig is the contextStorage of testdata/nr5/settings.js.
const nrConfig = `{"default":"file","file":{"module":"localfilesystem","config":{"flushInterval":1}},"mem":{"module":"memory"}}`

var fixtureFiles = []string{"global/global.json", "f1/flow.json", "f1/fn1.json"}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func compareWithFixture(t *testing.T, userDir string) {
	t.Helper()
	for _, f := range fixtureFiles {
		want := readFile(t, filepath.Join("testdata/nr5/context", f))
		got := readFile(t, filepath.Join(userDir, "context", f))
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from Node-RED's:\n--- got\n%s\n--- want\n%s", f, got, want)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(userDir, "context", "*", "*.tmp"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %q", leftovers)
	}
}

// TestWritesLikeNodeRED replays the sets of testdata/nr5/flows.json (the
// change node, then the function nodes) and expects the files Node-RED 5
// wrote for them (re-record with testdata/nr5/record.sh).
func TestWritesLikeNodeRED(t *testing.T) {
	dir := t.TempDir()
	m, logs := newMgr(t, nrConfig, dir)
	m.SeedGlobal(obj(t, `{"seeded":"from-settings"}`))
	flow := m.FlowScope("f1", "global")
	global := m.Global()
	fn1 := m.NodeScope("fn1", "f1")
	fn2 := m.NodeScope("fn2", "f1")

	// change node
	mustSet(t, flow, "counter", 42.0, "")
	mustSet(t, flow, "obj.nested.deep", obj(t, `{"x":1,"list":[1,2,3]}`), "")
	mustSet(t, global, "greeting", "héllo \"world\"\n\t✓", "")
	mustSet(t, global, "#:(mem)::volatile", true, "")

	// function node fn1
	mustSet(t, fn1, "count", 1.0, "")
	mustSet(t, fn1, "arr[2]", "x", "")
	mustSet(t, fn1, "cfg.b", 2.0, "")
	mustSet(t, fn1, "cfg.a", 1.0, "")
	mustSet(t, fn1, "cfg.10", "ten", "")
	mustSet(t, fn1, "cfg.2", "two", "")
	mustSet(t, fn1, "nums", []any{0.1, math.Copysign(0, -1), 1e21, 1.5e-7, 123456789012345680000.0, -3.25, 1.0 / 3}, "")
	mustSet(t, fn1, "buf", []byte("hi"), "")
	mustSet(t, fn1, "empty", msg.NewObject(0), "")
	mustSet(t, fn1, "emptyArr", []any{}, "")
	mustSet(t, fn1, "nul", nil, "")
	mustSet(t, fn1, "gone", 5.0, "")
	mustSet(t, fn1, "gone", msg.Undefined{}, "")
	mustSet(t, fn1, "list", []any{1.0, obj(t, `{"a":[2,3]}`), "z"}, "")
	mustSet(t, fn1, "list[1].a[0]", msg.Undefined{}, "")
	c := msg.ObjectOf("name", "c")
	c.Set("self", c)
	c.Set("arr", []any{c, 1.0})
	mustSet(t, fn1, "circ", c, "")
	mustSet(t, flow, "fromFn", "yes", "")
	if err := global.SetMany([]string{"k1", "k2"}, []any{"v1", 2.0}, ""); err != nil {
		t.Fatal(err)
	}

	// function node fn2 reported these; compare with what Node-RED said.
	var report struct {
		K, F, G, Gm []string
		Seeded      string
		Unk, Dflt   float64
	}
	if err := json.Unmarshal(readFile(t, "testdata/nr5/report.json"), &report); err != nil {
		t.Fatal(err)
	}
	keys := func(c *Context, st string) string { k, _ := c.Keys(st); return strings.Join(k, ",") }
	for _, kc := range []struct {
		what, got string
		want      []string
	}{
		{"node keys", keys(fn2, ""), report.K},
		{"flow keys", keys(flow, ""), report.F},
		{"global keys", keys(global, ""), report.G},
		{"global mem keys", keys(global, "mem"), report.Gm},
	} {
		if kc.got != strings.Join(kc.want, ",") {
			t.Errorf("%s = %q, want %q", kc.what, kc.got, kc.want)
		}
	}
	if v := mustGet(t, global, "seeded", ""); v != report.Seeded {
		t.Errorf("seeded = %v, want %v", v, report.Seeded)
	}
	if v := mustGet(t, flow, "counter", "nosuch"); v != report.Unk {
		t.Errorf("counter from unknown store = %v, want %v", v, report.Unk)
	}
	if v := mustGet(t, flow, "counter", "default"); v != report.Dflt {
		t.Errorf("counter from store default = %v, want %v", v, report.Dflt)
	}
	for _, w := range []string{"Unknown context store 'nosuch'", "Unknown context store 'default'"} {
		if !strings.Contains(logs.String(), w) {
			t.Errorf("no warning %q", w)
		}
	}

	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	compareWithFixture(t, dir)
	if !strings.Contains(logs.String(), "Context fn1:f1 contains a circular reference") {
		t.Errorf("no warning about the circular reference:\n%s", logs)
	}
	// The memory store is not on disk.
	if _, err := os.Stat(filepath.Join(dir, "context", "mem")); err == nil {
		t.Error("memory store wrote files")
	}
}

// TestLoadsNodeREDFiles loads a context directory Node-RED 5 wrote and
// writes it back unchanged.
func TestLoadsNodeREDFiles(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, "testdata/nr5/context", filepath.Join(dir, "context"))
	m, _ := newMgr(t, nrConfig, dir)
	flow, global, fn1 := m.Scope("f1"), m.Global(), m.NodeScope("fn1", "f1")
	wantJS(t, "counter", mustGet(t, flow, "counter", ""), `42`)
	wantJS(t, "deep list", mustGet(t, flow, "obj.nested.deep.list[2]", ""), `3`)
	wantJS(t, "greeting", mustGet(t, global, "greeting", ""), `"héllo \"world\"\n\t✓"`)
	// A Buffer comes back as the object JSON made of it, as in Node-RED.
	wantJS(t, "buf", mustGet(t, fn1, "buf", ""), `{"type":"Buffer","data":[104,105]}`)
	wantKeys(t, fn1, "", "count", "arr", "cfg", "nums", "buf", "empty", "emptyArr", "nul", "list", "circ")
	wantKeys(t, global, "", "greeting", "k1", "k2")
	wantKeys(t, global, "mem")

	// Touch every scope so the next flush rewrites it.
	same := func(v any) any { return v }
	for _, c := range []*Context{flow, global, fn1} {
		if err := c.Update("count", "", same); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	compareWithFixture(t, dir)
}

func TestPersistAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := `{"default":{"module":"memory"},"file":{"module":"localfilesystem"}}`
	m, _ := newMgr(t, cfg, dir)
	mustSet(t, m.Global(), "g", "G", "file")
	mustSet(t, m.Scope("f1"), "f.x", []any{1.0}, "file")
	mustSet(t, m.NodeScope("n1", "f1"), "n", true, "file")
	mustSet(t, m.NodeScope("n1", "f1"), "mem", true, "")
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"global/global.json", "f1/flow.json", "f1/n1.json"} {
		if _, err := os.Stat(filepath.Join(dir, "context", f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	m2, _ := newMgr(t, cfg, dir)
	wantJS(t, "global", mustGet(t, m2.Global(), "g", "file"), `"G"`)
	wantJS(t, "flow", mustGet(t, m2.Scope("f1"), "f", "file"), `{"x":[1]}`)
	wantJS(t, "node", mustGet(t, m2.NodeScope("n1", "f1"), "n", "file"), `true`)
	wantJS(t, "memory", mustGet(t, m2.NodeScope("n1", "f1"), "mem", ""), `undefined`)
}

func TestPeriodicFlush(t *testing.T) {
	dir := t.TempDir()
	m, _ := newMgr(t, `{"file":{"module":"localfilesystem","config":{"flushInterval":0.3}}}`, dir)
	path := filepath.Join(dir, "context", "f1", "flow.json")
	mustSet(t, m.Scope("f1"), "a", 1.0, "")
	if _, err := os.Stat(path); err == nil {
		t.Fatal("written before the flush interval")
	}
	waitFor(t, path, "{\n    \"a\": 1\n}")
	// Later sets are flushed by a new timer.
	mustSet(t, m.Scope("f1"), "a", 2.0, "")
	waitFor(t, path, "{\n    \"a\": 2\n}")
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if string(b) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %q, want %q", path, b, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFlushOnCloseOnly(t *testing.T) {
	dir := t.TempDir()
	m, _ := newMgr(t, `{"file":{"module":"localfilesystem"}}`, dir) // 30 s
	mustSet(t, m.Scope("f1"), "a", 1.0, "")
	path := filepath.Join(dir, "context", "f1", "flow.json")
	if _, err := os.Stat(path); err == nil {
		t.Fatal("written before the flush interval")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if b := readFile(t, path); string(b) != "{\n    \"a\": 1\n}" {
		t.Errorf("flow.json = %q", b)
	}
}

func TestFileStoreDirAndBase(t *testing.T) {
	dir := t.TempDir()
	cfg := `{"file":{"module":"localfilesystem","config":{"dir":` + string(msg.Marshal(dir)) + `,"base":"ctx"}}}`
	m, _ := newMgr(t, cfg, "/nonexistent")
	mustSet(t, m.Global(), "a", 1.0, "")
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	readFile(t, filepath.Join(dir, "ctx", "global", "global.json"))
}

func TestNoCache(t *testing.T) {
	dir := t.TempDir()
	m, _ := newMgr(t, `{"file":{"module":"localfilesystem","config":{"cache":false}}}`, dir)
	c := m.NodeScope("n1", "f1")
	mustSet(t, c, "a.b", 1.0, "")
	path := filepath.Join(dir, "context", "f1", "n1.json")
	if b := readFile(t, path); string(b) != "{\n    \"a\": {\n        \"b\": 1\n    }\n}" {
		t.Errorf("written at once: %q", b)
	}
	wantJS(t, "a.b", mustGet(t, c, "a.b", ""), `1`)
	wantKeys(t, c, "", "a")
	// Another writer's change is seen: there is no cache.
	if err := os.WriteFile(path, []byte(`{"z":true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	wantJS(t, "z", mustGet(t, c, "z", ""), `true`)
	if err := c.Update("n", "", func(any) any { return 5.0 }); err != nil {
		t.Fatal(err)
	}
	wantKeys(t, c, "", "z", "n")
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestFileDeleteAndClean(t *testing.T) {
	dir := t.TempDir()
	m, _ := newMgr(t, `{"file":{"module":"localfilesystem","config":{"flushInterval":0}}}`, dir)
	ctxDir := filepath.Join(dir, "context")
	for _, sc := range []string{"global", "f1", "n1:f1", "n2:f1", "f2", "n3:f2"} {
		mustSet(t, m.Scope(sc), "k", sc, "")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	exists := func(rel string) bool {
		_, err := os.Stat(filepath.Join(ctxDir, rel))
		return err == nil
	}
	// Configured stores keep a closed node's context.
	if err := m.Delete("n1:f1"); err != nil || !exists("f1/n1.json") {
		t.Fatalf("Delete(n1:f1) with a configured store: err %v, file kept %v", err, exists("f1/n1.json"))
	}
	if err := m.Clean([]string{"f1", "n1"}); err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]bool{
		"global/global.json": true, "f1/flow.json": true, "f1/n1.json": true,
		"f1/n2.json": false, "f2": false,
	} {
		if exists(rel) != want {
			t.Errorf("after Clean, %s exists = %v, want %v", rel, !want, want)
		}
	}
	wantKeys(t, m.NodeScope("n2", "f1"), "")
	if err := m.Delete("global"); err != nil || exists("global/global.json") {
		t.Errorf("Delete(global): err %v, file exists %v", err, exists("global/global.json"))
	}
	wantKeys(t, m.Global(), "")
}

func TestInvalidContextFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "context", "f1", "n1.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(`{"a":`), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(obj(t, `{"file":{"module":"localfilesystem"}}`), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = m.Open()
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `"file"`) {
		t.Errorf("Open err = %v, want one naming the store and %s", err, path)
	}
}

func TestLoadQuirks(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		// Node-RED applies each top-level key as a path when it loads.
		"f1/flow.json": `{"a.b":1,"plain":2}`,
		// Empty files are empty scopes; temp files and dot dirs are skipped.
		"f1/n1.json":         ``,
		"f1/n2.json.123.tmp": `garbage`,
		".hidden/flow.json":  `garbage`,
		"global/global.json": `{"g":1}`,
		"global/other.json":  `{"h":2}`,
		"f2/flow.json":       `[5,6]`,
	}
	for rel, body := range files {
		p := filepath.Join(dir, "context", rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, _ := newMgr(t, `{"file":{"module":"localfilesystem"}}`, dir)
	wantJS(t, "a", mustGet(t, m.Scope("f1"), "a", ""), `{"b":1}`)
	wantKeys(t, m.Scope("f1"), "", "a", "plain")
	wantKeys(t, m.NodeScope("n1", "f1"), "")
	wantKeys(t, m.Global(), "", "g", "h")
	wantKeys(t, m.Scope("f2"), "", "0", "1")
}

func TestWriteFailureKeepsPending(t *testing.T) {
	dir := t.TempDir()
	m, _ := newMgr(t, `{"file":{"module":"localfilesystem"}}`, dir)
	mustSet(t, m.Scope("f1"), "a", 1.0, "")
	// A file where the flow's directory should be makes the write fail.
	blocker := filepath.Join(dir, "context", "f1")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err == nil {
		t.Fatal("Close succeeded although the write failed")
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if b := readFile(t, filepath.Join(blocker, "flow.json")); string(b) != "{\n    \"a\": 1\n}" {
		t.Errorf("flow.json = %q", b)
	}
}
