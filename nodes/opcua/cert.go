package opcua

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// appURI is the client's application URI; servers check that the
// certificate's URI SAN says the same.
const appURI = "urn:sluice:opcua-client"

var certMu sync.Mutex

// clientCert returns the client certificate kept in dir, generating it on
// first use: one per user directory, as node-opcua keeps its own PKI.
func clientCert(dir string) (certDER []byte, key *rsa.PrivateKey, err error) {
	certMu.Lock()
	defer certMu.Unlock()
	certPath := filepath.Join(dir, "own", "certs", "client_cert.pem")
	keyPath := filepath.Join(dir, "own", "private", "client_key.pem")
	if c, k, err := loadPair(certPath, keyPath); err == nil {
		return c, k, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	}
	key, err = rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	u, _ := url.Parse(appURI)
	host, _ := os.Hostname()
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	pub := x509.MarshalPKCS1PublicKey(&key.PublicKey)
	ski := sha1.Sum(pub)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Sluice OPC UA client", Organization: []string{"Sluice"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment | x509.KeyUsageContentCommitment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		SubjectKeyId:          ski[:],
		URIs:                  []*url.URL{u},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	if host != "" {
		tmpl.DNSNames = append(tmpl.DNSNames, host)
	}
	certDER, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	if err := writePEM(certPath, "CERTIFICATE", certDER, 0o644); err != nil {
		return nil, nil, err
	}
	if err := writePEM(keyPath, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key), 0o600); err != nil {
		return nil, nil, err
	}
	return certDER, key, nil
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode)
}

// loadPair reads a PEM (or DER) certificate and a PKCS#1 / PKCS#8 RSA key.
func loadPair(certPath, keyPath string) ([]byte, *rsa.PrivateKey, error) {
	cb, err := os.ReadFile(certPath)
	if err != nil {
		return nil, nil, err
	}
	kb, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, err
	}
	if b, _ := pem.Decode(cb); b != nil {
		cb = b.Bytes
	}
	if _, err := x509.ParseCertificate(cb); err != nil {
		return nil, nil, fmt.Errorf("certificate %s: %v", certPath, err)
	}
	if b, _ := pem.Decode(kb); b != nil {
		kb = b.Bytes
	}
	if k, err := x509.ParsePKCS1PrivateKey(kb); err == nil {
		return cb, k, nil
	}
	k8, err := x509.ParsePKCS8PrivateKey(kb)
	if err != nil {
		return nil, nil, fmt.Errorf("private key %s: %v", keyPath, err)
	}
	rk, ok := k8.(*rsa.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("private key %s: not an RSA key", keyPath)
	}
	return cb, rk, nil
}

// certURI is the URI SAN of a certificate, used as the application URI
// when the user brings a certificate of their own.
func certURI(der []byte) string {
	c, err := x509.ParseCertificate(der)
	if err != nil || len(c.URIs) == 0 {
		return ""
	}
	return c.URIs[0].String()
}
