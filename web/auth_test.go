package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/crypto/bcrypt"

	"github.com/sluicehq/sluice/runtime/settings"
)

func testAuth(t *testing.T, def string) *settings.Auth {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return &settings.Auth{Default: def, SessionExpiry: time.Hour, Users: []settings.AuthUser{
		{Username: "admin", Password: string(h), Permissions: "*"},
		{Username: "viewer", Password: string(h), Permissions: "read"},
	}}
}

func login(t *testing.T, ts *testServer, user, pass string) (int, string) {
	t.Helper()
	form := url.Values{"client_id": {"node-red-editor"}, "grant_type": {"password"}, "scope": {"*"}, "username": {user}, "password": {pass}}
	code, body := ts.do(t, "POST", "/auth/token", form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}
	_ = json.Unmarshal(body, &tok)
	if code == 200 && (tok.AccessToken == "" || tok.TokenType != "Bearer" || tok.ExpiresIn != 3600) {
		t.Fatalf("token answer: %s", body)
	}
	return code, tok.AccessToken
}

func TestAdminAuthREST(t *testing.T) {
	ts := newTestServer(t, Options{Auth: testAuth(t, "")})
	_, body := ts.do(t, "GET", "/auth/login", "")
	if !strings.Contains(string(body), `"type":"credentials"`) || !strings.Contains(string(body), `"id":"password"`) {
		t.Fatalf("login scheme: %s", body)
	}
	if code, _ := ts.do(t, "GET", "/flows", ""); code != http.StatusUnauthorized {
		t.Fatalf("GET /flows without a token: %d", code)
	}
	if code, _ := ts.do(t, "POST", "/inject/in1", ""); code != http.StatusUnauthorized {
		t.Fatalf("inject without a token: %d", code)
	}
	if code, _ := login(t, ts, "admin", "wrong"); code != http.StatusForbidden {
		t.Fatalf("wrong password: %d", code)
	}
	if code, _ := login(t, ts, "nobody", "s3cret"); code != http.StatusForbidden {
		t.Fatalf("unknown user: %d", code)
	}
	code, body := ts.do(t, "POST", "/auth/token", `{"client_id":"evil","grant_type":"password","username":"admin","password":"s3cret"}`, "Content-Type", "application/json")
	if code != http.StatusUnauthorized || !strings.Contains(string(body), "invalid_client") {
		t.Fatalf("unknown client: %d %s", code, body)
	}
	_, admin := login(t, ts, "admin", "s3cret")
	_, viewer := login(t, ts, "viewer", "s3cret")
	bearerOf := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

	if code, body := ts.do(t, "GET", "/flows", "", bearerOf(viewer)...); code != 200 || string(body) != testFlows {
		t.Fatalf("viewer reads: %d", code)
	}
	if code, body := ts.do(t, "POST", "/flows", testFlows, bearerOf(viewer)...); code != http.StatusForbidden || !strings.Contains(string(body), "forbidden") {
		t.Fatalf("viewer deploys: %d %s", code, body)
	}
	if code, _ := ts.do(t, "POST", "/inject/in1", "", bearerOf(viewer)...); code != http.StatusForbidden {
		t.Fatalf("viewer injects: %d", code)
	}
	if code, _ := ts.do(t, "DELETE", "/context/global/x", "", bearerOf(viewer)...); code != http.StatusForbidden {
		t.Fatalf("viewer deletes context: %d", code)
	}
	if code, _ := ts.do(t, "POST", "/flows", testFlows, bearerOf(admin)...); code != http.StatusNoContent {
		t.Fatalf("admin deploys: %d", code)
	}
	if code, _ := ts.do(t, "POST", "/inject/in1", "", bearerOf(admin)...); code != 200 {
		t.Fatalf("admin injects: %d", code)
	}
	// A viewer cannot end someone else's session; anyone can end their own.
	if code, _ := ts.do(t, "POST", "/auth/revoke", "token="+admin, append(bearerOf(viewer), "Content-Type", "application/x-www-form-urlencoded")...); code != http.StatusForbidden {
		t.Fatalf("viewer revokes admin: %d", code)
	}
	if code, _ := ts.do(t, "POST", "/auth/revoke", "token="+admin, append(bearerOf(admin), "Content-Type", "application/x-www-form-urlencoded")...); code != 200 {
		t.Fatalf("revoke: %d", code)
	}
	if code, _ := ts.do(t, "GET", "/flows", "", bearerOf(admin)...); code != http.StatusUnauthorized {
		t.Fatalf("revoked token still works: %d", code)
	}
	// The editor page and its login stay reachable.
	if code, _ := ts.do(t, "GET", "/", ""); code != 200 {
		t.Fatalf("editor page behind auth: %d", code)
	}
}

