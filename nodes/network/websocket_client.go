package network

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "websocket-client", Category: "config", Config: true,
		Props: []node.Prop{
			{Name: "path", Kind: node.KindString, Required: true, Label: "URL"},
			{Name: "tls", Kind: node.KindString, ConfigType: "tls-config", Label: "TLS configuration"},
			{Name: "wholemsg", Kind: node.KindString, Default: "false", Options: []string{"false", "true"}, Label: "Send/Receive"},
			{Name: "hb", Kind: node.KindNumber, Default: "", Label: "Send heartbeat (seconds)"},
			{Name: "subprotocol", Kind: node.KindString, Default: "", Label: "Subprotocol"},
			{Name: "headers", Kind: node.KindArray, Default: []any{}, Label: "Headers"},
		},
		Validate: validatePath,
		Help: "Connects to a websocket server at a `ws://` or `wss://` URL once a `websocket in` or `websocket out` node uses it, " +
			"and reconnects 3 seconds after the connection drops or fails.\n\n" +
			"`wholemsg` `\"true\"` carries the whole message as JSON instead of `msg.payload`. " +
			"`hb` sends a ping every so many seconds and drops the connection when no answer came by the next one. " +
			"`subprotocol` is a comma-separated list offered to the server. " +
			"`headers` are sent with the upgrade request: each `{keyType, keyValue, valueType, valueValue}` names a header " +
			"(`keyType` `\"other\"` takes the name from `keyValue`) and its value (`valueType` `\"other\"` takes `valueValue`, " +
			"`\"env\"` reads the environment variable it names, anything else is the value itself). " +
			"`tls` names a `tls-config` node for `wss://` URLs.",
		New: func(cfg *node.Config) (node.Node, error) {
			e, err := newEndpoint(cfg)
			if err != nil {
				return nil, err
			}
			if !e.server {
				if _, err := url.Parse(e.path); err != nil {
					return nil, node.BadProp("path", e.path, "is not a valid URL: %v", err)
				}
			}
			return &wsClient{e}, nil
		},
	})
}

// wsClient is a websocket-client config node. A path that is not a ws:// or
// wss:// URL makes it listen instead, as in Node-RED.
type wsClient struct{ *endpoint }

var wssURL = regexp.MustCompile(`(?i)^wss://`)

// prepareClient resolves the TLS configuration. A tls-config reference that
// cannot be used is an error for wss:// (Node-RED would silently connect
// with default TLS settings); for ws:// TLS plays no part, so a stale
// reference is only worth a warning.
func (e *endpoint) prepareClient(c node.Ctx) error {
	if e.tlsID == "" {
		return nil
	}
	conf, tlsErr := node.TLSConfigOf(c, e.tlsID)
	if tlsErr == nil {
		e.tlsConf = conf
	}
	if tlsErr != nil && !wssURL.MatchString(e.path) {
		c.Warn(tlsErr.Error() + " (ignored: the URL is not wss://)")
		return nil
	}
	return tlsErr
}

// startDialling starts the connect loop once.
func (e *endpoint) startDialling() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.dialing || e.closing || e.failed != nil || e.c == nil {
		return
	}
	e.dialing = true
	e.wg.Add(1)
	go e.dialLoop(e.c)
}

// dialLoop connects, serves the connection, and after it ends or fails waits
// reconnectDelay and connects again, until the node closes. Every attempt
// is a new session with a new id.
func (e *endpoint) dialLoop(c node.Ctx) {
	defer e.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-e.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	failing := false
	for ctx.Err() == nil {
		conn, err := e.dial(ctx, c)
		if ctx.Err() != nil {
			if conn != nil {
				_ = conn.Close()
			}
			return
		}
		if err != nil {
			if !failing {
				c.Log().Warn("websocket connect failed; retrying every "+reconnectDelay.String(), "url", e.path, "err", err)
			}
			failing = true
			e.evMu.Lock()
			e.emit(evError, -1, "")
			e.emit(evClosed, -1, "")
			e.evMu.Unlock()
		} else {
			if failing {
				c.Log().Info("websocket connected", "url", e.path)
			}
			failing = false
			e.run(ctx, conn)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(reconnectDelay):
		}
	}
}

