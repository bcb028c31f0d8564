package flowfile_test

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/runtime/flow"
	"github.com/sluicehq/sluice/runtime/flowfile"
	"github.com/sluicehq/sluice/runtime/msg"
)

// edit changes a flow set (entries are cloned before changing).
type edit func(es []any) []any

func find(es []any, id string) int {
	for i, e := range es {
		if o, ok := e.(*msg.Object); ok && o.Value("id") == id {
			return i
		}
	}
	return -1
}

func setProp(id, key string, v any) edit {
	return func(es []any) []any {
		if i := find(es, id); i >= 0 {
			o := es[i].(*msg.Object).Clone()
			o.Set(key, v)
			es[i] = o
		}
		return es
	}
}

func deleteNode(id string) edit {
	return func(es []any) []any {
		if i := find(es, id); i >= 0 {
			es = append(es[:i:i], es[i+1:]...)
		}
		return es
	}
}

// addNode adds a comment node next to from and wires from's first output
// to it, as the editor does when a node is dropped onto a wire end.
func addNode(newID, from string) edit {
	return func(es []any) []any {
		i := find(es, from)
		if i < 0 {
			return es
		}
		src := es[i].(*msg.Object).Clone()
		n := msg.ObjectOf("id", newID, "type", "comment", "z", src.Value("z"), "name", "added "+newID, "x", 10.0, "y", 20.0, "wires", []any{})
		if w, ok := src.Value("wires").([]any); ok && len(w) > 0 {
			p0, _ := w[0].([]any)
			nw := append([]any(nil), w...)
			nw[0] = append(append([]any(nil), p0...), newID)
			src.Set("wires", nw)
		}
		es[i] = src
		return append(es, n)
	}
}

func editLine(id string, line int, text string) edit {
	return func(es []any) []any {
		if i := find(es, id); i >= 0 {
			o := es[i].(*msg.Object).Clone()
			lines := strings.Split(o.Value("func").(string), "\n")
			if line < 0 {
				line = len(lines) + line
			}
			lines[line] = text
			o.Set("func", strings.Join(lines, "\n"))
			es[i] = o
		}
		return es
	}
}

func apply(base []any, edits ...edit) []any {
	es := append([]any(nil), base...)
	for _, e := range edits {
		es = e(es)
	}
	return es
}

func encode(es []any) []byte { return msg.Marshal(es) }

func byID(t *testing.T, es []any) map[string]any {
	m := map[string]any{}
	for _, e := range es {
		if o, ok := e.(*msg.Object); ok {
			m[msg.ToString(o.Value("id"))] = o
		}
	}
	return m
}

// candidates are the ids of nodes (not tabs, subflows or groups) with a z.
func candidates(es []any) []string {
	var ids []string
	seen := map[string]bool{}
	for _, e := range es {
		o, ok := e.(*msg.Object)
		if !ok {
			continue
		}
		id, _ := o.Value("id").(string)
		z, _ := o.Value("z").(string)
		if id == "" || z == "" || seen[id] || flow.IsContainer(msg.ToString(o.Value("type"))) {
			continue
		}
		seen[id] = true
		ids = append(ids, id)
	}
	return ids
}

func randomEdits(r *rand.Rand, ids []string, tag string) []edit {
	var out []edit
	for i, id := range ids {
		switch r.Intn(5) {
		case 0:
			out = append(out, setProp(id, "name", tag+" renamed "+id))
		case 1:
			out = append(out, setProp(id, "sluiceTest"+tag, float64(i)))
		case 2:
			out = append(out, deleteNode(id))
		case 3:
			out = append(out, addNode(fmt.Sprintf("new-%s-%d", tag, i), id))
		default:
			out = append(out, setProp(id, "x", float64(r.Intn(900))))
		}
	}
	return out
}

// codeNode picks a function node with at least five lines of code.
func codeNode(es []any) string {
	for _, e := range es {
		if o, ok := e.(*msg.Object); ok && o.Value("type") == "function" {
			if f, ok := o.Value("func").(string); ok && strings.Count(f, "\n") >= 4 {
				return msg.ToString(o.Value("id"))
			}
		}
	}
	return ""
}

