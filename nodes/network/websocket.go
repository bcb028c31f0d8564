package network

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// Shared machinery of the websocket nodes. Node-RED builds websocket-listener
// and websocket-client from one constructor and picks the role from the path
// alone: a ws:// or wss:// URL dials out, anything else listens under
// httpNodeRoot. The endpoint keeps that rule, so a flow that leans on it runs
// the same here.

// Tunables; variables so tests can shorten the waits.
var (
	// reconnectDelay is Node-RED's fixed 3 s retry, not a back-off: a flow
	// author watching the status sees the same rhythm on both runtimes.
	reconnectDelay = 3 * time.Second
	// writeTimeout bounds one frame write: Node-RED buffers without limit,
	// we would rather drop a client that stopped reading than hold the out
	// node (and every other client behind it) forever.
	writeTimeout = 30 * time.Second
	// handshakeTimeout bounds a dial; ws has none, the OS would give up after
	// minutes while the status kept saying nothing.
	handshakeTimeout = 45 * time.Second
	// closeWait is how long a closing client waits for the server's answer to
	// its close frame, as Node-RED's close handler does.
	closeWait = time.Second
)

// maxFrame is the ws library's default maxPayload, which Node-RED keeps.
const maxFrame = 100 << 20

var wsURL = regexp.MustCompile(`(?i)^wss?://`)

// TLSConfigProvider is what a tls-config node offers the nodes that refer to
// it (node.TLSProvider, under the name this package has always used).
type TLSConfigProvider = node.TLSProvider

// endpointer is implemented by both websocket config node types.
type endpointer interface{ wsEndpoint() *endpoint }

// header is one entry of a websocket-client's headers list.
type header struct {
	keyType, keyValue, valueType, valueValue string
}

type endpoint struct {
	id, typ  string
	path     string
	wholemsg bool
	server   bool

	// Client role only.
	subprotocols []string
	headers      []header
	heartbeat    time.Duration
	tlsID        string
	tlsConf      *tls.Config

	c node.Ctx // the config node's own context, set by Start

	mu          sync.Mutex
	inputs      []node.Ctx // websocket in nodes: get the frames
	watchers    []node.Ctx // in and out nodes: show the connection status
	sessions    map[string]*session
	current     *session // client role: the open connection
	dialing     bool
	failed      error // Start failed: never dial
	closing     bool
	removeRoute func()
	stop        chan struct{}
	wg          sync.WaitGroup

	// evMu keeps status events in the order of the session counts they
	// report when connections come and go at once.
	evMu sync.Mutex
}

// session is one websocket connection.
type session struct {
	id  string
	ws  *websocket.Conn
	wmu sync.Mutex // gorilla allows one writer at a time
	// pending is set when a heartbeat ping goes out and cleared by any ping
	// or pong from the peer.
	pending  atomic.Bool
	timedOut atomic.Bool
}

func newEndpoint(cfg *node.Config) (*endpoint, error) {
	e := &endpoint{
		id: cfg.ID(), typ: cfg.Type(), path: cfg.Str("path"),
		sessions: map[string]*session{}, stop: make(chan struct{}),
	}
	if e.path == "" {
		return nil, node.BadProp("path", nil, "is required")
	}
	e.server = !wsURL.MatchString(e.path)
	// Node-RED compares with the string "true"; a boolean true means payload
	// mode there, so it does here too.
	e.wholemsg = cfg.Get("wholemsg") == "true"
	if s, ok := cfg.Get("subprotocol").(string); ok {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				e.subprotocols = append(e.subprotocols, p)
			}
		}
	}
	if msg.Truthy(cfg.Get("hb")) {
		if n, ok := parseIntJS(msg.ToString(cfg.Get("hb"))); ok && n > 0 {
			e.heartbeat = time.Duration(n) * time.Second
		}
	}
	e.tlsID = cfg.Str("tls")
	if raw, ok := cfg.Get("headers").([]any); ok {
		for i, r := range raw {
			o, ok := r.(*msg.Object)
			if !ok {
				return nil, node.BadProp(fmt.Sprintf("headers[%d]", i), r, "must be an object {keyType, keyValue, valueType, valueValue}")
			}
			e.headers = append(e.headers, header{
				keyType: str(o.Value("keyType")), keyValue: str(o.Value("keyValue")),
				valueType: str(o.Value("valueType")), valueValue: str(o.Value("valueValue")),
			})
		}
	}
	return e, nil
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return msg.ToString(v)
}

