package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

type tSecret struct{}

func init() {
	node.Register(&node.Spec{Type: "t-secret", Category: "test", Config: true,
		Credentials: []node.Cred{{Name: "user"}, {Name: "password", Password: true}},
		New:         func(cfg *node.Config) (node.Node, error) { return tSecret{}, nil }})
}

func withSecret(creds string) string {
	return strings.Replace(testFlows, "\n]", `,
{"id":"sec","type":"t-secret","name":"db"`+creds+`}
]`, 1)
}

func TestCredentialsNeverGoBack(t *testing.T) {
	ts := newTestServer(t, Options{})
	deploy := func(flows string) {
		t.Helper()
		if code, body := ts.do(t, "POST", "/flows", flows); code != http.StatusNoContent {
			t.Fatalf("deploy: %d %s", code, body)
		}
	}
	stored := func() string {
		c := ts.storedCreds()["sec"]
		if c == nil {
			return "none"
		}
		return string(msg.Marshal(c))
	}
	deploy(withSecret(`,"credentials":{"user":"bob","password":"hunter2"}`))
	if got := stored(); got != `{"user":"bob","password":"hunter2"}` {
		t.Fatalf("stored %s", got)
	}
	if strings.Contains(string(ts.flows()), "hunter2") || strings.Contains(string(ts.flows()), "credentials") {
		t.Fatalf("credentials reached the flow file: %s", ts.flows())
	}
	_, body := ts.do(t, "GET", "/flows", "")
	if strings.Contains(string(body), "hunter2") || strings.Contains(string(body), "bob") {
		t.Fatalf("GET /flows shows a secret: %s", body)
	}
	var flows []map[string]any
	if err := json.Unmarshal(body, &flows); err != nil {
		t.Fatal(err)
	}
	flags := flows[len(flows)-1]["credentials"]
	if b, _ := json.Marshal(flags); string(b) != `{"has_password":true,"has_user":true}` {
		t.Fatalf("flags %s", b)
	}
	// What the editor sends back unchanged keeps the secrets: the flags
	// themselves, __PWRD__, an empty password.
	deploy(strings.Replace(string(body), "\n", "", -1))
	deploy(withSecret(`,"credentials":{"user":"bob","password":"__PWRD__"}`))
	deploy(withSecret(`,"credentials":{"password":""}`))
	deploy(withSecret(``))
	if got := stored(); got != `{"user":"bob","password":"hunter2"}` {
		t.Fatalf("unchanged deploys lost the secret: %s", got)
	}
	deploy(withSecret(`,"credentials":{"password":"correct horse","user":""}`))
	if got := stored(); got != `{"password":"correct horse"}` {
		t.Fatalf("changed: %s", got)
	}
	deploy(withSecret(`,"credentials":{"password":null}`))
	if got := stored(); got != "none" {
		t.Fatalf("deleted: %s", got)
	}
	deploy(withSecret(`,"credentials":{"password":"x"}`))
	deploy(testFlows)
	if got := stored(); got != "none" {
		t.Fatalf("a removed node's credentials stay: %s", got)
	}
	code, body := ts.do(t, "POST", "/flows", withSecret(`,"credentials":"oops"`))
	if code != http.StatusBadRequest || !strings.Contains(string(body), "node sec: credentials must be an object") {
		t.Fatalf("bad credentials: %d %s", code, body)
	}
}

func TestContextAPI(t *testing.T) {
	ts := newTestServer(t, Options{})
	g, _ := ts.eng.ContextScope("global", "")
	store := ts.eng.ContextStores()[0]
	if err := g.Set("count", 5.0, ""); err != nil {
		t.Fatal(err)
	}
	_ = g.Set("name", "pump", "")
	n, ok := ts.eng.ContextScope("node", "in1")
	if !ok {
		t.Fatal("no node context")
	}
	_ = n.Set("seen", msg.ObjectOf("a", 1.0), "")
	f, _ := ts.eng.ContextScope("flow", "t1")
	_ = f.Set("level", []any{1.0, 2.0}, "")

	check := func(path, want string) {
		t.Helper()
		code, body := ts.do(t, "GET", path, "")
		if code != 200 || strings.TrimSpace(string(body)) != want {
			t.Errorf("GET %s: %d %s\nwant %s", path, code, body, want)
		}
	}
	check("/context/global", `{"`+store+`":{"count":{"format":"number","msg":"5"},"name":{"format":"string[4]","msg":"pump"}}}`)
	check("/context/global/count", `{"`+store+`":{"format":"number","msg":"5"}}`)
	check("/context/global/missing", `{}`)
	check("/context/node/in1", `{"`+store+`":{"seen":{"format":"Object","msg":"{\"a\":1}"}}}`)
	check("/context/flow/t1/level", `{"`+store+`":{"format":"array[2]","msg":"[1,2]"}}`)
	if code, _ := ts.do(t, "GET", "/context/node/nope", ""); code != http.StatusNotFound {
		t.Errorf("unknown node: %d", code)
	}
	if code, _ := ts.do(t, "GET", "/context/elsewhere", ""); code != http.StatusNotFound {
		t.Errorf("unknown scope: %d", code)
	}
	if code, _ := ts.do(t, "GET", "/context/global?store=nope", ""); code != http.StatusBadRequest {
		t.Errorf("unknown store: %d", code)
	}
	if code, _ := ts.do(t, "DELETE", "/context/global/count", ""); code != http.StatusNoContent {
		t.Errorf("delete: %d", code)
	}
	check("/context/global/count", `{}`)
	if code, _ := ts.do(t, "DELETE", "/context/global", ""); code != http.StatusBadRequest {
		t.Errorf("delete without key: %d", code)
	}
}

func TestFlowsState(t *testing.T) {
	ts := newTestServer(t, Options{})
	c := dial(t, ts, nil)
	check := func(want string) {
		t.Helper()
		_, body := ts.do(t, "GET", "/flows/state", "")
		if strings.TrimSpace(string(body)) != `{"state":"`+want+`"}` {
			t.Fatalf("state %s, want %s", body, want)
		}
	}
	check("start")
	if code, body := ts.do(t, "POST", "/flows/state", `{"state":"stop"}`, "Content-Type", "application/json"); code != 200 || !strings.Contains(string(body), "stop") {
		t.Fatalf("stop: %d %s", code, body)
	}
	check("stop")
	var st struct{ State string }
	if err := json.Unmarshal(next(t, c, "notification/runtime-state"), &st); err != nil || st.State != "stop" {
		t.Fatalf("notification: %+v %v", st, err)
	}
	if code, _ := ts.do(t, "POST", "/inject/in1", ""); code != http.StatusNotFound {
		t.Fatalf("inject into stopped flows: %d", code)
	}
	if code, _ := ts.do(t, "POST", "/flows/state", "state=start", "Content-Type", "application/x-www-form-urlencoded"); code != 200 {
		t.Fatalf("start: %d", code)
	}
	check("start")
	if code, _ := ts.do(t, "POST", "/inject/in1", ""); code != 200 {
		t.Fatalf("inject after start: %d", code)
	}
	if code, _ := ts.do(t, "POST", "/flows/state", `{"state":"pause"}`); code != http.StatusBadRequest {
		t.Fatalf("bad state: %d", code)
	}
}
