package parser

import (
	"os"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
)

// xml2js's own results with Node-RED's options (testdata/xml_gen.js).
func xmlRecorded(t *testing.T) *msg.Object {
	t.Helper()
	raw, err := os.ReadFile("testdata/xml2js.json")
	if err != nil {
		t.Fatal(err)
	}
	v, err := msg.Unmarshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	return v.(*msg.Object)
}

func TestXMLBuildMatchesXML2JS(t *testing.T) {
	for _, r := range xmlRecorded(t).Value("build").([]any) {
		rec := r.(*msg.Object)
		in := rec.Value("in")
		variants := []struct {
			key  string
			opts *msg.Object
		}{
			{"out", msg.ObjectOf("renderOpts", msg.ObjectOf("pretty", false))},
			{"pretty", msg.ObjectOf("renderOpts", msg.ObjectOf("pretty", true), "headless", true)},
			{"cdata", msg.ObjectOf("renderOpts", msg.ObjectOf("pretty", false), "cdata", true, "rootName", "doc", "headless", true)},
		}
		for _, v := range variants {
			want, ok := rec.Get(v.key)
			got, err := xmlFromObject(msg.Clone(in), newXMLBuildOptions(v.opts))
			if !ok {
				if err == nil {
					t.Errorf("%s %s: no error, xml2js failed", v.key, msg.Marshal(in))
				}
				continue
			}
			if err != nil {
				t.Errorf("%s %s: %v", v.key, msg.Marshal(in), err)
				continue
			}
			if got != want {
				t.Errorf("%s %s\n got  %q\n want %q", v.key, msg.Marshal(in), got, want)
			}
		}
	}
}

func TestXMLParseMatchesXML2JS(t *testing.T) {
	rec := xmlRecorded(t)
	check := func(r *msg.Object, opts *msg.Object) {
		in := r.Value("in").(string)
		if opts == nil {
			opts = msg.NewObject(2)
		}
		if !opts.Has("attrkey") {
			opts.Set("attrkey", "$")
		}
		if !opts.Has("charkey") {
			opts.Set("charkey", "_")
		}
		got, err := xmlToObject(in, newXMLParseOptions(opts))
		if e, ok := r.Get("error"); ok {
			want := "Error: " + msg.ToString(e)
			if strings.Contains(want, "is not a function") {
				want = "TypeError: " + msg.ToString(e)
			}
			if err == nil || err.Error() != want {
				t.Errorf("parse %q: error %v, want %q", in, err, want)
			}
			return
		}
		if err != nil {
			t.Errorf("parse %q: %v", in, err)
			return
		}
		want := string(msg.Marshal(r.Value("out")))
		if g := string(msg.Marshal(got)); g != want {
			t.Errorf("parse %q\n got  %s\n want %s", in, g, want)
		}
	}
	for _, r := range rec.Value("parse").([]any) {
		check(r.(*msg.Object), nil)
	}
	for _, r := range rec.Value("options").([]any) {
		o := r.(*msg.Object)
		check(o, msg.Clone(o.Value("options")).(*msg.Object))
	}
}

func TestXMLNode(t *testing.T) {
	n := buildNode(t, "xml", `{"attr":"@","chr":"#"}`)
	c := newCtx()
	out, err := run(t, n, c, `{"payload":"<a x=\"1\">t</a>","options":{"explicitArray":false}}`)
	if err != nil {
		t.Fatal(err)
	}
	// Node-RED writes the options it used back into msg.options.
	if got := string(msg.Marshal(out.Object)); got != `{"payload":{"a":{"#":"t","@":{"x":"1"}}},"options":{"explicitArray":false,"async":true,"attrkey":"@","charkey":"#"}}` {
		t.Fatalf("got %s", got)
	}
	out, err = run(t, n, c, `{"payload":{"a":{"$":{"x":"1"},"b":[1,2]}}}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Value("payload"); got != `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><a x="1"><b>1</b><b>2</b></a>` {
		t.Fatalf("got %q", got)
	}
	if _, err := run(t, n, c, `{"payload":"<a><b></a>"}`); err == nil || err.Error() != "Error: Unexpected close tag\nLine: 0\nColumn: 10\nChar: >" {
		t.Fatalf("error %v", err)
	}
	if _, err := run(t, n, c, `{"payload":{"bad name":1}}`); err == nil || err.Error() != "Error: Invalid character in name" {
		t.Fatalf("error %v", err)
	}
	out, _ = run(t, n, c, `{"payload":true}`)
	if out != nil || len(c.Warns()) != 1 || c.Warns()[0] != xmlErrJS {
		t.Fatalf("boolean: %v %v", out, c.Warns())
	}
}
