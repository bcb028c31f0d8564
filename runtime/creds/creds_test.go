package creds

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
)

const fixtureSecret = "sluice fixture secret"

// want is what make-fixtures.sh deployed to Node-RED.
const want = `{"b1":{"user":"alice","password":"pa55 wörd \"quoted\""},"gc":{"map":{"TOKEN":"t0ken"}}}`

func credsJSON(t *testing.T, c Creds) string {
	t.Helper()
	o := msg.NewObject(len(c))
	for _, id := range c.IDs() {
		o.Set(id, c[id])
	}
	return string(msg.Marshal(o))
}

func TestCredFile(t *testing.T) {
	for in, out := range map[string]string{
		"flows.json":            "flows_cred.json",
		"/data/my.flows.json":   "/data/my.flows_cred.json",
		"dir/flows":             "dir/flows_cred",
		".flows":                ".flows_cred",
		"flows_myhost.json":     "flows_myhost_cred.json",
		"/a.b/flows":            "/a.b/flows_cred",
		"relative/dir/x.backup": "relative/dir/x_cred.backup",
	} {
		if got := CredFile(in); got != out {
			t.Errorf("CredFile(%q) = %q, want %q", in, got, out)
		}
	}
}

func TestLocatePrefersOldUserDirFile(t *testing.T) {
	userDir, flowDir := t.TempDir(), t.TempDir()
	flow := filepath.Join(flowDir, "flows.json")
	if got := Locate(userDir, flow); got != filepath.Join(flowDir, "flows_cred.json") {
		t.Fatalf("Locate = %q", got)
	}
	old := filepath.Join(userDir, "flows_cred.json")
	os.WriteFile(old, []byte("{}"), 0o600)
	if got := Locate(userDir, flow); got != old {
		t.Fatalf("Locate with a file in userDir = %q, want %q", got, old)
	}
}

