package parser

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// csvRun feeds one message to a csv node and returns what it sent as JSON
// and the error it finished the message with.
func csvRun(t testing.TB, n node.Inputter, c *fakeCtx, in string) ([]string, error) {
	t.Helper()
	c.Reset()
	m := message(in)
	if err := n.Input(c, m); err != nil {
		t.Fatalf("Input returned %v (csv finishes its own messages)", err)
	}
	var out []string
	for _, s := range c.Calls() {
		out = append(out, string(msg.Marshal(s[0].Object)))
	}
	if len(c.Errs()) > 0 {
		return out, c.Errs()[0].Err
	}
	return out, nil
}

func TestCSVRFCParse(t *testing.T) {
	cases := []struct{ cfg, in, want string }{
		{`{"spec":"rfc","multi":"mult","hdrin":true}`, `{"payload":"a,b\r\n1,\"x,\"\"y\"\"\"\r\n,2\r\n"}`,
			`{"payload":[{"a":1,"b":"x,\"y\""},{"b":2}],"columns":"a,b"}`},
		{`{"spec":"rfc","multi":"mult","temp":"n,s","strings":false}`, `{"payload":"007,+1\n0x10,-0.5"}`,
			`{"payload":[{"n":"007","s":"+1"},{"n":"0x10","s":"-0.5"}],"columns":"n,s"}`},
		{`{"spec":"rfc","multi":"mult","temp":"n,s"}`, `{"payload":"007,+1\n0x10,-0.5"}`,
			`{"payload":[{"n":"007","s":"+1"},{"n":16,"s":-0.5}],"columns":"n,s"}`},
		{`{"spec":"rfc","multi":"mult","sep":"\\t","include_null_values":true}`, `{"payload":"a\t\tc"}`,
			`{"payload":[{"col1":"a","col2":null,"col3":"c"}],"columns":"col1,col2,col3"}`},
	}
	for _, tc := range cases {
		out, err := csvRun(t, buildNode(t, "csv", tc.cfg), newCtx(), tc.in)
		if err != nil || len(out) != 1 || out[0] != tc.want {
			t.Errorf("%s %s\n got  %v %v\n want %s", tc.cfg, tc.in, out, err, tc.want)
		}
	}
}

func TestCSVRFCGenerate(t *testing.T) {
	n := buildNode(t, "csv", `{"spec":"rfc","temp":"a,b","hdrout":"once","ret":"\\n"}`)
	c := newCtx()
	out, err := csvRun(t, n, c, `{"payload":[{"a":"x,y","b":"say \"hi\""},{"a":1}]}`)
	if err != nil || out[0] != `{"payload":"a,b\n\"x,y\",\"say \"\"hi\"\"\"\n1,\n","columns":"a,b"}` {
		t.Fatalf("got %v %v", out, err)
	}
	out, _ = csvRun(t, n, c, `{"payload":{"a":2,"b":3}}`)
	if out[0] != `{"payload":"2,3\n","columns":"a,b"}` {
		t.Fatalf("header sent twice: %v", out)
	}
	out, _ = csvRun(t, n, c, `{"payload":{"a":4},"reset":true}`)
	if !strings.HasPrefix(out[0], `{"payload":"a,b\n4,\n"`) {
		t.Fatalf("reset should send the header again: %v", out)
	}
}

// Broken quoting: strict where Node-RED is strict (template and header
// row), forgiving in data rows, and only a warning in the legacy parser.
func TestCSVBrokenQuoting(t *testing.T) {
	spec, _ := node.Lookup("csv")
	if _, err := spec.New(config(`{"spec":"rfc","temp":"a,\"b"}`)); err == nil || !strings.Contains(err.Error(), "Malformed columns template.") {
		t.Fatalf("bad template: %v", err)
	}
	n := buildNode(t, "csv", `{"spec":"rfc","hdrin":true}`)
	_, err := csvRun(t, n, newCtx(), `{"payload":"a,b\"c\n1,2"}`)
	if err == nil || err.Error() != "UnquotedQuoteError: Quote found in the middle of an unquoted field" {
		t.Fatalf("bad header: %v", err)
	}
	_, err = csvRun(t, n, newCtx(), `{"payload":"a,\"b\"x\n1,2"}`)
	if err == nil || err.Error() != "DataAfterCloseError: Data found after closing quote" {
		t.Fatalf("bad header: %v", err)
	}
	_, err = csvRun(t, n, newCtx(), `{"payload":"a,\"b\n1,2"}`)
	if err == nil || err.Error() != "ParseError: Missing quote, unclosed cell" {
		t.Fatalf("bad header: %v", err)
	}
	out, err := csvRun(t, buildNode(t, "csv", `{"spec":"rfc","multi":"mult"}`), newCtx(), `{"payload":"a\"b,\"c\"d"}`)
	if err != nil || out[0] != `{"payload":[{"col1":"a\"b","col2":"c\"d"}],"columns":"col1,col2"}` {
		t.Fatalf("lenient data: %v %v", out, err)
	}
	c := newCtx()
	out, err = csvRun(t, buildNode(t, "csv", `{"multi":"mult"}`), c, `{"payload":"1,\"open"}`)
	if err != nil || len(out) != 1 || len(c.Warns()) != 1 || c.Warns()[0] != csvErrBadCSV {
		t.Fatalf("legacy: %v %v %v", out, err, c.Warns())
	}
	_, err = csvRun(t, n, newCtx(), `{"payload":true}`)
	if err == nil || err.Error() != "Error: This node only handles CSV strings or js objects." {
		t.Fatalf("boolean: %v", err)
	}
}

