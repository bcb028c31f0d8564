package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

type wsAnswer struct {
	Req     string        `json:"req"`
	ID      string        `json:"id"`
	OK      bool          `json:"ok"`
	Code    string        `json:"code"`
	Message string        `json:"message"`
	Errors  []problemJSON `json:"errors"`
	Rev     string        `json:"rev"`
}

func send(t *testing.T, c *websocket.Conn, v any) {
	t.Helper()
	if err := c.WriteJSON(v); err != nil {
		t.Fatal(err)
	}
}

func answer(t *testing.T, c *websocket.Conn, topic string) wsAnswer {
	t.Helper()
	var a wsAnswer
	if err := json.Unmarshal(next(t, c, topic), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

func deployMsg(req, typ, rev, flows string, force bool) map[string]any {
	return map[string]any{"topic": "deploy", "data": map[string]any{"req": req, "type": typ, "rev": rev, "flows": json.RawMessage(flows), "force": force}}
}

// closedWith reads until the server closes the socket and returns the
// close frame's code and reason.
func closedWith(t *testing.T, c *websocket.Conn) (int, string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Text
		}
		t.Fatalf("socket ended without a close frame: %v", err)
	}
}

func TestWSDeploy(t *testing.T) {
	ts := newTestServer(t, Options{})
	c := dial(t, ts, nil)
	other := dial(t, ts, nil)
	rev := revision([]byte(testFlows))
	next1 := strings.Replace(testFlows, `"name":"out"`, `"name":"renamed"`, 1)

	send(t, c, deployMsg("r1", "nodes", rev, next1, false))
	// The deploying client hears its answer before the notification.
	var order []string
	var res wsAnswer
	var note struct{ Revision string }
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(order) < 2 {
		var batch []wsMsg
		if err := c.ReadJSON(&batch); err != nil {
			t.Fatal(err)
		}
		for _, m := range batch {
			switch m.Topic {
			case "deploy-result":
				_ = json.Unmarshal(m.Data, &res)
			case "notification/runtime-deploy":
				_ = json.Unmarshal(m.Data, &note)
			default:
				continue
			}
			order = append(order, m.Topic)
		}
	}
	newRev := revision(ts.flows())
	if order[0] != "deploy-result" || !res.OK || res.Req != "r1" || res.Rev != newRev || note.Revision != newRev || newRev == rev {
		t.Fatalf("order %v, result %+v, notification %+v", order, res, note)
	}
	if err := json.Unmarshal(next(t, other, "notification/runtime-deploy"), &note); err != nil || note.Revision != newRev {
		t.Fatalf("other client: %+v %v", note, err)
	}
	if !strings.Contains(string(ts.flows()), `"renamed"`) || ts.types[len(ts.types)-1] != "nodes" {
		t.Fatalf("stored %s as %v", ts.flows(), ts.types)
	}

	// A deploy from the old revision is refused with the server's one...
	send(t, c, deployMsg("r2", "full", rev, testFlows, false))
	if a := answer(t, c, "deploy-result"); a.OK || a.Code != "version_mismatch" || a.Rev != newRev || a.Req != "r2" {
		t.Fatalf("stale deploy: %+v", a)
	}
	// ...unless forced.
	send(t, c, deployMsg("r3", "full", rev, testFlows, true))
	a := answer(t, c, "deploy-result")
	if !a.OK || !strings.Contains(string(ts.flows()), `"name":"out"`) {
		t.Fatalf("forced deploy: %+v", a)
	}
	rev = a.Rev

	// An invalid set changes nothing and names every bad node.
	bad := `[{"id":"t1","type":"tab"},
	{"id":"a","type":"inject","z":"t1","repeat":"often","wires":[]},
	{"id":"c","type":"no-such-type","z":"t1","wires":[]}]`
	send(t, c, deployMsg("r4", "full", rev, bad, false))
	a = answer(t, c, "deploy-result")
	nodes := map[string]bool{}
	for _, e := range a.Errors {
		nodes[e.Node] = true
	}
	if a.OK || a.Code != "invalid_flows" || !nodes["a"] || !nodes["c"] || a.Rev != rev {
		t.Fatalf("invalid deploy: %+v", a)
	}
	if revision(ts.flows()) != rev {
		t.Fatal("a refused deploy changed the stored flows")
	}
	send(t, c, map[string]any{"topic": "inject", "data": map[string]any{"id": "in1", "req": "i1"}})
	if a := answer(t, c, "inject-result"); !a.OK || a.Req != "i1" {
		t.Fatalf("the old flows stopped after a refused deploy: %+v", a)
	}

	// Missing or mistyped fields are answered, not fatal.
	for _, m := range []map[string]any{
		{"topic": "deploy", "data": map[string]any{"type": "full", "rev": rev, "flows": []any{}}},
		{"topic": "deploy", "data": map[string]any{"req": "x", "rev": rev, "flows": "nope"}},
		{"topic": "deploy", "data": map[string]any{"req": "x", "flows": []any{}}},
		{"topic": "deploy", "data": map[string]any{"req": "x", "rev": rev, "type": "sideways", "flows": []any{}}},
		{"topic": "deploy", "data": map[string]any{"req": 5}},
		{"topic": "deploy", "data": "flows"},
	} {
		send(t, c, m)
		if a := answer(t, c, "deploy-result"); a.OK || a.Code != "bad_request" || a.Message == "" {
			t.Fatalf("%v: %+v", m, a)
		}
	}
	// reload restarts the stored flows.
	send(t, c, map[string]any{"topic": "deploy", "data": map[string]any{"req": "r5", "type": "reload", "rev": rev}})
	if a := answer(t, c, "deploy-result"); !a.OK || a.Rev != rev {
		t.Fatalf("reload: %+v", a)
	}
}

