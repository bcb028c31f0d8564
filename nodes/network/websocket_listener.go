package network

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/gorilla/websocket"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "websocket-listener", Category: "config", Config: true,
		Props: []node.Prop{
			{Name: "path", Kind: node.KindString, Required: true, Label: "Path"},
			{Name: "wholemsg", Kind: node.KindString, Default: "false", Options: []string{"false", "true"}, Label: "Send/Receive"},
		},
		Validate: validatePath,
		Help: "Accepts websocket connections on a path under the runtime's `httpNodeRoot`.\n\n" +
			"`wholemsg` `\"false\"` carries `msg.payload` in each frame; `\"true\"` carries the whole message as JSON. " +
			"Every connection gets a session id, which the `websocket in` node puts in `msg._session`; " +
			"a `websocket out` node answers only that connection while `msg._session` is present, and every connection otherwise.",
		New: func(cfg *node.Config) (node.Node, error) {
			e, err := newEndpoint(cfg)
			if err != nil {
				return nil, err
			}
			return &wsListener{e}, nil
		},
	})
}

// wsListener is a websocket-listener config node. Its path is normally a
// route to listen on; a ws:// URL makes it dial out instead, as in Node-RED.
type wsListener struct{ *endpoint }

// validatePath flags paths the Node-RED editor would flag; Node-RED still
// deploys them, so these are warnings.
func validatePath(cfg *node.Config) []node.Problem {
	path := cfg.Str("path")
	var ps []node.Problem
	if strings.Contains(path, "/debug/ws") {
		ps = append(ps, node.Problem{Severity: "warning", Code: "bad-property", Property: "path",
			Message: fmt.Sprintf("path %q contains /debug/ws, which the Node-RED editor refuses", path)})
	}
	isURL := wsURL.MatchString(path)
	if path != "" && cfg.Type() == "websocket-client" && !isURL {
		ps = append(ps, node.Problem{Severity: "warning", Code: "bad-property", Property: "path",
			Message: fmt.Sprintf("%q is not a ws:// or wss:// URL: like Node-RED, this node will listen on that path instead of connecting", path)})
	}
	if cfg.Type() == "websocket-listener" && isURL {
		ps = append(ps, node.Problem{Severity: "warning", Code: "bad-property", Property: "path",
			Message: fmt.Sprintf("%q is a URL: like Node-RED, this listener will connect to it instead of listening", path)})
	}
	return ps
}

// upgrader accepts any origin and no compression, as Node-RED's ws server
// does; the subprotocol is chosen per request.
var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// listen mounts the path under httpNodeRoot.
func (e *endpoint) listen(c node.Ctx) error {
	route := "/" + strings.TrimPrefix(e.path, "/")
	remove, err := c.Services().HTTP().Handle("GET", route, http.HandlerFunc(e.accept))
	if err != nil {
		return fmt.Errorf("cannot listen for websockets on path %q: %w", e.path, err)
	}
	e.mu.Lock()
	closing := e.closing
	if !closing {
		e.removeRoute = remove
	}
	e.mu.Unlock()
	if closing {
		remove()
	}
	return nil
}

// accept upgrades one request and serves the connection until it ends.
func (e *endpoint) accept(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	if e.closing {
		e.mu.Unlock()
		http.Error(w, "websocket listener is closing", http.StatusServiceUnavailable)
		return
	}
	e.wg.Add(1)
	e.mu.Unlock()
	defer e.wg.Done()

	// ws, without a protocol handler, answers with the client's first
	// subprotocol.
	var hdr http.Header
	if ps := websocket.Subprotocols(r); len(ps) > 0 && ps[0] != "" {
		hdr = http.Header{"Sec-Websocket-Protocol": {ps[0]}}
	}
	conn, err := upgrader.Upgrade(w, r, hdr)
	if err != nil {
		return // the upgrader has answered the request
	}
	conn.SetReadLimit(maxFrame)
	s := &session{id: msg.NewID(), ws: conn}

	e.evMu.Lock()
	e.mu.Lock()
	if e.closing {
		e.mu.Unlock()
		e.evMu.Unlock()
		_ = conn.Close()
		return
	}
	e.sessions[s.id] = s
	n := len(e.sessions)
	e.mu.Unlock()
	e.emit(evOpened, n, s.id)
	e.evMu.Unlock()

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-e.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	err = e.serve(ctx, s)
	cancel()
	_ = conn.Close()

	e.evMu.Lock()
	defer e.evMu.Unlock()
	e.mu.Lock()
	delete(e.sessions, s.id)
	n = len(e.sessions)
	e.mu.Unlock()
	if !isPeerClose(err) {
		e.emit(evError, n, s.id)
	}
	e.emit(evClosed, n, s.id)
}
