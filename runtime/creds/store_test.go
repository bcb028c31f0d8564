package creds

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// userDirFrom copies a fixture folder into a fresh user directory, with
// config.runtime.json under its real name.
func userDirFrom(t *testing.T, fixture string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"flows.json", "flows_cred.json", "config.runtime.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", fixture, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "config.runtime.json" {
			name = RuntimeConfigFile
		}
		os.WriteFile(filepath.Join(dir, name), b, 0o600)
	}
	return dir
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestResolveSecret(t *testing.T) {
	dir := userDirFrom(t, "system-secret")
	s, enc, err := ResolveSecret(dir, Secret{Disabled: true})
	if s != "" || enc || err != nil {
		t.Fatalf("disabled: %q %v %v", s, enc, err)
	}
	s, enc, err = ResolveSecret(dir, Secret{Value: "mine"})
	if s != "mine" || !enc || err != nil {
		t.Fatalf("configured: %q %v %v", s, enc, err)
	}
	s, enc, err = ResolveSecret(dir, Secret{})
	if s != "f8a34fb44383b0083d807e96b240bcb4e27ec0ed30c4a0100e0aab6f5508aa76" || !enc || err != nil {
		t.Fatalf("system key from Node-RED's .config.runtime.json: %q %v %v", s, enc, err)
	}
	c, err := Load(filepath.Join(dir, "flows_cred.json"), s)
	if err != nil || credsJSON(t, c) != want {
		t.Fatalf("decrypting Node-RED's file with its generated key: %v", err)
	}
}

func TestResolveSecretGenerates(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, RuntimeConfigFile)
	os.WriteFile(cfg, []byte(`{"instanceId":"abc","other":[1,2]}`), 0o644)
	s, enc, err := ResolveSecret(dir, Secret{})
	if err != nil || !enc || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(s) {
		t.Fatalf("generated %q %v %v", s, enc, err)
	}
	exp := "{\n    \"instanceId\": \"abc\",\n    \"other\": [\n        1,\n        2\n    ],\n    \"_credentialSecret\": \"" + s + "\"\n}"
	if got := readFile(t, cfg); got != exp {
		t.Fatalf(".config.runtime.json:\n%s\nwant\n%s", got, exp)
	}
	again, _, _ := ResolveSecret(dir, Secret{})
	if again != s {
		t.Fatal("second resolve generated another key")
	}

	// A fresh user dir gets the file created.
	dir = t.TempDir()
	s, _, err = ResolveSecret(dir, Secret{})
	if err != nil || !strings.Contains(readFile(t, filepath.Join(dir, RuntimeConfigFile)), s) {
		t.Fatalf("fresh dir: %v", err)
	}

	if _, _, err := ResolveSecret("", Secret{}); err == nil || !strings.Contains(err.Error(), "set credentialSecret") {
		t.Fatalf("no user dir: %v", err)
	}
}

func TestResolveSecretCorruptConfigIsNotOverwritten(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, RuntimeConfigFile)
	os.WriteFile(cfg, []byte(`{"_credentialSecret": "abc",`), 0o644)
	_, _, err := ResolveSecret(dir, Secret{})
	if err == nil || !strings.Contains(err.Error(), cfg) || !strings.Contains(err.Error(), "not valid JSON") {
		t.Fatalf("err = %v", err)
	}
	if readFile(t, cfg) != `{"_credentialSecret": "abc",` {
		t.Fatal("corrupt runtime config was overwritten")
	}
}

func TestOpenNodeRedFixtures(t *testing.T) {
	for _, tc := range []struct {
		fixture  string
		secret   Secret
		keyType  string
		warnings int
	}{
		{"user-secret", Secret{Value: fixtureSecret}, KeyUser, 0},
		{"system-secret", Secret{}, KeySystem, 1},
		{"no-encryption", Secret{Disabled: true}, KeyDisabled, 1},
	} {
		dir := userDirFrom(t, tc.fixture)
		s, err := Open(dir, filepath.Join(dir, "flows_cred.json"), tc.secret)
		if err != nil {
			t.Fatalf("%s: %v", tc.fixture, err)
		}
		if got := credsJSON(t, s.Creds); got != want {
			t.Errorf("%s: %s", tc.fixture, got)
		}
		if s.KeyType != tc.keyType || s.Dirty || len(s.Warnings) != tc.warnings {
			t.Errorf("%s: keyType %q dirty %v warnings %q", tc.fixture, s.KeyType, s.Dirty, s.Warnings)
		}
	}
}

func TestOpenWrongSecretWritesNothing(t *testing.T) {
	dir := userDirFrom(t, "user-secret")
	path := filepath.Join(dir, "flows_cred.json")
	before := readFile(t, path)
	cfgBefore := readFile(t, filepath.Join(dir, RuntimeConfigFile))
	_, err := Open(dir, path, Secret{Value: "wrong"})
	if !errors.Is(err, ErrWrongSecret) || !strings.HasPrefix(err.Error(), "credentials file "+path+": ") {
		t.Fatalf("err = %v", err)
	}
	if readFile(t, path) != before || readFile(t, filepath.Join(dir, RuntimeConfigFile)) != cfgBefore {
		t.Fatal("a failed open changed files")
	}

	_, err = Open(dir, path, Secret{Disabled: true})
	if err == nil || err.Error() != "credentials file "+path+": the file is encrypted but credentialSecret is false; set credentialSecret to the secret it was encrypted with" {
		t.Fatalf("disabled on encrypted file: %v", err)
	}
}