func TestLoadNodeRedUserSecret(t *testing.T) {
	c, err := Load("testdata/user-secret/flows_cred.json", fixtureSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := credsJSON(t, c); got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	s := c.Strings("b1")
	if s["user"] != "alice" || s["password"] != `pa55 wörd "quoted"` {
		t.Fatalf("Strings(b1) = %v", s)
	}
	if got := c.Strings("gc")["map"]; got != `{"TOKEN":"t0ken"}` {
		t.Fatalf("Strings(gc)[map] = %q, want the object as JSON", got)
	}
	if got := c.Strings("missing"); got == nil || len(got) != 0 {
		t.Fatalf("Strings(missing) = %#v", got)
	}
}

func TestLoadNodeRedPlain(t *testing.T) {
	c, err := Load("testdata/no-encryption/flows_cred.json", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := credsJSON(t, c); got != want {
		t.Fatalf("got %s", got)
	}
	// A secret set on a plain install still reads the plain file.
	if c, err = Load("testdata/no-encryption/flows_cred.json", "anything"); err != nil || credsJSON(t, c) != want {
		t.Fatalf("plain file with a secret: %v", err)
	}
}

func TestLoadWrongSecret(t *testing.T) {
	path := "testdata/user-secret/flows_cred.json"
	_, err := Load(path, "not the secret")
	if !errors.Is(err, ErrWrongSecret) {
		t.Fatalf("err = %v, want ErrWrongSecret", err)
	}
	if want := "credentials file testdata/user-secret/flows_cred.json: cannot decrypt: the credentialSecret is not the one this file was encrypted with"; err.Error() != want {
		t.Fatalf("err = %q\nwant  %q", err, want)
	}
	_, err = Load(path, "")
	if !errors.Is(err, ErrEncrypted) || !strings.Contains(err.Error(), path) {
		t.Fatalf("no secret: err = %v", err)
	}
}

func TestLoadMissingAndBroken(t *testing.T) {
	dir := t.TempDir()
	c, err := Load(filepath.Join(dir, "nope_cred.json"), "x")
	if err != nil || c == nil || len(c) != 0 {
		t.Fatalf("missing file: %v %v", c, err)
	}
	for content, msgPart := range map[string]string{
		"":               "",
		"  \n":           "",
		"\xef\xbb\xbf{}": "",
		"{bad":           "not valid JSON",
		"[1]":            "not a JSON object but an array",
		`{"n1":"pw"}`:    `credentials of node "n1" are a string, not an object`,
		`{"$":"zz"}`:     `"$" must be a string of 32 hex digits`,
		`{"$":"` + strings.Repeat("g", 32) + `AAAA"}`: `"$" does not start with a 32 hex digit IV`,
		`{"$":"` + strings.Repeat("0", 32) + `!!!!"}`: `"$" ciphertext is not base64`,
	} {
		p := filepath.Join(dir, "f_cred.json")
		os.WriteFile(p, []byte(content), 0o600)
		_, err := Load(p, "secret")
		if msgPart == "" {
			if err != nil {
				t.Errorf("%q: %v", content, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), msgPart) || !strings.Contains(err.Error(), p) {
			t.Errorf("%q: err = %v, want it to name the file and say %q", content, err, msgPart)
		}
	}
}

var encRE = regexp.MustCompile(`^\{"\$":"[0-9a-f]{32}[A-Za-z0-9+/]+=*"\}$`)

func sample() Creds {
	return Creds{
		"n2": msg.ObjectOf("user", "bob", "password", "s€cret"),
		"n1": msg.ObjectOf("token", "abc", "port", 1883.0),
		"gc": msg.ObjectOf("map", msg.ObjectOf("K", "v")),
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "flows_cred.json")
	if err := Save(p, "k", sample()); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(p)
	if !encRE.Match(first) {
		t.Fatalf("encrypted file looks wrong: %s", first)
	}
	c, err := Load(p, "k")
	if err != nil {
		t.Fatal(err)
	}
	if got, exp := credsJSON(t, c), credsJSON(t, sample()); got != exp {
		t.Fatalf("round trip: %s != %s", got, exp)
	}
	if c.Strings("n1")["port"] != "1883" {
		t.Fatalf("number credential as string: %q", c.Strings("n1")["port"])
	}
	// A fresh IV every time: the same credentials never give the same file.
	Save(p, "k", sample())
	second, _ := os.ReadFile(p)
	if bytes.Equal(first, second) {
		t.Fatal("two saves produced identical ciphertext")
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Fatalf("new credentials file mode %v, want 0600", st.Mode().Perm())
	}
	if _, err := Load(p, "other"); !errors.Is(err, ErrWrongSecret) {
		t.Fatalf("wrong secret after Save: %v", err)
	}

	// Plain: sorted ids, compact, as JSON.stringify writes it.
	Save(p, "", sample())
	plain, _ := os.ReadFile(p)
	if exp := `{"gc":{"map":{"K":"v"}},"n1":{"token":"abc","port":1883},"n2":{"user":"bob","password":"s€cret"}}`; string(plain) != exp {
		t.Fatalf("plain file:\n%s\nwant\n%s", plain, exp)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestSaveKeepsPermissions(t *testing.T) {
	p := filepath.Join(t.TempDir(), "flows_cred.json")
	os.WriteFile(p, []byte("{}"), 0o640)
	if err := Save(p, "k", sample()); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v, want 0640 kept", st.Mode().Perm())
	}
}

func TestEncodePretty(t *testing.T) {
	b, err := Encode(Creds{"a": msg.ObjectOf("u", "x")}, "", true)
	if err != nil {
		t.Fatal(err)
	}
	if exp := "{\n    \"a\": {\n        \"u\": \"x\"\n    }\n}"; string(b) != exp {
		t.Fatalf("pretty plain:\n%s", b)
	}
	b, _ = Encode(Creds{"a": msg.ObjectOf("u", "x")}, "k", true)
	if !regexp.MustCompile(`^\{\n    "\$": "[0-9a-f]{32}[^"]+"\n\}$`).Match(b) {
		t.Fatalf("pretty encrypted:\n%s", b)
	}
}

// nodeRed returns the Node-RED install and node binary, skipping the test
// when there is none (set SLUICE_NODE_RED to its folder).
func nodeRed(t *testing.T) (dir, node string) {
	t.Helper()
	dir = os.Getenv("SLUICE_NODE_RED")
	if dir == "" {
		dir = "/work/nr"
	}
	node = filepath.Join(dir, "node_modules/node/bin/node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules/@node-red/runtime/lib/nodes/credentials.js")); err != nil {
		t.Skip("Node-RED not installed (set SLUICE_NODE_RED)")
	}
	if _, err := os.Stat(node); err != nil {
		if node, err = exec.LookPath("node"); err != nil {
			t.Skip("node not found")
		}
	}
	return dir, node
}

// nodeRedOpen opens file with Node-RED's credentials module.
func nodeRedOpen(t *testing.T, file, secret string, ids ...string) (string, error) {
	t.Helper()
	dir, node := nodeRed(t)
	args := append([]string{"testdata/nr-decrypt.js", dir, file, secret}, ids...)
	var stderr bytes.Buffer
	cmd := exec.Command(node, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", errors.New(stderr.String())
	}
	return string(out), nil
}

func TestNodeRedOpensWhatWeSave(t *testing.T) {
	p := filepath.Join(t.TempDir(), "flows_cred.json")
	c, err := Load("testdata/user-secret/flows_cred.json", fixtureSecret)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"another secret", "false"} {
		s := secret
		if s == "false" {
			s = ""
		}
		if err := Save(p, s, c); err != nil {
			t.Fatal(err)
		}
		got, err := nodeRedOpen(t, p, secret, "b1", "gc")
		if err != nil {
			t.Fatalf("Node-RED could not open our file (secret %q): %v", secret, err)
		}
		if got != want {
			t.Fatalf("Node-RED read (secret %q):\n%s\nwant\n%s", secret, got, want)
		}
	}
	// The check must be able to fail.
	Save(p, "another secret", c)
	if _, err := nodeRedOpen(t, p, "wrong", "b1"); err == nil {
		t.Fatal("Node-RED opened our file with a wrong secret")
	}
}
