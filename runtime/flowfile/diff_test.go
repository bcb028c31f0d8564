package flowfile_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/runtime/flowfile"
)

const diffOld = `[
 {"id":"t1","type":"tab","label":"Main"},
 {"id":"t2","type":"tab","label":"Gone"},
 {"id":"g1","type":"debug","z":"t2","wires":[]},
 {"id":"in","type":"inject","z":"t1","name":"tick","x":10,"y":10,"wires":[["fn"]]},
 {"id":"fn","type":"function","z":"t1","name":"calc","func":"let a = 1;\nlet b = 2;\nreturn msg;","outputs":1,"x":20,"y":10,"wires":[["out"]]},
 {"id":"out","type":"debug","z":"t1","name":"log","x":30,"y":10,"wires":[]},
 {"id":"old","type":"comment","z":"t1","name":"bye","wires":[]},
 {"id":"cfg","type":"websocket-listener","path":"/a"}
]`

const diffNew = `[
 {"id":"t1","type":"tab","label":"Main renamed"},
 {"id":"t3","type":"tab","label":"New"},
 {"id":"in","type":"inject","z":"t1","name":"tick","x":110,"y":50,"wires":[["fn"]]},
 {"id":"fn","type":"function","z":"t1","name":"calc","func":"let a = 1;\nlet b = 3;\nreturn msg;","outputs":1,"x":25,"y":10,"wires":[["out2"]]},
 {"id":"out","type":"debug","z":"t1","name":"log","active":false,"x":30,"y":10,"wires":[]},
 {"id":"out2","type":"debug","z":"t1","x":30,"y":50,"wires":[]},
 {"id":"cfg","type":"websocket-listener","path":"/b"}
]`

func TestDiff(t *testing.T) {
	r, err := flowfile.Diff([]byte(diffOld), []byte(diffNew))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	r.WriteText(&b)
	got := b.String()
	for _, want := range []string{
		"flow \"Main renamed\" (t1)\n",
		"  label: \"Main\" → \"Main renamed\"\n",
		"  + debug (out2)\n",
		"  - comment \"bye\" (old)\n",
		"  ~ function \"calc\" (fn)\n      func:\n          @@ -1,3 +1,3 @@\n           let a = 1;\n          -let b = 2;\n          +let b = 3;\n           return msg;\n      x: 20 → 25\n",
		"  ~ debug \"log\" (out)\n      active: (absent) → false\n",
		"  wires:\n    + fn[0] → out2\n    - fn[0] → out\n",
		"  moved 1 node(s) (position only): in\n",
		"flow \"New\" (t3) added with 0 node(s)\n",
		"flow \"Gone\" (t2) removed with 1 node(s)\n",
		"config nodes\n  ~ websocket-listener (cfg)\n      path: \"/a\" → \"/b\"\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if strings.Index(got, "config nodes") < strings.Index(got, "(t2)") {
		t.Errorf("config nodes should come last:\n%s", got)
	}
	js, _ := json.Marshal(r)
	var back flowfile.Report
	if err := json.Unmarshal(js, &back); err != nil || len(back.Flows) != len(r.Flows) {
		t.Fatalf("JSON form: %v\n%s", err, js)
	}
	// old and new are the JSON values themselves, not strings of JSON.
	if !strings.Contains(string(js), `{"property":"path","old":"/a","new":"/b"}`) {
		t.Errorf("JSON old/new values: %s", js)
	}
}

func TestDiffEqualAndReordered(t *testing.T) {
	out, _ := flowfile.Format([]byte(diffOld))
	r, err := flowfile.Diff([]byte(diffOld), out)
	if err != nil || !r.Empty() {
		t.Fatalf("formatting is not a change: %v %+v", err, r.Flows)
	}
	r, err = flowfile.Diff(nil, []byte(diffNew))
	if err != nil || len(r.Flows) != 3 {
		t.Fatalf("diff from an empty file: %v %+v", err, r)
	}
	if _, err := flowfile.Diff([]byte("["), nil); err == nil || !strings.HasPrefix(err.Error(), "old file: ") {
		t.Fatalf("error should name the old file: %v", err)
	}
}
