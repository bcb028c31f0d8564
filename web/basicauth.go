package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// BasicAuth is Node-RED's httpNodeAuth / httpStaticAuth: one user whose
// password is kept as a bcrypt hash.
type BasicAuth struct {
	User     string
	PassHash string

	mu sync.Mutex
	ok map[[32]byte]bool // passwords already checked, so bcrypt runs once per password
}

func (b *BasicAuth) allowed(user, pass string) bool {
	if subtle.ConstantTimeCompare([]byte(user), []byte(b.User)) != 1 {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(pass))
		return false
	}
	key := sha256.Sum256([]byte(pass))
	b.mu.Lock()
	if b.ok == nil {
		b.ok = map[[32]byte]bool{}
	}
	good, seen := b.ok[key]
	b.mu.Unlock()
	if seen {
		return good
	}
	good = bcrypt.CompareHashAndPassword([]byte(b.PassHash), []byte(pass)) == nil
	b.mu.Lock()
	if good || len(b.ok) < 1024 {
		b.ok[key] = good
	}
	b.mu.Unlock()
	return good
}

// wrap asks for the user and password before h runs.
func (b *BasicAuth) wrap(h http.Handler) http.Handler {
	if b == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || !b.allowed(u, p) {
			w.Header().Set("WWW-Authenticate", `Basic realm="sluice"`)
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
