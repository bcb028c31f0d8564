package flowfile_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	_ "github.com/sluicehq/sluice/nodes/all"
	"github.com/sluicehq/sluice/runtime/flowfile"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

const messy = `{"rev":"7","flows":[
 {"id":"n2","type":"debug","z":"t1","wires":[],"x":10,"y":20,"active":true,"name":"out","extra":1.50},
 {"type":"change","id":"n1","z":"t1","rules":[{"t":"set","p":"payload","pt":"msg","to":"x","tot":"str"}],"wires":[["n2"]],"x":5,"y":5,"name":"c"},
 {"id":"cfg","type":"websocket-listener","path":"/ws","wholemsg":"false"},
 {"id":"t2","type":"tab","label":"Second"},
 {"id":"f1","type":"function","z":"t2","func":"let a = 1;\nreturn msg;","outputs":1,"name":"f","wires":[[]]},
 {"id":"t1","type":"tab","label":"First","disabled":false},
 {"id":"sf","type":"subflow","name":"S","in":[],"out":[]},
 {"id":"s1","type":"comment","z":"sf","name":"inside"},
 {"id":"o1","type":"comment","z":"gone"},
 42
]}`

func TestFormatLayout(t *testing.T) {
	out, err := flowfile.Format([]byte(messy))
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	// Order: tab t2 (first in the file) with f1, tab t1 with n1 then n2 (by
	// id), subflow sf with s1, orphan o1, config cfg, then the non-node 42.
	var ids []string
	for _, l := range strings.Split(got, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), `"id": `) && strings.HasPrefix(l, "            ") {
			ids = append(ids, strings.Trim(strings.TrimPrefix(strings.TrimSpace(l), `"id": `), `",`))
		}
	}
	if strings.Join(ids, " ") != "t2 f1 t1 n1 n2 sf s1 o1 cfg" {
		t.Errorf("entry order %v\n%s", ids, got)
	}
	if !strings.HasPrefix(got, "{\n    \"rev\": \"7\",\n    \"flows\": [\n        {\n            \"id\": \"t2\",") {
		t.Errorf("wrapper layout:\n%s", got)
	}
	if !strings.Contains(got, "        42\n    ]\n}\n") {
		t.Errorf("non-node entry not last:\n%s", got)
	}
	// Key order of n1: id, type, z, name, then the change spec's props,
	// then x, y, wires; wires on one line.
	n1 := got[strings.Index(got, `"id": "n1"`):]
	n1 = n1[:strings.Index(n1, "\n        }")]
	var keys []string
	for _, l := range strings.Split(n1, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, `"`) {
			keys = append(keys, l[1:strings.Index(l[1:], `"`)+1])
		}
	}
	if strings.Join(keys, ",") != "id,type,z,name,rules,x,y,wires" {
		t.Errorf("keys of n1: %v", keys)
	}
	if !strings.Contains(got, `"wires": [["n2"]]`) || !strings.Contains(got, `"extra": 1.5,`) {
		t.Errorf("values:\n%s", got)
	}
	if !strings.Contains(got, `"func": "let a = 1;\nreturn msg;"`) {
		t.Errorf("function code must stay a JSON string:\n%s", got)
	}
	again, err := flowfile.Format(out)
	if err != nil || string(again) != got {
		t.Fatalf("not idempotent: %v\n%s", err, again)
	}
	if ok, _ := flowfile.IsCanonical(out); !ok {
		t.Fatal("IsCanonical(formatted) is false")
	}
	if ok, _ := flowfile.IsCanonical([]byte(messy)); ok {
		t.Fatal("IsCanonical(messy) is true")
	}
}