// Random edits to different nodes on two branches (renames, new
// properties, deletions, added and wired nodes, moves), plus edits to
// different lines of one function and different properties of one node,
// merge without conflicts into exactly what applying both gives.
func TestMergeCorpusNonOverlappingEditsMergeCleanly(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	merged, codeMerged := 0, 0
	for _, cf := range corpusFlows(t) {
		if _, err := flowfile.Format(cf.data); err != nil {
			continue
		}
		base := entries(t, cf.data)
		ids := candidates(base)
		if len(ids) < 6 {
			continue
		}
		for round := 0; round < 3; round++ {
			r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
			shared := ids[0]
			code := codeNode(base)
			var pool []string
			for _, id := range ids[1:] {
				if id != code {
					pool = append(pool, id)
				}
			}
			half := len(pool) / 2
			a := randomEdits(r, pool[:min(half, 4)], "A")
			b := randomEdits(r, pool[half:half+min(len(pool)-half, 4)], "B")
			a = append(a, setProp(shared, "name", "A's name"))
			b = append(b, setProp(shared, "sluiceShared", "B's value"))
			if code != "" {
				a = append(a, editLine(code, 0, "// first line, edited on A"))
				b = append(b, editLine(code, -1, "// last line, edited on B"))
			}
			ours, theirs := apply(base, a...), apply(base, b...)
			want := apply(ours, b...)
			res, err := flowfile.Merge(cf.data, encode(ours), encode(theirs))
			if err != nil {
				t.Fatalf("%s: %v", cf.name, err)
			}
			if len(res.Conflicts) > 0 {
				t.Errorf("%s round %d: unexpected conflicts: %v", cf.name, round, res.Conflicts)
				continue
			}
			got, exp := byID(t, entries(t, res.Data)), byID(t, want)
			if len(got) != len(exp) {
				t.Errorf("%s round %d: %d nodes merged, want %d", cf.name, round, len(got), len(exp))
			}
			for id, w := range exp {
				if !msg.Equal(got[id], w) {
					t.Errorf("%s round %d: node %s merged as\n%s\nwant\n%s", cf.name, round, id, msg.Marshal(got[id]), msg.Marshal(w))
				}
			}
			if ok, _ := flowfile.IsCanonical(res.Data); !ok {
				t.Errorf("%s: merge result is not canonical", cf.name)
			}
			merged++
			if code != "" {
				codeMerged++
			}
		}
	}
	if merged < 100 || codeMerged < 20 {
		t.Fatalf("only %d merges from the corpus (%d with function code edited on both sides)", merged, codeMerged)
	}
	t.Logf("%d random merges of corpus flows, %d with function code edited on both sides", merged, codeMerged)
}

// The same property changed both ways, a change against a deletion and the
// same line of code changed both ways are conflicts, recorded in a
// sluice-conflicts node that validation reports against the nodes.
func TestMergeCorpusOverlappingEditsConflict(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	checked := 0
	for _, cf := range corpusFlows(t) {
		if _, err := flowfile.Format(cf.data); err != nil {
			continue
		}
		base := entries(t, cf.data)
		ids := candidates(base)
		if len(ids) < 4 {
			continue
		}
		r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		x, y := ids[0], ids[1]
		a := []edit{setProp(x, "name", "from A"), deleteNode(y)}
		b := []edit{setProp(x, "name", "from B"), setProp(y, "name", "kept by B")}
		code := codeNode(base)
		if code != "" && code != x && code != y {
			a = append(a, editLine(code, 1, "// A"))
			b = append(b, editLine(code, 1, "// B"))
		}
		res, err := flowfile.Merge(cf.data, encode(apply(base, a...)), encode(apply(base, b...)))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{x + " name": false, y + " ": false}
		if code != "" && code != x && code != y {
			want[code+" func"] = false
		}
		for _, c := range res.Conflicts {
			key := c.ID + " " + c.Property
			if _, ok := want[key]; !ok {
				t.Errorf("%s: unexpected conflict %s", cf.name, c)
			}
			want[key] = true
		}
		for k, seen := range want {
			if !seen {
				t.Errorf("%s: no conflict for %q; got %v", cf.name, k, res.Conflicts)
			}
		}
		got := byID(t, entries(t, res.Data))
		if n, ok := got[y].(*msg.Object); !ok || n.Value("name") != "kept by B" {
			t.Errorf("%s: node %s deleted on one side and changed on the other must be kept as changed", cf.name, y)
		}
		if n, _ := got[x].(*msg.Object); n.Value("name") != "from A" {
			t.Errorf("%s: a conflicting property holds ours", cf.name)
		}
		if strings.Contains(string(res.Data), "<<<<<<<") {
			t.Fatal("conflict markers in JSON")
		}
		set, err := flow.Parse(res.Data)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, p := range set.Validate(flow.ValidateOptions{}) {
			if p.Code == "merge-conflict" && p.ID == x && p.Property == "name" && p.Severity == "error" &&
				strings.Contains(p.Message, `"from A"`) && strings.Contains(p.Message, `"from B"`) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: validation does not report the conflict on %s.name", cf.name, x)
		}
		checked++
	}
	if checked < 50 {
		t.Fatalf("only %d corpus files checked", checked)
	}
}