func TestCSVSplitRowsKeepParts(t *testing.T) {
	n := buildNode(t, "csv", `{"spec":"rfc","hdrin":true,"skip":"1"}`)
	c := newCtx()
	csvRun(t, n, c, `{"payload":"junk","parts":{"id":"p","index":0,"count":4}}`)
	csvRun(t, n, c, `{"payload":"a,b","parts":{"id":"p","index":1,"count":4}}`)
	out, _ := csvRun(t, n, c, `{"payload":"1,2","parts":{"id":"p","index":2,"count":4}}`)
	if len(out) != 1 || out[0] != `{"payload":{"a":1,"b":2},"parts":{"id":"p","index":0,"count":2},"columns":"a,b"}` {
		t.Fatalf("got %v", out)
	}
	out, _ = csvRun(t, n, c, `{"payload":"","parts":{"id":"p","index":3,"count":4}}`)
	if len(out) != 1 || out[0] != `{"complete":true}` {
		t.Fatalf("an empty last part sends msg.complete: %v", out)
	}
}

func TestLegacyNumber(t *testing.T) {
	for s, want := range map[string]bool{
		"1": true, "-1.5": true, "1e3": true, ".5": true, "1E-+5": true, "007": false, "-07": false,
		"0.5": true, "e5": false, "5.": false, "1,5": false, "": false, "-": false, "0": true,
	} {
		if got := legacyNumber(s); got != want {
			t.Errorf("legacyNumber(%q) = %v", s, got)
		}
	}
	if parseFloatJS("1E-+5") != 1 {
		t.Error("parseFloat reads the longest numeric prefix")
	}
}

func csvText(n int) string {
	var b strings.Builder
	b.WriteString("id,name,price,qty,note\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%d,item %d,%d.%02d,%d,\"quoted, text\"\n", i, i, i, i%100, i*3)
	}
	return b.String()
}

// BenchmarkCSV100Rows parses 100 rows into one message of objects.
func BenchmarkCSV100Rows(b *testing.B) {
	n := buildNode(b, "csv", `{"spec":"rfc","hdrin":true,"multi":"mult"}`)
	c := newCtx()
	text := csvText(100)
	b.ReportAllocs()
	for b.Loop() {
		c.Reset()
		m := msg.New()
		m.Set("payload", text)
		if err := n.Input(c, m); err != nil {
			b.Fatal(err)
		}
		if len(c.Calls()) != 1 || len(c.Calls()[0][0].Value("payload").([]any)) != 100 {
			b.Fatal("wrong output")
		}
	}
}

// BenchmarkCSV100RowsGenerate writes 100 objects as CSV.
func BenchmarkCSV100RowsGenerate(b *testing.B) {
	n := buildNode(b, "csv", `{"spec":"rfc","temp":"id,name,price,qty,note","hdrout":"all"}`)
	c := newCtx()
	rows := make([]any, 100)
	for i := range rows {
		rows[i] = msg.ObjectOf("id", float64(i), "name", fmt.Sprintf("item %d", i), "price", float64(i)+0.25, "qty", float64(i*3), "note", "quoted, text")
	}
	b.ReportAllocs()
	for b.Loop() {
		c.Reset()
		m := msg.New()
		m.Set("payload", rows)
		if err := n.Input(c, m); err != nil {
			b.Fatal(err)
		}
	}
}
