package flow

import (
	"testing"
)

// FuzzParse: the loader never panics, and what it accepts is consistent:
// every node has an id and a type, ids are unique, wires point at nodes
// that exist (dangling ones were dropped with a warning).
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`[]`, `{}`, `[{"id":"a","type":"tab"}]`,
		`[{"id":"a","type":"inject","z":"t","wires":[["b","zz"]]},{"id":"b","type":"debug","z":"t"}]`,
		`{"rev":"1","flows":[{"id":"x","type":"subflow","in":[],"out":[]}]}`,
		`[{"id":"a","type":"x","wires":"nope"},{"id":"a","type":"y"},{"type":"z"},1,null]`,
		`[{"id":"a","type":"change","z":"t","d":true,"g":"g1"},{"id":"g1","type":"group","z":"t","env":{}}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		_ = s.Validate(ValidateOptions{})
		seen := map[string]bool{}
		for _, d := range s.Defs {
			if d.ID == "" || d.Type == "" {
				t.Fatalf("accepted a node without id or type: %+v", d)
			}
			if seen[d.ID] {
				t.Fatalf("duplicate id kept: %s", d.ID)
			}
			seen[d.ID] = true
		}
		for _, d := range s.Defs {
			for _, port := range d.Wires {
				for _, id := range port {
					if !seen[id] {
						t.Fatalf("dangling wire kept: %s → %s", d.ID, id)
					}
				}
			}
		}
	})
}