// parseIntJS is JavaScript's parseInt(s) for base 10: leading blanks, a sign,
// then as many digits as there are; "2.5" is 2, "abc" is NaN.
func parseIntJS(s string) (int, bool) {
	s = strings.TrimLeft(s, " \t\n\r\v\f")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	n, digits := 0, 0
	for ; digits < len(s) && s[digits] >= '0' && s[digits] <= '9'; digits++ {
		if n < math.MaxInt32 {
			n = n*10 + int(s[digits]-'0')
		}
	}
	if digits == 0 {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

func (e *endpoint) wsEndpoint() *endpoint { return e }

// Start is shared by both config node types: the role decides what starts.
func (e *endpoint) Start(c node.Ctx) error {
	e.mu.Lock()
	e.c = c
	e.mu.Unlock()
	var err error
	if e.server {
		err = e.listen(c)
	} else {
		err = e.prepareClient(c)
	}
	if err != nil {
		e.mu.Lock()
		e.failed = err
		e.mu.Unlock()
	}
	return err
}

// Close ends every connection, the route or the dialler, within ctx.
func (e *endpoint) Close(ctx context.Context, _ bool) error {
	e.mu.Lock()
	if e.closing {
		e.mu.Unlock()
		return nil
	}
	e.closing = true
	close(e.stop)
	remove := e.removeRoute
	e.removeRoute = nil
	sessions := make([]*session, 0, len(e.sessions))
	for _, s := range e.sessions {
		sessions = append(sessions, s)
	}
	cur := e.current
	e.inputs, e.watchers = nil, nil
	e.mu.Unlock()
	if remove != nil {
		remove()
	}
	// A listener drops its clients at once, as ws's server close does.
	for _, s := range sessions {
		_ = s.ws.Close()
	}
	if cur != nil {
		// A client says goodbye and gives the server a moment to answer.
		_ = cur.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(closeWait))
		if !waitGroup(ctx, &e.wg, closeWait) {
			_ = cur.ws.Close()
		}
	}
	if !waitGroup(ctx, &e.wg, 0) {
		return fmt.Errorf("websocket connections of %s did not end in time", e.path)
	}
	return nil
}

// waitGroup waits for wg until ctx ends or, when limit > 0, limit passes.
func waitGroup(ctx context.Context, wg *sync.WaitGroup, limit time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var timer <-chan time.Time
	if limit > 0 {
		t := time.NewTimer(limit)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-done:
		return true
	case <-ctx.Done():
	case <-timer:
	}
	return false
}

// attach registers an in (input true) or out node. A client starts dialling
// when the first of them attaches, as in Node-RED.
func (e *endpoint) attach(c node.Ctx, input bool) {
	e.mu.Lock()
	if e.closing {
		e.mu.Unlock()
		return
	}
	e.watchers = append(e.watchers, c)
	if input {
		e.inputs = append(e.inputs, c)
	}
	e.mu.Unlock()
	if !e.server {
		e.startDialling()
	}
}

func (e *endpoint) detach(c node.Ctx) {
	e.mu.Lock()
	e.inputs = without(e.inputs, c)
	e.watchers = without(e.watchers, c)
	e.mu.Unlock()
}

func without(list []node.Ctx, c node.Ctx) []node.Ctx {
	out := list[:0:0]
	for _, x := range list {
		if x != c {
			out = append(out, x)
		}
	}
	return out
}

type event int

const (
	evOpened event = iota
	evError
	evClosed
)

// emit shows a connection event on every attached node, with the texts
// Node-RED uses (its status texts for errors and disconnects are i18n keys
// that reach status nodes untranslated). count is the number of open
// connections of a listener, or -1 for a client, whose status carries no
// count ("connected " with its trailing space).
func (e *endpoint) emit(ev event, count int, sessionID string) {
	e.mu.Lock()
	if e.closing {
		e.mu.Unlock()
		return
	}
	ws := append([]node.Ctx(nil), e.watchers...)
	e.mu.Unlock()
	connected := node.Status{Fill: "green", Shape: "dot", Text: "connected "}
	if count >= 0 {
		connected.Text += fmt.Sprint(count)
	}
	var st node.Status
	switch ev {
	case evOpened:
		st = connected
		st.Event = "connect"
	case evError:
		st = node.Status{Fill: "red", Shape: "ring", Text: "common.status.error", Event: "error"}
	case evClosed:
		if count > 0 {
			st = connected
		} else {
			st = node.Status{Fill: "red", Shape: "ring", Text: "common.status.disconnected"}
		}
		st.Event = "disconnect"
	}
	if sessionID != "" {
		st.Session = msg.ObjectOf("type", "websocket", "id", sessionID)
	}
	for _, c := range ws {
		c.Status(st)
	}
}

// serve reads frames from s until the connection ends and hands them to the
// in nodes; it returns the read error.
func (e *endpoint) serve(ctx context.Context, s *session) error {
	for {
		ft, data, err := s.ws.ReadMessage()
		if err != nil {
			return err
		}
		e.deliver(ctx, s.id, ft == websocket.TextMessage, data)
	}
}

// isPeerClose tells an ordinary end of a connection (a close frame, the peer
// vanishing, our own close) from a failure ws would report as an error
// event: protocol violations, an oversized frame.
func isPeerClose(err error) bool {
	var ce *websocket.CloseError
	var ne net.Error
	return errors.As(err, &ce) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.As(err, &ne)
}

// deliver turns one frame into messages, as Node-RED's listener does, and
// sends them from every in node: the first gets the message, the others a
// copy. Each in node waits for room in the flows first (backpressure): while
// the flows are saturated this connection is not read.
func (e *endpoint) deliver(ctx context.Context, id string, text bool, data []byte) {
	e.mu.Lock()
	inputs := append([]node.Ctx(nil), e.inputs...)
	e.mu.Unlock()
	if len(inputs) == 0 {
		return
	}
	bodies, err := e.decode(id, text, data)
	if err != nil {
		for _, c := range inputs {
			c.Error(err, nil)
		}
	}
	if len(bodies) == 0 {
		return
	}
	copies := make([][]*msg.Object, len(inputs))
	for i := range inputs {
		if i == 0 {
			copies[i] = bodies
			continue
		}
		for _, b := range bodies {
			copies[i] = append(copies[i], b.Clone())
		}
	}
	for i, c := range inputs {
		for _, b := range copies[i] {
			if err := c.Acquire(ctx); err != nil {
				return
			}
			c.Send(msg.Wrap(b))
		}
	}
}

// decode builds the message bodies of one frame. In whole-message mode the
// frame is JSON.parse'd: an object is the message, a number, string or
// boolean becomes its payload, text that is not JSON stays the payload. An
// array is what node.send would make of it: its first element is the output
// 0 list. The _session marks where a reply should go.
func (e *endpoint) decode(id string, text bool, data []byte) ([]*msg.Object, error) {
	var raw any = data
	if text {
		raw = string(data)
	}
	session := msg.ObjectOf("type", "websocket", "id", id)
	var body *msg.Object
	if e.wholemsg {
		src := data
		if !text && !utf8.Valid(data) {
			src = []byte(decodeUTF8(data))
		}
		if v, err := msg.Unmarshal(src); err == nil {
			switch t := v.(type) {
			case *msg.Object:
				body = t
			case []any:
				return sendList(t)
			case nil:
				// Node-RED dies here with a TypeError; dropping the frame
				// with an error keeps the other flows running.
				return nil, errors.New("websocket frame is JSON null, which is not a message; dropped")
			default:
				body = msg.ObjectOf("payload", t)
			}
		}
	}
	if body == nil {
		body = msg.ObjectOf("payload", raw)
	}
	body.Set("_session", session)
	setMsgID(body)
	return []*msg.Object{body}, nil
}

// sendList mirrors node.send(array) for a node with one output.
func sendList(arr []any) ([]*msg.Object, error) {
	if len(arr) == 0 || arr[0] == nil || msg.IsUndefined(arr[0]) {
		return nil, nil
	}
	list, ok := arr[0].([]any)
	if !ok {
		list = []any{arr[0]}
	}
	var out []*msg.Object
	var err error
	for _, m := range list {
		switch t := m.(type) {
		case nil, msg.Undefined:
		case *msg.Object:
			setMsgID(t)
			out = append(out, t)
		default:
			err = fmt.Errorf("websocket frame holds a message of type %s, which cannot be sent", msg.TypeOf(t))
			if _, isArr := t.([]any); isArr {
				err = errors.New("websocket frame holds a message that is an array, which cannot be sent")
			}
		}
	}
	return out, err
}

func setMsgID(o *msg.Object) {
	if !msg.Truthy(o.Value("_msgid")) {
		o.Set("_msgid", msg.NewID())
	}
}

// decodeUTF8 decodes as Buffer.toString does: every invalid byte becomes
// U+FFFD.
func decodeUTF8(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		sb.WriteRune(r)
		b = b[n:]
	}
	return sb.String()
}

