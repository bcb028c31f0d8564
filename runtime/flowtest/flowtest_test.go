package flowtest

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/sluicehq/sluice/nodes/all"
)

// edgeFlow uses node types that need a broker or a server; the test
// replaces them (and the broker config only they use) with stand-ins, so it
// runs whether or not those types are built.
const edgeFlow = `[
 {"id":"t1","type":"tab","label":"edge"},
 {"id":"broker","type":"mqtt-broker","broker":"10.255.255.1","port":"1883"},
 {"id":"sub","type":"mqtt in","z":"t1","name":"readings","topic":"r/#","broker":"broker","wires":[["scale"]]},
 {"id":"scale","type":"change","z":"t1","name":"scale","rules":[{"t":"set","p":"payload","pt":"msg","to":"payload * 10","tot":"jsonata"}],"wires":[["pub","ask"]]},
 {"id":"pub","type":"mqtt out","z":"t1","name":"publish","topic":"scaled","broker":"broker","wires":[]},
 {"id":"ask","type":"http request","z":"t1","name":"lookup","method":"GET","url":"http://10.255.255.1/x","wires":[["log"]]},
 {"id":"log","type":"debug","z":"t1","name":"log","wires":[]},
 {"id":"d1","type":"debug","z":"t1","name":"dup","wires":[]},
 {"id":"d2","type":"debug","z":"t1","name":"dup","wires":[]}
]`

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runTests(t *testing.T, tests string) (*Suite, string) {
	t.Helper()
	dir := t.TempDir()
	write(t, dir, "edge.json", edgeFlow)
	p := write(t, dir, "edge.test.yaml", tests)
	var out bytes.Buffer
	s := RunFile(p, Options{Out: &out})
	return s, out.String()
}

func TestStandInsFeedAnswerAndRecord(t *testing.T) {
	s, out := runTests(t, `
timeout: 3s
tests:
  - name: scaled and published
    inject:
      - {node: readings, msg: {topic: r/1, payload: 4}}
      - {node: sub, msg: {topic: r/2, payload: 5}}
    respond:
      - {node: ask, msg: {statusCode: 200, payload: {ok: 1}}}
      - {node: ask, msg: {statusCode: 404, payload: gone}}
    expect:
      - node: publish
        messages:
          - {payload: 40, msg: {topic: r/1}}
          - {jsonata: 'payload = 50 and topic = "r/2"'}
        count: 2
      - node: log
        ordered: false
        messages:
          - msg: {statusCode: 404, payload: gone}
          - msg: {statusCode: 200, payload.ok: 1}
`)
	if len(s.Cases) != 1 || !s.Cases[0].Passed() {
		t.Fatalf("want a pass:\n%s", out)
	}
	if !strings.Contains(out, "--- PASS: ") || !strings.Contains(out, "/scaled and published (") {
		t.Errorf("output:\n%s", out)
	}
}

func TestFailuresAreClear(t *testing.T) {
	for _, c := range []struct{ name, test, want string }{
		{"wrong value", `
tests:
  - inject: [{node: sub, msg: {payload: 1}}]
    respond: [{node: ask, msg: {}}]
    expect: [{node: pub, messages: [{payload: 11}]}]`, `node pub: message 1: payload: got 10, want 11`},
		{"missing node", `
tests:
  - inject: [{node: nope, msg: {payload: 1}}]
    expect: [{node: pub, count: 0}]`, `node "nope" is not in`},
		{"ambiguous name", `
tests:
  - inject: [{node: sub}]
    expect: [{node: dup, count: 0}]`, `name "dup" is used by nodes d1, d2`},
		{"timeout", `
timeout: 300ms
tests:
  - inject: [{node: sub, msg: {payload: 1}}]
    respond: [{node: ask, msg: {}}]
    expect: [{node: d1, messages: [{payload: 1}]}]`, "timed out after 300ms waiting for:\n  node d1: 1 message(s) expected, 0 received"},
		{"too many", `
tests:
  - inject: [{node: sub, msg: {payload: 1}}, {node: sub, msg: {payload: 2}}]
    respond: [{node: ask, msg: {}}]
    expect: [{node: pub, count: 1}]`, `node pub: got 2 message(s), want 1`},
		{"no response", `
tests:
  - inject: [{node: sub, msg: {payload: 1}}]
    expect: [{node: log, count: 1}]`, `http request node "ask" got a message but the test gives no respond entry for it`},
		{"jsonata false", `
tests:
  - inject: [{node: sub, msg: {payload: 1}}]
    respond: [{node: ask, msg: {}}]
    expect: [{node: pub, messages: [{jsonata: payload > 100}]}]`, `jsonata "payload > 100" is false, want true`},
		{"unordered", `
tests:
  - inject: [{node: sub, msg: {payload: 1}}, {node: sub, msg: {payload: 2}}]
    respond: [{node: ask, msg: {}}]
    expect: [{node: pub, ordered: false, messages: [{payload: 20}, {payload: 20}]}]`, `node pub: no message matches expectation 2`},
		{"bad port", `
tests:
  - inject: [{node: sub, port: 1, msg: {payload: 1}}]
    expect: [{node: pub, count: 0}]`, `node sub has 1 output(s); port 1 does not exist`},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			s, out := runTests(t, c.test)
			if len(s.Cases) != 1 || s.Cases[0].Passed() {
				t.Fatalf("want a failure:\n%s", out)
			}
			if !strings.Contains(strings.Join(s.Cases[0].Failures, "\n"), c.want) {
				t.Fatalf("failure should say %q:\n%s", c.want, out)
			}
			if !strings.Contains(out, "--- FAIL: ") {
				t.Fatalf("output:\n%s", out)
			}
			if time.Since(start) > 3*time.Second {
				t.Fatalf("took %v", time.Since(start))
			}
		})
	}
}

