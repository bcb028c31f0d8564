package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	_ "github.com/sluicehq/sluice/nodes/core"
	"github.com/sluicehq/sluice/runtime/creds"
	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/flow"
	"github.com/sluicehq/sluice/runtime/msg"
)

const testFlows = `[
{"id":"t1","type":"tab","label":"Flow 1"},
{"id":"in1","type":"inject","z":"t1","props":[{"p":"payload"}],"payload":"hello","payloadType":"str","repeat":"","once":false,"x":100,"y":80,"wires":[["dbg1"]]},
{"id":"dbg1","type":"debug","z":"t1","name":"out","active":true,"tosidebar":true,"tostatus":true,"complete":"payload","targetType":"msg","statusType":"auto","x":300,"y":80,"wires":[]}
]`

type testServer struct {
	*httptest.Server
	eng   *engine.Engine
	srv   *Server
	mu    sync.Mutex
	cur   []byte
	creds creds.Creds
	types []string // deployment types seen
}

func (ts *testServer) storedCreds() creds.Creds {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.creds
}

func (ts *testServer) flows() []byte {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.cur
}

func newTestServer(t *testing.T, opts Options) *testServer {
	t.Helper()
	eng, err := engine.New(engine.Options{UserDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{eng: eng, cur: []byte(testFlows)}
	if err := eng.Deploy(ts.cur); err != nil {
		t.Fatal(err)
	}
	opts.AdminRoot = "/"
	opts.CurrentFlows = ts.flows
	opts.Credentials = ts.storedCreds
	opts.Deploy = func(d Deployment) error {
		set, err := flow.Parse(d.Flows)
		if err != nil {
			return err
		}
		cm := map[string]map[string]string{}
		for id := range d.Creds {
			cm[id] = d.Creds.Strings(id)
		}
		if err := eng.Redeploy(set, cm, d.Type); err != nil {
			return err
		}
		ts.mu.Lock()
		ts.cur = d.Flows
		ts.creds = d.Creds
		ts.types = append(ts.types, d.Type)
		ts.mu.Unlock()
		return nil
	}
	srv := New(eng, opts)
	ts.srv = srv
	ts.Server = httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		if srv.hub != nil {
			srv.hub.close()
		}
		_ = eng.Close(context.Background())
	})
	return ts
}