// send is the websocket out node's work: encode m, then reply to the session
// it came from or broadcast.
func (e *endpoint) send(c node.Ctx, m *msg.Msg) {
	ft, data, ok := e.encode(m)
	if !ok {
		return
	}
	if sess, isObj := m.Value("_session").(*msg.Object); isObj && sess.Value("type") == "websocket" {
		e.reply(str(sess.Value("id")), ft, data)
		return
	}
	e.broadcast(c, ft, data)
}

// encode builds the frame for m: the whole message as JSON without its
// _session, or the payload (a Buffer as a binary frame, anything else as
// text). An empty text payload sends nothing, as in Node-RED.
func (e *endpoint) encode(m *msg.Msg) (int, []byte, bool) {
	if e.wholemsg {
		body := msg.NewObject(m.Len())
		for i := 0; i < m.Len(); i++ {
			k, v := m.At(i)
			if k != "_session" {
				body.Set(k, v)
			}
		}
		return websocket.TextMessage, msg.Marshal(body), true
	}
	p, ok := m.Get("payload")
	if !ok {
		return 0, nil, false
	}
	if b, isBuf := p.([]byte); isBuf {
		return websocket.BinaryMessage, b, true
	}
	s := ensureString(p)
	return websocket.TextMessage, []byte(s), s != ""
}

