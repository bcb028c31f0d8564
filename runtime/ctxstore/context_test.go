package ctxstore

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func TestPaths(t *testing.T) {
	m, _ := newMgr(t, "", "")
	c := m.NodeScope("n1", "f1")

	mustSet(t, c, "a.b", 1.0, "")
	wantJS(t, "a", mustGet(t, c, "a", ""), `{"b":1}`)
	wantJS(t, "a.b", mustGet(t, c, "a.b", ""), `1`)
	wantJS(t, "missing parent", mustGet(t, c, "x.y.z", ""), `undefined`)
	wantJS(t, "below a number", mustGet(t, c, "a.b.c", ""), `undefined`)

	// A bracket index creates an array, with holes up to it.
	mustSet(t, c, "arr[2]", "x", "")
	wantJS(t, "arr", mustGet(t, c, "arr", ""), `[null,null,"x"]`)
	wantJS(t, "arr[0]", mustGet(t, c, "arr[0]", ""), `undefined`)
	mustSet(t, c, "deep[1].k", true, "")
	wantJS(t, "deep", mustGet(t, c, "deep", ""), `[null,{"k":true}]`)

	// A primitive or null in the way is a silent no-op.
	mustSet(t, c, "nul", nil, "")
	mustSet(t, c, "nul.x", 1.0, "")
	wantJS(t, "nul", mustGet(t, c, "nul", ""), `null`)
	mustSet(t, c, "a.b.c", 1.0, "")
	wantJS(t, "a", mustGet(t, c, "a", ""), `{"b":1}`)

	// Strings have a length and characters.
	mustSet(t, c, "s", "abc", "")
	wantJS(t, "s.length", mustGet(t, c, "s.length", ""), `3`)
	wantJS(t, "s[1]", mustGet(t, c, "s[1]", ""), `"b"`)

	// Deleting: a key goes; "arr.1" leaves a hole, "arr[0]" splices.
	mustSet(t, c, "list", []any{1.0, 2.0, 3.0}, "")
	mustSet(t, c, "list[5]", 6.0, "")
	wantJS(t, "list", mustGet(t, c, "list", ""), `[1,2,3,null,null,6]`)
	mustSet(t, c, "list.1", msg.Undefined{}, "")
	wantJS(t, "list", mustGet(t, c, "list", ""), `[1,null,3,null,null,6]`)
	wantJS(t, "list.length", mustGet(t, c, "list.length", ""), `6`)
	mustSet(t, c, "list[0]", msg.Undefined{}, "")
	wantJS(t, "list", mustGet(t, c, "list", ""), `[null,3,null,null,6]`)
	mustSet(t, c, "a.b", msg.Undefined{}, "")
	wantJS(t, "a", mustGet(t, c, "a", ""), `{}`)
	mustSet(t, c, "s", msg.Undefined{}, "")
	wantJS(t, "s", mustGet(t, c, "s", ""), `undefined`)
	// Deleting below something missing creates nothing.
	mustSet(t, c, "q.r", msg.Undefined{}, "")
	wantJS(t, "q", mustGet(t, c, "q", ""), `undefined`)

	// Quoted and numeric keys on objects.
	mustSet(t, c, `o["a b"].c`, 1.0, "")
	mustSet(t, c, "o[2]", "two", "")
	wantJS(t, "o", mustGet(t, c, "o", ""), `{"2":"two","a b":{"c":1}}`)

	// A reference inside brackets is read from the scope's own data.
	mustSet(t, c, "which", "a b", "")
	wantJS(t, "o[msg.which]", mustGet(t, c, "o[msg.which]", ""), `{"c":1}`)
	_, err := c.Get("o[msg.nothing]", "")
	if err == nil || !strings.Contains(err.Error(), "Invalid expression started at position 2") {
		t.Errorf("undefined reference: err = %v", err)
	}

	// Buffers: elements are numbers, stores wrap modulo 256.
	mustSet(t, c, "buf", []byte("hi"), "")
	wantJS(t, "buf[1]", mustGet(t, c, "buf[1]", ""), `105`)
	mustSet(t, c, "buf[0]", 321.0, "")
	wantJS(t, "buf[0]", mustGet(t, c, "buf[0]", ""), `65`)
}