func TestWSInjectAndDebugState(t *testing.T) {
	ts := newTestServer(t, Options{})
	c := dial(t, ts, nil)
	send(t, c, map[string]any{"topic": "debug-state", "data": map[string]any{"id": "dbg1", "enabled": false, "req": "d1"}})
	if a := answer(t, c, "debug-state-result"); !a.OK || a.ID != "dbg1" {
		t.Fatalf("disable: %+v", a)
	}
	send(t, c, map[string]any{"topic": "inject", "data": map[string]any{"id": "in1"}})
	if a := answer(t, c, "inject-result"); !a.OK {
		t.Fatalf("inject: %+v", a)
	}
	send(t, c, map[string]any{"topic": "debug-state", "data": map[string]any{"id": "dbg1", "enabled": true}})
	answer(t, c, "debug-state-result")
	send(t, c, map[string]any{"topic": "inject", "data": map[string]any{"id": "in1"}})
	var d struct{ Msg string }
	if err := json.Unmarshal(next(t, c, "debug"), &d); err != nil || d.Msg != "hello" {
		t.Fatalf("debug after enable: %+v %v", d, err)
	}
	answer(t, c, "inject-result")
	for _, tc := range []struct {
		topic string
		data  map[string]any
		code  string
	}{
		{"inject", map[string]any{"id": "dbg1"}, "bad_request"},
		{"inject", map[string]any{"id": "nope"}, "not_found"},
		{"inject", map[string]any{}, "bad_request"},
		{"debug-state", map[string]any{"id": "in1", "enabled": true}, "not_found"},
		{"debug-state", map[string]any{"id": "dbg1"}, "bad_request"},
	} {
		send(t, c, map[string]any{"topic": tc.topic, "data": tc.data})
		if a := answer(t, c, tc.topic+"-result"); a.OK || a.Code != tc.code {
			t.Errorf("%s %v: %+v, want %s", tc.topic, tc.data, a, tc.code)
		}
	}
}

