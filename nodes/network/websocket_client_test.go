package network

import (
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sluicehq/sluice/runtime/msg"
)

func listenOn(t *testing.T, addr string) net.Listener {
	t.Helper()
	var err error
	for i := 0; i < 50; i++ {
		var l net.Listener
		if l, err = net.Listen("tcp", addr); err == nil {
			return l
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("listen %s: %v", addr, err)
	return nil
}

func clientFlow(url, extra string) string {
	return fmt.Sprintf(`[
	 {"id":"tab","type":"tab","label":"T"},
	 {"id":"C","type":"websocket-client","path":%q,"tls":"","wholemsg":"false","subprotocol":"chat, superchat"%s},
	 {"id":"in","type":"websocket in","z":"tab","server":"","client":"C","wires":[["sink","out"]]},
	 {"id":"out","type":"websocket out","z":"tab","server":"","client":"C"},
	 {"id":"sink","type":"wstest-sink","z":"tab"}]`, url, extra)
}

func TestClientSendsReceivesAndOffersHeaders(t *testing.T) {
	t.Setenv("WSTEST_TOKEN", "s3cret")
	p := newPeer(t, "", false, nil)
	h := newHarness(t, clientFlow(p.url("/feed"), `,"hb":"","headers":[
	  {"keyType":"Authorization","keyValue":"","valueType":"other","valueValue":"Bearer abc"},
	  {"keyType":"other","keyValue":"X-Token","valueType":"env","valueValue":"WSTEST_TOKEN"},
	  {"keyType":"other","keyValue":"X-Mixed","valueType":"env","valueValue":"t-${WSTEST_TOKEN}-${WSTEST_UNSET}"},
	  {"keyType":"User-Agent","keyValue":"","valueType":"Mozilla/5.0","valueValue":""},
	  {"keyType":"other","keyValue":"X-Empty","valueType":"other","valueValue":""}]`))
	srv := p.accept()
	r := <-p.requests
	for name, want := range map[string]string{
		"Authorization": "Bearer abc", "X-Token": "s3cret", "X-Mixed": "t-s3cret-", "User-Agent": "Mozilla/5.0",
		"Sec-Websocket-Protocol": "chat, superchat",
	} {
		if got := r.Header.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
	if _, ok := r.Header["X-Empty"]; ok {
		t.Error("an empty header value was sent")
	}
	if srv.Subprotocol() != "chat" {
		t.Errorf("subprotocol %q", srv.Subprotocol())
	}
	h.waitStatus("in", "green/dot/connected ", 5*time.Second)

	// Frames from the server become messages with a _session...
	send(t, srv, websocket.TextMessage, "hi")
	m := h.next("sink")
	if m.Value("payload") != "hi" || m.Value("_session").(*msg.Object).Value("type") != "websocket" {
		t.Fatalf("got %s", msg.Marshal(m))
	}
	// ...and, as in Node-RED, a reply carrying that _session goes nowhere: a
	// client keeps no sessions to answer.
	silent(t, srv, 300*time.Millisecond)

	// Messages without a _session go to the server.
	h.inject("out", `{"payload":"up"}`)
	if f := read(t, srv); f != (frame{websocket.TextMessage, "up"}) {
		t.Fatalf("server got %+v", f)
	}
	h.inject("out", `{"payload":{"type":"Buffer","data":[1,2]}}`)
	if f := read(t, srv); f.data != `{"type":"Buffer","data":[1,2]}` {
		t.Fatalf("server got %+v", f)
	}
}

func TestClientReconnectsAfterTheServerRestarts(t *testing.T) {
	p := newPeer(t, "", false, nil)
	addr := p.srv.Listener.Addr().String()
	h := newHarness(t, clientFlow(p.url("/feed"), ""))
	srv := p.accept()
	h.waitStatus("in", "green/dot/connected ", 5*time.Second)
	send(t, srv, websocket.TextMessage, "one")
	first := h.next("sink").Value("_session").(*msg.Object).Value("id")

	p.close()
	down := time.Now()
	h.waitStatus("in", "red/ring/common.status.disconnected", 5*time.Second)
	// While the server is down every attempt fails with an error, then a
	// disconnect, 3 s apart.
	h.waitStatus("in", "red/ring/common.status.error", 5*time.Second)
	h.waitStatus("out", "red/ring/common.status.error", 5*time.Second)

	p2 := newPeer(t, addr, false, nil)
	srv2 := p2.accept()
	if since := time.Since(down); since < reconnectDelay {
		t.Fatalf("reconnected after %s, sooner than Node-RED's %s", since, reconnectDelay)
	}
	h.waitStatus("in", "green/dot/connected ", 5*time.Second)
	send(t, srv2, websocket.TextMessage, "two")
	m := h.next("sink")
	if m.Value("payload") != "two" {
		t.Fatalf("got %s", msg.Marshal(m))
	}
	if m.Value("_session").(*msg.Object).Value("id") == first {
		t.Fatal("a new connection kept the old session id")
	}
	h.inject("out", `{"payload":"back"}`)
	if f := read(t, srv2); f.data != "back" {
		t.Fatalf("got %+v", f)
	}
}

func TestClientHeartbeat(t *testing.T) {
	// A server that answers pings keeps the connection (accept reads, which
	// runs the ping handler).
	var pings atomic.Int64
	p := newPeer(t, "", false, func(c *websocket.Conn) {
		c.SetPingHandler(func(data string) error {
			pings.Add(1)
			return c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		})
	})
	h := newHarness(t, clientFlow(p.url("/hb"), `,"hb":"1"`))
	p.accept()
	time.Sleep(3500 * time.Millisecond)
	if n := pings.Load(); n < 2 {
		t.Fatalf("%d pings in 3.5 s with a 1 s heartbeat", n)
	}
	select {
	case <-p.conns:
		t.Fatal("the client reconnected although the server answered its pings")
	default:
	}
	h.waitStatus("in", "green/dot/connected ", time.Second)
}

func TestClientHeartbeatTimeoutReconnects(t *testing.T) {
	old := reconnectDelay
	reconnectDelay = 200 * time.Millisecond
	t.Cleanup(func() { reconnectDelay = old })
	// This server reads but never answers pings.
	p := newPeer(t, "", false, func(c *websocket.Conn) {
		c.SetPingHandler(func(string) error { return nil })
	})
	h := newHarness(t, clientFlow(p.url("/hb"), `,"hb":"1"`))
	p.accept()
	start := time.Now()
	h.waitStatus("in", "red/ring/common.status.error", 5*time.Second)
	h.waitStatus("in", "red/ring/common.status.disconnected", 2*time.Second)
	if d := time.Since(start); d < 1500*time.Millisecond {
		t.Fatalf("timed out after %s; the first unanswered ping is only due at 2 s", d)
	}
	p.accept()
	h.waitStatus("in", "green/dot/connected ", 5*time.Second)
}

func TestClientTLS(t *testing.T) {
	p := newPeer(t, "", true, nil)
	url := p.url("/secure") // wss://
	h := newHarness(t, "")
	err := h.E.Deploy([]byte(strings.Replace(clientFlow(url, ""), `"tls":""`, `"tls":"gone"`, 1)))
	if err == nil || !strings.Contains(err.Error(), `node C (websocket-client)`) || !strings.Contains(err.Error(), `tls-config node "gone" is not deployed`) {
		t.Fatalf("want an error for the missing tls-config node, got %v", err)
	}
	if !ownTLS {
		t.Skip("tls-config is the real node; its own tests cover wss")
	}
	flow := strings.Replace(clientFlow(url, ""), `"tls":""`, `"tls":"T"`, 1)
	flow = strings.Replace(flow, `{"id":"tab"`, `{"id":"T","type":"tls-config"},{"id":"tab"`, 1)
	if err := h.E.Deploy([]byte(flow)); err != nil {
		t.Fatal(err)
	}
	srv := p.accept()
	h.waitStatus("out", "green/dot/connected ", 5*time.Second)
	h.inject("out", `{"payload":"over tls"}`)
	if f := read(t, srv); f.data != "over tls" {
		t.Fatalf("got %+v", f)
	}
}

func TestClientWholeMessage(t *testing.T) {
	p := newPeer(t, "", false, nil)
	h := newHarness(t, strings.Replace(clientFlow(p.url("/w"), ""), `"wholemsg":"false"`, `"wholemsg":"true"`, 1))
	srv := p.accept()
	send(t, srv, websocket.TextMessage, `{"topic":"a","payload":[1,2]}`)
	m := h.next("sink")
	if got := msg.Marshal(m); !strings.HasPrefix(string(got), `{"topic":"a","payload":[1,2],"_session":{"type":"websocket","id":"`) {
		t.Fatalf("got %s", got)
	}
	h.inject("out", `{"payload":"x","_msgid":"m1"}`)
	if f := read(t, srv); f.data != `{"payload":"x","_msgid":"m1"}` {
		t.Fatalf("got %+v", f)
	}
}