func TestInvalidKeys(t *testing.T) {
	m, _ := newMgr(t, "", "")
	c := m.Scope("f1")
	if _, err := c.Get("", ""); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("Get(\"\") err = %v", err)
	}
	if err := c.Set("", 1.0, ""); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("Set(\"\") err = %v", err)
	}
	if _, err := c.GetMany(nil, ""); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("GetMany(nil) err = %v", err)
	}
	if _, err := c.GetMany([]string{"a", ""}, ""); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("GetMany with empty key err = %v", err)
	}
	// Node-RED does not look at the key of an empty scope.
	if v, err := c.Get("a..b", ""); err != nil || !msg.IsUndefined(v) {
		t.Errorf("Get(a..b) on empty scope = %v, %v", v, err)
	}
	mustSet(t, c, "x", 1.0, "")
	_, err := c.Get("a..b", "")
	var ke *KeyError
	var pe *msg.PathError
	if !errors.As(err, &ke) || !errors.As(err, &pe) || ke.Key != "a..b" {
		t.Fatalf("Get(a..b) err = %v, want a KeyError wrapping a PathError", err)
	}
	if !strings.Contains(err.Error(), `"a..b"`) {
		t.Errorf("error does not name the key: %v", err)
	}
	if err := c.Set("a..b", 1.0, ""); !errors.As(err, &ke) {
		t.Errorf("Set(a..b) err = %v", err)
	}
}

func TestReferenceSemantics(t *testing.T) {
	m, _ := newMgr(t, "", "")
	c := m.Scope("f1")
	o := msg.ObjectOf("k", 1.0)
	mustSet(t, c, "o", o, "")
	o.Set("k", 2.0) // Node-RED stores the object itself
	wantJS(t, "o.k", mustGet(t, c, "o.k", ""), `2`)
	got := mustGet(t, c, "o", "").(*msg.Object)
	got.Set("n", true)
	wantJS(t, "o", mustGet(t, c, "o", ""), `{"k":2,"n":true}`)
}

func TestKeys(t *testing.T) {
	m, _ := newMgr(t, "", "")
	c := m.Scope("f1")
	wantKeys(t, c, "")
	for _, k := range []string{"b", "10", "a", "2", "$x"} {
		mustSet(t, c, k, k, "")
	}
	// Integer-like keys first in numeric order, then insertion order.
	wantKeys(t, c, "", "2", "10", "b", "a", "$x")
	mustSet(t, c, "b", msg.Undefined{}, "")
	wantKeys(t, c, "", "2", "10", "a", "$x")

	g := m.Global()
	m.SeedGlobal(obj(t, `{"seeded":{"a":[1,2]},"pg":0}`))
	for _, k := range []string{"pg", "get", "set", "keys", "other"} {
		mustSet(t, g, k, 7.0, "")
	}
	// Seed keys first; get/set/keys hidden in global, as Node-RED does.
	wantKeys(t, g, "", "seeded", "pg", "other")
	wantJS(t, "global get", mustGet(t, g, "get", ""), `7`)
	m.ExportGlobalContextKeys(false)
	wantKeys(t, g, "", "pg", "other")
	// Flow scope keeps all its keys.
	mustSet(t, c, "get", 1.0, "")
	wantKeys(t, c, "", "2", "10", "a", "$x", "get")
}

func TestSeed(t *testing.T) {
	m, _ := newMgr(t, "", "")
	g := m.Global()
	m.SeedGlobal(obj(t, `{"seeded":{"a":[1,2]},"s":"x"}`))
	wantJS(t, "seed path", mustGet(t, g, "seeded.a[1]", ""), `2`)
	// A set goes to the store, which then wins over the seed.
	mustSet(t, g, "seeded.a[0]", 5.0, "")
	wantJS(t, "seeded", mustGet(t, g, "seeded", ""), `{"a":[5]}`)
	vals, err := g.GetMany([]string{"s", "seeded", "none"}, "")
	if err != nil {
		t.Fatal(err)
	}
	wantJS(t, "GetMany", vals, `["x",{"a":[5]},null]`)
	if !msg.IsUndefined(vals[2]) {
		t.Errorf("GetMany missing = %#v, want undefined", vals[2])
	}
	mustSet(t, g, "seeded", msg.Undefined{}, "")
	wantJS(t, "seeded after delete", mustGet(t, g, "seeded", ""), `{"a":[1,2]}`)
	mustSet(t, g, "s", "y", "")
	if err := m.Delete("global"); err != nil {
		t.Fatal(err)
	}
	wantJS(t, "s after Delete(global)", mustGet(t, g, "s", ""), `"x"`)
	wantKeys(t, g, "", "seeded", "s")
	// The seed is global only.
	wantJS(t, "flow", mustGet(t, m.Scope("f1"), "s", ""), `undefined`)
}