func (ts *testServer) do(t *testing.T, method, path, body string, hdr ...string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestGetFlowsV1AndV2(t *testing.T) {
	ts := newTestServer(t, Options{})
	code, body := ts.do(t, "GET", "/flows", "")
	if code != 200 || string(body) != testFlows {
		t.Fatalf("v1: %d %s", code, body)
	}
	code, body = ts.do(t, "GET", "/flows", "", "Node-RED-API-Version", "v2")
	var v2 struct {
		Rev   string            `json:"rev"`
		Flows []json.RawMessage `json:"flows"`
	}
	if err := json.Unmarshal(body, &v2); err != nil || code != 200 {
		t.Fatalf("v2: %d %s %v", code, body, err)
	}
	if v2.Rev != revision([]byte(testFlows)) || len(v2.Flows) != 3 {
		t.Fatalf("v2: rev %q, %d flows", v2.Rev, len(v2.Flows))
	}
}

func TestDeployChecksRevisionAndRefusesInvalidSets(t *testing.T) {
	ts := newTestServer(t, Options{})
	rev := revision([]byte(testFlows))
	next := strings.Replace(testFlows, `"name":"out"`, `"name":"renamed"`, 1)

	code, body := ts.do(t, "POST", "/flows", `{"rev":"stale","flows":`+next+`}`, "Node-RED-API-Version", "v2")
	if code != http.StatusConflict || !strings.Contains(string(body), "version_mismatch") {
		t.Fatalf("stale revision: %d %s", code, body)
	}

	bad := `[{"id":"t1","type":"tab"},
	{"id":"a","type":"inject","z":"t1","repeat":"often","wires":[]},
	{"id":"b","type":"debug","z":"t1","targetType":"jsonata","complete":"$$$(","wires":[]},
	{"id":"c","type":"no-such-type","z":"t1","wires":[]}]`
	code, body = ts.do(t, "POST", "/flows", bad, "Node-RED-Deployment-Type", "full")
	if code != http.StatusBadRequest {
		t.Fatalf("invalid set: %d %s", code, body)
	}
	var e apiError
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, p := range e.Problems {
		if p.Severity == "error" {
			ids[p.ID] = true
		}
	}
	if e.Code != "invalid_flows" || !ids["c"] {
		t.Fatalf("problems do not name every bad node: %s", body)
	}
	if string(ts.flows()) != testFlows {
		t.Fatal("a refused deploy changed the flows")
	}
	if code, _ := ts.do(t, "POST", "/inject/in1", ""); code != 200 {
		t.Fatalf("running flows were stopped by a refused deploy: inject answered %d", code)
	}

	code, body = ts.do(t, "POST", "/flows", `{"rev":"`+rev+`","flows":`+next+`}`, "Node-RED-API-Version", "v2", "Node-RED-Deployment-Type", "nodes")
	if code != 200 || !strings.Contains(string(body), revision([]byte(next))) {
		t.Fatalf("deploy: %d %s", code, body)
	}
	if string(ts.flows()) != next {
		t.Fatal("deploy did not store the flows byte for byte")
	}
	code, _ = ts.do(t, "POST", "/flows", testFlows)
	if code != http.StatusNoContent {
		t.Fatalf("v1 deploy: %d", code)
	}
	code, _ = ts.do(t, "POST", "/flows", testFlows, "Node-RED-Deployment-Type", "sideways")
	if code != http.StatusBadRequest {
		t.Fatalf("unknown deployment type: %d", code)
	}
}

func TestNodesServesSpecs(t *testing.T) {
	ts := newTestServer(t, Options{})
	code, body := ts.do(t, "GET", "/nodes", "", "Accept", "application/json")
	var specs []specJSON
	if err := json.Unmarshal(body, &specs); err != nil || code != 200 {
		t.Fatalf("%d %v", code, err)
	}
	var inj *specJSON
	for i := range specs {
		if specs[i].Type == "inject" {
			inj = &specs[i]
		}
	}
	if inj == nil || inj.Outputs != 1 || inj.Inputs != 0 || inj.Category == "" || inj.Help == "" {
		t.Fatalf("inject spec: %+v", inj)
	}
	props := map[string]propJSON{}
	for _, p := range inj.Props {
		props[p.Name] = p
	}
	if props["payloadType"].Default != "date" || props["props"].Default == nil {
		t.Fatalf("inject defaults missing: %+v", inj.Props)
	}
}

func TestInjectRefusesOtherNodes(t *testing.T) {
	ts := newTestServer(t, Options{})
	if code, _ := ts.do(t, "POST", "/inject/dbg1", ""); code != http.StatusBadRequest {
		t.Fatalf("inject into a debug node: %d", code)
	}
	if code, _ := ts.do(t, "POST", "/inject/nope", ""); code != http.StatusNotFound {
		t.Fatalf("inject into a missing node: %d", code)
	}
}

func TestHeadlessHasNoAdminAPI(t *testing.T) {
	ts := newTestServer(t, Options{Headless: true})
	for _, p := range []string{"/flows", "/nodes", "/comms", "/"} {
		if code, _ := ts.do(t, "GET", p, ""); code != http.StatusNotFound {
			t.Errorf("headless GET %s: %d", p, code)
		}
	}
}

func TestEditorPageIsServed(t *testing.T) {
	ts := newTestServer(t, Options{})
	code, body := ts.do(t, "GET", "/", "")
	if code != 200 || !bytes.Contains(body, []byte("<title>Sluice")) {
		t.Fatalf("%d %.200s", code, body)
	}
}

func dial(t *testing.T, ts *testServer, hdr http.Header) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/comms", hdr)
	if err != nil {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		t.Fatalf("dial /comms: %v (HTTP %d)", err, code)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

type wsMsg struct {
	Topic string          `json:"topic"`
	Data  json.RawMessage `json:"data"`
}

// pending keeps what next read past, per socket, so no answer is lost to
// a read that looked for another topic.
var pending = struct {
	sync.Mutex
	m map[*websocket.Conn][]wsMsg
}{m: map[*websocket.Conn][]wsMsg{}}

// next returns the first comms message with the topic, in arrival order.
func next(t *testing.T, c *websocket.Conn, topic string) json.RawMessage {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		pending.Lock()
		q := pending.m[c]
		for i, m := range q {
			if m.Topic == topic {
				pending.m[c] = append(q[:i:i], q[i+1:]...)
				pending.Unlock()
				return m.Data
			}
		}
		pending.Unlock()
		var batch []wsMsg
		if err := c.ReadJSON(&batch); err != nil {
			t.Fatalf("waiting for %s: %v", topic, err)
		}
		pending.Lock()
		pending.m[c] = append(pending.m[c], batch...)
		pending.Unlock()
	}
}

func TestCommsCarriesDebugStatusAndStats(t *testing.T) {
	ts := newTestServer(t, Options{})
	c := dial(t, ts, nil)
	time.Sleep(50 * time.Millisecond) // let the hub register the client
	if code, _ := ts.do(t, "POST", "/inject/in1", ""); code != 200 {
		t.Fatalf("inject: %d", code)
	}
	var d struct {
		ID, Z, Name, Property, Format string
		Msg                           any
	}
	seen := until(t, c, "debug", func(data json.RawMessage) { _ = json.Unmarshal(data, &d) })
	if !seen["status/dbg1"] {
		t.Error("the debug node's status did not come before its message")
	}
	if d.ID != "dbg1" || d.Z != "t1" || d.Msg != "hello" || d.Format != "string[5]" || d.Property != "payload" {
		t.Fatalf("debug message: %+v", d)
	}
	var stats map[string][4]int64
	if err := json.Unmarshal(next(t, c, "stats"), &stats); err != nil {
		t.Fatal(err)
	}
	if stats["in1"][1] != 1 || stats["dbg1"][0] != 1 {
		t.Fatalf("stats: %v", stats)
	}

	// A late joiner learns the current statuses at once.
	late := dial(t, ts, nil)
	var st struct{ Text, Fill, Shape string }
	if err := json.Unmarshal(next(t, late, "status/dbg1"), &st); err != nil || st.Text != "hello" {
		t.Fatalf("late status: %+v %v", st, err)
	}
}

func TestDebugDisableMutesTheSidebar(t *testing.T) {
	ts := newTestServer(t, Options{})
	c := dial(t, ts, nil)
	if code, _ := ts.do(t, "POST", "/debug/dbg1/disable", ""); code != http.StatusCreated {
		t.Fatalf("disable: %d", code)
	}
	// Publish is synchronous up to the client queues, so the muted message
	// is dropped before the next one is published.
	ts.eng.Publish("debug", "dbg1", msg.ObjectOf("id", "dbg1", "msg", "muted"))
	if code, _ := ts.do(t, "POST", "/debug/dbg1/enable", ""); code != http.StatusOK {
		t.Fatalf("enable: %d", code)
	}
	ts.eng.Publish("debug", "dbg1", msg.ObjectOf("id", "dbg1", "msg", "heard"))
	var d struct{ Msg string }
	if err := json.Unmarshal(next(t, c, "debug"), &d); err != nil || d.Msg != "heard" {
		t.Fatalf("first debug message after enable: %+v %v", d, err)
	}
	if code, _ := ts.do(t, "POST", "/debug/in1/disable", ""); code != http.StatusNotFound {
		t.Fatalf("disable on an inject node: %d", code)
	}
}

// until reads comms messages up to one with the topic and reports which
// topics went by.
func until(t *testing.T, c *websocket.Conn, topic string, data func(json.RawMessage)) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		var batch []struct {
			Topic string          `json:"topic"`
			Data  json.RawMessage `json:"data"`
		}
		if err := c.ReadJSON(&batch); err != nil {
			t.Fatalf("waiting for %s: %v", topic, err)
		}
		for _, m := range batch {
			seen[m.Topic] = true
			if m.Topic == topic {
				data(m.Data)
				return seen
			}
		}
	}
}

func TestCommsRefusesCrossSiteOrigin(t *testing.T) {
	ts := newTestServer(t, Options{})
	_, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/comms", http.Header{"Origin": {"http://evil.example"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site websocket was accepted: %v", err)
	}
	dial(t, ts, http.Header{"Origin": {ts.URL}})
}
