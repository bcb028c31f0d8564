package network

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/flow"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// testFns are the bodies of "httptest-fn" nodes, named by their "fn"
// property: a stand-in for function nodes.
var (
	testFnsMu sync.Mutex
	testFns   = map[string]func(c node.Ctx, m *msg.Msg) error{}
)

func setTestFn(t *testing.T, name string, fn func(c node.Ctx, m *msg.Msg) error) {
	testFnsMu.Lock()
	testFns[name] = fn
	testFnsMu.Unlock()
	t.Cleanup(func() {
		testFnsMu.Lock()
		delete(testFns, name)
		testFnsMu.Unlock()
	})
}

type testFn struct{ name string }

func (f testFn) Input(c node.Ctx, m *msg.Msg) error {
	testFnsMu.Lock()
	fn := testFns[f.name]
	testFnsMu.Unlock()
	if fn == nil {
		c.Send(m)
		return nil
	}
	return fn(c, m)
}

func init() {
	node.Register(&node.Spec{Type: "httptest-fn", Inputs: 1, Outputs: 1, New: func(cfg *node.Config) (node.Node, error) {
		return testFn{cfg.Str("fn")}, nil
	}})
}

// mapSettings are runtime settings for tests.
type mapSettings map[string]any

func (s mapSettings) Get(name string) (any, bool) { v, ok := s[name]; return v, ok }

// logLine is one record a node logged.
type logLine struct {
	level slog.Level
	node  string
	text  string
}

// logTap collects what nodes log (warnings, errors) for the tests to see.
type logTap struct {
	attrs []slog.Attr
	lines chan logLine
}

func (l *logTap) Enabled(context.Context, slog.Level) bool { return true }
func (l *logTap) Handle(_ context.Context, r slog.Record) error {
	line := logLine{level: r.Level, text: r.Message}
	for _, a := range l.attrs {
		if a.Key == "node" {
			line.node = a.Value.String()
		}
	}
	select {
	case l.lines <- line:
	default:
	}
	return nil
}
func (l *logTap) WithAttrs(as []slog.Attr) slog.Handler {
	return &logTap{attrs: append(append([]slog.Attr(nil), l.attrs...), as...), lines: l.lines}
}
func (l *logTap) WithGroup(string) slog.Handler { return l }

// httpHarness is the websocket harness with settings and a log tap.
type httpHarness struct {
	*harness
	logs chan logLine
}

func newHTTPHarness(t *testing.T, flow string, settings mapSettings) *httpHarness {
	t.Helper()
	tap := &logTap{lines: make(chan logLine, 1000)}
	opts := engine.Options{UserDir: t.TempDir(), CloseTimeout: 5 * time.Second, Logger: slog.New(tap)}
	if settings != nil {
		opts.Settings = settings
	}
	root, _ := settings["httpNodeRoot"].(string)
	h := startHarness(t, flow, opts, root)
	return &httpHarness{harness: h, logs: tap.lines}
}

// waitLog waits for a log line of a node containing text.
func (h *httpHarness) waitLog(nodeID, text string) logLine {
	h.T.Helper()
	deadline := time.After(5 * time.Second)
	var seen []string
	for {
		select {
		case l := <-h.logs:
			if l.node == nodeID && strings.Contains(l.text, text) {
				return l
			}
			seen = append(seen, l.node+": "+l.text)
		case <-deadline:
			h.T.Fatalf("node %s never logged %q; saw %q", nodeID, text, seen)
		}
	}
}

// response is what a test client got.
type response struct {
	status int
	header http.Header
	body   string
}

func (h *httpHarness) do(method, path, ctype, body string, hdr ...string) response {
	h.T.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.T.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		h.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.T.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

// deployWithCreds deploys a flow with node credentials.
func deployWithCreds(h *httpHarness, flowJSON string, creds map[string]map[string]string) error {
	set, err := flow.Parse([]byte(flowJSON))
	if err != nil {
		return err
	}
	return h.E.DeploySet(set, creds)
}