// ensureString is RED.util.ensureString.
func ensureString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case []byte:
		return string(t)
	case bool, float64, int, int64, msg.Undefined:
		return msg.ToString(t)
	default:
		return string(msg.Marshal(t))
	}
}

// reply sends to one session of a listener. An unknown session, or any
// session on a client (Node-RED only keeps a listener's), sends nothing.
func (e *endpoint) reply(id string, ft int, data []byte) {
	e.mu.Lock()
	s := e.sessions[id]
	e.mu.Unlock()
	if s != nil {
		_ = s.write(ft, data)
	}
}

func (e *endpoint) broadcast(c node.Ctx, ft int, data []byte) {
	e.mu.Lock()
	var targets []*session
	if e.server {
		targets = make([]*session, 0, len(e.sessions))
		for _, s := range e.sessions {
			targets = append(targets, s)
		}
	} else if e.current != nil {
		targets = []*session{e.current}
	}
	e.mu.Unlock()
	if !e.server && len(targets) == 0 {
		c.Warn("An error occurred while sending: websocket is not connected to " + e.path)
		return
	}
	for _, s := range targets {
		if err := s.write(ft, data); err != nil {
			c.Warn(fmt.Sprintf("An error occurred while sending: %s %v", s.id, err))
		}
	}
}

// write sends one frame; a failed write ends the connection, whose reader
// then reports it closed.
func (s *session) write(ft int, data []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_ = s.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	err := s.ws.WriteMessage(ft, data)
	if err != nil {
		_ = s.ws.Close()
	}
	return err
}
