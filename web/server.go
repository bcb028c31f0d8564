// Package web is Sluice's HTTP side: health and metrics, the routes of
// http in and websocket nodes, the Node-RED compatible admin API with its
// auth, the editor websocket (COMMS.md) and the embedded editor.
package web

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluicehq/sluice/runtime/creds"
	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/settings"
)

// Options configure the server.
type Options struct {
	Addr       string
	AdminRoot  string // httpAdminRoot; "" or "false" disables the admin API
	NodeRoot   string // httpNodeRoot
	Headless   bool
	TLS        *tls.Config
	StaticDir  string
	Logger     *slog.Logger
	NodeRoutes http.Handler
	CORS       *CORS
	// Deploy runs and stores a deploy that passed every check (POST /flows,
	// the editor websocket); a *flow.LoadError lists the problems of a
	// refused set. It must leave everything as it was when it fails.
	Deploy func(d Deployment) error
	// CurrentFlows is the stored flow file (GET /flows, revisions).
	CurrentFlows func() []byte
	// Credentials are the stored node credentials; nil when the server
	// keeps none (deploys then carry no Creds).
	Credentials func() creds.Creds
	// Auth is adminAuth; nil: the admin API and editor are open to whoever
	// reaches the port.
	Auth *settings.Auth
	// NodeAuth and StaticAuth protect the routes of http in nodes and the
	// static files with basic auth (httpNodeAuth, httpStaticAuth).
	NodeAuth, StaticAuth *BasicAuth
	// ReadOnly refuses deploys (--flows-readonly); the flows still run.
	ReadOnly bool
	// MaxRequest bounds a deploy body and an editor websocket message
	// (apiMaxLength); 0: 64 MiB for POST /flows, 16 MiB per message.
	MaxRequest int64
	// AllowedOrigins are browser origins ("https://ops.example.com") that
	// may open the editor websocket besides the server's own host.
	AllowedOrigins []string
	ReadyCallback  func(addr net.Addr)
}

// CORS is settings httpNodeCors.
type CORS struct {
	Origin  string
	Methods string
}

// Server serves one listener.
type Server struct {
	opts Options
	eng  *engine.Engine
	srv  *http.Server
	ln   net.Listener
	reg  *prometheus.Registry
	hub  *hub  // editor websockets (admin API)
	auth *auth // nil without adminAuth
	// deployMu serialises deploys so the revision check and the deploy
	// that follows it see the same flows.
	deployMu sync.Mutex
}

// New builds the server's handler tree.
func New(eng *engine.Engine, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{opts: opts, eng: eng, reg: prometheus.NewRegistry(), auth: newAuth(opts.Auth)}
	if !opts.Headless && opts.AdminRoot != "false" {
		s.hub = newHub(eng, opts.Logger)
	}
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), newCollector(eng))
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, TLSConfig: opts.TLS}
	return s
}

func cleanRoot(r string) string {
	r = "/" + strings.Trim(r, "/")
	if r == "/" {
		return ""
	}
	return r
}

// Handler is the whole HTTP tree.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	admin := s.opts.AdminRoot
	if !s.opts.Headless && admin != "false" {
		s.mountAdmin(mux, cleanRoot(admin))
	}
	nodeRoot := cleanRoot(s.opts.NodeRoot)
	var nodes http.Handler = http.NotFoundHandler()
	if s.opts.NodeRoutes != nil {
		nodes = s.opts.NodeRoutes
		if nodeRoot != "" {
			nodes = http.StripPrefix(nodeRoot, nodes)
		}
		nodes = s.opts.NodeAuth.wrap(nodes)
		if s.opts.CORS != nil {
			nodes = cors(s.opts.CORS, nodes)
		}
	}
	var static http.Handler
	if s.opts.StaticDir != "" {
		static = s.opts.StaticAuth.wrap(http.FileServer(http.Dir(s.opts.StaticDir)))
	}
	// Node routes come last: anything the runtime does not serve itself.
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if nodeRoot == "" || strings.HasPrefix(r.URL.Path, nodeRoot+"/") || r.URL.Path == nodeRoot {
			rec := &notFoundRecorder{ResponseWriter: w}
			if static != nil {
				nodes.ServeHTTP(rec, r)
				if rec.notFound {
					static.ServeHTTP(w, r)
				}
				return
			}
			nodes.ServeHTTP(w, r)
			return
		}
		if static != nil {
			static.ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
	}))
	return mux
}

// notFoundRecorder lets a 404 from the node routes fall through to static
// files without writing it.
type notFoundRecorder struct {
	http.ResponseWriter
	notFound bool
	wrote    bool
}

func (n *notFoundRecorder) WriteHeader(code int) {
	if code == http.StatusNotFound && !n.wrote {
		n.notFound = true
		return
	}
	n.wrote = true
	n.ResponseWriter.WriteHeader(code)
}

func (n *notFoundRecorder) Write(b []byte) (int, error) {
	if n.notFound {
		return len(b), nil
	}
	n.wrote = true
	return n.ResponseWriter.Write(b)
}

func (n *notFoundRecorder) Unwrap() http.ResponseWriter { return n.ResponseWriter }

func cors(c *CORS, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := c.Origin
		if origin == "" {
			origin = "*"
		}
		w.Header().Set("Access-Control-Allow-Origin", origin)
		if c.Methods != "" {
			w.Header().Set("Access-Control-Allow-Methods", c.Methods)
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	h := s.eng.Health()
	w.Header().Set("Content-Type", "application/json")
	if h.State != "started" {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(h)
}

// Listen binds the address (so callers learn the port before serving).
func (s *Server) Listen() (net.Addr, error) {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return nil, err
	}
	if s.opts.TLS != nil {
		ln = tls.NewListener(ln, s.opts.TLS)
	}
	s.ln = ln
	return ln.Addr(), nil
}

// Serve serves until Shutdown.
func (s *Server) Serve() error {
	err := s.srv.Serve(s.ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting and waits for requests in progress.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.hub != nil {
		s.hub.close() // hijacked websockets are not closed by http.Server
	}
	return s.srv.Shutdown(ctx)
}
