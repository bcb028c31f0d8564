package engine

import (
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// Expected parameters were produced by path-to-regexp 0.1.13, the version
// Express 4 uses in Node-RED 5 (nil: no match).
func TestPatternMatchesExpress(t *testing.T) {
	cases := []struct {
		pat, path string
		params    []string
	}{
		{"/users/:id", "/users/42", []string{"id", "42"}},
		{"/users/:id", "/users/42/", []string{"id", "42"}},
		{"/users/:id", "/USERS/42", []string{"id", "42"}},
		{"/users/:id", "/users", nil},
		{"/users/:id", "/users/42/x", nil},
		{"/users/:id", "/users/a%20b", []string{"id", "a%20b"}},
		{"/files/*", "/files/a/b.txt", []string{"0", "a/b.txt"}},
		{"/files/*", "/files/", []string{"0", ""}},
		{"/files/*", "/files", nil},
		{"/a/:x?", "/a", []string{}},
		{"/a/:x?", "/a/", []string{}},
		{"/a/:x?", "/a/1", []string{"x", "1"}},
		{"/:from-:to", "/1-2", []string{"from", "1", "to", "2"}},
		{"/:from-:to", "/a-b-c", []string{"from", "a-b", "to", "c"}},
		{"/file/:name.:ext", "/file/x.txt", []string{"name", "x", "ext", "txt"}},
		{"/file/:name.:ext", "/file/x.tar.gz", []string{"name", "x.tar", "ext", "gz"}},
		{`/n/:id(\d+)`, "/n/12", []string{"id", "12"}},
		{`/n/:id(\d+)`, "/n/ab", nil},
		{"/static", "/static", []string{}},
		{"/static", "/Static/", []string{}},
		{"/static", "/static/x", nil},
		{"/s/", "/s", []string{}},
		{"/s/", "/s/", []string{}},
		{"/x/:a/*", "/x/1/2/3", []string{"a", "1", "0", "2/3"}},
		{"/p/:path*", "/p/a/b/c", []string{"path", "a", "0", "/b/c"}},
		{"/p/:path*", "/p/a", []string{"path", "a", "0", ""}},
		{"/ab?cd", "/acd", []string{}},
		{"/ab?cd", "/abcd", []string{}},
		{"/q/(foo|bar)", "/q/foo", []string{}},
		{"/q/(foo|bar)", "/q/baz", nil},
		{`/v(\d+)/x`, "/v12/x", []string{"0", "12"}},
	}
	for _, c := range cases {
		p, err := compilePattern(c.pat)
		if err != nil {
			t.Fatalf("%s: %v", c.pat, err)
		}
		got, ok := p.match(c.path)
		if c.params == nil {
			if ok {
				t.Errorf("%s matched %s with %q; Express does not", c.pat, c.path, got)
			}
			continue
		}
		if !ok {
			t.Errorf("%s did not match %s", c.pat, c.path)
			continue
		}
		if got == nil {
			got = []string{}
		}
		if !reflect.DeepEqual(got, c.params) {
			t.Errorf("%s on %s: params %q, want %q", c.pat, c.path, got, c.params)
		}
	}
}

func TestPatternErrors(t *testing.T) {
	r := NewRouter()
	if _, err := r.Handle("GET", "/a/:id(\\d+", routeFunc(nil)); err == nil || !strings.Contains(err.Error(), "/a/:id") {
		t.Fatalf("unclosed group: %v", err)
	}
}

// routeFunc is an Express-style route handler for tests.
type routeFunc func(w http.ResponseWriter, r *http.Request, params []string)

func (f routeFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) { f(w, r, nil) }
func (f routeFunc) ServeRoute(w http.ResponseWriter, r *http.Request, params []string) {
	f(w, r, params)
}

func answer(text string) routeFunc {
	return func(w http.ResponseWriter, r *http.Request, params []string) {
		_, _ = io.WriteString(w, text+" "+r.Method+" "+strings.Join(params, ","))
	}
}

func plain(text string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, text) })
}

func do(t *testing.T, h http.Handler, method, path string, hdr ...string) (int, string, http.Header) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String(), rec.Header()
}

func TestRouterDispatch(t *testing.T) {
	r := NewRouter()
	mustHandle := func(method, path string, h http.Handler) func() {
		t.Helper()
		rm, err := r.Handle(method, path, h)
		if err != nil {
			t.Fatal(err)
		}
		return rm
	}
	mustHandle("GET", "/items", answer("list"))
	mustHandle("POST", "/items", answer("add"))
	rmFirst := mustHandle("GET", "/items/:id", answer("first"))
	mustHandle("GET", "/items/:id", answer("second"))
	mustHandle("DELETE", "/items/:id", answer("del"))
	mustHandle("GET", "/ws", plain("websocket"))
	mustHandle("GET", "/ws", answer("page"))

	for _, c := range []struct {
		method, path string
		hdr          []string
		code         int
		body         string
	}{
		{"GET", "/items", nil, 200, "list GET "},
		{"POST", "/items/", nil, 200, "add POST "},
		{"GET", "/items/7", nil, 200, "first GET id,7"},
		{"HEAD", "/items/7", nil, 200, "first HEAD id,7"},
		{"DELETE", "/items/a%2Fb", nil, 200, "del DELETE id,a/b"},
		{"PUT", "/items/7", nil, 404, "404 page not found\n"},
		{"GET", "/nothing", nil, 404, "404 page not found\n"},
		{"GET", "/items/%E0%A4", nil, 400, "Failed to decode param '%E0%A4'\n"},
		// An http in node and a websocket listener on one path: upgrades
		// go to the listener, whichever was mounted first.
		{"GET", "/ws", nil, 200, "page GET "},
		{"GET", "/ws", []string{"Upgrade", "websocket", "Connection", "Upgrade"}, 200, "websocket"},
		{"OPTIONS", "/items/3", nil, 200, "GET,HEAD,DELETE"},
	} {
		code, body, _ := do(t, r, c.method, c.path, c.hdr...)
		if code != c.code || body != c.body {
			t.Errorf("%s %s: %d %q, want %d %q", c.method, c.path, code, body, c.code, c.body)
		}
	}
	// The second route on a path takes over when the first goes.
	rmFirst()
	if _, body, _ := do(t, r, "GET", "/items/8"); body != "second GET id,8" {
		t.Errorf("after removing the first route: %q", body)
	}
	// Plain routes keep refusing a second handler for the same path.
	if _, err := r.Handle("GET", "/ws", plain("again")); err == nil || !strings.Contains(err.Error(), "GET /ws") {
		t.Errorf("duplicate plain route: %v", err)
	}
}

func BenchmarkRouterStatic(b *testing.B) {
	r := NewRouter()
	for _, p := range []string{"/a", "/b", "/c", "/items/:id", "/bench"} {
		if _, err := r.Handle("GET", p, answer("x")); err != nil {
			b.Fatal(err)
		}
	}
	req := httptest.NewRequest("GET", "/bench", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		w.Body.Reset()
		r.ServeHTTP(w, req)
	}
}
