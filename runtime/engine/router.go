package engine

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// Router is the dynamic route table of http in and websocket nodes: routes
// come and go with deploys, which http.ServeMux cannot do.
type Router struct {
	mu     sync.RWMutex
	routes map[string]http.Handler // "METHOD path"
}

// NewRouter returns an empty router.
func NewRouter() *Router { return &Router{routes: map[string]http.Handler{}} }

// Handle adds a route; method "" or "*" matches every method. A second
// route for the same method and path is an error naming both.
func (r *Router) Handle(method, path string, h http.Handler) (func(), error) {
	method = strings.ToUpper(method)
	if method == "" {
		method = "*"
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	key := method + " " + path
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.routes[key]; dup {
		return nil, fmt.Errorf("route %s %s is already used by another node", method, path)
	}
	r.routes[key] = h
	return func() {
		r.mu.Lock()
		delete(r.routes, key)
		r.mu.Unlock()
	}, nil
}

// ServeHTTP dispatches to the route for the request's method and path.
func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	path := req.URL.Path
	if path == "" {
		path = "/"
	}
	r.mu.RLock()
	h, ok := r.routes[req.Method+" "+path]
	if !ok {
		h, ok = r.routes["* "+path]
	}
	r.mu.RUnlock()
	if !ok {
		http.NotFound(w, req)
		return
	}
	h.ServeHTTP(w, req)
}
