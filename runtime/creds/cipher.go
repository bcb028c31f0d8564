package creds

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/sluicehq/sluice/runtime/msg"
)

var (
	// ErrWrongSecret: the file is encrypted and the secret does not open it.
	// AES-CTR has no integrity check, so "does not open" means the plaintext
	// is not the JSON object Node-RED wrote.
	ErrWrongSecret = errors.New("cannot decrypt: the credentialSecret is not the one this file was encrypted with")
	// ErrEncrypted: the file is encrypted but encryption is off
	// (credentialSecret: false) or no secret was given.
	ErrEncrypted = errors.New("the file is encrypted but no credentialSecret was given to decrypt it (credentialSecret is false or unset)")
)

// ivHexLen is the length of the hex-encoded 16-byte IV that starts "$".
const ivHexLen = 32

func key(secret string) []byte {
	k := sha256.Sum256([]byte(secret))
	return k[:]
}

// parseFile reads a credentials file's JSON. Empty files hold no
// credentials (Node-RED treats them so too).
func parseFile(data []byte) (*msg.Object, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(data)) == 0 {
		return msg.NewObject(0), nil
	}
	v, err := msg.Unmarshal(data)
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	o, ok := v.(*msg.Object)
	if !ok {
		return nil, fmt.Errorf("not a JSON object but %s", jsonKind(v))
	}
	return o, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "an object"
}

// encrypted is Node-RED's test: a "$" property means ciphertext.
func encrypted(o *msg.Object) bool { return o.Has("$") }

func decrypt(o *msg.Object, secret string) (*msg.Object, error) {
	s, ok := o.Value("$").(string)
	if !ok || len(s) < ivHexLen {
		return nil, fmt.Errorf(`"$" must be a string of %d hex digits (the IV) followed by base64 ciphertext`, ivHexLen)
	}
	iv, err := hex.DecodeString(s[:ivHexLen])
	if err != nil {
		return nil, fmt.Errorf(`"$" does not start with a %d hex digit IV: %w`, ivHexLen, err)
	}
	ct, err := decodeBase64(s[ivHexLen:])
	if err != nil {
		return nil, fmt.Errorf(`"$" ciphertext is not base64: %w`, err)
	}
	block, err := aes.NewCipher(key(secret))
	if err != nil {
		return nil, err
	}
	plain := make([]byte, len(ct))
	cipher.NewCTR(block, iv).XORKeyStream(plain, ct)
	if !utf8.Valid(plain) {
		return nil, ErrWrongSecret
	}
	v, err := msg.Unmarshal(plain)
	if err != nil {
		return nil, ErrWrongSecret
	}
	res, ok := v.(*msg.Object)
	if !ok {
		return nil, ErrWrongSecret
	}
	return res, nil
}

// decodeBase64 accepts what Node's lenient decoder does in practice:
// padding optional, line breaks ignored.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

func encrypt(plain []byte, secret string) (string, error) {
	iv := make([]byte, aes.BlockSize)
	if _, err := rand.Read(iv); err != nil {
		return "", err
	}
	block, err := aes.NewCipher(key(secret))
	if err != nil {
		return "", err
	}
	ct := make([]byte, len(plain))
	cipher.NewCTR(block, iv).XORKeyStream(ct, plain)
	return hex.EncodeToString(iv) + base64.StdEncoding.EncodeToString(ct), nil
}

// toCreds checks that every node's credentials are an object.
func toCreds(o *msg.Object) (Creds, error) {
	c := make(Creds, o.Len())
	for i := 0; i < o.Len(); i++ {
		id, v := o.At(i)
		fields, ok := v.(*msg.Object)
		if !ok {
			return nil, fmt.Errorf("credentials of node %q are %s, not an object", id, jsonKind(v))
		}
		c[id] = fields
	}
	return c, nil
}

// Decode parses the contents of a credentials file. With secret "" the file
// must be plain JSON (ErrEncrypted otherwise). With a secret, an encrypted
// file is decrypted; a plain one is accepted as is, as Node-RED does when a
// secret is first set on an unencrypted install.
func Decode(data []byte, secret string) (Creds, error) {
	o, err := parseFile(data)
	if err != nil {
		return nil, err
	}
	if encrypted(o) {
		if secret == "" {
			return nil, ErrEncrypted
		}
		if o, err = decrypt(o, secret); err != nil {
			return nil, err
		}
	}
	return toCreds(o)
}

// Encode renders c as a credentials file: encrypted with secret, or plain
// JSON when secret is "". pretty indents by four spaces, as Node-RED does
// with flowFilePretty.
func Encode(c Creds, secret string, pretty bool) ([]byte, error) {
	o := msg.NewObject(len(c))
	for _, id := range c.IDs() {
		if c[id] != nil {
			o.Set(id, c[id])
		}
	}
	var out *msg.Object
	if secret == "" {
		out = o
	} else {
		s, err := encrypt(msg.Marshal(o), secret)
		if err != nil {
			return nil, err
		}
		out = msg.ObjectOf("$", s)
	}
	if pretty {
		return msg.MarshalIndent(out, "    "), nil
	}
	return msg.Marshal(out), nil
}
