package jsonatasuite

import (
	"strings"
	"testing"
)

func TestEscapeLoneSurrogates(t *testing.T) {
	in := `{"expr": "$encodeUrl('\uD800') & '\uD83D\uDE00' & '\\uD800'",
 "data": "\uD800"}`
	got := string(escapeLoneSurrogates([]byte(in)))
	// Lone surrogates in expr become lexer escapes; pairs and already
	// escaped backslashes stay; lines of other keys are left alone.
	want := `{"expr": "$encodeUrl('\\uD800') & '\uD83D\uDE00' & '\\uD800'",
 "data": "\uD800"}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestLoadReadsGroups(t *testing.T) {
	cases := Load(t, "literals", "errors")
	if len(cases) < 20 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		if !strings.HasPrefix(c.Name, "literals/") && !strings.HasPrefix(c.Name, "errors/") {
			t.Fatalf("case %s from another group", c.Name)
		}
		if c.Expr == "" {
			t.Fatalf("case %s has no expression", c.Name)
		}
		if !c.HasResult && !c.Undefined && c.Code == "" {
			t.Fatalf("case %s expects nothing", c.Name)
		}
	}
}
