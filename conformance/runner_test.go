package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
)

func mustObject(t *testing.T, s string) *msg.Object {
	t.Helper()
	v, err := msg.UnmarshalString(s)
	if err != nil {
		t.Fatal(err)
	}
	return v.(*msg.Object)
}

// The numbering must not depend on how messages to different output nodes
// interleave, only on per-node order, and shared ids must stay shared.
func TestNormaliseMsgIDsCanonicalOrder(t *testing.T) {
	a := []record{
		{node: "out2", msg: mustObject(t, `{"_msgid":"bbb"}`)},
		{node: "out1", msg: mustObject(t, `{"_msgid":"aaa","nested":{"_msgid":"bbb"}}`)},
	}
	b := []record{
		{node: "out1", msg: mustObject(t, `{"_msgid":"x1","nested":{"_msgid":"x2"}}`)},
		{node: "out2", msg: mustObject(t, `{"_msgid":"x2"}`)},
	}
	normaliseMsgIDs(a)
	normaliseMsgIDs(b)
	if p := compare(a, b); len(p) > 0 {
		t.Fatalf("same structure, different interleaving, compared unequal:\n%s", strings.Join(p, "\n"))
	}
	if got := string(msg.Marshal(a[1].msg)); got != `{"_msgid":"msgid-1","nested":{"_msgid":"msgid-2"}}` {
		t.Fatalf("out1 normalised to %s", got)
	}
}

func TestCompareReportsKeyOrderAndExtras(t *testing.T) {
	want := []record{{node: "out1", msg: mustObject(t, `{"a":1,"b":2}`)}}
	got := []record{
		{node: "out1", msg: mustObject(t, `{"b":2,"a":1}`)},
		{node: "out1", msg: mustObject(t, `{"a":1}`)},
	}
	p := compare(want, got)
	if len(p) != 2 || !strings.Contains(p[0], "differs") || !strings.Contains(p[1], "unexpected") {
		t.Fatalf("problems: %q", p)
	}
}

func TestApplyIgnoreOnlyWherePresent(t *testing.T) {
	o := mustObject(t, `{"payload":{"time":5},"x":1}`)
	applyIgnore(o, []string{"payload.time", "missing.path", "nope"})
	if got := string(msg.Marshal(o)); got != `{"payload":{"time":"<ignored>"},"x":1}` {
		t.Fatalf("got %s", got)
	}
}

func TestCheckTypesNamesUnknownTypes(t *testing.T) {
	err := checkTypes([]byte(`[{"id":"t1","type":"tab"},{"id":"n9","type":"surely-not-a-type","z":"t1"},{"id":"s","type":"subflow:x","z":"t1"}]`))
	if err == nil || !strings.Contains(err.Error(), "surely-not-a-type") || !strings.Contains(err.Error(), "n9") {
		t.Fatalf("err = %v", err)
	}
}

func TestReadDifferencesSkipsIndentedExamples(t *testing.T) {
	f := filepath.Join(t.TempDir(), "D.md")
	text := "# x\n\n    - `example` — in a code block\n- `real-case` — reason\n"
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := readDifferences(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(d) != 1 || !d["real-case"] {
		t.Fatalf("got %v", d)
	}
}

// Every case folder must be runnable: a flow, and either a recording or an
// expected load error.
func TestCasesAreComplete(t *testing.T) {
	entries, err := os.ReadDir(casesDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 110 {
		t.Errorf("only %d cases", len(entries))
	}
	for _, e := range entries {
		dir := filepath.Join(casesDir, e.Name())
		if _, err := os.Stat(filepath.Join(dir, "flow.json")); err != nil {
			t.Errorf("%s: no flow.json", e.Name())
		}
		_, errExp := os.Stat(filepath.Join(dir, "expected.json"))
		_, errLoad := os.Stat(filepath.Join(dir, "load-error.txt"))
		if (errExp == nil) == (errLoad == nil) {
			t.Errorf("%s: want exactly one of expected.json and load-error.txt", e.Name())
		}
	}
}
