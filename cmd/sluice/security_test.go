package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestRunRefusesAnOpenAdminAPIOnTheNetwork(t *testing.T) {
	dir := t.TempDir()
	out, err := exec.Command(binary, "run", "-u", filepath.Join(dir, "u"), "--host", "0.0.0.0", "-p", fmt.Sprint(freePort(t)), "../../flows/hello.json").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "without adminAuth") || !strings.Contains(string(out), "--insecure") {
		t.Fatalf("want exit 1 explaining adminAuth and --insecure, got %v\n%s", err, out)
	}
	for _, extra := range [][]string{{"--insecure"}, {"--headless"}} {
		_, stop := startBinary(t, append([]string{"--host", "0.0.0.0"}, append(extra, "../../flows/hello.json")...)...)
		if code, logs := stop(); code != 0 {
			t.Fatalf("%v: exit %d\n%s", extra, code, logs)
		}
	}
}

func TestRunFlowsReadonly(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "flows.json", "[]")
	port, stop := startBinary(t, "--flows-readonly", f)
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/flows", port), "application/json", strings.NewReader(messyFlow))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), `"readonly"`) {
		t.Fatalf("deploy on a read-only server: %d %s", resp.StatusCode, body)
	}
	if data, _ := os.ReadFile(f); string(data) != "[]" {
		t.Fatalf("the flow file changed: %s", data)
	}
	if code, logs := stop(); code != 0 {
		t.Fatalf("exit %d\n%s", code, logs)
	}
}

// selfSigned writes a certificate and key for 127.0.0.1.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sluice test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile = writeFile(t, dir, "cert.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	keyFile = writeFile(t, dir, "key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})))
	return certFile, keyFile
}

// TestRunWithAuthAndTLS: adminAuth from settings, HTTPS from flags, on
// all interfaces; a deployed secret lands in the credentials file only.
func TestRunWithAuthAndTLS(t *testing.T) {
	dir := t.TempDir()
	user := filepath.Join(dir, "u")
	_ = os.MkdirAll(user, 0o700)
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	writeFile(t, user, "settings.yaml", "credentialSecret: test-secret\nadminAuth:\n  type: credentials\n  users:\n    - username: admin\n      password: \""+string(hash)+"\"\n      permissions: \"*\"\n")
	cert, key := selfSigned(t, dir)
	f := writeFile(t, dir, "flows.json", "[]")
	port := freePort(t)
	cmd := exec.Command(binary, "run", "-u", user, "--host", "0.0.0.0", "-p", fmt.Sprint(port), "--https-cert", cert, "--https-key", key, f)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	base := fmt.Sprintf("https://127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never served HTTPS:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	do := func(method, path, body, tok string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		if strings.HasPrefix(body, "client_id") {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := do("GET", "/flows", "", ""); code != http.StatusUnauthorized {
		t.Fatalf("GET /flows without a token: %d", code)
	}
	form := url.Values{"client_id": {"node-red-admin"}, "grant_type": {"password"}, "scope": {"*"}, "username": {"admin"}, "password": {"s3cret"}}
	code, body := do("POST", "/auth/token", form.Encode(), "")
	var tok struct{ Access_token string }
	if err := json.Unmarshal([]byte(body), &tok); err != nil || code != 200 || tok.Access_token == "" {
		t.Fatalf("login: %d %s", code, body)
	}
	flows := `[{"id":"p1","type":"http proxy","url":"http://proxy:3128","noproxy":[],"credentials":{"username":"bob","password":"hunter2"}}]`
	if code, body := do("POST", "/flows", flows, tok.Access_token); code != http.StatusNoContent {
		t.Fatalf("deploy: %d %s", code, body)
	}
	data, _ := os.ReadFile(f)
	credData, err := os.ReadFile(filepath.Join(dir, "flows_cred.json"))
	if err != nil || strings.Contains(string(data), "hunter2") || strings.Contains(string(credData), "hunter2") || !strings.Contains(string(credData), `"$"`) {
		t.Fatalf("flow file:\n%s\ncredentials file (%v):\n%s", data, err, credData)
	}
	code, body = do("GET", "/flows", "", tok.Access_token)
	if code != 200 || strings.Contains(body, "hunter2") || !strings.Contains(body, `"has_password":true`) {
		t.Fatalf("GET /flows: %d %s", code, body)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
}
