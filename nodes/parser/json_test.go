package parser

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func newJSONNode(t *testing.T, cfg string) *jsonNode {
	t.Helper()
	spec, ok := node.Lookup("json")
	if !ok {
		t.Fatal("json not registered")
	}
	n, err := spec.New(config(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return n.(*jsonNode)
}

// run feeds one message and returns the message sent (nil if none) and the
// error returned.
func run(t *testing.T, n node.Inputter, c *fakeCtx, in string) (*msg.Msg, error) {
	t.Helper()
	c.Reset()
	err := n.Input(c, message(in))
	if len(c.Calls()) == 0 {
		return nil, err
	}
	return c.Calls()[0][0], err
}

func TestJSONConversions(t *testing.T) {
	cases := []struct {
		name, cfg, in, want, err string
	}{
		{"parse", `{}`, `{"payload":"{\"b\":1,\"a\":[true,null]}"}`, `{"payload":{"b":1,"a":[true,null]}}`, ""},
		{"stringify", `{}`, `{"payload":{"b":1,"a":"x"}}`, `{"payload":"{\"b\":1,\"a\":\"x\"}"}`, ""},
		{"pretty", `{"pretty":true}`, `{"payload":{"a":[1]}}`, `{"payload":"{\n    \"a\": [\n        1\n    ]\n}"}`, ""},
		{"number", `{}`, `{"payload":5}`, `{"payload":"5"}`, ""},
		{"boolean", `{}`, `{"payload":false}`, `{"payload":"false"}`, ""},
		{"null", `{}`, `{"payload":null}`, `{"payload":"null"}`, ""},
		{"str leaves strings", `{"action":"str"}`, `{"payload":"{\"a\":1}"}`, `{"payload":"{\"a\":1}"}`, ""},
		{"obj leaves objects", `{"action":"obj"}`, `{"payload":{"a":1}}`, `{"payload":{"a":1}}`, ""},
		{"obj parses", `{"action":"obj"}`, `{"payload":"[1]"}`, `{"payload":[1]}`, ""},
		{"str stringifies", `{"action":"str"}`, `{"payload":[1]}`, `{"payload":"[1]"}`, ""},
		{"nested property", `{"property":"msg.a.b"}`, `{"a":{"b":"1"}}`, `{"a":{"b":1}}`, ""},
		{"missing passes", `{}`, `{"topic":"t"}`, `{"topic":"t"}`, ""},
		{"bad json", `{}`, `{"payload":"hello"}`, "", `Unexpected token 'h', "hello" is not valid JSON`},
		{"bad json end", `{}`, `{"payload":"{\"a\":"}`, "", `Unexpected end of JSON input`},
		{"missing parent", `{"property":"a.b"}`, `{"payload":1}`, "", `TypeError: Cannot read properties of undefined (reading 'b')`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := newJSONNode(t, tc.cfg)
			out, err := run(t, n, newCtx(), tc.in)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				if out != nil {
					t.Fatal("message sent despite error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out == nil {
				t.Fatal("nothing sent")
			}
			if got := string(msg.Marshal(out.Object)); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestJSONBuffer(t *testing.T) {
	n := newJSONNode(t, `{}`)
	c := newCtx()
	m := msg.New()
	m.Set("payload", []byte(`{"x":[1,2]}`))
	if err := n.Input(c, m); err != nil {
		t.Fatal(err)
	}
	if got := string(msg.Marshal(c.Calls()[0][0].Value("payload"))); got != `{"x":[1,2]}` {
		t.Fatal(got)
	}
	// action str leaves a Buffer alone.
	n = newJSONNode(t, `{"action":"str"}`)
	m.Set("payload", []byte("abc"))
	c.Reset()
	if err := n.Input(c, m); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Calls()[0][0].Value("payload").([]byte); !ok {
		t.Fatal("buffer converted")
	}
}

func TestJSONBadConfig(t *testing.T) {
	spec, _ := node.Lookup("json")
	for _, cfg := range []string{`{"action":"xml"}`, `{"property":"a..b"}`} {
		_, err := spec.New(config(cfg))
		if _, ok := err.(*node.PropError); !ok {
			t.Errorf("%s: got %v, want a PropError", cfg, err)
		}
	}
}

func TestJSONSchemaValidation(t *testing.T) {
	n := newJSONNode(t, `{}`)
	c := newCtx()
	out, err := run(t, n, c, `{"payload":"{\"a\":1}","schema":{"type":"object","properties":{"a":{"type":"number"}}}}`)
	if err != nil || out == nil {
		t.Fatalf("valid: %v %v", out, err)
	}
	if out.Has("schema") {
		t.Fatal("msg.schema kept after a successful validation")
	}
	out, err = run(t, n, c, `{"payload":"{\"a\":\"x\"}","schema":{"type":"object","properties":{"a":{"type":"number"}}}}`)
	if out != nil || err == nil || err.Error() != "JSON Schema error: data/a must be number" {
		t.Fatalf("invalid: %v %v", out, err)
	}
	// Stringify direction validates the object before writing it.
	out, err = run(t, n, c, `{"payload":{"a":"x"},"schema":{"required":["b"]}}`)
	if out != nil || err == nil || err.Error() != "JSON Schema error: data must have required property 'b'" {
		t.Fatalf("str: %v %v", out, err)
	}
	_, err = run(t, n, c, `{"payload":"{}","schema":{"type":"object","format":"email"}}`)
	if err == nil || err.Error() != "JSON Schema error: failed to compile schema" {
		t.Fatalf("compile: %v", err)
	}
}

func TestJSONSchemaErrorList(t *testing.T) {
	n := newJSONNode(t, `{}`)
	c := newCtx()
	m := message(`{"payload":{"a":1,"b":2},"schema":{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"number","minimum":5}},"required":["a","c"]}}`)
	if err := n.Input(c, m); err == nil {
		t.Fatal("no error")
	}
	want := `[{"instancePath":"","schemaPath":"#/required","keyword":"required","params":{"missingProperty":"c"},"message":"must have required property 'c'"},{"instancePath":"/a","schemaPath":"#/properties/a/type","keyword":"type","params":{"type":"string"},"message":"must be string"},{"instancePath":"/b","schemaPath":"#/properties/b/minimum","keyword":"minimum","params":{"comparison":">=","limit":5},"message":"must be >= 5"}]`
	if got := string(msg.Marshal(m.Value("schemaError"))); got != want {
		t.Fatalf("schemaError\n got %s\nwant %s", got, want)
	}
}

// TestSchemaMatchesAjv replays schemas through Ajv 8 as Node-RED 5 ships it
// (testdata recorded with its allErrors setup): the same schemas must be
// refused, and failures must give Ajv's error objects and text.
func TestSchemaMatchesAjv(t *testing.T) {
	data, err := os.ReadFile("testdata/ajv_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []json.RawMessage
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	for i, raw := range cases {
		v, err := msg.Unmarshal(raw)
		if err != nil {
			t.Fatal(err)
		}
		c := v.(*msg.Object)
		s, d, text := c.Value("schema"), c.Value("data"), c.Value("text").(string)
		sc, err := compileSchema(s)
		if text == "COMPILE" {
			if err == nil {
				t.Errorf("case %d %s: compiled, Ajv refuses it", i, msg.Marshal(s))
			}
			continue
		}
		if err != nil {
			t.Errorf("case %d %s: %v", i, msg.Marshal(s), err)
			continue
		}
		errs := sc.validate(d)
		if text == "VALID" {
			if errs != nil {
				t.Errorf("case %d %s: %s, Ajv says valid", i, msg.Marshal(s), errs.text())
			}
			continue
		}
		if errs.text() != text {
			t.Errorf("case %d %s:\n got %s\nwant %s", i, msg.Marshal(s), errs.text(), text)
			continue
		}
		if got, want := string(msg.Marshal(errs.objects())), string(msg.Marshal(c.Value("errors"))); got != want {
			t.Errorf("case %d %s objects:\n got %s\nwant %s", i, msg.Marshal(s), got, want)
		}
	}
}
