package mustache

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
)

func view(js string) any {
	v, err := msg.UnmarshalString(js)
	if err != nil {
		panic(err)
	}
	return v
}

func TestNames(t *testing.T) {
	tp, err := Parse("{{a}} {{#s}}{{flow.x}}{{! c }}{{/s}}{{{a}}}{{=<% %>=}}<%env.X%>")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(tp.Names(), "|")
	if want := "a|s|flow.x|c|<% %>|env.X"; got != want {
		t.Fatalf("names %q, want %q", got, want)
	}
}

func TestMissingAndRootString(t *testing.T) {
	tp, err := Parse(`{{a}}|{{flow.x}}|{{#s}}{{a}}{{b}}{{flow.x}}{{/s}}|{{u}}`)
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	o := &Options{
		Missing: func(name string) any {
			asked = append(asked, name)
			if name == "flow.x" {
				return "F"
			}
			return ""
		},
		RootString: func(s string) string { return strings.ReplaceAll(s, "\n", `\n`) },
	}
	got, err := tp.Render(view(`{"a":"1\n2","s":{"b":"3\n4"},"u":null}`), o)
	if err != nil {
		t.Fatal(err)
	}
	// Only strings read while no section is open are rewritten; null is a
	// value, not a missing name.
	if want := "1\\n2|F|1\n23\n4F|"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if strings.Join(asked, ",") != "flow.x,flow.x" {
		t.Fatalf("Missing asked for %v", asked)
	}
}

func TestTypeErrorInSection(t *testing.T) {
	_, err := MustParse(`{{#a}}{{x}}{{/a}}`).Render(view(`{"a":[1,null]}`), nil)
	if err == nil || err.Error() != "Cannot read properties of null (reading 'x')" {
		t.Fatalf("got %v", err)
	}
	_, err = MustParse(`{{#a}}{{x}}{{/a}}`).Render(msg.ObjectOf("a", []any{msg.Undefined{}}), nil)
	if err == nil || err.Error() != "Cannot read properties of undefined (reading 'x')" {
		t.Fatalf("got %v", err)
	}
}

func TestParseErrorPosition(t *testing.T) {
	_, err := Parse("😀{{#a}}")
	pe, ok := err.(*ParseError)
	if !ok || pe.Pos != 8 || pe.Name != "a" {
		t.Fatalf("got %#v", err)
	}
}

func TestDates(t *testing.T) {
	d := time.Date(2024, 1, 3, 12, 4, 5, 0, time.UTC)
	got := string(appendString(nil, d))
	if !regexp.MustCompile(`^Wed Jan 03 2024 \d\d:\d\d:05 GMT[+-]\d{4} \(.+\)$`).MatchString(got) {
		t.Fatalf("got %q", got)
	}
}

func TestRecursivePartial(t *testing.T) {
	_, err := MustParse(`{{>p}}`).Render(view(`{}`), &Options{Partials: func(string) (string, bool) { return "{{>p}}", true }})
	if err != errTooDeep {
		t.Fatalf("got %v", err)
	}
}

func BenchmarkRender(b *testing.B) {
	tp := MustParse("Hello {{payload.name}}, you have {{payload.count}} messages")
	v := view(`{"_msgid":"1","topic":"t","payload":{"name":"Ann","count":3}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tp.Render(v, nil); err != nil {
			b.Fatal(err)
		}
	}
}
