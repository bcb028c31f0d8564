package parser

import (
	"os"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/runtime/jsyaml"
	"github.com/sluicehq/sluice/runtime/msg"
)

// yamlRecorded are js-yaml 4's own results (testdata/yaml_gen.js).
func yamlRecorded(t *testing.T) (dumps, loads []*msg.Object) {
	t.Helper()
	raw, err := os.ReadFile("testdata/yaml_jsyaml.json")
	if err != nil {
		t.Fatal(err)
	}
	v, err := msg.Unmarshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	o := v.(*msg.Object)
	for _, d := range o.Value("dump").([]any) {
		dumps = append(dumps, d.(*msg.Object))
	}
	for _, l := range o.Value("load").([]any) {
		loads = append(loads, l.(*msg.Object))
	}
	return dumps, loads
}

func TestYAMLDumpMatchesJSYAML(t *testing.T) {
	dumps, _ := yamlRecorded(t)
	for _, d := range dumps {
		want := d.Value("out").(string)
		got, err := yamlDump(d.Value("in"))
		if err != nil {
			t.Errorf("%s: %v", msg.Marshal(d.Value("in")), err)
			continue
		}
		if got != want {
			t.Errorf("dump of %s\n got  %q\n want %q", clipText(string(msg.Marshal(d.Value("in")))), got, want)
		}
	}
}

func TestYAMLLoadMatchesJSYAML(t *testing.T) {
	_, loads := yamlRecorded(t)
	for _, l := range loads {
		in := l.Value("in").(string)
		got, err := jsyaml.Load(in)
		if e, ok := l.Get("error"); ok {
			if err == nil {
				t.Errorf("load %q: no error, js-yaml says %v", in, e)
			}
			continue
		}
		if err != nil {
			t.Errorf("load %q: %v", in, err)
			continue
		}
		want := string(msg.Marshal(l.Value("out")))
		if msg.IsUndefined(got) {
			if l.Value("out") != "<undefined>" {
				t.Errorf("load %q: undefined, want %s", in, want)
			}
			continue
		}
		if g := string(msg.Marshal(got)); g != want {
			t.Errorf("load %q\n got  %s\n want %s", in, g, want)
		}
	}
}

func clipText(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}

func TestYAMLNode(t *testing.T) {
	n := buildNode(t, "yaml", `{"property":"data"}`)
	c := newCtx()
	out, err := run(t, n, c, `{"data":"a: [1, x]\nb: 2001-12-14"}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(msg.Marshal(out.Object)); got != `{"data":{"a":[1,"x"],"b":"2001-12-14T00:00:00.000Z"}}` {
		t.Fatalf("got %s", got)
	}
	out, err = run(t, n, c, `{"data":{"k":["v",{"m":null}]}}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Value("data"); got != "k:\n  - v\n  - m: null\n" {
		t.Fatalf("got %q", got)
	}
	if _, err := run(t, n, c, `{"data":"a: [1"}`); err == nil {
		t.Fatal("bad YAML: no error")
	}
	if _, err := run(t, n, c, `{"data":"a: 1\na: 2"}`); err == nil || !strings.Contains(err.Error(), "duplicated mapping key") {
		t.Fatalf("duplicate key: %v", err)
	}
	out, _ = run(t, n, c, `{"data":5}`)
	if out != nil || len(c.Warns()) != 1 || c.Warns()[0] != yamlErrDropped {
		t.Fatalf("number: sent %v, warnings %v", out, c.Warns())
	}
	out, _ = run(t, n, c, `{"topic":"x"}`)
	if out == nil {
		t.Fatal("a message without the property must pass")
	}
}
