package network

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// respFlow is the Node-RED 5 session's /resp route: the request body says
// what the message going to http response holds.
const respFlow = `[
{"id":"in7","type":"http in","url":"/resp","method":"post","wires":[["f2"]]},
{"id":"f2","type":"httptest-fn","fn":"shape","wires":[["o2"]]},
{"id":"o2","type":"http response","statusCode":"","headers":{"x-node":"n1"},"wires":[]},
{"id":"in8","type":"http in","url":"/resp201","method":"get","wires":[["o3"]]},
{"id":"o3","type":"http response","statusCode":"201","headers":{"Content-Type":"text/plain"},"wires":[]}
]`

// shape copies payload, statusCode, headers and cookies from the request
// body; "bin" makes a Buffer payload and "undef" deletes it.
func shape(c node.Ctx, m *msg.Msg) error {
	b := m.Value("req").(*msg.Object).Value("body").(*msg.Object)
	m.Set("payload", b.Value("payload"))
	if bin, ok := b.Value("bin").([]any); ok {
		buf := make([]byte, len(bin))
		for i, v := range bin {
			buf[i] = byte(v.(float64))
		}
		m.Set("payload", buf)
	}
	if b.Has("undef") {
		m.Delete("payload")
	}
	for _, k := range []string{"statusCode", "headers", "cookies"} {
		if v, ok := b.Get(k); ok {
			m.Set(k, v)
		}
	}
	c.Send(m)
	return nil
}

var dateRE = regexp.MustCompile(`Expires=\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT`)

func TestHTTPResponseAsNodeRED(t *testing.T) {
	setTestFn(t, "shape", shape)
	h := newHTTPHarness(t, respFlow, nil)
	// Each case is what Node-RED 5 answered (Date and Connection left out).
	for _, c := range []struct {
		in     string
		status int
		hdr    map[string]string // "" means absent
		body   string
	}{
		{`{"payload":"hi","statusCode":"404","headers":{"x-node":"msg","X-Other":5,"x-arr":["a","b"]}}`, 404,
			map[string]string{"X-Node": "n1", "X-Other": "5", "X-Arr": "a|b", "Content-Type": "text/html; charset=utf-8", "Content-Length": "2", "Etag": `W/"2-witfkXg0JglCjW9RssWvTAveakI"`}, "hi"},
		{`{"payload":42}`, 200, map[string]string{"Content-Type": "text/html; charset=utf-8", "Etag": `W/"2-ks/Os51X2RTtixTQ43ZD3geXrlY"`}, "42"},
		{`{"payload":null}`, 200, map[string]string{"X-Content-Type-Options": "nosniff", "Content-Type": "application/json; charset=utf-8", "Etag": `W/"4-K+iMpCQsduglOsYkdIUQZQMtaDM"`}, "null"},
		{`{"undef":true}`, 200, map[string]string{"Content-Length": "0", "Content-Type": "", "Etag": ""}, ""},
		{`{"bin":[1,2,3]}`, 200, map[string]string{"Content-Type": "application/octet-stream", "Content-Length": "3", "Etag": `W/"3-cDeAcZjCKn0rCAc3HXY3eahP388"`}, "\x01\x02\x03"},
		{`{"payload":"x","headers":{"content-type":"text/csv"}}`, 200, map[string]string{"Content-Type": "text/csv; charset=utf-8", "Etag": `W/"1-EfatjsUqKYSrqv18O1FlA3hcIHI"`}, "x"},
		{`{"payload":"x","headers":{"content-type":"application/json"}}`, 200, map[string]string{"Content-Type": "application/json; charset=utf-8"}, "x"},
		{`{"payload":[1],"statusCode":204}`, 204, map[string]string{"X-Content-Type-Options": "nosniff", "Content-Type": "", "Etag": `W/"3-9imuRLez3P7URNNj5ibt9BHsaag"`}, ""},
		{`{"payload":"x","headers":{"Content-Length":"1"}}`, 200, map[string]string{"Content-Length": "1"}, "x"},
		{`{"payload":{"a":[1,"b"]}}`, 200, map[string]string{"Content-Type": "application/json; charset=utf-8"}, `{"a":[1,"b"]}`},
	} {
		r := h.do("POST", "/resp", "application/json", c.in)
		if r.status != c.status || r.body != c.body {
			t.Errorf("%s: %d %q, want %d %q", c.in, r.status, r.body, c.status, c.body)
		}
		for k, want := range c.hdr {
			got := strings.Join(r.header.Values(k), "|")
			if got != want {
				t.Errorf("%s: header %s = %q, want %q", c.in, k, got, want)
			}
		}
	}
}

