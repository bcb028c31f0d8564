package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// maxWSMessage is the default bound of one message from an editor: a
// deploy of a large flow set fits with room to spare.
const maxWSMessage = 16 << 20

// authWait is how long a client may take to send its auth message.
const authWait = 30 * time.Second

func (s *Server) maxMessage() int64 {
	if s.opts.MaxRequest > 0 {
		return s.opts.MaxRequest
	}
	return maxWSMessage
}

// checkOrigin admits tools that send no Origin, pages of the server's own
// host and the configured origins; a page from another site must not open
// the editor socket with the user's network position (cross-site websocket
// hijacking).
func (s *Server) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, o := range s.opts.AllowedOrigins {
		if strings.EqualFold(strings.TrimRight(o, "/"), strings.TrimRight(origin, "/")) {
			return true
		}
	}
	return false
}

// closeErr is a reason to close the socket: the client sent what the
// protocol does not allow.
type closeErr struct {
	code   int
	reason string
}

func (e *closeErr) Error() string { return e.reason }

// inbound is one message from an editor.
type inbound struct {
	auth      *string
	subscribe *string
	topic     string
	data      json.RawMessage
}

// readInbound reads and classifies one message. A nil message with a nil
// closeErr means the connection is gone.
func readInbound(conn *websocket.Conn, limit int64) (*inbound, *closeErr) {
	typ, rd, err := conn.NextReader()
	if err != nil {
		return nil, nil
	}
	if typ != websocket.TextMessage {
		return nil, &closeErr{websocket.CloseUnsupportedData, "binary frames are not accepted"}
	}
	data, err := io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		return nil, nil
	}
	if int64(len(data)) > limit {
		return nil, &closeErr{websocket.CloseMessageTooBig, fmt.Sprintf("message larger than %d bytes", limit)}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil || fields == nil {
		what := "null"
		if err != nil {
			what = err.Error()
		}
		return nil, &closeErr{websocket.CloseInvalidFramePayloadData, short("message is not a JSON object: " + what)}
	}
	m := &inbound{data: fields["data"]}
	str := func(name string) (*string, *closeErr) {
		raw, ok := fields[name]
		if !ok {
			return nil, nil
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, &closeErr{websocket.CloseInvalidFramePayloadData, short(name + " must be a string, got " + string(raw))}
		}
		return &v, nil
	}
	var ce *closeErr
	if m.auth, ce = str("auth"); ce != nil {
		return nil, ce
	}
	if m.subscribe, ce = str("subscribe"); ce != nil {
		return nil, ce
	}
	topic, ce := str("topic")
	if ce != nil {
		return nil, ce
	}
	switch {
	case m.auth != nil, m.subscribe != nil:
	case topic == nil:
		return nil, &closeErr{websocket.CloseInvalidFramePayloadData, "message has neither topic, subscribe nor auth"}
	default:
		m.topic = *topic
		switch m.topic {
		case "deploy", "inject", "debug-state":
		default:
			return nil, &closeErr{websocket.CloseInvalidFramePayloadData, short(fmt.Sprintf("unknown topic %q", m.topic))}
		}
	}
	return m, nil
}

// short keeps a close reason within the 123 bytes a close frame allows.
func short(s string) string {
	if len(s) <= 120 {
		return s
	}
	return s[:117] + "..."
}

func sendClose(conn *websocket.Conn, code int, reason string) {
	_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
}

var (
	authOK   = []byte(`{"auth":"ok"}`)
	authFail = []byte(`{"auth":"fail"}`)
)

// serveComms is the editor websocket (COMMS.md).
func (s *Server) serveComms(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 16384, CheckOrigin: s.checkOrigin}
	c := &client{out: make(chan commsMessage, clientQueue)}
	h := s.hub
	// A client is registered before it learns it is connected (the
	// upgrade's answer, or {"auth":"ok"}), so it misses no event after.
	register := func() {
		h.mu.Lock()
		for id, st := range h.status {
			if len(c.out) == clientQueue {
				break
			}
			c.out <- commsMessage{Topic: "status/" + id, Data: st}
		}
		h.clients[c] = struct{}{}
		h.mu.Unlock()
	}
	defer func() {
		h.mu.Lock()
		delete(h.clients, c)
		h.mu.Unlock()
	}()
	if s.auth == nil {
		register()
	}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered (403 for a foreign origin)
	}
	defer conn.Close()
	limit := s.maxMessage()
	var first *inbound
	if s.auth != nil {
		// Nothing goes out before the client has proved who it is.
		_ = conn.SetReadDeadline(time.Now().Add(authWait))
		m, ce := readInbound(conn, limit)
		_ = conn.SetReadDeadline(time.Time{})
		if ce != nil {
			sendClose(conn, ce.code, ce.reason)
			return
		}
		if m == nil {
			return
		}
		switch {
		case m.auth != nil && s.auth.check(*m.auth) != "":
			c.token = *m.auth
			register()
			if conn.WriteMessage(websocket.TextMessage, authOK) != nil {
				return
			}
		case m.auth == nil && s.auth.cfg.Default != "":
			first = m // anonymous, with adminAuth.default's permissions
			register()
		default:
			_ = conn.WriteMessage(websocket.TextMessage, authFail)
			reason := "authentication required"
			if m.auth != nil {
				reason = "authentication failed: unknown or expired token"
			}
			sendClose(conn, websocket.ClosePolicyViolation, reason)
			return
		}
	}
	done := make(chan struct{})
	go s.readLoop(conn, c, first, limit, done)
	h.writeLoop(conn, c, done)
}

