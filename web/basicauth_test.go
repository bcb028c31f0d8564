package web

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestNodeRoutesBasicAuth(t *testing.T) {
	h, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	routes := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("hi")) })
	ts := newTestServer(t, Options{NodeRoutes: routes, NodeRoot: "/", NodeAuth: &BasicAuth{User: "u", PassHash: string(h)}, StaticDir: t.TempDir(), StaticAuth: &BasicAuth{User: "u", PassHash: string(h)}})
	for _, tc := range []struct {
		user, pass string
		want       int
	}{{"", "", 401}, {"u", "bad", 401}, {"x", "pw", 401}, {"u", "pw", 200}, {"u", "pw", 200}} {
		req := httptest.NewRequest("GET", ts.URL+"/api/thing", nil)
		req.RequestURI = ""
		if tc.user != "" {
			req.SetBasicAuth(tc.user, tc.pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s/%s: %d, want %d", tc.user, tc.pass, resp.StatusCode, tc.want)
		}
	}
}
