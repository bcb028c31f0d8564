package network

import (
	"os"
	"testing"

	_ "github.com/sluicehq/sluice/nodes/function" // function, change and switch nodes of the example flow
)

// flows/http-api.json, exercised request by request; every answer is what
// Node-RED 5 gave for the same flow file.
func TestHTTPAPIExampleFlow(t *testing.T) {
	flow, err := os.ReadFile("../../flows/http-api.json")
	if err != nil {
		t.Fatal(err)
	}
	h := newHTTPHarness(t, string(flow), nil)
	for _, c := range []struct {
		method, path, ctype, body string
		status                    int
		want, location            string
	}{
		{"GET", "/items", "", "", 200, `[]`, ""},
		{"POST", "/items", "application/json", `{"name":"a"}`, 201, `{"name":"a","id":"1"}`, "/items/1"},
		{"POST", "/items", "application/json", `{"name":"b","n":2}`, 201, `{"name":"b","n":2,"id":"2"}`, "/items/2"},
		{"POST", "/items", "text/plain", `x`, 400, `{"error":"an item is a JSON object with a name"}`, ""},
		{"GET", "/items", "", "", 200, `[{"name":"a","id":"1"},{"name":"b","n":2,"id":"2"}]`, ""},
		{"GET", "/items/2", "", "", 200, `{"name":"b","n":2,"id":"2"}`, ""},
		{"GET", "/items/9", "", "", 404, `{"error":"no such item"}`, ""},
		{"DELETE", "/items/1", "", "", 204, ``, ""},
		{"DELETE", "/items/1", "", "", 404, `{"error":"no such item"}`, ""},
		{"GET", "/items", "", "", 200, `[{"name":"b","n":2,"id":"2"}]`, ""},
	} {
		r := h.do(c.method, c.path, c.ctype, c.body)
		if r.status != c.status || r.body != c.want || r.header.Get("Location") != c.location {
			t.Errorf("%s %s %s: %d %s (Location %q), want %d %s (%q)", c.method, c.path, c.body, r.status, r.body, r.header.Get("Location"), c.status, c.want, c.location)
		}
		if c.want != "" && r.header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("%s %s: Content-Type %q", c.method, c.path, r.header.Get("Content-Type"))
		}
	}
}