func TestMergeWiresAndTabs(t *testing.T) {
	base := `[{"id":"t1","type":"tab","label":"one"},
	{"id":"a","type":"function","z":"t1","func":"return msg;","outputs":2,"wires":[["b"],["c"]]},
	{"id":"b","type":"debug","z":"t1","wires":[]},{"id":"c","type":"debug","z":"t1","wires":[]}]`
	ours := `[{"id":"t1","type":"tab","label":"one"},
	{"id":"a","type":"function","z":"t1","func":"return msg;","outputs":2,"wires":[["b","d"],[]]},
	{"id":"b","type":"debug","z":"t1","wires":[]},{"id":"c","type":"debug","z":"t1","wires":[]},
	{"id":"d","type":"debug","z":"t1","wires":[]}]`
	theirs := `[{"id":"t1","type":"tab","label":"one"},{"id":"t2","type":"tab","label":"two"},
	{"id":"a","type":"function","z":"t1","func":"return msg;","outputs":2,"wires":[["b"],["c","e"]]},
	{"id":"b","type":"debug","z":"t1","wires":[]},{"id":"c","type":"debug","z":"t1","wires":[]},
	{"id":"e","type":"debug","z":"t2","wires":[]}]`
	res, err := flowfile.Merge([]byte(base), []byte(ours), []byte(theirs))
	if err != nil || len(res.Conflicts) > 0 {
		t.Fatalf("%v %v", err, res.Conflicts)
	}
	got := byID(t, entries(t, res.Data))
	if w := string(msg.Marshal(got["a"].(*msg.Object).Value("wires"))); w != `[["b","d"],["e"]]` {
		t.Errorf("wires merged as %s", w)
	}
	if got["t2"] == nil || got["d"] == nil || got["e"] == nil {
		t.Errorf("added nodes missing:\n%s", res.Data)
	}
	if strings.Index(string(res.Data), `"id": "t2"`) < strings.Index(string(res.Data), `"id": "t1"`) {
		t.Errorf("tab added in theirs should follow t1:\n%s", res.Data)
	}
	// Both moving a node differently is not a conflict: ours wins.
	moved := func(x int) string {
		return fmt.Sprintf(`[{"id":"t1","type":"tab"},{"id":"n","type":"debug","z":"t1","x":%d,"y":5}]`, x)
	}
	res, err = flowfile.Merge([]byte(moved(1)), []byte(moved(2)), []byte(moved(3)))
	if err != nil || len(res.Conflicts) != 0 || !strings.Contains(string(res.Data), `"x": 2`) {
		t.Fatalf("positions: %v %v\n%s", err, res.Conflicts, res.Data)
	}
}

func TestMergeKeepsWrapperAndAppendsConflicts(t *testing.T) {
	base := `{"rev":"1","flows":[{"id":"n","type":"comment","z":"t","name":"b"}]}`
	ours := `{"rev":"2","flows":[{"id":"n","type":"comment","z":"t","name":"o"},{"id":"sluice-conflicts","type":"sluice-conflicts","conflicts":[{"id":"old","property":"p"}]}]}`
	theirs := `{"rev":"3","flows":[{"id":"n","type":"comment","z":"t","name":"t"}]}`
	res, err := flowfile.Merge([]byte(base), []byte(ours), []byte(theirs))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := msg.Unmarshal(res.Data)
	w, ok := v.(*msg.Object)
	if !ok || w.Value("rev") != "2" {
		t.Fatalf("wrapper lost:\n%s", res.Data)
	}
	for _, e := range w.Value("flows").([]any) {
		o := e.(*msg.Object)
		if o.Value("id") == "sluice-conflicts" {
			if n := len(o.Value("conflicts").([]any)); n != 2 {
				t.Fatalf("conflicts node holds %d entries, want the old and the new:\n%s", n, res.Data)
			}
			return
		}
	}
	t.Fatalf("no conflicts node:\n%s", res.Data)
}

func TestMergeErrorsNameTheSide(t *testing.T) {
	_, err := flowfile.Merge([]byte(`[]`), []byte(`[`), []byte(`[]`))
	if err == nil || !strings.HasPrefix(err.Error(), "ours: ") {
		t.Fatalf("got %v", err)
	}
}
