package network

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sluicehq/sluice/runtime/msg"
)

const echoFlow = `[
 {"id":"tab","type":"tab","label":"T"},
 {"id":"L","type":"websocket-listener","path":"/ws/echo","wholemsg":"false"},
 {"id":"in","type":"websocket in","z":"tab","server":"L","client":"","wires":[["out","sink"]]},
 {"id":"out","type":"websocket out","z":"tab","server":"L","client":""},
 {"id":"sink","type":"wstest-sink","z":"tab"}]`

func TestListenerEchoRepliesToTheSenderOnly(t *testing.T) {
	h := newHarness(t, echoFlow)
	a := h.dial("/ws/echo")
	b := h.dial("/ws/echo")
	h.waitStatus("in", "green/dot/connected 2", 5*time.Second)

	send(t, a, websocket.TextMessage, "hello")
	if f := read(t, a); f != (frame{websocket.TextMessage, "hello"}) {
		t.Fatalf("a got %+v", f)
	}
	m := h.next("sink")
	if got := m.Keys(); strings.Join(got, ",") != "payload,_session,_msgid" {
		t.Fatalf("message keys %v", got)
	}
	if m.Value("payload") != "hello" {
		t.Fatalf("payload %v", msg.Marshal(m))
	}
	sess := m.Value("_session").(*msg.Object)
	if sess.Value("type") != "websocket" || len(sess.Value("id").(string)) != 16 {
		t.Fatalf("_session %s", msg.Marshal(sess))
	}

	// Binary frames arrive as Buffers and go back as binary frames.
	send(t, a, websocket.BinaryMessage, "\x01\x02\x03")
	if f := read(t, a); f != (frame{websocket.BinaryMessage, "\x01\x02\x03"}) {
		t.Fatalf("a got %+v", f)
	}
	if p, ok := h.next("sink").Value("payload").([]byte); !ok || string(p) != "\x01\x02\x03" {
		t.Fatalf("binary payload %#v", p)
	}

	// An empty text payload sends nothing, as in Node-RED.
	send(t, a, websocket.TextMessage, "")
	send(t, a, websocket.TextMessage, "after")
	if f := read(t, a); f.data != "after" {
		t.Fatalf("a got %+v after an empty frame", f)
	}
	silent(t, b, 200*time.Millisecond)

	// Each connection is its own session.
	send(t, b, websocket.TextMessage, "from b")
	if f := read(t, b); f.data != "from b" {
		t.Fatalf("b got %+v", f)
	}
	h.next("sink")
	h.next("sink")
	mb := h.next("sink")
	if mb.Value("_session").(*msg.Object).Value("id") == sess.Value("id") {
		t.Fatal("two connections share a session id")
	}
	silent(t, a, 200*time.Millisecond)
}

func TestListenerBroadcastsWithoutSession(t *testing.T) {
	h := newHarness(t, `[
	 {"id":"tab","type":"tab","label":"T"},
	 {"id":"L","type":"websocket-listener","path":"bcast","wholemsg":"false"},
	 {"id":"in","type":"websocket in","z":"tab","server":"L","wires":[["strip"]]},
	 {"id":"strip","type":"wstest-pass","z":"tab","dropSession":true,"wires":[["out"]]},
	 {"id":"out","type":"websocket out","z":"tab","server":"L"}]`)
	a := h.dial("/bcast") // "bcast" and "/bcast" are one path
	b := h.dial("/bcast")
	h.waitStatus("out", "green/dot/connected 2", 5*time.Second)

	send(t, a, websocket.TextMessage, "to all")
	for _, c := range []*conn{a, b} {
		if f := read(t, c); f.data != "to all" {
			t.Fatalf("got %+v", f)
		}
	}
	// A message from elsewhere in the flows broadcasts; a non-string payload
	// is sent as its JSON text.
	h.inject("out", `{"payload":{"n":1}}`)
	for _, c := range []*conn{a, b} {
		if f := read(t, c); f != (frame{websocket.TextMessage, `{"n":1}`}) {
			t.Fatalf("got %+v", f)
		}
	}
	h.inject("out", `{"payload":42}`)
	for _, c := range []*conn{a, b} {
		if f := read(t, c); f.data != "42" {
			t.Fatalf("got %+v", f)
		}
	}
	// A _session naming a connection that is gone sends nothing at all.
	h.inject("out", `{"payload":"x","_session":{"type":"websocket","id":"gone"}}`)
	silent(t, b, 200*time.Millisecond)
	// A _session of another kind does not stop a broadcast.
	h.inject("out", `{"payload":"tcp","_session":{"type":"tcp","id":"1"}}`)
	for _, c := range []*conn{a, b} {
		if f := read(t, c); f.data != "tcp" {
			t.Fatalf("got %+v", f)
		}
	}
}