func TestFormatErrors(t *testing.T) {
	for _, in := range []string{`{"a":1}`, `"x"`, `[{"id":"a"`, `{"flows":3}`} {
		if _, err := flowfile.Format([]byte(in)); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
	_, err := flowfile.Format([]byte("[\n{\"id\":\"a\",}]"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("error should give the line: %v", err)
	}
	out, err := flowfile.Format([]byte("  "))
	if err != nil || string(out) != "[]\n" {
		t.Errorf("empty input: %q %v", out, err)
	}
}

// corpusDir finds ../shared/corpus as cmd/sluice's corpus test does.
func corpusDir(t *testing.T) string {
	cands := []string{os.Getenv("SLUICE_CORPUS")}
	if wd, err := os.Getwd(); err == nil {
		cands = append(cands, filepath.Join(wd, "..", "..", "..", "shared", "corpus"))
	}
	cands = append(cands, "/work/shared/corpus")
	for _, c := range cands {
		if c == "" {
			continue
		}
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return c
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("flow corpus not found (set SLUICE_CORPUS)")
	}
	t.Skip("flow corpus not found (set SLUICE_CORPUS); CI requires it")
	return ""
}

type corpusFlow struct {
	name string
	data []byte
}

func corpusFlows(t *testing.T) []corpusFlow {
	dir := corpusDir(t)
	var out []corpusFlow
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, corpusFlow{rel, data})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	if len(out) == 0 {
		t.Fatal("empty corpus")
	}
	return out
}

// entries returns a flow file's entries as JSON values.
func entries(t *testing.T, data []byte) []any {
	t.Helper()
	v, err := msg.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := v.(*msg.Object); ok {
		v = o.Value("flows")
	}
	return v.([]any)
}

// sameEntries reports whether two lists hold the same values, in any order.
func sameEntries(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	used := make([]bool, len(b))
outer:
	for _, x := range a {
		for j, y := range b {
			if !used[j] && msg.Equal(x, y) {
				used[j] = true
				continue outer
			}
		}
		return false
	}
	return true
}

func TestFormatCorpusIdempotentAndLossless(t *testing.T) {
	formatted := 0
	for _, cf := range corpusFlows(t) {
		out, err := flowfile.Format(cf.data)
		if err != nil {
			if _, jerr := msg.Unmarshal(cf.data); jerr == nil && strings.HasPrefix(strings.TrimSpace(string(cf.data)), "[") {
				t.Errorf("%s: %v", cf.name, err)
			}
			continue
		}
		formatted++
		again, err := flowfile.Format(out)
		if err != nil {
			t.Errorf("%s: formatted output does not parse: %v", cf.name, err)
			continue
		}
		if string(again) != string(out) {
			t.Errorf("%s: formatting is not idempotent", cf.name)
		}
		if !sameEntries(entries(t, cf.data), entries(t, out)) {
			t.Errorf("%s: formatting lost or changed an entry", cf.name)
		}
		// Each node keeps the keys its spec does not order in their
		// original relative order.
		orig := map[string]*msg.Object{}
		for _, e := range entries(t, cf.data) {
			if o, ok := e.(*msg.Object); ok {
				orig[msg.ToString(o.Value("id"))] = o
			}
		}
		for _, e := range entries(t, out) {
			o, ok := e.(*msg.Object)
			if !ok || !o.Has("id") {
				continue
			}
			if k, _ := o.At(0); k != "id" && !msg.IsArrayIndex(k) {
				t.Errorf("%s: node %v does not start with its id", cf.name, o.Value("id"))
			}
			if src := orig[msg.ToString(o.Value("id"))]; src != nil && unordered(src) != unordered(o) {
				t.Errorf("%s: node %v: free keys reordered: %s became %s", cf.name, o.Value("id"), unordered(src), unordered(o))
			}
		}
	}
	if formatted < 100 {
		t.Fatalf("only %d corpus files formatted", formatted)
	}
	t.Logf("%d corpus files formatted", formatted)
}

// unordered lists the keys whose place the canonical form leaves as found.
func unordered(o *msg.Object) string {
	fixed := map[string]bool{"id": true, "type": true, "z": true, "g": true, "name": true, "x": true, "y": true, "wires": true}
	if spec, ok := node.Lookup(msg.ToString(o.Value("type"))); ok {
		for _, p := range spec.Props {
			fixed[p.Name] = true
		}
	}
	var ks []string
	for _, k := range o.Keys() {
		if !fixed[k] {
			ks = append(ks, k)
		}
	}
	return strings.Join(ks, ",")
}
