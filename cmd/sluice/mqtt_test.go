package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func mosquittoClient(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if os.Getenv("CI") == "" {
		t.Skipf("%s is not installed (Debian: apt-get install mosquitto-clients); CI requires it", name)
	}
	t.Fatalf("%s is not installed (Debian: apt-get install mosquitto-clients)", name)
	return ""
}

// TestRunEmbeddedMQTTBroker: --mqtt-listen runs a broker in the process;
// mosquitto's clients and the flows both use it.
func TestRunEmbeddedMQTTBroker(t *testing.T) {
	pub, sub := mosquittoClient(t, "mosquitto_pub"), mosquittoClient(t, "mosquitto_sub")
	mport := freePort(t)
	flows := writeFile(t, t.TempDir(), "flows.json", fmt.Sprintf(`[
		{"id":"tab","type":"tab","label":"t"},
		{"id":"B","type":"mqtt-broker","broker":"127.0.0.1","port":%d},
		{"id":"in","type":"mqtt in","z":"tab","topic":"in","qos":"1","datatype":"utf8","broker":"B","wires":[["out"]]},
		{"id":"out","type":"mqtt out","z":"tab","topic":"out","qos":"1","broker":"B"}]`, mport))
	_, stop := startBinary(t, "--mqtt-listen", fmt.Sprintf("127.0.0.1:%d", mport), flows)
	p := fmt.Sprint(mport)
	subCmd := exec.Command(sub, "-h", "127.0.0.1", "-p", p, "-t", "out", "-C", "1", "-W", "10")
	outc := make(chan string, 1)
	go func() {
		out, _ := subCmd.CombinedOutput()
		outc <- string(out)
	}()
	var got string
	deadline := time.After(10 * time.Second)
loop:
	for {
		_ = exec.Command(pub, "-h", "127.0.0.1", "-p", p, "-t", "in", "-m", "through the flow").Run()
		select {
		case got = <-outc:
			break loop
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			break loop
		}
	}
	code, logs := stop()
	if strings.TrimSpace(got) != "through the flow" {
		t.Fatalf("mosquitto_sub got %q\n%s", got, logs)
	}
	if code != 0 || !strings.Contains(logs, "MQTT broker running") {
		t.Fatalf("exit %d\n%s", code, logs)
	}
}

func TestRunMQTTListenBusyAddress(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dir := t.TempDir()
	out, err := exec.Command(binary, "run", "-u", filepath.Join(dir, "u"), "-p", fmt.Sprint(freePort(t)),
		"--mqtt-listen", l.Addr().String()).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), l.Addr().String()) {
		t.Fatalf("want exit 1 naming the address, got %v:\n%s", err, out)
	}
}

// TestEmbeddedBrokerUsesAdminUsers: with adminAuth set, the embedded
// broker takes the same users; anonymous devices and wrong passwords are
// refused, read-only users may not publish.
func TestEmbeddedBrokerUsesAdminUsers(t *testing.T) {
	pub := mosquittoClient(t, "mosquitto_pub")
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	mport := freePort(t)
	dir := t.TempDir()
	settings := writeFile(t, dir, "settings.yaml", fmt.Sprintf(`mqttListen: ["127.0.0.1:%d"]
adminAuth:
  type: credentials
  users:
    - {username: admin, password: %q, permissions: "*"}
    - {username: viewer, password: %q, permissions: read}
`, mport, hash, hash))
	_, stop := startBinary(t, "-s", settings)
	defer stop()
	p := fmt.Sprint(mport)
	try := func(args ...string) error {
		return exec.Command(pub, append([]string{"-h", "127.0.0.1", "-p", p, "-t", "t", "-m", "m", "-q", "1"}, args...)...).Run()
	}
	if err := try("-u", "admin", "-P", "s3cret"); err != nil {
		t.Fatalf("admin refused: %v", err)
	}
	for _, args := range [][]string{{}, {"-u", "admin", "-P", "wrong"}, {"-u", "viewer", "-P", "s3cret"}} {
		if err := try(args...); err == nil {
			t.Errorf("%v: publish accepted", args)
		}
	}
}