func TestAdminAuthExpiryAndDefault(t *testing.T) {
	ts := newTestServer(t, Options{Auth: testAuth(t, "read")})
	if code, _ := ts.do(t, "GET", "/flows", ""); code != 200 {
		t.Fatalf("anonymous read with default read: %d", code)
	}
	if code, _ := ts.do(t, "POST", "/flows", testFlows); code != http.StatusForbidden {
		t.Fatalf("anonymous deploy with default read: %d", code)
	}
	_, tok := login(t, ts, "admin", "s3cret")
	ts.srv.auth.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if code, _ := ts.do(t, "POST", "/flows", testFlows, "Authorization", "Bearer "+tok); code != http.StatusForbidden {
		t.Fatalf("expired token is still admin: %d", code)
	}
	// Without auth, /auth/login is empty as in Node-RED.
	open := newTestServer(t, Options{})
	if _, body := open.do(t, "GET", "/auth/login", ""); strings.TrimSpace(string(body)) != "{}" {
		t.Fatalf("login without auth: %s", body)
	}
}

func readRaw(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAdminAuthWebsocket(t *testing.T) {
	ts := newTestServer(t, Options{Auth: testAuth(t, "")})
	// No auth message: told so, closed, and nothing else received.
	c := dial(t, ts, nil)
	send(t, c, map[string]any{"subscribe": "debug"})
	if got := readRaw(t, c); got != `{"auth":"fail"}` {
		t.Fatalf("unauthenticated: %s", got)
	}
	if code, reason := closedWith(t, c); code != websocket.ClosePolicyViolation || reason != "authentication required" {
		t.Fatalf("closed %d %q", code, reason)
	}
	c = dial(t, ts, nil)
	send(t, c, map[string]any{"auth": "forged"})
	if got := readRaw(t, c); got != `{"auth":"fail"}` {
		t.Fatalf("bad token: %s", got)
	}
	if code, _ := closedWith(t, c); code != websocket.ClosePolicyViolation {
		t.Fatalf("bad token closed with %d", code)
	}

	_, viewer := login(t, ts, "viewer", "s3cret")
	v := dial(t, ts, nil)
	send(t, v, map[string]any{"auth": viewer})
	if got := readRaw(t, v); got != `{"auth":"ok"}` {
		t.Fatalf("viewer auth: %s", got)
	}
	send(t, v, deployMsg("r1", "full", revision([]byte(testFlows)), testFlows, false))
	if a := answer(t, v, "deploy-result"); a.OK || a.Code != "forbidden" {
		t.Fatalf("viewer deploy: %+v", a)
	}
	send(t, v, map[string]any{"topic": "inject", "data": map[string]any{"id": "in1"}})
	if a := answer(t, v, "inject-result"); a.OK || a.Code != "forbidden" {
		t.Fatalf("viewer inject: %+v", a)
	}

	_, admin := login(t, ts, "admin", "s3cret")
	a := dial(t, ts, nil)
	send(t, a, map[string]any{"auth": admin})
	if got := readRaw(t, a); got != `{"auth":"ok"}` {
		t.Fatalf("admin auth: %s", got)
	}
	send(t, a, deployMsg("r2", "full", revision([]byte(testFlows)), testFlows, false))
	if res := answer(t, a, "deploy-result"); !res.OK {
		t.Fatalf("admin deploy: %+v", res)
	}
	// The viewer still hears events.
	next(t, v, "notification/runtime-deploy")
	// A revoked token stops working on an open socket.
	ts.srv.auth.revoke(admin)
	send(t, a, map[string]any{"topic": "inject", "data": map[string]any{"id": "in1"}})
	if res := answer(t, a, "inject-result"); res.OK || res.Code != "forbidden" {
		t.Fatalf("revoked token on an open socket: %+v", res)
	}
}
