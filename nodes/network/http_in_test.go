package network

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// httpEchoFlow serves the routes the Node-RED 5 session these expectations
// were recorded from served (same node ids and settings): each http in
// node feeds a function that describes msg.req, answered by http response.
const httpEchoFlow = `[
{"id":"t1","type":"tab","label":"t"},
{"id":"in1","type":"http in","z":"t1","url":"/echo/:id?","method":"post","upload":false,"skipBodyParsing":false,"wires":[["f1"]]},
{"id":"in2","type":"http in","z":"t1","url":"/echo/:id?","method":"get","wires":[["f1"]]},
{"id":"in3","type":"http in","z":"t1","url":"/up","method":"post","upload":true,"wires":[["f1"]]},
{"id":"in4","type":"http in","z":"t1","url":"/raw","method":"post","skipBodyParsing":true,"wires":[["f1"]]},
{"id":"in5","type":"http in","z":"t1","url":"/put","method":"put","wires":[["f1"]]},
{"id":"in6","type":"http in","z":"t1","url":"/del","method":"delete","wires":[["f1"]]},
{"id":"f1","type":"httptest-fn","z":"t1","fn":"describe","wires":[["o1"]]},
{"id":"o1","type":"http response","z":"t1","statusCode":"","headers":{},"wires":[]}
]`

// describe is the function node of the recording session:
// {params, query, cookies, body (Buffers as {buf: hex}), bodyType, method,
// url, originalUrl, path, ip, hostname, protocol, baseUrl, secure, xhr,
// files, payloadType, payload}.
func describe(c node.Ctx, m *msg.Msg) error {
	r := m.Value("req").(*msg.Object)
	b := r.Value("body")
	bodyType := msg.TypeOf(b)
	if buf, ok := b.([]byte); ok {
		b = msg.ObjectOf("buf", hex.EncodeToString(buf))
		bodyType = "buffer"
	}
	p := m.Value("payload")
	payloadType := msg.TypeOf(p)
	if _, ok := p.([]byte); ok {
		payloadType = "buffer"
	}
	out := msg.ObjectOf("params", r.Value("params"), "query", r.Value("query"), "cookies", r.Value("cookies"),
		"body", b, "bodyType", bodyType, "method", r.Value("method"), "url", r.Value("url"),
		"originalUrl", r.Value("originalUrl"), "path", r.Value("path"), "ip", r.Value("ip"),
		"hostname", r.Value("hostname"), "protocol", r.Value("protocol"), "baseUrl", r.Value("baseUrl"),
		"secure", r.Value("secure"), "xhr", r.Value("xhr"))
	if fs, ok := r.Value("files").([]any); ok {
		list := make([]any, len(fs))
		for i, f := range fs {
			fo := f.(*msg.Object).Clone()
			fo.Set("buffer", string(fo.Value("buffer").([]byte)))
			list[i] = fo
		}
		out.Set("files", list)
	}
	out.Set("payloadType", payloadType)
	out.Set("payload", p)
	out.Set("headers", r.Value("headers"))
	m.Set("payload", out)
	c.Send(m)
	return nil
}

func echoHarness(t *testing.T, settings mapSettings) *httpHarness {
	setTestFn(t, "describe", describe)
	return newHTTPHarness(t, httpEchoFlow, settings)
}

// splitHeaders takes the headers out of a described request, whose order
// Go does not keep, and the host, which differs between runs.
func splitHeaders(t *testing.T, body string) (string, *msg.Object) {
	t.Helper()
	v, err := msg.UnmarshalString(body)
	if err != nil {
		t.Fatalf("not JSON: %q", body)
	}
	o := v.(*msg.Object)
	h, _ := o.Value("headers").(*msg.Object)
	o.Delete("headers")
	return string(msg.Marshal(o)), h
}

