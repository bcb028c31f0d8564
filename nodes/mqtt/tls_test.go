package mqtt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	_ "github.com/sluicehq/sluice/nodes/network" // tls-config
	"github.com/sluicehq/sluice/runtime/msg"
)

// pki is a CA with a server and a client certificate, made for the test.
type pki struct {
	dir                               string
	caPEM, serverPEM, serverKey       []byte
	clientPEM, clientKey              []byte
	caFile, serverFile, serverKeyFile string
	clientFile, clientKeyFile         string
	otherCAPEM                        []byte
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir()}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sluice test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	p.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage) ([]byte, []byte) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kd, _ := x509.MarshalECPrivateKey(k)
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
	}
	p.serverPEM, p.serverKey = leaf(2, "localhost", x509.ExtKeyUsageServerAuth)
	p.clientPEM, p.clientKey = leaf(3, "sluice client", x509.ExtKeyUsageClientAuth)
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &otherKey.PublicKey, otherKey)
	p.otherCAPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: otherDER})
	write := func(name string, b []byte) string {
		f := filepath.Join(p.dir, name)
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	p.caFile = write("ca.pem", p.caPEM)
	p.serverFile = write("server.pem", p.serverPEM)
	p.serverKeyFile = write("server.key", p.serverKey)
	p.clientFile = write("client.pem", p.clientPEM)
	p.clientKeyFile = write("client.key", p.clientKey)
	return p
}

func TestTLS(t *testing.T) {
	p := newPKI(t)
	m := startMosquitto(t, "cafile "+p.caFile+"\ncertfile "+p.serverFile+"\nkeyfile "+p.serverKeyFile+"\nrequire_certificate true")
	h := newHarness(t)
	port := strconv.Itoa(m.port)
	creds := map[string]map[string]string{
		"Tcreds": {"cadata": string(p.caPEM), "certdata": string(p.clientPEM), "keydata": string(p.clientKey)},
		"Twrong": {"cadata": string(p.otherCAPEM), "certdata": string(p.clientPEM), "keydata": string(p.clientKey)},
	}
	h.deploy(`
		{"id":"Tfiles","type":"tls-config","cert":"`+p.clientFile+`","key":"`+p.clientKeyFile+`","ca":"`+p.caFile+`","verifyservercert":true},
		{"id":"Tcreds","type":"tls-config","verifyservercert":true,"servername":"localhost"},
		{"id":"Twrong","type":"tls-config","verifyservercert":true},
		{"id":"B1","type":"mqtt-broker","broker":"127.0.0.1","port":`+port+`,"usetls":true,"tls":"Tfiles"},
		{"id":"B2","type":"mqtt-broker","broker":"mqtts://localhost:`+port+`","usetls":true,"tls":"Tcreds","protocolVersion":"5"},
		{"id":"B3","type":"mqtt-broker","broker":"127.0.0.1","port":`+port+`,"usetls":true,"tls":"Twrong"},
		{"id":"in","type":"mqtt in","z":"tab","topic":"tls/#","qos":"1","datatype":"utf8","broker":"B1","wires":[["sink"]]},
		{"id":"out","type":"mqtt out","z":"tab","topic":"tls/x","qos":"1","broker":"B2"},
		{"id":"bad","type":"mqtt out","z":"tab","topic":"tls/x","broker":"B3"},
		{"id":"sink","type":"mqtest-sink","z":"tab"}`, creds)
	h.waitStatus("in", "connected", 5*time.Second)
	h.waitStatus("out", "connected", 5*time.Second)
	h.inject("out", `{"payload":"secret"}`)
	if got := h.next("sink", 5*time.Second); got.Value("payload") != "secret" {
		t.Fatalf("over TLS: %s", msg.Marshal(got))
	}
	st := h.waitStatus("bad", "certificate", 5*time.Second)
	if st.Fill != "red" {
		t.Fatalf("wrong CA status %+v", st)
	}
}
