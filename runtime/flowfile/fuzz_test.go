package flowfile

import (
	"bytes"
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
)

// FuzzMerge checks the merge's invariants on arbitrary inputs: it never
// panics, its output is canonical and parses, an input that parses never
// fails, merging identical sides gives that side, a side equal to base gives
// the other side, and conflicts do not depend on which side is ours.
// Seeds live in testdata/fuzz/FuzzMerge.
func FuzzMerge(f *testing.F) {
	f.Fuzz(func(t *testing.T, base, ours, theirs []byte) {
		res, err := Merge(base, ours, theirs)
		_, eb := parseFile(base)
		_, eo := parseFile(ours)
		_, et := parseFile(theirs)
		if err != nil {
			if eb == nil && eo == nil && et == nil {
				t.Fatalf("merge of parseable files failed: %v", err)
			}
			return
		}
		again, err := Format(res.Data)
		if err != nil || !bytes.Equal(again, res.Data) {
			t.Fatalf("merge output is not canonical (%v):\n%s", err, res.Data)
		}
		if len(res.Conflicts) > 0 && !bytes.Contains(res.Data, []byte(`"sluice-conflicts"`)) {
			t.Fatal("conflicts not recorded in the file")
		}
		swapped, err := Merge(base, theirs, ours)
		if err != nil || len(swapped.Conflicts) != len(res.Conflicts) {
			t.Fatalf("conflicts depend on the side: %d vs %d (%v)", len(res.Conflicts), len(swapped.Conflicts), err)
		}
		same, err := Merge(base, ours, ours)
		if err != nil || len(same.Conflicts) > 0 || !sameFlows(t, same.Data, ours) {
			t.Fatalf("merging ours with itself changed it: %v %v\n%s", err, same.Conflicts, same.Data)
		}
		if !wellFormed(base) || !wellFormed(theirs) {
			return
		}
		other, err := Merge(base, base, theirs)
		if err != nil || len(other.Conflicts) > 0 || !sameFlows(t, other.Data, theirs) {
			t.Fatalf("ours == base must give theirs: %v %v\n%s", err, other.Conflicts, other.Data)
		}
	})
}

// wellFormed: every entry an object with a unique string id.
func wellFormed(data []byte) bool {
	f, err := parseFile(data)
	if err != nil {
		return false
	}
	_, _, extras := keyed(f.entries)
	return len(extras) == 0
}

func sameFlows(t *testing.T, a, b []byte) bool {
	fa, err := parseFile(a)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := parseFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(fa.entries) != len(fb.entries) {
		return false
	}
	used := make([]bool, len(fb.entries))
outer:
	for _, x := range fa.entries {
		for j, y := range fb.entries {
			if !used[j] && msg.Equal(x, y) {
				used[j] = true
				continue outer
			}
		}
		return false
	}
	return true
}