func TestGetManySetMany(t *testing.T) {
	m, _ := newMgr(t, "", "")
	c := m.Scope("f1")
	if err := c.SetMany([]string{"m1", "m2", "m3.x"}, []any{1.0}, ""); err != nil {
		t.Fatal(err)
	}
	vals, err := c.GetMany([]string{"m1", "m2", "m3", "zz"}, "")
	if err != nil {
		t.Fatal(err)
	}
	// Keys without a value get null, as context.set([...], [...]) does.
	wantJS(t, "values", vals, `[1,null,{"x":null},null]`)
	if !msg.IsUndefined(vals[3]) {
		t.Errorf("missing key = %#v, want undefined", vals[3])
	}
}

func TestParentContext(t *testing.T) {
	m, _ := newMgr(t, "", "")
	g := m.Global()
	f := m.FlowScope("f1", "global")
	sf := m.FlowScope("sf1", "f1")
	n := m.NodeScope("n1", "f1")
	mustSet(t, g, "pg", 7.0, "")
	mustSet(t, f, "pf", 8.0, "")
	// A top-level flow's parent is global, as in Node-RED.
	wantJS(t, "f $parent.pg", mustGet(t, f, "$parent.pg", ""), `7`)
	wantJS(t, "sf $parent.pf", mustGet(t, sf, "$parent.pf", ""), `8`)
	wantJS(t, "sf $parent.$parent.pg", mustGet(t, sf, "$parent.$parent.pg", ""), `7`)
	wantJS(t, "f $parent.$parent.pg", mustGet(t, f, "$parent.$parent.pg", ""), `undefined`)
	wantJS(t, "$parent alone", mustGet(t, sf, "$parent", ""), `undefined`)
	wantJS(t, "node $parent", mustGet(t, n, "$parent.pg", ""), `undefined`)
	mustSet(t, sf, "$parent.fromSub", "s", "")
	wantJS(t, "set through $parent", mustGet(t, f, "fromSub", ""), `"s"`)
	mustSet(t, n, "$parent.x", 1.0, "") // no parent: ignored
	wantKeys(t, n, "")
	// Scope returns the same handle, parent included.
	if m.Scope("sf1") != sf {
		t.Error("Scope(sf1) is not the FlowScope handle")
	}
}

func TestScopesApart(t *testing.T) {
	m, _ := newMgr(t, "", "")
	mustSet(t, m.NodeScope("n1", "f1"), "k", "node", "")
	mustSet(t, m.Scope("f1"), "k", "flow", "")
	mustSet(t, m.Global(), "k", "global", "")
	mustSet(t, m.NodeScope("n2", "f1"), "k", "node2", "")
	wantJS(t, "node", mustGet(t, m.Scope("n1:f1"), "k", ""), `"node"`)
	wantJS(t, "flow", mustGet(t, m.Scope("f1"), "k", ""), `"flow"`)
	wantJS(t, "global", mustGet(t, m.Scope("global"), "k", ""), `"global"`)
	wantJS(t, "node2", mustGet(t, m.Scope("n2:f1"), "k", ""), `"node2"`)
}

