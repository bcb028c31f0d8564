//go:build unix

package opcua

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSecureSignAndEncrypt(t *testing.T) {
	s := sharedServer(t)
	h := run(t, endpointJSON(s.url, `,"secpol":"Basic256Sha256","secmode":"SignAndEncrypt"`), clientJSON("read", ""),
		`{"id":"w","type":"OpcUa-Client","z":"t1","endpoint":"ep","action":"write","wires":[["sinkR"]]}`,
		`{"id":"sub","type":"OpcUa-Client","z":"t1","endpoint":"ep","action":"subscribe","time":100,"timeUnit":"ms","wires":[["sink3"]]}`)
	h.waitStatus("c", "green/dot/session active", 30*time.Second)
	h.inject("w", `{"topic":"ns=1;s=Plant.Line1.Temp;datatype=Double","payload":33.25}`)
	h.next("sinkR", 20*time.Second)
	h.inject("c", `{"topic":"ns=1;s=Plant.Line1.Temp"}`)
	if v := h.next("sink1", 20*time.Second).Value("payload"); v != 33.25 {
		t.Errorf("read %v", v)
	}
	h.inject("sub", `{"topic":"ns=1;s=Counter"}`)
	h.next("sink3", 20*time.Second)
	h.none("sinkErr", 100*time.Millisecond)

	// The generated client certificate is kept in the user directory and
	// names the application URI in its URI SAN.
	b, err := os.ReadFile(filepath.Join(runDir, "user", "opcua", "pki", "own", "certs", "client_cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.URIs) != 1 || c.URIs[0].String() != appURI {
		t.Errorf("URI SAN %v", c.URIs)
	}
}

func TestSecureLogin(t *testing.T) {
	s := sharedServer(t)
	ep := endpointJSON(s.url, `,"secpol":"Basic256Sha256","secmode":"Sign","none":false,"login":true`)
	h := runCreds(t, map[string]map[string]string{"ep": {"user": "user", "password": "secret"}}, ep, clientJSON("read", ""))
	h.inject("c", `{"topic":"ns=1;s=Text"}`)
	if v := h.next("sink1", 30*time.Second).Value("payload"); v == nil {
		t.Error("no value")
	}

	bad := runCreds(t, map[string]map[string]string{"ep": {"user": "user", "password": "wrong"}}, ep, clientJSON("read", ""))
	st := bad.waitStatus("c", "red/ring/error", 30*time.Second)
	if !strings.Contains(st, "Bad") {
		t.Errorf("status %q", st)
	}
}

func TestSecurityPolicyNotOffered(t *testing.T) {
	s := sharedServer(t)
	h := run(t, endpointJSON(s.url, `,"secpol":"Basic128Rsa15","secmode":"Sign"`), clientJSON("read", ""))
	st := h.waitStatus("c", "red/ring/error", 30*time.Second)
	if !strings.Contains(st, "Basic128Rsa15") {
		t.Errorf("status %q", st)
	}
}