func TestHTTPResponseCookies(t *testing.T) {
	setTestFn(t, "shape", shape)
	h := newHTTPHarness(t, respFlow, nil)
	r := h.do("POST", "/resp", "application/json", `{"payload":"x","cookies":{"a":"v 1","b":{"value":"w","maxAge":60000,"httpOnly":true,"path":"/p","domain":"example.com","secure":true,"sameSite":"strict"},"c":null,"d":{"value":null,"path":"/z"},"e":{"value":{"o":1}}, "f":5}}`)
	// Node-RED 5's Set-Cookie headers (the Expires of b is a minute ahead).
	want := []string{
		"a=v%201; Path=/",
		"b=w; Max-Age=60; Domain=example.com; Path=/p; Expires=*; HttpOnly; Secure; SameSite=Strict",
		"c=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
		"d=; Path=/z; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
		"e=j%3A%7B%22o%22%3A1%7D; Path=/",
		"f=5; Path=/",
	}
	got := r.header.Values("Set-Cookie")
	if len(got) != len(want) {
		t.Fatalf("Set-Cookie %q", got)
	}
	for i := range want {
		g := got[i]
		if strings.HasPrefix(g, "b=") {
			g = dateRE.ReplaceAllString(g, "Expires=*")
		}
		if g != want[i] {
			t.Errorf("cookie %d: %q, want %q", i, got[i], want[i])
		}
	}
}

func TestHTTPResponseConditionalAndJSONP(t *testing.T) {
	h := newHTTPHarness(t, respFlow, nil)
	r := h.do("GET", "/resp201", "", "")
	// Node-RED 5: the query object {} as JSON, 201, the node's type with a charset.
	if r.status != 201 || r.body != "{}" || r.header.Get("Content-Type") != "text/plain; charset=utf-8" || r.header.Get("Etag") != `W/"2-vyGp6PvFo4RvsFtPoIWeCReyIC8"` {
		t.Fatalf("%d %q %v", r.status, r.body, r.header)
	}
	r = h.do("GET", "/resp201", "", "", "If-None-Match", `W/"2-vyGp6PvFo4RvsFtPoIWeCReyIC8"`)
	if r.status != 304 || r.body != "" || r.header.Get("Content-Type") != "" {
		t.Errorf("conditional GET: %d %q %v", r.status, r.body, r.header)
	}
	r = h.do("GET", "/resp201?callback=cb", "", "")
	if r.body != `/**/ typeof cb === 'function' && cb({"callback":"cb"});` || r.header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("jsonp: %q %v", r.body, r.header)
	}
}

// Headers that came unchanged from an http request node describe another
// response and are not copied; changed ones are.
func TestHTTPResponseDropsRequestNodeHeaders(t *testing.T) {
	setTestFn(t, "hdr", func(c node.Ctx, m *msg.Msg) error {
		hs := msg.ObjectOf("x-upstream", "1", "content-type", "text/csv")
		hs.Set(requestNodeHeader, headerHash(hs))
		if m.Value("req").(*msg.Object).Value("query").(*msg.Object).Has("change") {
			hs.Set("x-added", "2")
		}
		m.Set("headers", hs)
		m.Set("payload", "p")
		c.Send(m)
		return nil
	})
	h := newHTTPHarness(t, `[{"id":"in","type":"http in","url":"/h","method":"get","wires":[["f"]]},
{"id":"f","type":"httptest-fn","fn":"hdr","wires":[["out"]]},
{"id":"out","type":"http response","wires":[]}]`, nil)
	if r := h.do("GET", "/h", "", ""); r.header.Get("X-Upstream") != "" || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("unchanged headers were copied: %v", r.header)
	}
	if r := h.do("GET", "/h?change", "", ""); r.header.Get("X-Upstream") != "1" || r.header.Get("X-Added") != "2" || r.header.Get(requestNodeHeader) != "" {
		t.Errorf("changed headers were not copied: %v", r.header)
	}
}

// postUnanswered posts body and reports whether an answer came within
// 300 ms.
func postUnanswered(h *httpHarness, path, body string) chan bool {
	answered := make(chan bool, 1)
	go func() {
		req, _ := http.NewRequest("POST", h.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		client := http.Client{Timeout: 300 * time.Millisecond}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		answered <- err == nil
	}()
	return answered
}

// Node-RED throws for these and leaves the request unanswered (a catch
// flow may still answer it).
func TestHTTPResponseErrors(t *testing.T) {
	setTestFn(t, "shape", shape)
	h := newHTTPHarness(t, respFlow, nil)
	for body, logged := range map[string]string{
		`{"payload":true}`:                     `Received type boolean (true)`,
		`{"payload":"x","statusCode":1000}`:    "Invalid status code: 1000",
		`{"payload":"x","headers":{"a b":1}}`:  `Header name must be a valid HTTP token ["a b"]`,
		`{"payload":"x","headers":{"a":"\n"}}`: `Invalid character in header content ["a"]`,
	} {
		answered := postUnanswered(h, "/resp", body)
		h.waitLog("o2", logged)
		if <-answered {
			t.Errorf("%s was answered", body)
		}
	}
}

func TestHTTPResponseWithoutRequest(t *testing.T) {
	h := newHTTPHarness(t, `[{"id":"out","type":"http response","wires":[]}]`, nil)
	h.inject("out", `{"payload":"x"}`)
	h.waitLog("out", "No response object")
}