func TestStoreSelection(t *testing.T) {
	m, logs := newMgr(t, `{"default":{"module":"memory"},"other":{"module":"memory"}}`, "")
	c := m.Scope("f1")
	mustSet(t, c, "k", "d", "")
	mustSet(t, c, "k", "o", "other")
	wantJS(t, "default", mustGet(t, c, "k", ""), `"d"`)
	wantJS(t, "default by name", mustGet(t, c, "k", "default"), `"d"`)
	wantJS(t, "other", mustGet(t, c, "k", "other"), `"o"`)
	wantJS(t, "#:(other)::k", mustGet(t, c, "#:(other)::k", ""), `"o"`)
	mustSet(t, c, "#:(other)::k2", 2.0, "")
	wantKeys(t, c, "other", "k", "k2")
	wantKeys(t, c, "", "k")

	// An unknown store falls back to the default, with one warning.
	wantJS(t, "unknown store", mustGet(t, c, "k", "nosuch"), `"d"`)
	mustSet(t, c, "k3", 3.0, "nosuch")
	wantKeys(t, c, "nosuch", "k", "k3")
	if n := strings.Count(logs.String(), "Unknown context store 'nosuch' specified"); n != 1 {
		t.Errorf("%d warnings for the unknown store, want 1:\n%s", n, logs)
	}
}

func TestStoreList(t *testing.T) {
	for _, tc := range []struct {
		cfg, def, list string
	}{
		{``, "memory", "memory"},
		{`{}`, "memory", "memory"},
		{`{"default":{"module":"memory"},"b":{"module":"memory"}}`, "default", "default,b"},
		{`{"a":{"module":"memory"},"b":{"module":"memory"}}`, "a", "a,b"},
		{`{"default":"b","a":{"module":"memory"},"b":{"module":"memory"}}`, "b", "a,b"},
		{`{"a":{"module":"memory"},"default":{"module":"memory"}}`, "default", "a,default"},
		{`{"_":{"module":"memory"}}`, "memory", ""},
	} {
		m, _ := newMgr(t, tc.cfg, t.TempDir())
		if m.DefaultStore() != tc.def || strings.Join(m.Stores(), ",") != tc.list {
			t.Errorf("%s: default %q stores %q, want %q %q", tc.cfg, m.DefaultStore(), m.Stores(), tc.def, tc.list)
		}
	}
}

func TestAliasSharesStore(t *testing.T) {
	m, logs := newMgr(t, `{"default":"b","a":{"module":"memory"},"b":{"module":"memory"}}`, "")
	c := m.Scope("f1")
	mustSet(t, c, "k", 1.0, "")
	wantJS(t, "via b", mustGet(t, c, "k", "b"), `1`)
	wantJS(t, "via a", mustGet(t, c, "k", "a"), `undefined`)
	// "default" is no store name when it is an alias: Node-RED warns.
	wantJS(t, "via default", mustGet(t, c, "k", "default"), `1`)
	if !strings.Contains(logs.String(), "Unknown context store 'default'") {
		t.Errorf("no warning for store 'default' under an alias:\n%s", logs)
	}
}