func TestWithin(t *testing.T) {
	s, out := runTests(t, `
tests:
  - inject:
      - {node: sub, after: 300ms, msg: {payload: 1}}
    respond: [{node: ask, msg: {}}]
    expect: [{node: pub, within: 100ms, messages: [{payload: 10}]}]`)
	if s.Cases[0].Passed() || !strings.Contains(out, "within 100ms") {
		t.Fatalf("want a late-arrival failure:\n%s", out)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, c := range []struct{ test, want string }{
		{"tests:\n  - nmae: typo\n", "field nmae not found"},
		{"flow: missing.json\ntests:\n  - expect: [{node: x, count: 0}]\n", "flow file: open"},
		{"tests:\n  - expect: [{node: x}]\n", "give messages, a count, or both"},
		{"tests:\n  - expect: [{node: x, messages: [{jsonata: '$$$('}]}]\n", "invalid JSONata"},
		{"timeout: soon\ntests: []\n", `bad duration "soon"`},
	} {
		s, out := runTests(t, c.test)
		if len(s.Cases) != 1 || s.Cases[0].Name != "load" || !strings.Contains(out, c.want) {
			t.Errorf("%q: want a load failure saying %q:\n%s", c.test, c.want, out)
		}
	}
}

func TestRefusedFlow(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "bad.json", `[{"id":"t","type":"tab"},{"id":"x","type":"no-such-type","z":"t","wires":[]}]`)
	p := write(t, dir, "bad.test.yaml", "tests:\n  - expect: [{node: x, count: 0}]\n")
	var out bytes.Buffer
	s := RunFile(p, Options{Out: &out})
	if s.Cases[0].Passed() || !strings.Contains(out.String(), "refused") || !strings.Contains(out.String(), "no-such-type") {
		t.Fatalf("output:\n%s", out.String())
	}
}

// Message properties from YAML keep their order, as JSON.stringify shows.
func TestYAMLKeepsKeyOrder(t *testing.T) {
	s, out := runTests(t, `
tests:
  - inject: [{node: scale, msg: {payload: 1, zeta: 1, alpha: {b: 1, a: 2}}}]
    respond: [{node: ask, msg: {}}]
    expect:
      - node: pub
        messages:
          - jsonata: '$keys($) = ["payload", "zeta", "alpha", "_msgid"] and $keys(alpha) = ["b", "a"]'
`)
	if !s.Cases[0].Passed() {
		t.Fatalf("%s", out)
	}
}

func TestJUnitAndDiscover(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "edge.json", edgeFlow)
	sub := filepath.Join(dir, "more")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, sub, "edge.json", edgeFlow)
	write(t, dir, "edge.test.yaml", "tests:\n  - name: ok\n    expect: [{node: pub, count: 0}]\n  - name: bad <one>\n    inject: [{node: sub, msg: {payload: 1}}]\n    respond: [{node: ask, msg: {}}]\n    expect: [{node: pub, count: 0}]\n")
	write(t, sub, "edge.test.yml", "tests:\n  - expect: [{node: log, count: 0}]\n")
	write(t, dir, "notes.yaml", "not: a test\n")
	for _, skip := range []string{"node_modules", ".git"} {
		if err := os.Mkdir(filepath.Join(dir, skip), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, skip), "x.test.yaml", "tests: [{expect: [{node: x, count: 0}]}]\n")
	}
	files, err := Discover([]string{dir})
	if err != nil || len(files) != 2 {
		t.Fatalf("discover: %v %v", files, err)
	}
	res, err := Run([]string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total() != 3 || res.Failed() != 1 {
		t.Fatalf("total %d failed %d", res.Total(), res.Failed())
	}
	var b bytes.Buffer
	if err := res.WriteJUnit(&b); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if doc.Tests != 3 || doc.Failures != 1 || len(doc.Suites) != 2 {
		t.Fatalf("junit:\n%s", b.String())
	}
	c := doc.Suites[0].Cases[1]
	if c.Name != "bad <one>" || c.Failure == nil || !strings.Contains(c.Failure.Message, "node pub: got 1 message(s), want 0") {
		t.Fatalf("junit failure:\n%s", b.String())
	}
	if _, err := Run([]string{filepath.Join(dir, "nothing-here")}, Options{}); err == nil {
		t.Fatal("a missing path must be an error")
	}
}
