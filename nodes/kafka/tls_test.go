package kafka

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	_ "github.com/sluicehq/sluice/nodes/network" // tls-config
	"github.com/sluicehq/sluice/runtime/msg"
)

// selfSigned returns a server certificate for 127.0.0.1 and its PEM.
func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kfake"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// The broker's tls names a tls-config node whose CA verifies the broker.
func TestTLS(t *testing.T) {
	cert, caPEM := selfSigned(t)
	_, addrs := newCluster(t, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}}), kfake.SeedTopics(1, "sec"))
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	h.deploy(fmt.Sprintf(`{"id":"tlsc","type":"tls-config","ca":%q,"verifyservercert":true},
		{"id":"kb","type":"kafka-broker","brokers":%q,"tls":"tlsc"},
		{"id":"ko","type":"kafka out","z":"tab","broker":"kb","topic":"sec"},
		{"id":"done","type":"complete","z":"tab","scope":["ko"],"wires":[["sink1"]]},
		{"id":"ki","type":"kafka in","z":"tab","broker":"kb","topics":"sec","start":"earliest","wires":[["sink2"]]},
		{"id":"sink1","type":"kt-sink","z":"tab"},
		{"id":"sink2","type":"kt-sink","z":"tab"}`, ca, addrs), nil)
	h.waitStatus("ko", "connected", 10*time.Second)
	m := msg.New()
	m.Set("payload", "over tls")
	h.inject("ko", m.Object)
	h.next("sink1", 10*time.Second)
	if p := h.next("sink2", 15*time.Second).Value("payload"); p != "over tls" {
		t.Fatalf("read back %v", p)
	}
}