func TestBadConfig(t *testing.T) {
	for _, tc := range []struct{ cfg, want string }{
		{`{"my-store":{"module":"memory"}}`, `contextStorage: invalid store name "my-store"`},
		{`{"default":"file"}`, `contextStorage.default: "file" is not a configured store`},
		{`{"default":"default"}`, `contextStorage.default: "default" is not a configured store`},
		{`{"file":{"config":{}}}`, `contextStorage.file: missing "module" option`},
		{`{"file":"memory"}`, `contextStorage.file: missing "module" option`},
		{`{"file":{"module":"redis"}}`, `contextStorage.file.module: unknown module "redis"`},
		{`{"file":{"module":3}}`, `contextStorage.file.module: want a module name`},
		{`{"file":{"module":"localfilesystem","config":"x"}}`, `contextStorage.file.config: want an object`},
		{`{"file":{"module":"localfilesystem","config":{"flushInterval":"soon"}}}`, `contextStorage.file.config.flushInterval: want a number of seconds, got "soon"`},
		{`{"file":{"module":"localfilesystem","config":{"dir":5}}}`, `contextStorage.file.config.dir: want a path, got number 5`},
		{`{"file":{"module":"localfilesystem","config":{"base":true}}}`, `contextStorage.file.config.base: want a directory name`},
	} {
		_, err := NewManager(obj(t, tc.cfg), t.TempDir(), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestDeleteAndClean(t *testing.T) {
	// Without configured stores a node's context goes when the node closes.
	m, _ := newMgr(t, "", "")
	n := m.NodeScope("n1", "f1")
	mustSet(t, n, "k", 1.0, "")
	if err := m.Delete("n1:f1"); err != nil {
		t.Fatal(err)
	}
	wantKeys(t, n, "")

	// With configured stores Delete keeps it; Clean removes what is gone.
	m, _ = newMgr(t, `{"default":{"module":"memory"},"b":{"module":"memory"}}`, "")
	for _, sc := range []string{"n1:f1", "n2:f1", "f1", "f2", "n3:f2", "global"} {
		mustSet(t, m.Scope(sc), "k", sc, "")
		mustSet(t, m.Scope(sc), "k", sc, "b")
	}
	if err := m.Delete("n1:f1"); err != nil {
		t.Fatal(err)
	}
	wantKeys(t, m.Scope("n1:f1"), "", "k")
	if err := m.Clean([]string{"f1", "n1"}); err != nil {
		t.Fatal(err)
	}
	for sc, want := range map[string]string{"n1:f1": "k", "f1": "k", "global": "k", "n2:f1": "", "f2": "", "n3:f2": ""} {
		for _, st := range []string{"", "b"} {
			got, _ := m.Scope(sc).Keys(st)
			if strings.Join(got, ",") != want {
				t.Errorf("after Clean, %s keys in %q = %q, want %q", sc, st, got, want)
			}
		}
	}
}

func TestUpdate(t *testing.T) {
	m, _ := newMgr(t, "", "")
	m.SeedGlobal(msg.ObjectOf("n", 10.0))
	g := m.Global()
	add := func(old any) any { return msg.ToNumber(old) + 1 }
	if err := g.Update("n", "", add); err != nil {
		t.Fatal(err)
	}
	wantJS(t, "seeded update", mustGet(t, g, "n", ""), `11`)
	f := m.Scope("f1")
	if err := f.Update("c.count", "", func(old any) any {
		if msg.IsUndefined(old) {
			return 1.0
		}
		return add(old)
	}); err != nil {
		t.Fatal(err)
	}
	wantJS(t, "c", mustGet(t, f, "c", ""), `{"count":1}`)
	if err := f.Update("c", "", func(any) any { return msg.Undefined{} }); err != nil {
		t.Fatal(err)
	}
	wantKeys(t, f, "")
}

func TestScopeInterface(t *testing.T) {
	m, _ := newMgr(t, "", "")
	var s node.Scope = m.Scope("f1")
	if err := s.Set("a", 1.0, ""); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get("a", ""); v != 1.0 {
		t.Errorf("Get = %v", v)
	}
}

// TestConcurrent runs many goroutines against every kind of store while a
// file store flushes as fast as it can; run with -race.
func TestConcurrent(t *testing.T) {
	cfg := `{"default":{"module":"memory"},"file":{"module":"localfilesystem","config":{"flushInterval":0}}}`
	m, _ := newMgr(t, cfg, t.TempDir())
	m.SeedGlobal(msg.ObjectOf("seed", 1.0))
	const workers, rounds = 8, 300
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			node := m.NodeScope(fmt.Sprintf("n%d", w), "f1")
			for i := range rounds {
				for _, st := range []string{"", "file"} {
					for _, c := range []*Context{node, m.Scope("f1"), m.Global()} {
						if err := c.Update("count", st, func(old any) any {
							if msg.IsUndefined(old) {
								return 1.0
							}
							return msg.ToNumber(old) + 1
						}); err != nil {
							t.Error(err)
							return
						}
						_ = c.Set(fmt.Sprintf("w%d.i", w), float64(i), st)
						_, _ = c.Get("count", st)
						_, _ = c.Keys(st)
					}
				}
				if i%50 == 0 {
					_ = m.Clean([]string{"f1", "n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7"})
				}
			}
		}()
	}
	wg.Wait()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{"", "file"} {
		for _, sc := range []string{"f1", "global"} {
			wantJS(t, sc+" count in "+st, mustGet(t, m.Scope(sc), "count", st), fmt.Sprint(workers*rounds))
		}
	}
}