func TestHTTPInRequestObject(t *testing.T) {
	h := echoHarness(t, nil)
	r := h.do("GET", `/echo/5?a=1&a=2&b[c]=3&d[]=x&e&f=%20+x&g[1]=q&h[a][b]=1`, "", "",
		"Cookie", `s=abc; j=j%3A%7B%22a%22%3A1%7D; k=j:{"x":2}; sp=a%20b`, "X-Foo", "bar", "X-Foo", "baz", "X-Requested-With", "XMLHttpRequest")
	// Node-RED 5 answered with these fields (and no others differ).
	want := `{"params":{"id":"5"},"query":{"a":["1","2"],"b":{"c":"3"},"d":["x"],"e":"","f":"  x","g":["q"],"h":{"a":{"b":"1"}}},` +
		`"cookies":{"s":"abc","j":{"a":1},"k":{"x":2},"sp":"a b"},"body":{},"bodyType":"object","method":"GET",` +
		`"url":"/echo/5?a=1&a=2&b[c]=3&d[]=x&e&f=%20+x&g[1]=q&h[a][b]=1","originalUrl":"/echo/5?a=1&a=2&b[c]=3&d[]=x&e&f=%20+x&g[1]=q&h[a][b]=1",` +
		`"path":"/echo/5","ip":"127.0.0.1","hostname":"127.0.0.1","protocol":"http","baseUrl":"","secure":false,"xhr":true,` +
		`"payloadType":"object","payload":{"a":["1","2"],"b":{"c":"3"},"d":["x"],"e":"","f":"  x","g":["q"],"h":{"a":{"b":"1"}}}}`
	got, hdr := splitHeaders(t, r.body)
	if r.status != 200 || got != want {
		t.Fatalf("got %d\n%s\nwant\n%s", r.status, got, want)
	}
	if hdr.Value("x-foo") != "bar, baz" || hdr.Value("x-requested-with") != "XMLHttpRequest" || !strings.HasPrefix(str(hdr.Value("host")), "127.0.0.1:") {
		t.Errorf("headers %s", msg.Marshal(hdr))
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" || r.header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(r.header.Get("ETag"), `W/"`) {
		t.Errorf("response headers %v", r.header)
	}
}

// Bodies as Node-RED 5 parsed them (body, bodyType) for each content type.
func TestHTTPInBodyParsing(t *testing.T) {
	h := echoHarness(t, nil)
	for _, c := range []struct {
		method, path, ctype, body string
		wantBody, wantType        string
	}{
		{"POST", "/echo", "application/json", `{"x":1}`, `{"x":1}`, "object"},
		{"POST", "/echo", "application/json", ``, `{}`, "object"},
		{"POST", "/echo/x%20y", "application/x-www-form-urlencoded", `a=1&b[c]=2&b[d]=3&e=&f=x+y`, `{"a":"1","b":{"c":"2","d":"3"},"e":"","f":"x y"}`, "object"},
		{"POST", "/echo", "text/plain", `hello`, `"hello"`, "string"},
		{"POST", "/echo", "application/xml", `<a/>`, `"<a/>"`, "string"},
		{"POST", "/echo", "application/octet-stream", `bin`, `{"buf":"62696e"}`, "buffer"},
		{"POST", "/echo", "application/foo", `utf`, `"utf"`, "string"},
		{"POST", "/echo", "application/foo", "\xff\xfe", "\"\ufffd\ufffd\"", "string"},
		{"POST", "/echo", "image/png", `png`, `{"buf":"706e67"}`, "buffer"},
		{"POST", "/echo", "", `nothing`, `"nothing"`, "string"},
		{"POST", "/echo", "", ``, `""`, "string"},
		{"POST", "/raw", "application/json", `{"x":1}`, `{"buf":"7b2278223a317d"}`, "buffer"},
		{"PUT", "/put", "application/json", `[1,2]`, `[1,2]`, "object"},
		{"DELETE", "/del?x=1", "", ``, `""`, "string"},
	} {
		r := h.do(c.method, c.path, c.ctype, c.body)
		v, err := msg.UnmarshalString(r.body)
		if r.status != 200 || err != nil {
			t.Errorf("%s %s %s: %d %s", c.method, c.path, c.ctype, r.status, r.body)
			continue
		}
		o := v.(*msg.Object)
		if got := string(msg.Marshal(o.Value("body"))); got != c.wantBody || o.Value("bodyType") != c.wantType {
			t.Errorf("%s %s %q: body %s (%v), want %s (%s)", c.method, c.path, c.ctype, got, o.Value("bodyType"), c.wantBody, c.wantType)
		}
		// The payload of these methods is the body.
		if got := string(msg.Marshal(o.Value("payload"))); c.wantType != "buffer" && got != c.wantBody {
			t.Errorf("%s %s: payload %s", c.method, c.path, got)
		}
	}
}

func TestHTTPInBadJSON(t *testing.T) {
	h := echoHarness(t, nil)
	// Node-RED 5: 400 with body-parser's error (its page adds a stack).
	for body, want := range map[string]string{
		`"str"`: `SyntaxError: Unexpected token &#39;&#34;&#39;, &#34;&#34;str&#34;&#34; is not valid JSON`,
		`{bad`:  `SyntaxError: Expected property name or &#39;}&#39; in JSON at position 1 (line 1 column 2)`,
	} {
		r := h.do("POST", "/echo", "application/json", body)
		if r.status != 400 || !strings.Contains(r.body, "<pre>"+want) {
			t.Errorf("%s: %d %s", body, r.status, r.body)
		}
	}
}

