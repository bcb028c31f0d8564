package function

import (
	"strings"
	"testing"
)

func TestRange(t *testing.T) {
	cases := []struct {
		name, cfg, in, want string
	}{
		{"scale", `{"minin":0,"maxin":10,"minout":0,"maxout":100,"action":"scale"}`, `{"payload":5}`, `{"payload":50}`},
		{"scale outside", `{"minin":0,"maxin":10,"minout":0,"maxout":100,"action":"scale"}`, `{"payload":20}`, `{"payload":200}`},
		{"string config and input", `{"minin":"0","maxin":"10","minout":"0","maxout":"1","action":"scale"}`, `{"payload":" 2.5 "}`, `{"payload":0.25}`},
		{"clamp", `{"minin":0,"maxin":10,"minout":0,"maxout":100,"action":"clamp"}`, `{"payload":-3}`, `{"payload":0}`},
		{"clamp high", `{"minin":0,"maxin":10,"minout":0,"maxout":100,"action":"clamp"}`, `{"payload":30}`, `{"payload":100}`},
		{"roll", `{"minin":0,"maxin":10,"minout":0,"maxout":360,"action":"roll"}`, `{"payload":12.5}`, `{"payload":90}`},
		{"roll negative", `{"minin":0,"maxin":10,"minout":0,"maxout":360,"action":"roll"}`, `{"payload":-2.5}`, `{"payload":270}`},
		{"drop inside", `{"minin":0,"maxin":10,"minout":0,"maxout":1,"action":"drop"}`, `{"payload":10}`, `{"payload":1}`},
		{"drop outside", `{"minin":0,"maxin":10,"minout":0,"maxout":1,"action":"drop"}`, `{"payload":11}`, ``},
		{"round", `{"minin":0,"maxin":3,"minout":0,"maxout":10,"action":"scale","round":true}`, `{"payload":1}`, `{"payload":3}`},
		{"round half up", `{"minin":0,"maxin":4,"minout":0,"maxout":2,"action":"scale","round":true}`, `{"payload":-1}`, `{"payload":0}`},
		{"round bounds inwards", `{"minin":0,"maxin":1,"minout":0.5,"maxout":9.5,"action":"scale","round":true}`, `{"payload":0}`, `{"payload":1}`},
		{"reversed input range", `{"minin":10,"maxin":0,"minout":0,"maxout":100,"action":"scale"}`, `{"payload":2}`, `{"payload":80}`},
		{"decimals", `{"minin":0,"maxin":3,"minout":0,"maxout":1,"action":"scale"}`, `{"payload":1}`, `{"payload":0.3333333333333333}`},
		{"null is 0", `{"minin":0,"maxin":10,"minout":5,"maxout":15,"action":"scale"}`, `{"payload":null}`, `{"payload":5}`},
		{"no payload passes", `{"minin":0,"maxin":10,"minout":0,"maxout":1,"action":"scale"}`, `{"topic":"x"}`, `{"topic":"x"}`},
		{"other property", `{"minin":0,"maxin":10,"minout":0,"maxout":1,"action":"scale","property":"msg.a.b"}`, `{"a":{"b":5}}`, `{"a":{"b":0.5}}`},
		{"blank is 0", `{"minin":"","maxin":10,"minout":0,"maxout":1,"action":"scale"}`, `{"payload":5}`, `{"payload":0.5}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := feed(t, build(t, "range", tc.cfg), newCtx(), tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestRangeNotANumber(t *testing.T) {
	c := newCtx()
	got, err := feed(t, build(t, "range", `{"minin":0,"maxin":1,"minout":0,"maxout":1}`), c, `{"payload":"abc"}`)
	if err != nil || got != "" {
		t.Fatalf("got %q %v; want the message dropped", got, err)
	}
	if !strings.Contains(c.Logs(), "Not a number: abc") {
		t.Fatalf("log %q", c.Logs())
	}
}

func TestRangeMissingParent(t *testing.T) {
	_, err := feed(t, build(t, "range", `{"minin":0,"maxin":1,"minout":0,"maxout":1,"property":"a.b"}`), newCtx(), `{}`)
	if err == nil || err.Error() != "TypeError: Cannot read properties of undefined (reading 'b')" {
		t.Fatalf("got %v", err)
	}
}

func TestRangeBadConfig(t *testing.T) {
	badConfig(t, "range", `{"minin":"x","maxin":1,"minout":0,"maxout":1}`, "minin")
	badConfig(t, "range", `{"minin":0,"minout":0,"maxout":1}`, "maxin")
	badConfig(t, "range", `{"minin":0,"maxin":1,"minout":0,"maxout":1,"property":"a..b"}`, "property")
}
