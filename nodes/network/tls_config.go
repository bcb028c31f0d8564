package network

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "tls-config", Category: "config", Config: true,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "certType", Kind: node.KindString, Default: "files", Options: []string{"files", "env", "pfx"}, Label: "Cert Type"},
			{Name: "cert", Kind: node.KindString, Default: "", Label: "Certificate"},
			{Name: "key", Kind: node.KindString, Default: "", Label: "Private Key"},
			{Name: "ca", Kind: node.KindString, Default: "", Label: "CA Certificate"},
			{Name: "p12", Kind: node.KindString, Default: ""},
			{Name: "certname", Kind: node.KindString, Default: ""},
			{Name: "keyname", Kind: node.KindString, Default: ""},
			{Name: "caname", Kind: node.KindString, Default: ""},
			{Name: "p12name", Kind: node.KindString, Default: ""},
			{Name: "certEnv", Kind: node.KindString, Default: ""},
			{Name: "keyEnv", Kind: node.KindString, Default: ""},
			{Name: "caEnv", Kind: node.KindString, Default: ""},
			{Name: "servername", Kind: node.KindString, Default: "", Label: "Server Name"},
			{Name: "verifyservercert", Kind: node.KindBool, Default: true, Label: "Verify server certificate"},
			{Name: "alpnprotocol", Kind: node.KindString, Default: "", Label: "ALPN Protocol"},
		},
		Credentials: []node.Cred{{Name: "certdata"}, {Name: "keydata"}, {Name: "cadata"}, {Name: "p12data"}, {Name: "passphrase", Password: true}},
		Help:        tlsHelp,
		New:         newTLSConfig,
	})
}

const tlsHelp = "TLS settings for the nodes that connect or listen securely (MQTT, websocket, HTTP).\n\n" +
	"Certificates and keys are PEM: `cert`, `key` and `ca` are file paths read at deploy; without paths the " +
	"`certdata`, `keydata` and `cadata` credentials hold the PEM text (what the editor's upload stores); with " +
	"`certType` `\"env\"`, `certEnv`, `keyEnv` and `caEnv` name environment variables that hold it. A certificate " +
	"needs its key. `passphrase` unlocks an encrypted (legacy PEM) key. A CA replaces the system's roots.\n\n" +
	"`servername` is the name sent for SNI and checked in the server's certificate; `verifyservercert` false " +
	"accepts any server certificate; `alpnprotocol` is offered with ALPN.\n\n" +
	"PKCS#12 (`pfx`/`p12`) files are not supported: convert them to PEM."

// tlsConfigNode is a tls-config node: the TLS settings, built once at
// deploy, or why they could not be.
type tlsConfigNode struct {
	conf *tls.Config
	err  error
}

// TLSConfig returns a copy of the settings for the caller to use or adjust.
func (t *tlsConfigNode) TLSConfig() (*tls.Config, error) {
	if t.err != nil {
		return nil, t.err
	}
	return t.conf.Clone(), nil
}

// Start reports settings that cannot work; the nodes using them report it
// again when they try.
func (t *tlsConfigNode) Start(c node.Ctx) error {
	if t.err != nil {
		c.Error(t.err, nil)
	}
	return nil
}

func newTLSConfig(cfg *node.Config) (node.Node, error) {
	conf, err := buildTLS(cfg)
	return &tlsConfigNode{conf: conf, err: err}, nil
}

func buildTLS(cfg *node.Config) (*tls.Config, error) {
	conf := &tls.Config{
		ServerName: strings.TrimSpace(cfg.Str("servername")),
		// Node's TLS checks the certificate unless told false outright.
		InsecureSkipVerify: cfg.Get("verifyservercert") == false, //nolint:gosec // the user's choice, as in Node-RED
	}
	if alpn := strings.TrimSpace(cfg.Str("alpnprotocol")); alpn != "" {
		conf.NextProtos = []string{alpn}
	}
	var cert, key, ca []byte
	creds := cfg.Creds
	switch cfg.StrOr("certType", "files") {
	case "pfx":
		return nil, errors.New("PKCS#12 (pfx/p12) certificates are not supported; convert them to PEM files")
	case "env":
		get := func(prop string) []byte {
			name := cfg.Str(prop)
			if name == "" || cfg.Env == nil {
				return nil
			}
			name = strings.TrimSuffix(strings.TrimPrefix(name, "${"), "}")
			if v, ok := cfg.Env(name); ok && v != nil && !msg.IsUndefined(v) {
				return []byte(msg.ToString(v))
			}
			return nil
		}
		cert, key, ca = get("certEnv"), get("keyEnv"), get("caEnv")
	default:
		certPath := strings.TrimSpace(cfg.Str("cert"))
		keyPath := strings.TrimSpace(cfg.Str("key"))
		caPath := strings.TrimSpace(cfg.Str("ca"))
		if certPath != "" || keyPath != "" || caPath != "" {
			if (certPath != "") != (keyPath != "") {
				return nil, errors.New("No certificate/key file provided")
			}
			read := func(prop, path string) ([]byte, error) {
				if path == "" {
					return nil, nil
				}
				b, err := os.ReadFile(path)
				if err != nil {
					return nil, fmt.Errorf("property %q: %w", prop, err)
				}
				return b, nil
			}
			var err error
			if cert, err = read("cert", certPath); err != nil {
				return nil, err
			}
			if key, err = read("key", keyPath); err != nil {
				return nil, err
			}
			if ca, err = read("ca", caPath); err != nil {
				return nil, err
			}
		} else {
			cert, key, ca = []byte(creds["certdata"]), []byte(creds["keydata"]), []byte(creds["cadata"])
			if creds["p12data"] != "" {
				return nil, errors.New("PKCS#12 (pfx/p12) certificates are not supported; convert them to PEM")
			}
			if (len(cert) > 0) != (len(key) > 0) {
				return nil, errors.New("No certificate/key file provided")
			}
		}
	}
	if len(cert) > 0 && len(key) > 0 {
		key, err := decryptKey(key, creds["passphrase"])
		if err != nil {
			return nil, err
		}
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("certificate and key: %w", err)
		}
		conf.Certificates = []tls.Certificate{pair}
	}
	if len(ca) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return nil, errors.New("CA certificate: no PEM certificate found")
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

// decryptKey unlocks a legacy encrypted PEM key (Proc-Type: 4,ENCRYPTED)
// with the passphrase; other keys pass through.
func decryptKey(keyPEM []byte, passphrase string) ([]byte, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return keyPEM, nil
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" {
		return nil, errors.New("private key: encrypted PKCS#8 keys are not supported; use an unencrypted key or a legacy encrypted PEM key")
	}
	//nolint:staticcheck // legacy PEM encryption is what such keys use; there is no replacement in the standard library
	if !x509.IsEncryptedPEMBlock(block) {
		return keyPEM, nil
	}
	if passphrase == "" {
		return nil, errors.New("private key is encrypted and no passphrase is set")
	}
	//nolint:staticcheck // see above
	der, err := x509.DecryptPEMBlock(block, []byte(passphrase))
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: der}), nil
}