func TestListenerWholeMessageMode(t *testing.T) {
	h := newHarness(t, `[
	 {"id":"tab","type":"tab","label":"T"},
	 {"id":"L","type":"websocket-listener","path":"/whole","wholemsg":"true"},
	 {"id":"in","type":"websocket in","z":"tab","server":"L","wires":[["out","sink"]]},
	 {"id":"out","type":"websocket out","z":"tab","server":"L"},
	 {"id":"sink","type":"wstest-sink","z":"tab"}]`)
	a := h.dial("/whole")
	b := h.dial("/whole")

	cases := []struct {
		typ       int
		in, reply string // reply without its _msgid
	}{
		{websocket.TextMessage, `{"payload":1,"topic":"t"}`, `{"payload":1,"topic":"t"`},
		{websocket.TextMessage, `"str"`, `{"payload":"str"`},
		{websocket.TextMessage, `42`, `{"payload":42`},
		{websocket.TextMessage, `true`, `{"payload":true`},
		{websocket.TextMessage, `not json`, `{"payload":"not json"`},
		{websocket.TextMessage, `{"_session":"forged","payload":2}`, `{"payload":2`},
		{websocket.TextMessage, `{}`, `{`},
		{websocket.BinaryMessage, `{"a":1}`, `{"a":1`},
		{websocket.BinaryMessage, "\xff\x00", `{"payload":{"type":"Buffer","data":[255,0]}`},
	}
	for _, c := range cases {
		send(t, a, c.typ, c.in)
		f := read(t, a)
		if f.typ != websocket.TextMessage || !strings.HasPrefix(f.data, c.reply) || !strings.Contains(f.data, `"_msgid":"`) || strings.Contains(f.data, "_session") {
			t.Fatalf("%q: reply %+v, want %s,\"_msgid\":…}", c.in, f, c.reply)
		}
		m := h.next("sink")
		if sess, ok := m.Value("_session").(*msg.Object); !ok || sess.Value("type") != "websocket" {
			t.Fatalf("%q: message %s has no websocket _session", c.in, msg.Marshal(m))
		}
	}
	// A _msgid sent by the peer is kept.
	send(t, a, websocket.TextMessage, `{"payload":"p","_msgid":"abc"}`)
	if f := read(t, a); f.data != `{"payload":"p","_msgid":"abc"}` {
		t.Fatalf("got %q", f.data)
	}
	h.next("sink")

	// null kills Node-RED; here the frame is dropped and the connection lives.
	send(t, a, websocket.TextMessage, `null`)
	// An array is what node.send makes of it: the first element is the
	// output's message, which carries no _session and so is broadcast.
	send(t, a, websocket.TextMessage, `[{"payload":"arr"}]`)
	for _, c := range []*conn{a, b} {
		if f := read(t, c); !strings.HasPrefix(f.data, `{"payload":"arr","_msgid":"`) {
			t.Fatalf("got %q", f.data)
		}
	}
	if m := h.next("sink"); m.Has("_session") {
		t.Fatalf("array element got a _session: %s", msg.Marshal(m))
	}
	silent(t, b, 200*time.Millisecond)
}

func TestListenerStatusFollowsConnections(t *testing.T) {
	h := newHarness(t, echoFlow)
	a := h.dial("/ws/echo")
	h.waitStatus("in", "green/dot/connected 1", 5*time.Second)
	h.waitStatus("out", "green/dot/connected 1", 5*time.Second)
	b := h.dial("/ws/echo")
	h.waitStatus("in", "green/dot/connected 2", 5*time.Second)
	_ = b.Close()
	h.waitStatus("in", "green/dot/connected 1", 5*time.Second)
	_ = a.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	h.waitStatus("in", "red/ring/common.status.disconnected", 5*time.Second)
	h.waitStatus("out", "red/ring/common.status.disconnected", 5*time.Second)
}

func TestListenerPathConflictIsAnError(t *testing.T) {
	h := newHarness(t, "")
	err := h.E.Deploy([]byte(`[
	 {"id":"tab","type":"tab","label":"T"},
	 {"id":"L1","type":"websocket-listener","path":"/dup","wholemsg":"false"},
	 {"id":"L2","type":"websocket-listener","path":"dup","wholemsg":"false"},
	 {"id":"in1","type":"websocket in","z":"tab","server":"L1","wires":[["out1"]]},
	 {"id":"out1","type":"websocket out","z":"tab","server":"L1"},
	 {"id":"in2","type":"websocket in","z":"tab","server":"L2"}]`))
	if err == nil || !strings.Contains(err.Error(), `node L2 (websocket-listener)`) || !strings.Contains(err.Error(), `path "dup"`) {
		t.Fatalf("want an error naming L2 and its path, got %v", err)
	}
	// The first listener still serves.
	c := h.dial("/dup")
	send(t, c, websocket.TextMessage, "still")
	if f := read(t, c); f.data != "still" {
		t.Fatalf("got %+v", f)
	}
}

