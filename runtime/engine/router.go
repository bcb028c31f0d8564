package engine

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/dlclark/regexp2/v2"
)

// RouteHandler is a handler mounted as an Express route (http in): its path
// is a pattern ("/users/:id", "/files/*"), matched without regard to case or
// a trailing slash, and it gets the pattern's parameters as name, value
// pairs in pattern order. Several such routes may share a method and path;
// the first one mounted answers, as in Express. A route handler never gets
// websocket upgrade requests while another route on the path can take them.
//
// The interface uses only standard types, so node packages implement it
// without importing the engine.
type RouteHandler interface {
	http.Handler
	ServeRoute(w http.ResponseWriter, r *http.Request, params []string)
}

// Router is the dynamic route table of http in and websocket nodes: routes
// come and go with deploys, which http.ServeMux cannot do.
//
// Plain handlers (websocket listeners) match their path exactly and a second
// one on the same method and path is refused. RouteHandlers follow Express
// (see RouteHandler).
type Router struct {
	mu     sync.RWMutex
	routes []*route // in mount order, which decides between equal matches
}

type route struct {
	method string // upper case; "*" for every method
	path   string
	h      http.Handler
	rh     RouteHandler // set for Express routes
	pat    *pattern     // set for Express routes
}

// NewRouter returns an empty router.
func NewRouter() *Router { return &Router{} }

// Handle adds a route; method "" or "*" matches every method. A second
// plain route for the same method and path is an error naming both; a
// pattern that does not compile is an error naming the pattern.
func (r *Router) Handle(method, path string, h http.Handler) (func(), error) {
	method = strings.ToUpper(method)
	if method == "" {
		method = "*"
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	rt := &route{method: method, path: path, h: h}
	if rh, ok := h.(RouteHandler); ok {
		p, err := compilePattern(path)
		if err != nil {
			return nil, fmt.Errorf("route %s %s: %w", method, path, err)
		}
		rt.rh, rt.pat = rh, p
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if rt.rh == nil {
		for _, o := range r.routes {
			if o.rh == nil && o.method == method && o.path == path {
				return nil, fmt.Errorf("route %s %s is already used by another node", method, path)
			}
		}
	}
	// Copy on write: ServeHTTP reads the slice without holding the lock
	// while handlers run.
	routes := make([]*route, len(r.routes), len(r.routes)+1)
	copy(routes, r.routes)
	r.routes = append(routes, rt)
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		out := make([]*route, 0, len(r.routes))
		for _, o := range r.routes {
			if o != rt {
				out = append(out, o)
			}
		}
		r.routes = out
	}, nil
}

func (rt *route) allows(method string) bool {
	// Express answers HEAD with the GET route when there is no HEAD route.
	return rt.method == "*" || rt.method == method || (method == http.MethodHead && rt.method == http.MethodGet)
}

func isUpgrade(req *http.Request) bool {
	return strings.EqualFold(req.Header.Get("Upgrade"), "websocket")
}

// ServeHTTP dispatches to the first route matching the request's method and
// path. Ordinary requests prefer Express routes, websocket upgrades the
// others, so an http in node and a websocket listener can share a path.
func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	path := req.URL.Path
	if path == "" {
		path = "/"
	}
	r.mu.RLock()
	routes := r.routes
	r.mu.RUnlock()
	upgrade := isUpgrade(req)
	var (
		fallback  *route
		fbParams  []string
		allowed   []string
		escaped   string
		haveEsc   bool
		pathMatch bool
	)
	for pass := 0; pass < 2; pass++ {
		for _, rt := range routes {
			if (pass == 0) != (rt.rh != nil) {
				continue // pass 0: Express routes, pass 1: plain routes
			}
			var params []string
			if rt.rh != nil {
				if !haveEsc {
					escaped, haveEsc = req.URL.EscapedPath(), true
					if escaped == "" {
						escaped = "/"
					}
				}
				var ok bool
				if params, ok = rt.pat.match(escaped); !ok {
					continue
				}
			} else if rt.path != path {
				continue
			}
			pathMatch = true
			if !rt.allows(req.Method) {
				if req.Method == http.MethodOptions && rt.method != "*" {
					allowed = append(allowed, rt.method)
				}
				continue
			}
			if (rt.rh != nil) == upgrade {
				// Not this kind of request's first choice; keep looking.
				if fallback == nil {
					fallback, fbParams = rt, params
				}
				continue
			}
			r.serve(w, req, rt, params)
			return
		}
	}
	if fallback != nil {
		r.serve(w, req, fallback, fbParams)
		return
	}
	if pathMatch && req.Method == http.MethodOptions && len(allowed) > 0 {
		optionsResponse(w, allowed)
		return
	}
	http.NotFound(w, req)
}