func TestHTTPInUpload(t *testing.T) {
	h := echoHarness(t, nil)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("field", "v1")
	fw, _ := mw.CreateFormFile("file", "f.txt")
	_, _ = fw.Write([]byte("filedata\n"))
	_ = mw.Close()
	r := h.do("POST", "/up", mw.FormDataContentType(), buf.String())
	v, err := msg.UnmarshalString(r.body)
	if err != nil {
		t.Fatalf("%d %s", r.status, r.body)
	}
	o := v.(*msg.Object)
	// Node-RED 5 (multer): curl's text file part has type text/plain; Go's
	// multipart writer says application/octet-stream.
	want := `{"field":"v1"} [{"fieldname":"file","originalname":"f.txt","encoding":"7bit","mimetype":"application/octet-stream","buffer":"filedata\n","size":9}]`
	if got := string(msg.Marshal(o.Value("body"))) + " " + string(msg.Marshal(o.Value("files"))); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	// Uploads on, not multipart: multer leaves the body {}.
	r = h.do("POST", "/up", "text/plain", "x")
	if !strings.Contains(r.body, `"body":{},"bodyType":"object"`) {
		t.Errorf("text to an upload route: %s", r.body)
	}
}

func TestHTTPInMethodsAndHead(t *testing.T) {
	h := echoHarness(t, nil)
	if r := h.do("PATCH", "/del", "", ""); r.status != 404 {
		t.Errorf("PATCH on a delete route: %d", r.status)
	}
	r := h.do("HEAD", "/echo", "", "")
	if r.status != 200 || r.body != "" || r.header.Get("Content-Length") == "" {
		t.Errorf("HEAD: %d %q %v", r.status, r.body, r.header)
	}
	r = h.do("OPTIONS", "/echo", "", "")
	// Node-RED 5 says "POST,GET,HEAD": Express lists routes in mount order.
	if r.status != 200 || r.header.Get("Allow") != r.body || !strings.Contains(r.body, "GET,HEAD") || !strings.Contains(r.body, "POST") {
		t.Errorf("OPTIONS: %d %q %v", r.status, r.body, r.header)
	}
}

func TestHTTPInNodeRoot(t *testing.T) {
	h := echoHarness(t, mapSettings{"httpNodeRoot": "/api/"})
	r := h.do("GET", "/api/echo/7?q=1", "", "")
	got, _ := splitHeaders(t, r.body)
	for _, want := range []string{`"url":"/echo/7?q=1"`, `"originalUrl":"/api/echo/7?q=1"`, `"path":"/echo/7"`, `"baseUrl":"/api"`} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s in %s", want, got)
		}
	}
}

func TestHTTPInRootDisabled(t *testing.T) {
	h := newHTTPHarness(t, `[{"id":"in","type":"http in","url":"/x","method":"get","wires":[]}]`, mapSettings{"httpNodeRoot": false})
	h.waitLog("in", "httpNodeRoot set to false")
	if r := h.do("GET", "/x", "", ""); r.status != 404 {
		t.Errorf("route served with httpNodeRoot false: %d", r.status)
	}
}

