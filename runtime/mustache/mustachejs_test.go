package mustache

import (
	"os"
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
)

// TestMustacheJS compares every rendering with what mustache.js 4.2 (the
// version Node-RED 5 ships) produced for the same template and view:
// testdata/cases.json plus the whole mustache spec, recorded by
// testdata/gen.js into testdata/mustachejs.json. Errors must match too.
func TestMustacheJS(t *testing.T) {
	raw, err := os.ReadFile("testdata/mustachejs.json")
	if err != nil {
		t.Fatal(err)
	}
	all, err := msg.Unmarshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	for i, cv := range all.([]any) {
		c := cv.(*msg.Object)
		tmpl := c.Value("t").(string)
		view := buffers(c.Value("v"))
		var opts Options
		if p, ok := c.Value("p").(*msg.Object); ok {
			opts.Partials = func(n string) (string, bool) {
				s, ok := p.Value(n).(string)
				return s, ok
			}
		}
		got, err := renderSpec(tmpl, view, &opts)
		name := tmpl
		if s, ok := c.Value("spec").(string); ok {
			name = s
		}
		if want, ok := c.Value("err").(string); ok {
			if err == nil || err.Error() != want {
				t.Errorf("#%d %q: got %q, %v; want error %q", i, name, got, err, want)
			}
			continue
		}
		if want := c.Value("out").(string); err != nil || got != want {
			t.Errorf("#%d %q:\n got %q (%v)\nwant %q", i, name, got, err, want)
		}
	}
}

// buffers turns {"type":"Buffer","data":[...]} into []byte, as the
// recorder's JSON reviver did.
func buffers(v any) any {
	switch t := v.(type) {
	case *msg.Object:
		if t.Value("type") == "Buffer" {
			if d, ok := t.Value("data").([]any); ok {
				b := make([]byte, len(d))
				for i, e := range d {
					b[i] = byte(e.(float64))
				}
				return b
			}
		}
		for _, k := range t.Keys() {
			t.Set(k, buffers(t.Value(k)))
		}
	case []any:
		for i, e := range t {
			t[i] = buffers(e)
		}
	}
	return v
}
