package web

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/sluicehq/sluice/runtime/settings"
)

// Permissions as Node-RED's adminAuth names them; Sluice enforces these
// two levels.
const (
	permAll  = "*"
	permRead = "read"
)

func permName(p string) string {
	if p == "" {
		return "none"
	}
	return p
}

// auth holds the access tokens handed out by POST /auth/token. Tokens live
// in memory: a restart logs everyone out, which is what a restart of a
// runtime whose users are in a settings file should do.
type auth struct {
	cfg    *settings.Auth
	mu     sync.Mutex
	tokens map[string]session
	now    func() time.Time
}

type session struct {
	user    string
	perm    string
	expires time.Time
}

// dummyHash keeps a login for an unknown user as slow as one for a known
// user, so response times do not tell which usernames exist.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("sluice"), bcrypt.MinCost)

func newAuth(cfg *settings.Auth) *auth {
	if cfg == nil {
		return nil
	}
	return &auth{cfg: cfg, tokens: map[string]session{}, now: time.Now}
}

// login checks a username and password and issues a token.
func (a *auth) login(username, password, scope string) (string, session, bool) {
	var user *settings.AuthUser
	for i := range a.cfg.Users {
		if a.cfg.Users[i].Username == username {
			user = &a.cfg.Users[i]
		}
	}
	if user == nil {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return "", session{}, false
	}
	if bcrypt.CompareHashAndPassword([]byte(user.Password), []byte(password)) != nil {
		return "", session{}, false
	}
	perm := user.Permissions
	// A client may ask for less than the user has (scope "read"), never more.
	if scope == permRead {
		perm = permRead
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", session{}, false
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	sess := session{user: username, perm: perm, expires: a.now().Add(a.cfg.SessionExpiry)}
	a.mu.Lock()
	a.tokens[tok] = sess
	for t, s := range a.tokens {
		if a.now().After(s.expires) {
			delete(a.tokens, t)
		}
	}
	a.mu.Unlock()
	return tok, sess, true
}

// check returns the permission of a token; "" when it is unknown, revoked
// or expired.
func (a *auth) check(tok string) string {
	if tok == "" {
		return ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.tokens[tok]
	if !ok {
		return ""
	}
	if a.now().After(s.expires) {
		delete(a.tokens, tok)
		return ""
	}
	return s.perm
}

func (a *auth) revoke(tok string) {
	a.mu.Lock()
	delete(a.tokens, tok)
	a.mu.Unlock()
}

// perm is what a token (possibly none) may do: with no auth configured
// everything; otherwise the token's permission, else adminAuth.default.
func (s *Server) perm(tok string) string {
	if s.auth == nil {
		return permAll
	}
	if p := s.auth.check(tok); p != "" {
		return p
	}
	return s.auth.cfg.Default
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// guard protects an admin route: read routes need any permission, write
// routes "*". Without a valid token (and no default permission) the answer
// is 401, as Node-RED's.
func (s *Server) guard(write bool, h http.HandlerFunc) http.HandlerFunc {
	if s.auth == nil {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		p := s.perm(bearer(r))
		if p == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sluice"`)
			writeJSON(w, http.StatusUnauthorized, apiError{Code: "unauthorized", Message: "log in first: POST /auth/token, then send Authorization: Bearer <token>"})
			return
		}
		if write && p != permAll {
			writeJSON(w, http.StatusForbidden, apiError{Code: "forbidden", Message: "your permissions (" + permName(p) + ") allow reading only"})
			return
		}
		h(w, r)
	}
}

// getLogin describes the login scheme, as Node-RED's GET /auth/login: {}
// when there is no auth.
func (s *Server) getLogin(w http.ResponseWriter, r *http.Request) {
	if s.auth == nil {
		writeJSON(w, http.StatusOK, map[string]any{})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"type": "credentials",
		"prompts": []map[string]string{
			{"id": "username", "type": "text", "label": "user.username"},
			{"id": "password", "type": "password", "label": "user.password"},
		},
	})
}

// formOrJSON reads the fields of a form-encoded or JSON body.
func parseQuery(s string) (url.Values, error) { return url.ParseQuery(s) }

func formOrJSON(r *http.Request) (url.Values, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return nil, err
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, err
		}
		v := url.Values{}
		for k, x := range m {
			if s, ok := x.(string); ok {
				v.Set(k, s)
			}
		}
		return v, nil
	}
	return url.ParseQuery(string(body))
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// postToken is Node-RED's OAuth2 password grant: client_id node-red-editor
// (or node-red-admin), grant_type password, scope "*" or "read", username,
// password. It answers {access_token, expires_in, token_type}.
func (s *Server) postToken(w http.ResponseWriter, r *http.Request) {
	if s.auth == nil {
		oauthError(w, http.StatusNotFound, "unsupported", "this server has no adminAuth: no login is needed")
		return
	}
	f, err := formOrJSON(r)
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "body must be form-encoded or JSON: "+err.Error())
		return
	}
	switch f.Get("client_id") {
	case "node-red-editor", "node-red-admin":
	default:
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client_id must be node-red-editor or node-red-admin")
		return
	}
	if f.Get("grant_type") != "password" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be password")
		return
	}
	tok, sess, ok := s.auth.login(f.Get("username"), f.Get("password"), f.Get("scope"))
	if !ok {
		s.opts.Logger.Warn("admin login failed", "user", f.Get("username"), "remote", r.RemoteAddr)
		oauthError(w, http.StatusForbidden, "invalid_grant", "wrong username or password")
		return
	}
	s.opts.Logger.Info("admin login", "user", sess.user, "permissions", sess.perm)
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"expires_in":   int64(s.auth.cfg.SessionExpiry / time.Second),
		"token_type":   "Bearer",
	})
}

// postRevoke ends a session: body {token} (form or JSON), sent with the
// token itself as bearer.
func (s *Server) postRevoke(w http.ResponseWriter, r *http.Request) {
	if s.auth == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	own := bearer(r)
	if s.auth.check(own) == "" {
		writeJSON(w, http.StatusUnauthorized, apiError{Code: "unauthorized", Message: "revoke needs a valid bearer token"})
		return
	}
	f, err := formOrJSON(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Code: "invalid_request", Message: err.Error()})
		return
	}
	tok := f.Get("token")
	if tok == "" {
		tok = own
	}
	// Only your own token, or anyone's when you may do everything.
	if tok != own && s.auth.check(own) != permAll {
		writeJSON(w, http.StatusForbidden, apiError{Code: "forbidden", Message: "you may revoke your own token only"})
		return
	}
	s.auth.revoke(tok)
	w.WriteHeader(http.StatusOK)
}
