package function

import (
	"strings"
	"testing"
	"time"
)

// feedAll sends messages through one node and returns what came out, one
// JSON text per message.
func feedAll(t *testing.T, typ, cfg string, c *fakeCtx, ins ...string) []string {
	t.Helper()
	n := build(t, typ, cfg)
	var out []string
	for _, in := range ins {
		got, err := feed(t, n, c, in)
		if err != nil {
			t.Fatal(err)
		}
		if got != "" {
			out = append(out, got)
		}
	}
	return out
}

func TestFilter(t *testing.T) {
	p := func(vs ...string) []string {
		var out []string
		for _, v := range vs {
			out = append(out, `{"payload":`+v+`}`)
		}
		return out
	}
	cases := []struct {
		name, cfg string
		in, want  []string
	}{
		{"rbe", `{"func":"rbe"}`, p("1", "1", `"1"`, "2", "2"), p("1", `"1"`, "2")},
		{"rbe first empty object is not sent", `{"func":"rbe"}`, p("{}", "{}", `{"a":1}`), p(`{"a":1}`)},
		{"rbei first empty object counts as seen", `{"func":"rbei"}`, p("{}", `{"a":1}`), p(`{"a":1}`)},
		{"rbe null", `{"func":"rbe"}`, p("null", "null", "0"), p("null", "0")},
		{"deadband", `{"func":"deadband","gap":"2"}`, p("1", "2", "3.5", "4"), p("1", "3.5")},
		{"deadbandEq", `{"func":"deadbandEq","gap":"2"}`, p("1", "2", "3", "5"), p("1", "3", "5")},
		{"numeric gap", `{"func":"deadband","gap":2}`, p("1", "2", "3.5", "4"), p("1", "3.5")},
		{"narrowband start", `{"func":"narrowband","gap":"1","start":"10"}`, p("12", "10.5", "11"), p("10.5", "11")},
		{"narrowband bad start", `{"func":"narrowband","gap":"1","start":"x"}`, p("12", "10.5"), nil},
		{"percent of nothing", `{"func":"deadband","gap":"50%"}`, p("0", "1", "1.4", "1.6"), p("0", "1", "1.6")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := feedAll(t, "rbe", tc.cfg, newCtx(), tc.in...)
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestFilterBuffersAndDates(t *testing.T) {
	n := build(t, "rbe", `{}`)
	c := newCtx()
	in := func(v any) bool {
		c.Reset()
		m := message(`{}`)
		m.Set("payload", v)
		return feedMsg(t, n, c, m)
	}
	if !in([]byte("ab")) || in([]byte("ab")) || !in([]byte("ac")) {
		t.Fatal("buffers are compared by content")
	}
	// Dates have no own properties: Node-RED finds any two equal.
	if !in(time.Unix(1, 0)) || in(time.Unix(2, 0)) {
		t.Fatal("dates")
	}
}

func TestFilterWarnsNotANumber(t *testing.T) {
	c := newCtx()
	if got := feedAll(t, "rbe", `{"func":"deadband","gap":"1"}`, c, `{"payload":"abc"}`); got != nil {
		t.Fatalf("got %v", got)
	}
	if len(c.Warns()) != 1 || c.Warns()[0] != "no number found in payload" {
		t.Fatalf("warns %v", c.Warns())
	}
}

// msg.reset with a topic property other than topic forgets msg.topic's
// value, as Node-RED does.
func TestFilterResetUsesMsgTopic(t *testing.T) {
	got := feedAll(t, "rbe", `{"topi":"k"}`, newCtx(),
		`{"payload":1,"k":"a","topic":"a"}`, `{"reset":true,"k":"a","topic":"zz"}`, `{"payload":1,"k":"a"}`,
		`{"reset":true,"k":"a","topic":"a"}`, `{"payload":1,"k":"a"}`)
	if len(got) != 2 {
		t.Fatalf("got %v", got)
	}
}

func TestFilterBadConfig(t *testing.T) {
	badConfig(t, "rbe", `{"func":"sometimes"}`, "func")
	badConfig(t, "rbe", `{"property":"a..b"}`, "property")
	badConfig(t, "rbe", `{"topi":"["}`, "topi")
}
