package network

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "http in", Category: "network", Color: "rgb(231, 231, 174)", Icon: "white-globe.svg",
		Inputs: 0, Outputs: 1,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString},
			{Name: "url", Kind: node.KindString, Label: "URL"},
			{Name: "method", Kind: node.KindString, Default: "get", Options: []string{"get", "post", "put", "delete", "patch"}, Label: "Method"},
			{Name: "upload", Kind: node.KindBool, Default: false, Label: "Accept file uploads"},
			{Name: "skipBodyParsing", Kind: node.KindBool, Default: false, Label: "Do not parse request body"},
			{Name: "swaggerDoc", Kind: node.KindString, ConfigType: "swagger-doc"},
		},
		Validate: validateHTTPIn,
		Help: "Serves an HTTP endpoint under the runtime's `httpNodeRoot` and sends a message for each request; " +
			"an `http response` node must answer it.\n\n" +
			"`url` is an Express route: `/items/:id` puts `id` in `msg.req.params`, `*` matches anything, and case and a trailing slash do not matter. " +
			"`msg.req` holds `params`, `query`, `headers` (lower-case names), `cookies`, `body`, `method`, `url`, `originalUrl`, `baseUrl`, `path`, `hostname`, `ip` and `protocol`; " +
			"`msg.res` is the handle the response goes through. For GET `msg.payload` is the query object, for other methods the body: " +
			"JSON and urlencoded bodies are parsed, text, XML and most `application/*` types are strings, others Buffers. " +
			"`skipBodyParsing` keeps every body a Buffer; `upload` (POST) puts multipart files in `msg.req.files`.",
		New: newHTTPIn,
	})
}

func validateHTTPIn(cfg *node.Config) []node.Problem {
	var ps []node.Problem
	if cfg.Str("url") == "" {
		ps = append(ps, node.Problem{Severity: "warning", Code: "missing-property", Property: "url",
			Message: "missing path: like Node-RED, the node serves nothing"})
	}
	switch m := cfg.StrOr("method", "get"); m {
	case "get", "post", "put", "delete", "patch":
	default:
		ps = append(ps, node.Problem{Severity: "warning", Code: "bad-property", Property: "method",
			Message: fmt.Sprintf("method %q is not one Node-RED serves (get, post, put, delete, patch): the node serves nothing", m)})
	}
	return ps
}

// httpIn is an http in node: an Express-style route whose requests wait
// for an http response node to answer them.
type httpIn struct {
	url    string
	method string
	body   bodyOptions
	base   string // httpNodeRoot without its trailing slash

	c      node.Ctx
	remove func()

	mu      sync.Mutex
	closing bool
	stop    chan struct{}
	wg      sync.WaitGroup
}

func newHTTPIn(cfg *node.Config) (node.Node, error) {
	n := &httpIn{
		url:    cfg.Str("url"),
		method: strings.ToLower(cfg.StrOr("method", "get")),
		body:   bodyOptions{raw: cfg.Bool("skipBodyParsing", false), upload: cfg.Bool("upload", false)},
		stop:   make(chan struct{}),
	}
	if n.url != "" && !strings.HasPrefix(n.url, "/") {
		n.url = "/" + n.url
	}
	return n, nil
}

func (n *httpIn) Start(c node.Ctx) error {
	n.c = c
	root, _ := c.Setting("httpNodeRoot")
	if root == false {
		c.Warn("Cannot create http-in node when httpNodeRoot set to false")
		return nil
	}
	if n.url == "" {
		c.Warn("missing path")
		return nil
	}
	switch n.method {
	case "get", "post", "put", "delete", "patch":
	default:
		return nil // Node-RED mounts no route for other methods
	}
	if s, ok := root.(string); ok {
		n.base = strings.TrimSuffix("/"+strings.Trim(s, "/"), "/")
	}
	limit, _ := c.Setting("apiMaxLength")
	n.body.limit = parseBytes(limit, 5<<20)
	remove, err := c.Services().HTTP().Handle(strings.ToUpper(n.method), n.url, n)
	if err != nil {
		return fmt.Errorf("property \"url\": %w", err)
	}
	n.mu.Lock()
	n.remove = remove
	n.mu.Unlock()
	return nil
}

// Close takes the route down and answers requests still waiting with 503:
// the messages that would have answered them are dropped with the flows.
func (n *httpIn) Close(ctx context.Context, _ bool) error {
	n.mu.Lock()
	if n.closing {
		n.mu.Unlock()
		return nil
	}
	n.closing = true
	close(n.stop)
	remove := n.remove
	n.mu.Unlock()
	if remove != nil {
		remove()
	}
	if !waitGroup(ctx, &n.wg, 0) {
		return fmt.Errorf("requests to %s %s did not end in time", strings.ToUpper(n.method), n.url)
	}
	return nil
}

func (n *httpIn) ServeHTTP(w http.ResponseWriter, r *http.Request) { n.ServeRoute(w, r, nil) }

// ServeRoute turns a request into a message and waits until the flow
// answers it, the client goes away or the node stops.
func (n *httpIn) ServeRoute(w http.ResponseWriter, r *http.Request, params []string) {
	n.mu.Lock()
	if n.closing {
		n.mu.Unlock()
		http.Error(w, "flows are stopping", http.StatusServiceUnavailable)
		return
	}
	n.wg.Add(1)
	n.mu.Unlock()
	defer n.wg.Done()

	// Backpressure: while the flows are full, requests wait here, before
	// their bodies are read.
	if err := n.c.Acquire(r.Context()); err != nil {
		http.Error(w, "flows are stopping", http.StatusServiceUnavailable)
		return
	}
	var body any
	var files []any
	if n.method == "get" {
		body = msg.NewObject(0)
	} else {
		var err error
		body, files, err = parseBody(r, n.body)
		if err != nil {
			n.c.Release()
			he, ok := err.(*httpError)
			if !ok {
				he = &httpError{http.StatusBadRequest, "Error: " + err.Error()}
			}
			he.write(w)
			return
		}
	}
	req := requestObject(r, params, n.base, body, files)
	res := newRes(w, r, req)
	o := msg.NewObject(4)
	o.Set("_msgid", msg.NewID())
	o.Set("req", req)
	o.Set("res", res)
	if n.method == "get" {
		o.Set("payload", req.Value("query"))
	} else {
		o.Set("payload", body)
	}
	n.c.Send(msg.Wrap(o))

	stopped := false
	select {
	case <-res.done:
	case <-r.Context().Done():
	case <-n.stop:
		stopped = true
	}
	res.finish(func(w http.ResponseWriter) {
		if stopped {
			http.Error(w, "flows stopped before answering", http.StatusServiceUnavailable)
		}
	})
}