func (e *endpoint) dial(ctx context.Context, c node.Ctx) (*websocket.Conn, error) {
	d := websocket.Dialer{
		Proxy:             http.ProxyFromEnvironment,
		HandshakeTimeout:  handshakeTimeout,
		Subprotocols:      e.subprotocols,
		EnableCompression: true, // ws clients offer permessage-deflate
		TLSClientConfig:   e.tlsConf,
	}
	conn, resp, err := d.DialContext(ctx, e.path, e.upgradeHeaders(c))
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil && resp != nil {
		err = fmt.Errorf("%w (HTTP %s)", err, resp.Status)
	}
	return conn, err
}

// upgradeHeaders evaluates the headers list at each connect, as Node-RED
// does, so env values can change between attempts.
func (e *endpoint) upgradeHeaders(c node.Ctx) http.Header {
	if len(e.headers) == 0 {
		return nil
	}
	h := http.Header{}
	for _, hd := range e.headers {
		name := hd.keyType
		if name == "other" {
			name = hd.keyValue
		}
		var value string
		switch hd.valueType {
		case "other":
			value = hd.valueValue
		case "env":
			value = envProperty(c, hd.valueValue)
		default:
			value = hd.valueType
		}
		if name != "" && value != "" {
			h.Set(name, value)
		}
	}
	return h
}

var (
	envRef      = regexp.MustCompile(`\$\{([^}]+)\}`)
	envRefLoose = regexp.MustCompile(`\$\{\S+\}`)
)

// envProperty is an env typed value: a variable name, "${NAME}", or text
// with ${NAME} references inside.
func envProperty(c node.Ctx, v string) string {
	get := func(name string) string {
		if val, ok := c.Env(name); ok && val != nil && !msg.IsUndefined(val) {
			return msg.ToString(val)
		}
		return ""
	}
	if m := envRef.FindStringSubmatchIndex(v); m != nil && m[0] == 0 && m[1] == len(v) {
		return get(v[2 : len(v)-1])
	}
	if !envRefLoose.MatchString(v) {
		return get(v)
	}
	return envRef.ReplaceAllStringFunc(v, func(ref string) string { return get(ref[2 : len(ref)-1]) })
}

// run serves one open client connection until it ends.
func (e *endpoint) run(ctx context.Context, conn *websocket.Conn) {
	conn.SetReadLimit(maxFrame)
	s := &session{id: msg.NewID(), ws: conn}
	// Any ping or pong from the server proves it alive.
	conn.SetPongHandler(func(string) error { s.pending.Store(false); return nil })
	conn.SetPingHandler(func(data string) error {
		s.pending.Store(false)
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeTimeout))
		if err == websocket.ErrCloseSent {
			return nil
		}
		return err
	})

	e.evMu.Lock()
	e.mu.Lock()
	if e.closing {
		e.mu.Unlock()
		e.evMu.Unlock()
		_ = conn.Close()
		return
	}
	e.current = s
	e.mu.Unlock()
	e.emit(evOpened, -1, s.id)
	e.evMu.Unlock()

	hbDone := make(chan struct{})
	if e.heartbeat > 0 {
		go e.beat(s, hbDone)
	}
	err := e.serve(ctx, s)
	close(hbDone)
	_ = conn.Close()

	e.evMu.Lock()
	defer e.evMu.Unlock()
	e.mu.Lock()
	e.current = nil
	e.mu.Unlock()
	if !isPeerClose(err) && !s.timedOut.Load() {
		e.emit(evError, -1, s.id)
	}
	e.emit(evClosed, -1, s.id)
}

// beat pings every heartbeat interval; a ping still unanswered when the next
// is due ends the connection with a "timeout" error.
func (e *endpoint) beat(s *session, done <-chan struct{}) {
	t := time.NewTicker(e.heartbeat)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		if s.pending.Load() {
			s.timedOut.Store(true)
			e.evMu.Lock()
			e.emit(evError, -1, s.id)
			e.evMu.Unlock()
			e.mu.Lock()
			c := e.c
			e.mu.Unlock()
			c.Log().Warn("websocket heartbeat timeout; reconnecting", "url", e.path)
			_ = s.ws.Close()
			return
		}
		s.pending.Store(true)
		_ = s.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout))
	}
}