func TestWSBadMessagesCloseTheSocket(t *testing.T) {
	ts := newTestServer(t, Options{MaxRequest: 1 << 10})
	for _, tc := range []struct {
		name   string
		frame  int
		body   string
		code   int
		reason string
	}{
		{"binary", websocket.BinaryMessage, `{}`, websocket.CloseUnsupportedData, "binary frames are not accepted"},
		{"not json", websocket.TextMessage, `deploy please`, websocket.CloseInvalidFramePayloadData, "message is not a JSON object"},
		{"array", websocket.TextMessage, `[1,2]`, websocket.CloseInvalidFramePayloadData, "message is not a JSON object"},
		{"unknown topic", websocket.TextMessage, `{"topic":"deplo","data":{}}`, websocket.CloseInvalidFramePayloadData, `unknown topic "deplo"`},
		{"no topic", websocket.TextMessage, `{"data":{}}`, websocket.CloseInvalidFramePayloadData, "message has neither topic, subscribe nor auth"},
		{"topic type", websocket.TextMessage, `{"topic":5}`, websocket.CloseInvalidFramePayloadData, "topic must be a string"},
		{"too big", websocket.TextMessage, `{"topic":"deploy","data":"` + strings.Repeat("x", 2000) + `"}`, websocket.CloseMessageTooBig, "message larger than 1024 bytes"},
	} {
		c := dial(t, ts, nil)
		if err := c.WriteMessage(tc.frame, []byte(tc.body)); err != nil {
			t.Fatal(err)
		}
		code, reason := closedWith(t, c)
		if code != tc.code || !strings.Contains(reason, tc.reason) {
			t.Errorf("%s: closed %d %q, want %d %q", tc.name, code, reason, tc.code, tc.reason)
		}
	}
	// The server lives on.
	c := dial(t, ts, nil)
	send(t, c, map[string]any{"subscribe": "debug"})
	send(t, c, map[string]any{"topic": "inject", "data": map[string]any{"id": "in1"}})
	if a := answer(t, c, "inject-result"); !a.OK {
		t.Fatalf("after bad clients: %+v", a)
	}
	if code, _ := ts.do(t, "POST", "/flows", `[`+strings.Repeat(" ", 2000)+`]`); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("REST body over apiMaxLength: %d", code)
	}
}

func TestReadonlyRefusesDeploys(t *testing.T) {
	ts := newTestServer(t, Options{ReadOnly: true})
	c := dial(t, ts, nil)
	send(t, c, deployMsg("r1", "full", revision([]byte(testFlows)), testFlows, false))
	if a := answer(t, c, "deploy-result"); a.OK || a.Code != "readonly" || !strings.Contains(a.Message, "read-only") {
		t.Fatalf("ws deploy on a read-only server: %+v", a)
	}
	code, body := ts.do(t, "POST", "/flows", testFlows)
	if code != http.StatusForbidden || !strings.Contains(string(body), `"readonly"`) {
		t.Fatalf("REST deploy on a read-only server: %d %s", code, body)
	}
	if code, _ := ts.do(t, "POST", "/flows/state", `{"state":"stop"}`); code != http.StatusForbidden {
		t.Fatalf("stop on a read-only server: %d", code)
	}
	if code, _ := ts.do(t, "POST", "/inject/in1", ""); code != 200 {
		t.Fatalf("flows do not run on a read-only server: %d", code)
	}
	var st struct{ FlowsReadonly bool }
	_, body = ts.do(t, "GET", "/settings", "")
	if err := json.Unmarshal(body, &st); err != nil || !st.FlowsReadonly {
		t.Fatalf("settings: %s", body)
	}
}

func TestAllowedOrigins(t *testing.T) {
	ts := newTestServer(t, Options{AllowedOrigins: []string{"https://ops.example.com"}})
	dial(t, ts, http.Header{"Origin": {"https://ops.example.com"}})
	_, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/comms", http.Header{"Origin": {"https://ops.example.com.evil.net"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("look-alike origin was accepted: %v", err)
	}
}