func TestOpenEncryptedWithoutAnyKeyDoesNotGenerate(t *testing.T) {
	dir := userDirFrom(t, "user-secret")
	os.Remove(filepath.Join(dir, RuntimeConfigFile))
	path := filepath.Join(dir, "flows_cred.json")
	_, err := Open(dir, path, Secret{})
	if err == nil || !strings.Contains(err.Error(), "the file is encrypted, credentialSecret is not set and "+filepath.Join(dir, RuntimeConfigFile)+" has no _credentialSecret") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, RuntimeConfigFile)); err == nil {
		t.Fatal("a key was generated for a file it cannot open")
	}
}

func TestOpenSystemKeyWrongForFile(t *testing.T) {
	dir := userDirFrom(t, "system-secret")
	// Node-RED's file from another install: its generated key does not fit.
	b, _ := os.ReadFile("testdata/user-secret/flows_cred.json")
	path := filepath.Join(dir, "flows_cred.json")
	os.WriteFile(path, b, 0o600)
	_, err := Open(dir, path, Secret{})
	if !errors.Is(err, ErrWrongSecret) || !strings.Contains(err.Error(), "(tried the generated _credentialSecret in "+filepath.Join(dir, RuntimeConfigFile)+")") {
		t.Fatalf("err = %v", err)
	}
}

func TestOpenMigratesSystemKeyToUserSecret(t *testing.T) {
	dir := userDirFrom(t, "system-secret")
	path := filepath.Join(dir, "flows_cred.json")
	s, err := Open(dir, path, Secret{Value: "new secret"})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Dirty || s.KeyType != KeyUser || credsJSON(t, s.Creds) != want {
		t.Fatalf("dirty %v keyType %q creds %s", s.Dirty, s.KeyType, credsJSON(t, s.Creds))
	}
	// Until saved, the generated key stays: it is what opens the file.
	if !strings.Contains(readFile(t, filepath.Join(dir, RuntimeConfigFile)), "_credentialSecret") {
		t.Fatal("generated key removed before the credentials were re-encrypted")
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	cfg := readFile(t, filepath.Join(dir, RuntimeConfigFile))
	if strings.Contains(cfg, "_credentialSecret") || !strings.Contains(cfg, `"instanceId": "d7c6e3db801ac289"`) {
		t.Fatalf("after migration .config.runtime.json is\n%s", cfg)
	}
	if c, err := Load(path, "new secret"); err != nil || credsJSON(t, c) != want {
		t.Fatalf("reloading with the new secret: %v", err)
	}
	got, err := nodeRedOpen(t, path, "new secret", "b1", "gc")
	if err != nil || got != want {
		t.Fatalf("Node-RED on the migrated file: %v %s", err, got)
	}
	// Opened again: no migration left to do.
	if s, err = Open(dir, path, Secret{Value: "new secret"}); err != nil || s.Dirty {
		t.Fatalf("second open: %v dirty=%v", err, s != nil && s.Dirty)
	}
}

func TestOpenMigrationAlreadyReencrypted(t *testing.T) {
	// A run re-encrypted with the user secret but died before removing the
	// generated key: the configured secret still opens the file.
	dir := userDirFrom(t, "system-secret")
	path := filepath.Join(dir, "flows_cred.json")
	c, _ := Load(path, "f8a34fb44383b0083d807e96b240bcb4e27ec0ed30c4a0100e0aab6f5508aa76")
	Save(path, "new secret", c)
	s, err := Open(dir, path, Secret{Value: "new secret"})
	if err != nil || credsJSON(t, s.Creds) != want || !s.Dirty {
		t.Fatalf("err %v", err)
	}
	_, err = Open(dir, path, Secret{Value: "yet another"})
	if !errors.Is(err, ErrWrongSecret) || !strings.Contains(err.Error(), "tried the configured credentialSecret and the generated _credentialSecret") {
		t.Fatalf("err = %v", err)
	}
}

func TestOpenMigratesSystemKeyToPlain(t *testing.T) {
	dir := userDirFrom(t, "system-secret")
	path := filepath.Join(dir, "flows_cred.json")
	s, err := Open(dir, path, Secret{Disabled: true})
	if err != nil || !s.Dirty || s.Encrypted() {
		t.Fatalf("err %v", err)
	}
	s.Pretty = true
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); !strings.HasPrefix(got, "{\n    \"b1\": {\n        \"user\": \"alice\",") {
		t.Fatalf("plain pretty file:\n%s", got)
	}
	if strings.Contains(readFile(t, filepath.Join(dir, RuntimeConfigFile)), "_credentialSecret") {
		t.Fatal("generated key kept after moving to plain text")
	}
}

func TestOpenPlainFileWithSecretIsDirty(t *testing.T) {
	dir := userDirFrom(t, "no-encryption")
	path := filepath.Join(dir, "flows_cred.json")
	s, err := Open(dir, path, Secret{Value: "k"})
	if err != nil || !s.Dirty || len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "is not encrypted; it will be encrypted when next saved") {
		t.Fatalf("err %v dirty %v warnings %q", err, s != nil && s.Dirty, s.Warnings)
	}
	s.Save()
	if !encRE.MatchString(readFile(t, path)) {
		t.Fatal("not encrypted after save")
	}
}

func TestOpenFreshInstall(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flows_cred.json")
	s, err := Open(dir, path, Secret{})
	if err != nil || len(s.Creds) != 0 || !s.Encrypted() || s.KeyType != KeySystem {
		t.Fatalf("err %v", err)
	}
	sys, _ := SystemSecret(dir)
	if sys == "" {
		t.Fatal("no key generated")
	}
	s.Creds["n"] = sample()["n1"]
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, sys); err != nil {
		t.Fatal(err)
	}
}
