package mqttbroker

import (
	"crypto/sha256"
	"sync"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
	"golang.org/x/crypto/bcrypt"
)

// User may connect to the embedded broker: the same users as the editor's
// adminAuth, so a gateway has one list of who may do what.
type User struct {
	Username string
	Hash     string // bcrypt
	// ReadOnly users may subscribe but not publish, as "read" admin users
	// may look at flows but not deploy them.
	ReadOnly bool
}

// Auth is who may use the broker. Anonymous is what a client without a
// username may do: "" (nothing: refused), "read" (subscribe) or "*".
type Auth struct {
	Users     []User
	Anonymous string
}

// authHook checks CONNECT credentials against bcrypt hashes and limits
// read-only clients to subscribing.
type authHook struct {
	mochi.HookBase
	users map[string]User
	anon  string

	// bcrypt costs tens of milliseconds by design; devices reconnect often,
	// so a password once found right is remembered (as a digest).
	mu   sync.Mutex
	good map[[32]byte]bool
}

func newAuthHook(a *Auth) *authHook {
	h := &authHook{users: map[string]User{}, anon: a.Anonymous, good: map[[32]byte]bool{}}
	for _, u := range a.Users {
		h.users[u.Username] = u
	}
	return h
}

func (*authHook) ID() string { return "sluice-auth" }

func (*authHook) Provides(b byte) bool {
	return b == mochi.OnConnectAuthenticate || b == mochi.OnACLCheck
}

func (h *authHook) OnConnectAuthenticate(cl *mochi.Client, pk packets.Packet) bool {
	name := string(pk.Connect.Username)
	if name == "" {
		return h.anon != ""
	}
	u, ok := h.users[name]
	if !ok {
		return false
	}
	key := sha256.Sum256(append(append([]byte(u.Hash), 0), pk.Connect.Password...))
	h.mu.Lock()
	known := h.good[key]
	h.mu.Unlock()
	if known {
		return true
	}
	if bcrypt.CompareHashAndPassword([]byte(u.Hash), pk.Connect.Password) != nil {
		return false
	}
	h.mu.Lock()
	h.good[key] = true
	h.mu.Unlock()
	return true
}

func (h *authHook) OnACLCheck(cl *mochi.Client, topic string, write bool) bool {
	if !write {
		return true
	}
	name := string(cl.Properties.Username)
	if name == "" {
		return h.anon == "*"
	}
	return !h.users[name].ReadOnly
}
