package kafka

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// scramClient is the client side of SCRAM (RFC 5802) for sarama, which
// leaves the mechanism to the application.
type scramClient struct {
	hash     func() hash.Hash
	user     string
	pass     string
	nonce    string
	first    string // client-first-message-bare
	step     int
	serverSg []byte
	done     bool
}

func (s *scramClient) Begin(user, pass, authzID string) error {
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	s.user, s.pass = user, pass
	s.nonce = base64.RawStdEncoding.EncodeToString(b[:])
	s.step, s.done = 0, false
	return nil
}

func scramName(s string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}

func (s *scramClient) Step(challenge string) (string, error) {
	s.step++
	switch s.step {
	case 1:
		s.first = "n=" + scramName(s.user) + ",r=" + s.nonce
		return "n,," + s.first, nil
	case 2:
		return s.final(challenge)
	case 3:
		attrs := scramAttrs(challenge)
		if e, ok := attrs["e"]; ok {
			return "", fmt.Errorf("SCRAM: server refused: %s", e)
		}
		v, err := base64.StdEncoding.DecodeString(attrs["v"])
		if err != nil || subtle.ConstantTimeCompare(v, s.serverSg) != 1 {
			return "", errors.New("SCRAM: the server's signature does not match")
		}
		s.done = true
		return "", nil
	}
	return "", errors.New("SCRAM: unexpected step")
}

func (s *scramClient) final(serverFirst string) (string, error) {
	attrs := scramAttrs(serverFirst)
	r := attrs["r"]
	if !strings.HasPrefix(r, s.nonce) {
		return "", errors.New("SCRAM: server nonce does not extend ours")
	}
	salt, err := base64.StdEncoding.DecodeString(attrs["s"])
	if err != nil {
		return "", fmt.Errorf("SCRAM: bad salt: %w", err)
	}
	iter, err := strconv.Atoi(attrs["i"])
	if err != nil || iter < 1 {
		return "", fmt.Errorf("SCRAM: bad iteration count %q", attrs["i"])
	}
	salted, err := pbkdf2.Key(s.hash, s.pass, salt, iter, s.hash().Size())
	if err != nil {
		return "", err
	}
	clientKey := s.hmac(salted, "Client Key")
	h := s.hash()
	h.Write(clientKey)
	storedKey := h.Sum(nil)
	withoutProof := "c=biws,r=" + r
	authMsg := s.first + "," + serverFirst + "," + withoutProof
	sig := s.hmac(storedKey, authMsg)
	proof := make([]byte, len(clientKey))
	for i := range clientKey {
		proof[i] = clientKey[i] ^ sig[i]
	}
	s.serverSg = s.hmac(s.hmac(salted, "Server Key"), authMsg)
	return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof), nil
}

func (s *scramClient) hmac(key []byte, text string) []byte {
	m := hmac.New(s.hash, key)
	m.Write([]byte(text))
	return m.Sum(nil)
}

func (s *scramClient) Done() bool { return s.done }

func scramAttrs(msg string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(msg, ",") {
		if len(part) >= 2 && part[1] == '=' {
			out[part[:1]] = part[2:]
		}
	}
	return out
}