// readLoop handles what the editor sends until the socket closes or the
// client breaks the protocol (then the close frame says why).
func (s *Server) readLoop(conn *websocket.Conn, c *client, first *inbound, limit int64, done chan struct{}) {
	defer close(done)
	if first != nil {
		s.handle(c, first)
	}
	for {
		m, ce := readInbound(conn, limit)
		if ce != nil {
			s.opts.Logger.Warn("editor websocket closed: bad message", "remote", conn.RemoteAddr().String(), "reason", ce.reason)
			sendClose(conn, ce.code, ce.reason)
			return
		}
		if m == nil {
			return
		}
		s.handle(c, m)
	}
}

func (s *Server) handle(c *client, m *inbound) {
	switch {
	case m.auth != nil:
		if s.auth == nil || s.auth.check(*m.auth) != "" {
			c.token = *m.auth
			c.reply(commsMessage{raw: authOK})
		} else {
			c.reply(commsMessage{raw: authFail})
		}
	case m.subscribe != nil:
		// Every client gets every topic.
	case m.topic == "deploy":
		s.wsDeploy(c, m.data)
	case m.topic == "inject":
		s.wsAction(c, "inject-result", m.data, false)
	case m.topic == "debug-state":
		s.wsAction(c, "debug-state-result", m.data, true)
	}
}

// wsDeployData is the data of a deploy message; pointers tell a missing
// field from an empty one.
type wsDeployData struct {
	Req   *string         `json:"req"`
	Type  *string         `json:"type"`
	Rev   *string         `json:"rev"`
	Flows json.RawMessage `json:"flows"`
	Force *bool           `json:"force"`
}

type deployResult struct {
	Req     string        `json:"req"`
	OK      bool          `json:"ok"`
	Code    string        `json:"code,omitempty"`
	Message string        `json:"message,omitempty"`
	Errors  []problemJSON `json:"errors"`
	Rev     string        `json:"rev"`
}

func (s *Server) wsDeploy(c *client, data json.RawMessage) {
	var d wsDeployData
	res := deployResult{Errors: []problemJSON{}}
	bad := func(format string, args ...any) {
		res.Code, res.Message, res.Rev = "bad_request", fmt.Sprintf(format, args...), revision(s.current())
		c.reply(commsMessage{Topic: "deploy-result", Data: res})
	}
	if err := strictDecode(data, &d); err != nil {
		bad("deploy data: %v", err)
		return
	}
	if d.Req == nil {
		bad("deploy data needs req (a string the answer echoes)")
		return
	}
	res.Req = *d.Req
	typ := "full"
	if d.Type != nil {
		typ = *d.Type
	}
	force := d.Force != nil && *d.Force
	if typ != "reload" {
		if len(bytes.TrimSpace(d.Flows)) == 0 || bytes.TrimSpace(d.Flows)[0] != '[' {
			bad("deploy data needs flows, the whole flow array")
			return
		}
	}
	if d.Rev == nil && !force {
		bad("deploy data needs rev (the revision the editor started from), or force: true")
		return
	}
	req := deployRequest{flows: d.Flows, typ: typ, force: force, perm: s.perm(c.token)}
	if d.Rev != nil {
		req.rev = *d.Rev
		if req.rev == "" && !force {
			req.rev = "none" // an empty rev is a client that never loaded the flows
		}
	}
	rev, derr := s.deploy(req)
	if derr != nil {
		res.Code, res.Message, res.Errors, res.Rev = derr.Code, derr.Message, derr.Errors, revision(s.current())
		c.reply(commsMessage{Topic: "deploy-result", Data: res})
		return
	}
	res.OK, res.Rev = true, rev
	c.reply(commsMessage{Topic: "deploy-result", Data: res})
	s.hub.deployed(rev)
}

// strictDecode decodes a JSON object, refusing fields of the wrong type.
func strictDecode(data json.RawMessage, v any) error {
	if len(bytes.TrimSpace(data)) == 0 || bytes.TrimSpace(data)[0] != '{' {
		return fmt.Errorf("must be an object")
	}
	return json.Unmarshal(data, v)
}

type actionResult struct {
	Req     string `json:"req,omitempty"`
	ID      string `json:"id"`
	OK      bool   `json:"ok"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

func (s *Server) wsAction(c *client, topic string, data json.RawMessage, debug bool) {
	var d struct {
		Req     string `json:"req"`
		ID      string `json:"id"`
		Enabled *bool  `json:"enabled"`
	}
	res := actionResult{}
	answer := func(code, message string) {
		res.Code, res.Message = code, message
		c.reply(commsMessage{Topic: topic, Data: res})
	}
	if err := strictDecode(data, &d); err != nil {
		answer("bad_request", "data: "+err.Error())
		return
	}
	res.Req, res.ID = d.Req, d.ID
	if d.ID == "" {
		answer("bad_request", "data needs id, the node's id")
		return
	}
	if debug && d.Enabled == nil {
		answer("bad_request", "data needs enabled (true or false)")
		return
	}
	if p := s.perm(c.token); p != permAll {
		answer("forbidden", "your permissions ("+permName(p)+") allow reading only")
		return
	}
	var e *actionError
	if debug {
		e = s.setDebug(d.ID, *d.Enabled)
	} else {
		e = s.inject(d.ID)
	}
	if e != nil {
		answer(e.code, e.message)
		return
	}
	res.OK = true
	c.reply(commsMessage{Topic: topic, Data: res})
}
