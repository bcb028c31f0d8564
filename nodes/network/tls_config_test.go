package network

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// testPKI makes a CA and a server certificate for 127.0.0.1 signed by it.
func testPKI(t *testing.T) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "server"}, DNSNames: []string{"server.test"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &k.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(k)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
}

func tlsNode(t *testing.T, cfg string, creds map[string]string, env map[string]string) *tlsConfigNode {
	t.Helper()
	v, err := msg.UnmarshalString(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n, err := newTLSConfig(&node.Config{Raw: v.(*msg.Object), Creds: creds, Env: func(name string) (any, bool) {
		s, ok := env[name]
		return s, ok
	}})
	if err != nil {
		t.Fatal(err)
	}
	return n.(*tlsConfigNode)
}

// handshake dials a TLS server presenting cert and reports the client's
// verdict.
func handshake(t *testing.T, conf *tls.Config, certPEM, keyPEM []byte) error {
	t.Helper()
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}, NextProtos: []string{"mqtt"}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	c, err := tls.Dial("tcp", l.Addr().String(), conf)
	if err == nil {
		c.Close()
	}
	return err
}

func TestTLSConfigNode(t *testing.T) {
	caPEM, certPEM, keyPEM := testPKI(t)
	otherCA, _, _ := testPKI(t)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caFile, certFile, keyFile := write("ca.pem", caPEM), write("cert.pem", certPEM), write("key.pem", keyPEM)

	// Files, with a client certificate; the CA is the only root.
	n := tlsNode(t, `{"cert":" `+certFile+` ","key":"`+keyFile+`","ca":"`+caFile+`","servername":"server.test","alpnprotocol":"mqtt"}`, nil, nil)
	conf, err := n.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	if len(conf.Certificates) != 1 || conf.ServerName != "server.test" || conf.NextProtos[0] != "mqtt" || conf.InsecureSkipVerify {
		t.Fatalf("config %+v", conf)
	}
	if err := handshake(t, conf, certPEM, keyPEM); err != nil {
		t.Fatalf("verified handshake: %v", err)
	}
	// Credentials hold the PEM text when there are no paths.
	n = tlsNode(t, `{"verifyservercert":true}`, map[string]string{"cadata": string(otherCA)}, nil)
	conf, _ = n.TLSConfig()
	if err := handshake(t, conf, certPEM, keyPEM); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Fatalf("a server signed by another CA must fail: %v", err)
	}
	// verifyservercert false accepts anything.
	n = tlsNode(t, `{"verifyservercert":false}`, map[string]string{"cadata": string(otherCA)}, nil)
	conf, _ = n.TLSConfig()
	if err := handshake(t, conf, certPEM, keyPEM); err != nil {
		t.Fatalf("unverified handshake: %v", err)
	}
	// Environment variables.
	n = tlsNode(t, `{"certType":"env","certEnv":"C","keyEnv":"K","caEnv":"${A}"}`, nil, map[string]string{"C": string(certPEM), "K": string(keyPEM), "A": string(caPEM)})
	if conf, err := n.TLSConfig(); err != nil || len(conf.Certificates) != 1 || conf.RootCAs == nil {
		t.Fatalf("env: %v %+v", err, conf)
	}
	// Each caller gets its own copy.
	a, _ := n.TLSConfig()
	a.ServerName = "changed"
	if b, _ := n.TLSConfig(); b.ServerName == "changed" {
		t.Fatal("TLSConfig must return a copy")
	}
}

func TestTLSConfigErrors(t *testing.T) {
	caPEM, certPEM, keyPEM := testPKI(t)
	block, _ := pem.Decode(keyPEM)
	//nolint:staticcheck // legacy encrypted PEM is what the passphrase is for
	enc, err := x509.EncryptPEMBlock(rand.Reader, block.Type, block.Bytes, []byte("pw"), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	encPEM := string(pem.EncodeToMemory(enc))
	for _, c := range []struct {
		cfg   string
		creds map[string]string
		want  string
	}{
		{`{"cert":"/x/cert.pem","key":""}`, nil, "No certificate/key file provided"},
		{`{"cert":"/nonexistent/cert.pem","key":"/nonexistent/key.pem"}`, nil, `property "cert": open /nonexistent/cert.pem`},
		{`{}`, map[string]string{"certdata": string(certPEM)}, "No certificate/key file provided"},
		{`{}`, map[string]string{"cadata": "not pem"}, "CA certificate: no PEM certificate found"},
		{`{"certType":"pfx","p12":"/x.p12"}`, nil, "PKCS#12"},
		{`{}`, map[string]string{"certdata": string(certPEM), "keydata": encPEM}, "no passphrase"},
		{`{}`, map[string]string{"certdata": string(certPEM), "keydata": encPEM, "passphrase": "bad"}, "private key:"},
		{`{}`, map[string]string{"certdata": string(certPEM), "keydata": encPEM, "passphrase": "pw", "cadata": string(caPEM)}, ""},
	} {
		_, err := tlsNode(t, c.cfg, c.creds, nil).TLSConfig()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.cfg, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s %v: error %v, want %q", c.cfg, c.creds["keydata"] != "", err, c.want)
		}
	}
}
