package jsyaml

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
)

// The yaml node's and the template node's tests check Load against
// documents recorded from js-yaml (nodes/parser, nodes/function testdata);
// these cases pin what each of them once did differently.
func TestLoad(t *testing.T) {
	cases := []struct{ in, want string }{
		{"!!pairs\n- a: 1\n- b: 2\n", `[["a",1],["b",2]]`},
		{"!!omap\n- a: 1\n- b: 2\n", `[{"a":1},{"b":2}]`},
		{"x: !!binary |\n  aGVs\n  bG8=", `{"x":{"0":104,"1":101,"2":108,"3":108,"4":111}}`},
		{"a: &a {x: 1}\nb: {<<: *a, y: 2, x: 3}", `{"a":{"x":1},"b":{"x":3,"y":2}}`},
		{"[0x1F, 0o17, -12, .5, .inf, ~, yes, True]", `[31,15,-12,0.5,null,null,"yes",true]`},
		{"d: 2001-12-14", `{"d":"2001-12-14T00:00:00.000Z"}`},
		{"2001-12-14: x", `{"Fri Dec 14 2001 00:00:00 GMT+0000 (Coordinated Universal Time)":"x"}`},
		{"2: b\n1: a\nz: c", `{"1":"a","2":"b","z":"c"}`},
	}
	for _, c := range cases {
		got, err := Load(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if s := string(msg.Marshal(got)); s != c.want {
			t.Errorf("%q\n got  %s\n want %s", c.in, s, c.want)
		}
	}
}

func TestLoadEmptyAndErrors(t *testing.T) {
	for _, in := range []string{"", " \u00a0\n", "\ufeff"} {
		if v, err := Load(in); err != nil || !msg.IsUndefined(v) {
			t.Errorf("%q: %v %v, want undefined", in, v, err)
		}
	}
	if v, err := Load("# only a comment"); err != nil || v != nil {
		t.Errorf("comment only: %v %v, want null", v, err)
	}
	for in, want := range map[string]string{
		"a: 1\n---\nb: 2": "expected a single document",
		"a: 1\na: 2":      "duplicated mapping key",
		"x: !!int abc":    "cannot resolve a node with !<tag:yaml.org,2002:int> explicit tag",
		"x: !custom 1":    "unknown tag",
		"a: [1, 2":        "did not find expected",
		"<<: 1":           "cannot merge mappings",
	} {
		_, err := Load(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one containing %q", in, err, want)
		}
	}
}

// A "billion laughs" document is refused instead of expanded.
func TestLoadBoundsAliasExpansion(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		prev := "*a" + itoa(i-1)
		b.WriteString("a" + itoa(i) + ": &a" + itoa(i) + " [" + strings.Repeat(prev+", ", 9) + prev + "]\n")
	}
	if _, err := Load(b.String()); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("error %v", err)
	}
}

func TestImplicit(t *testing.T) {
	for s, want := range map[string]bool{"12": true, "null": true, "true": true, "1e3": true, "2001-12-14": true, "yes": false, "abc": false, "0x": false} {
		if _, ok := Implicit(s); ok != want {
			t.Errorf("Implicit(%q) = %v, want %v", s, ok, want)
		}
	}
}