func TestCloseRemovesTheRouteAndDropsClients(t *testing.T) {
	h := newHarness(t, echoFlow)
	c := h.dial("/ws/echo")
	h.waitStatus("in", "green/dot/connected 1", 5*time.Second)
	if err := h.E.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	ended(t, c)
	_, resp, err := websocket.DefaultDialer.Dial(h.url("/ws/echo"), nil)
	if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("dial after stop: %v %v", err, resp)
	}
	// The path is free for the next deploy.
	if err := h.E.Deploy([]byte(echoFlow)); err != nil {
		t.Fatal(err)
	}
	c2 := h.dial("/ws/echo")
	send(t, c2, websocket.TextMessage, "again")
	if f := read(t, c2); f.data != "again" {
		t.Fatalf("got %+v", f)
	}
}

func TestListenerAnswersWithTheFirstSubprotocol(t *testing.T) {
	h := newHarness(t, echoFlow)
	d := websocket.Dialer{Subprotocols: []string{"mqtt", "chat"}}
	c, resp, err := d.Dial(h.url("/ws/echo"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := resp.Header.Get("Sec-Websocket-Protocol"); got != "mqtt" {
		t.Fatalf("subprotocol %q", got)
	}
}

func TestMissingConfigNodeFailsTheStart(t *testing.T) {
	h := newHarness(t, "")
	err := h.E.Deploy([]byte(`[{"id":"tab","type":"tab"},{"id":"in","type":"websocket in","z":"tab","server":"nope","client":""}]`))
	if err == nil || !strings.Contains(err.Error(), `node in (websocket in)`) || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("got %v", err)
	}
	err = h.E.Deploy([]byte(`[{"id":"tab","type":"tab"},{"id":"out","type":"websocket out","z":"tab","server":"","client":""}]`))
	if err == nil || !strings.Contains(err.Error(), "missing server configuration") {
		t.Fatalf("got %v", err)
	}
}

func TestParseIntJS(t *testing.T) {
	for in, want := range map[string]int{"5": 5, " 2.9": 2, "+3x": 3, "-1": -1} {
		if n, ok := parseIntJS(in); !ok || n != want {
			t.Errorf("parseInt(%q) = %d %v", in, n, ok)
		}
	}
	for _, in := range []string{"", "abc", "-"} {
		if _, ok := parseIntJS(in); ok {
			t.Errorf("parseInt(%q) is a number", in)
		}
	}
}

// Node-RED picks a config node's role from its path alone, whatever its
// type: a websocket-listener with a ws:// URL dials, a websocket-client with
// a plain path listens.
func TestRoleFollowsThePath(t *testing.T) {
	h := newHarness(t, "")
	flow := `[
	 {"id":"tab","type":"tab","label":"T"},
	 {"id":"S","type":"websocket-client","path":"/served","wholemsg":"false"},
	 {"id":"C","type":"websocket-listener","path":"` + h.url("/served") + `","wholemsg":"false"},
	 {"id":"sin","type":"websocket in","z":"tab","client":"S","wires":[["sink1","sink2"]]},
	 {"id":"sin2","type":"websocket in","z":"tab","client":"S","wires":[["sink3"]]},
	 {"id":"cout","type":"websocket out","z":"tab","server":"C"},
	 {"id":"sink1","type":"wstest-sink","z":"tab"},{"id":"sink2","type":"wstest-sink","z":"tab"},{"id":"sink3","type":"wstest-sink","z":"tab"}]`
	if err := h.E.Deploy([]byte(flow)); err != nil {
		t.Fatal(err)
	}
	h.waitStatus("sin", "green/dot/connected 1", 5*time.Second)
	h.waitStatus("cout", "green/dot/connected ", 5*time.Second)
	h.inject("cout", `{"payload":"loop"}`)
	// Every in node of a config node gets the frame.
	a, b, c := h.next("sink1"), h.next("sink2"), h.next("sink3")
	for _, m := range []*msg.Object{a, b, c} {
		if m.Value("payload") != "loop" {
			t.Fatalf("got %s", msg.Marshal(m))
		}
	}
}