func (r *Router) serve(w http.ResponseWriter, req *http.Request, rt *route, params []string) {
	if rt.rh == nil {
		rt.h.ServeHTTP(w, req)
		return
	}
	for i := 1; i < len(params); i += 2 {
		v, err := decodeParam(params[i])
		if err != nil {
			// Express answers a parameter that is not valid percent-encoding
			// with 400 before any route runs.
			http.Error(w, fmt.Sprintf("Failed to decode param '%s'", params[i]), http.StatusBadRequest)
			return
		}
		params[i] = v
	}
	rt.rh.ServeRoute(w, req, params)
}

// optionsResponse is Express's automatic answer to OPTIONS on a path that
// has routes for other methods: the methods, in the Allow header and body.
func optionsResponse(w http.ResponseWriter, methods []string) {
	seen := map[string]bool{}
	var list []string
	for _, m := range methods {
		if !seen[m] {
			seen[m] = true
			list = append(list, m)
			if m == http.MethodGet && !seen[http.MethodHead] {
				seen[http.MethodHead] = true
				list = append(list, http.MethodHead)
			}
		}
	}
	allow := strings.Join(list, ",")
	w.Header().Set("Allow", allow)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(allow))
}

// decodeParam is decodeURIComponent: '+' stays a plus, and a malformed escape
// or one that is not UTF-8 is an error.
func decodeParam(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	v, err := url.PathUnescape(s)
	if err != nil {
		return "", err
	}
	if !utf8.ValidString(v) {
		return "", fmt.Errorf("malformed URI sequence in %q", s)
	}
	return v, nil
}

// pattern is an Express 4 route path compiled as its path-to-regexp (0.1)
// does: ":name" takes one segment, ":name?" is optional, ":name(re)" takes
// what re matches, "*" anything (as parameter "0", "1", ...), "." is
// literal, other regular expression syntax passes through; case is ignored
// and a trailing slash is optional.
type pattern struct {
	static string // set when the path has no syntax: compared, not matched
	re     *regexp2.Regexp
	keys   []string
}

func (p *pattern) match(path string) ([]string, bool) {
	if p.re == nil {
		s := p.static
		if strings.HasSuffix(s, "/") {
			s = s[:len(s)-1]
		}
		if len(path) == len(s)+1 && path[len(s)] == '/' {
			path = path[:len(s)]
		}
		return nil, strings.EqualFold(path, s)
	}
	m, err := p.re.FindStringMatch(path)
	if err != nil || m == nil {
		return nil, false
	}
	groups := m.Groups()
	params := make([]string, 0, 2*len(p.keys))
	for i, k := range p.keys {
		if i+1 >= len(groups) {
			break
		}
		g := groups[i+1]
		if len(g.Captures) == 0 {
			continue // an optional parameter that is absent
		}
		params = append(params, k, g.String())
	}
	return params, true
}