// A second http in node on the same method and path waits behind the
// first, as in Express; redeploying without the first hands it the path.
func TestHTTPInSharedPathAndRedeploy(t *testing.T) {
	setTestFn(t, "a", func(c node.Ctx, m *msg.Msg) error { m.Set("payload", "a"); c.Send(m); return nil })
	setTestFn(t, "b", func(c node.Ctx, m *msg.Msg) error { m.Set("payload", "b"); c.Send(m); return nil })
	flow := func(both bool) string {
		s := `[{"id":"in2","type":"http in","url":"/same","method":"get","wires":[["fb"]]},
{"id":"fb","type":"httptest-fn","fn":"b","wires":[["out"]]},
{"id":"fa","type":"httptest-fn","fn":"a","wires":[["out"]]},
{"id":"out","type":"http response","wires":[]}`
		if both {
			s = `[{"id":"in1","type":"http in","url":"/same","method":"get","wires":[["fa"]]},` + s[1:]
		}
		return s + "]"
	}
	h := newHTTPHarness(t, flow(true), nil)
	if r := h.do("GET", "/same", "", ""); r.body != "a" {
		t.Fatalf("first route should answer: %q", r.body)
	}
	if err := h.E.Deploy([]byte(flow(false))); err != nil {
		t.Fatal(err)
	}
	if r := h.do("GET", "/same", "", ""); r.body != "b" {
		t.Fatalf("after redeploy: %q", r.body)
	}
}

// A request whose answer is lost when the flows stop gets 503 instead of
// hanging.
func TestHTTPInStopAnswers503(t *testing.T) {
	got := make(chan struct{}, 1)
	setTestFn(t, "hold", func(c node.Ctx, m *msg.Msg) error { got <- struct{}{}; return nil })
	h := newHTTPHarness(t, `[{"id":"in","type":"http in","url":"/hold","method":"get","wires":[["f"]]},
{"id":"f","type":"httptest-fn","fn":"hold","wires":[[]]}]`, nil)
	done := make(chan response, 1)
	go func() { done <- h.do("GET", "/hold", "", "") }()
	<-got
	if err := h.E.Deploy([]byte(`[]`)); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.status != 503 {
			t.Errorf("status %d", r.status)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("request still waiting after the flows stopped")
	}
}

// An http in node and a websocket listener on one path: browsers get the
// page, websocket clients the socket.
func TestHTTPInBesideWebsocket(t *testing.T) {
	setTestFn(t, "page", func(c node.Ctx, m *msg.Msg) error { m.Set("payload", "page"); c.Send(m); return nil })
	h := newHTTPHarness(t, `[{"id":"l","type":"websocket-listener","path":"/live","wholemsg":"false"},
{"id":"wsin","type":"websocket in","server":"l","wires":[["sink"]]},
{"id":"sink","type":"wstest-sink"},
{"id":"in","type":"http in","url":"/live","method":"get","wires":[["f"]]},
{"id":"f","type":"httptest-fn","fn":"page","wires":[["out"]]},
{"id":"out","type":"http response","wires":[]}]`, nil)
	if r := h.do("GET", "/live", "", ""); r.body != "page" {
		t.Fatalf("page: %d %q", r.status, r.body)
	}
	c, _, err := websocket.DefaultDialer.Dial(h.url("/live"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.WriteMessage(websocket.TextMessage, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if p := h.next("sink").Value("payload"); p != "hi" {
		t.Fatalf("websocket frame: %v", p)
	}
}

// Under backpressure requests wait for room instead of queueing without
// bound; each is answered once the flow catches up.
func TestHTTPInManyConcurrent(t *testing.T) {
	setTestFn(t, "slow", func(c node.Ctx, m *msg.Msg) error {
		time.Sleep(time.Millisecond)
		m.Set("payload", m.Value("req").(*msg.Object).Value("query").(*msg.Object).Value("n"))
		c.Send(m)
		return nil
	})
	h := newHTTPHarness(t, `[{"id":"in","type":"http in","url":"/n","method":"get","wires":[["f"]]},
{"id":"f","type":"httptest-fn","fn":"slow","wires":[["out"]]},
{"id":"out","type":"http response","wires":[]}]`, mapSettings{"maxInflight": float64(4)})
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		go func(i int) {
			resp, err := http.Get(fmt.Sprintf("%s/n?n=%d", h.srv.URL, i))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			var b bytes.Buffer
			_, _ = b.ReadFrom(resp.Body)
			if b.String() != fmt.Sprint(i) {
				errs <- fmt.Errorf("request %d answered %q", i, b.String())
				return
			}
			errs <- nil
		}(i)
	}
	for i := 0; i < 50; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
