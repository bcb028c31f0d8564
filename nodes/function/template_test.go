package function

import (
	"os"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/runtime/jsyaml"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func TestTemplate(t *testing.T) {
	cases := []struct {
		name, cfg, in, want string
	}{
		{"mustache", `{"template":"Hi {{payload.name}} <{{{payload.name}}}> {{payload.n}}"}`, `{"payload":{"name":"<A&B>","n":1.5}}`, `{"payload":"Hi &lt;A&amp;B&gt; <<A&B>> 1.5"}`},
		{"missing is empty", `{"template":"[{{nope}}][{{payload.x.y}}]"}`, `{"payload":1}`, `{"payload":"[][]"}`},
		{"section over array", `{"template":"{{#payload}}{{name}},{{/payload}}"}`, `{"payload":[{"name":"a"},{"name":"b"}]}`, `{"payload":"a,b,"}`},
		{"inverted", `{"template":"{{^payload}}none{{/payload}}"}`, `{"payload":[]}`, `{"payload":"none"}`},
		{"JS printing", `{"template":"{{payload.o}}|{{payload.a}}|{{payload.b}}|{{payload.big}}"}`, `{"payload":{"o":{},"a":[1,[2,3],null],"b":false,"big":1e21}}`, `{"payload":"[object Object]|1,2,3,|false|1e+21"}`},
		{"other field", `{"template":"x{{topic}}","field":"out.text"}`, `{"topic":"t"}`, `{"topic":"t","out":{"text":"xt"}}`},
		{"plain", `{"template":"{{payload}}","syntax":"plain"}`, `{"payload":1}`, `{"payload":"{{payload}}"}`},
		{"json output", `{"template":"{\"v\":\"{{payload}}\",\"n\":{{topic}}}","output":"json"}`, `{"payload":"a\"b\\c\nd","topic":5}`, `{"payload":{"v":"a&quot;b\\c\nd","n":5},"topic":5}`},
		{"json escapes only outside sections", `{"template":"{{#topic}}{{{payload}}}{{/topic}}","output":"str"}`, `{"payload":"a\nb","topic":"t"}`, `{"payload":"a\nb","topic":"t"}`},
		{"yaml output", `{"template":"a: {{payload}}\nb: [1, two]\n2: x","output":"yaml"}`, `{"payload":3}`, `{"payload":{"2":"x","a":3,"b":[1,"two"]}}`},
		{"msg.template when empty", `{"template":""}`, `{"template":"T {{payload}}","payload":7}`, `{"template":"T {{payload}}","payload":"T 7"}`},
		{"node template wins", `{"template":"N"}`, `{"template":"T","payload":7}`, `{"template":"T","payload":"N"}`},
		{"msg.template plain", `{"template":"","syntax":"plain","output":"json"}`, `{"template":"[1,2]"}`, `{"template":"[1,2]","payload":[1,2]}`},
		{"set delimiters", `{"template":"{{=<% %>=}}<% payload %> {{payload}}"}`, `{"payload":"p"}`, `{"payload":"p {{payload}}"}`},
		{"standalone lines", `{"template":"a\n{{#payload}}\nb\n{{/payload}}\nc"}`, `{"payload":true}`, `{"payload":"a\nb\nc"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := feed(t, build(t, "template", tc.cfg), newCtx(), tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestTemplateContext(t *testing.T) {
	c := newCtx()
	c.EnvVars = map[string]any{"HOST": "h1"}
	_ = c.FlowScope.Set("count", 3.0, "")
	_ = c.FlowScope.Set("obj", msg.ObjectOf("a", "A"), "")
	_ = c.GlobalScope.Set("g", "G<", "")
	n := build(t, "template", `{"template":"{{flow.count}} {{flow.obj.a}} {{global.g}} {{{global.g}}} {{flow[memory].count}} {{env.HOST}} [{{env.NOPE}}] [{{flow.none}}] {{#flow.obj}}{{a}}{{/flow.obj}}"}`)
	got, err := feed(t, n, c, `{"payload":1}`)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"payload":"3 A G&lt; G< 3 h1 [] [] A"}`; got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	// The message comes first: msg.flow shadows flow context.
	got, _ = feed(t, n, c, `{"flow":{"count":"mine"}}`)
	if !strings.HasPrefix(got, `{"flow":{"count":"mine"},"payload":"mine A`) {
		t.Fatalf("got %s", got)
	}
}

func TestTemplateToContext(t *testing.T) {
	c := newCtx()
	n := build(t, "template", `{"template":"v={{payload}}","field":"#:(memory)::out","fieldType":"flow"}`)
	got, err := feed(t, n, c, `{"payload":2}`)
	if err != nil || got != `{"payload":2}` {
		t.Fatalf("got %s, %v", got, err)
	}
	if v, _ := c.FlowScope.Get("out", ""); v != "v=2" {
		t.Fatalf("flow.out = %v", v)
	}
	n = build(t, "template", `{"template":"g","field":"a.b","fieldType":"global"}`)
	if _, err := feed(t, n, c, `{}`); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.GlobalScope.Get("a.b", ""); v != "g" {
		t.Fatalf("global.a.b = %v", v)
	}
}

func TestTemplateErrors(t *testing.T) {
	cases := []struct{ name, cfg, in, want string }{
		{"bad json", `{"template":"{{payload}}","output":"json"}`, `{"payload":"nope"}`, `Unexpected token 'o', "nope" is not valid JSON`},
		{"null in section", `{"template":"{{#payload}}{{x}}{{/payload}}"}`, `{"payload":[null]}`, `Cannot read properties of null (reading 'x')`},
		{"dynamic unbalanced", `{"template":""}`, `{"template":"{{#a}}"}`, `Unclosed section "a" at 6`},
		{"dynamic not a string", `{"template":""}`, `{"template":5}`, `this.tail.search is not a function`},
		{"dynamic null", `{"template":""}`, `{"template":null}`, `Invalid template! Template should be a "string" but "object" was given as the first argument for mustache#render(template, view, partials)`},
		{"multi-document yaml", `{"template":"a: 1\n---\nb: 2","output":"yaml"}`, `{}`, `expected a single document in the stream, but found more`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := feed(t, build(t, "template", tc.cfg), newCtx(), tc.in)
			if err == nil || err.Error() != tc.want || got != "" {
				t.Fatalf("got %q, %v; want error %q", got, err, tc.want)
			}
		})
	}
}

func TestTemplateBadConfig(t *testing.T) {
	badConfig(t, "template", `{"template":"Hello {{#payload}} {{name}}"}`, "template")
	badConfig(t, "template", `{"template":"{{/x}}"}`, "template")
	badConfig(t, "template", `{"template":"{{=<%>=}}"}`, "template")
	badConfig(t, "template", `{"template":"x","field":"a..b"}`, "field")
	badConfig(t, "template", `{"template":"x","output":"xml"}`, "output")
	spec, _ := node.Lookup("template")
	_, err := spec.New(config(`{"template":"Hello {{#payload}} {{name}}"}`))
	if err == nil || !strings.Contains(err.Error(), `Unclosed section "payload" at 27`) {
		t.Fatalf("got %v", err)
	}
	// Plain text is not parsed.
	build(t, "template", `{"template":"{{#x}}","syntax":"plain"}`)
}

// TestTemplateYAML compares YAML parsing with what js-yaml (Node-RED's YAML
// parser) made of the same documents; testdata/yaml_gen.js records them.
func TestTemplateYAML(t *testing.T) {
	raw, err := os.ReadFile("testdata/yaml.json")
	if err != nil {
		t.Fatal(err)
	}
	all, _ := msg.Unmarshal(raw)
	for _, cv := range all.([]any) {
		c := cv.(*msg.Object)
		y := c.Value("y").(string)
		got, err := jsyaml.Load(y)
		if _, wantErr := c.Get("err"); wantErr {
			if err == nil {
				t.Errorf("%q: got %s, want an error (%v)", y, msg.Marshal(got), c.Value("err"))
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", y, err)
			continue
		}
		js := "undefined"
		if !msg.IsUndefined(got) {
			js = string(msg.Marshal(got))
		}
		want := c.Value("json").(string)
		if js != want {
			t.Errorf("%q:\n got %s\nwant %s", y, js, want)
		}
	}
}

func BenchmarkTemplate(b *testing.B) {
	n := build(b, "template", `{"template":"Hello {{payload.name}}, you have {{payload.count}} messages"}`).(node.Inputter)
	c := &benchCtx{}
	m := message(`{"_msgid":"1","topic":"t","payload":{"name":"Ann","count":3}}`)
	payload := m.Value("payload")
	b.ReportAllocs()
	for b.Loop() {
		m.Set("payload", payload)
		if err := n.Input(c, m); err != nil {
			b.Fatal(err)
		}
	}
	if got := m.Value("payload"); got != "Hello Ann, you have 3 messages" {
		b.Fatalf("rendered %q", got)
	}
}

// benchCtx is a fakeCtx that keeps nothing, so that benchmarks measure the
// node alone.
type benchCtx struct{ fakeCtx }

func (c *benchCtx) Send(m *msg.Msg) {}