// compilePattern translates an Express path into a regular expression.
func compilePattern(path string) (*pattern, error) {
	if !strings.ContainsAny(path, `:*()\?+[]{}|^$`) {
		return &pattern{static: path}, nil
	}
	var (
		b         strings.Builder
		keys      []string // "" marks an unnamed group, numbered below
		backtrack strings.Builder
	)
	b.WriteByte('^')
	for i := 0; i < len(path); {
		c := path[i]
		switch {
		case c == '\\' && i+1 < len(path):
			b.WriteString(path[i : i+2])
			backtrack.WriteString(path[i : i+2])
			i += 2
		case c == '.' && !paramAt(path, i+1):
			b.WriteString(`\.`)
			backtrack.WriteString(`\.`)
			i++
		case c == '*':
			b.WriteString("(.*)")
			keys = append(keys, "")
			backtrack.Reset()
			i++
		case c == '/' && i+1 < len(path) && path[i+1] == '(':
			// A group straight after a slash does not capture.
			b.WriteString("/(?:")
			backtrack.WriteByte('/')
			i += 2
		case c == '/' && paramAt(path, i+1), c == '.' && paramAt(path, i+1), c == ':' && paramAt(path, i):
			n, err := param(path, i, &b, &keys, &backtrack)
			if err != nil {
				return nil, err
			}
			i = n
		default:
			if c == '(' && (i+1 >= len(path) || path[i+1] != '?' || strings.HasPrefix(path[i:], "(?<") && !strings.HasPrefix(path[i:], "(?<=") && !strings.HasPrefix(path[i:], "(?<!")) {
				keys = append(keys, "")
			}
			b.WriteByte(c)
			backtrack.WriteByte(c)
			i++
		}
	}
	src := b.String()
	if strings.HasSuffix(path, "/") {
		src += "?"
	} else {
		src += "/?"
	}
	src += "$"
	re, err := regexp2.Compile(src, regexp2.ECMAScript|regexp2.IgnoreCase)
	if err != nil {
		return nil, fmt.Errorf("path pattern %q is not a valid Express route: %v", path, err)
	}
	n := 0
	for i, k := range keys {
		if k == "" {
			keys[i] = strconv.Itoa(n)
			n++
		}
	}
	return &pattern{re: re, keys: keys}, nil
}

// paramAt reports whether a ":name" starts at i.
func paramAt(path string, i int) bool {
	return i+1 < len(path) && path[i] == ':' && isWord(path[i+1])
}

func isWord(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// param translates "[/][.]:name[(re)][*][?]" starting at i and returns the
// index after it.
func param(path string, i int, b *strings.Builder, keys *[]string, backtrack *strings.Builder) (int, error) {
	slash, format := "", ""
	if path[i] == '/' {
		slash = "/"
		i++
	}
	if path[i] == '.' {
		format = `\.`
		i++
	}
	i++ // ':'
	start := i
	for i < len(path) && isWord(path[i]) {
		i++
	}
	name := path[start:i]
	capture := ""
	var inner []string
	if i < len(path) && path[i] == '(' {
		end := strings.IndexByte(path[i:], ')')
		if end < 0 {
			return 0, fmt.Errorf("path pattern %q: unclosed group after :%s", path, name)
		}
		body := path[i : i+end+1]
		i += end + 1
		// A '*' in the group means "anything", as a capturing group.
		var cb strings.Builder
		starDone := false
		for j := 0; j < len(body); j++ {
			switch {
			case body[j] == '\\' && j+1 < len(body):
				cb.WriteString(body[j : j+2])
				j++
			case body[j] == '*' && !starDone:
				cb.WriteString("(.*)")
				starDone = true
				inner = append(inner, "")
			default:
				if body[j] == '(' && j > 0 && (j+1 >= len(body) || body[j+1] != '?') {
					inner = append(inner, "")
				}
				cb.WriteByte(body[j])
			}
		}
		capture = cb.String()
	}
	star := i < len(path) && path[i] == '*'
	if star {
		i++
	}
	optional := i < len(path) && path[i] == '?'
	if optional {
		i++
	}
	if capture == "" {
		if slash == "" && format == "" && backtrack.Len() > 0 {
			capture = "((?:(?!/|" + backtrack.String() + ").)+?)"
		} else {
			capture = "([^/" + format + "]+?)"
		}
	}
	*keys = append(*keys, name)
	*keys = append(*keys, inner...)
	b.WriteString("(?:" + format + slash + capture)
	if star {
		b.WriteString("((?:[/" + format + "].+?)?)")
		*keys = append(*keys, "")
	}
	b.WriteString(")")
	if optional {
		b.WriteString("?")
	}
	backtrack.Reset()
	return i, nil
}
