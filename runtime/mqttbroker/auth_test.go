package mqttbroker

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/sluicehq/sluice/internal/testpeer"
)

// TestAuthWithAdminUsers checks the broker against mosquitto's clients
// when it takes the admin users: a full user publishes and subscribes, a
// read-only user subscribes but its publishes are dropped, a wrong password
// or an anonymous client is refused.
func TestAuthWithAdminUsers(t *testing.T) {
	hash := func(pw string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	port := testpeer.FreePort(t)
	b, err := Start([]string{"127.0.0.1:" + strconv.Itoa(port)}, nil, &Auth{Users: []User{
		{Username: "admin", Hash: hash("s3cret")},
		{Username: "viewer", Hash: hash("look"), ReadOnly: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	p := strconv.Itoa(port)
	run := func(tool string, args ...string) (string, error) {
		out, err := exec.Command(testpeer.Tool(t, tool, "mosquitto-clients"), append([]string{"-h", "127.0.0.1", "-p", p}, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	if out, err := run("mosquitto_pub", "-u", "admin", "-P", "s3cret", "-t", "a/b", "-m", "kept", "-r", "-q", "1"); err != nil {
		t.Fatalf("admin publish: %v %s", err, out)
	}
	if out, err := run("mosquitto_sub", "-u", "viewer", "-P", "look", "-t", "a/#", "-C", "1", "-W", "5", "-v"); err != nil || out != "a/b kept" {
		t.Fatalf("viewer subscribe: %v %q", err, out)
	}
	// A read-only user's publish is refused (MQTT 3.1.1 has no reason
	// code for it, so the broker closes the connection) and not delivered.
	if out, err := run("mosquitto_pub", "-u", "viewer", "-P", "look", "-t", "a/b", "-m", "changed", "-r", "-q", "1"); err == nil {
		t.Fatalf("viewer publish accepted: %s", out)
	}
	if out, err := run("mosquitto_sub", "-u", "admin", "-P", "s3cret", "-t", "a/#", "-C", "1", "-W", "5", "-v"); err != nil || out != "a/b kept" {
		t.Fatalf("after the viewer's publish: %v %q", err, out)
	}
	for _, args := range [][]string{{"-u", "admin", "-P", "wrong"}, {"-u", "nobody", "-P", "x"}, {}} {
		out, err := run("mosquitto_sub", append(args, "-t", "a/#", "-C", "1", "-W", "3")...)
		if err == nil || !strings.Contains(out, "not authorised") && !strings.Contains(out, "Connection Refused") {
			t.Fatalf("%v: want refused, got %v %q", args, err, out)
		}
	}
}

func TestAuthAnonymousRead(t *testing.T) {
	port := testpeer.FreePort(t)
	b, err := Start([]string{"127.0.0.1:" + strconv.Itoa(port)}, nil, &Auth{Anonymous: "read"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	p := strconv.Itoa(port)
	sub := exec.Command(testpeer.Tool(t, "mosquitto_sub", "mosquitto-clients"), "-h", "127.0.0.1", "-p", p, "-t", "x", "-C", "1", "-W", "2")
	out, err := sub.CombinedOutput()
	if !strings.Contains(string(out), "Timed out") {
		t.Fatalf("anonymous subscribe with default read: %v %s", err, out)
	}
	out, err = exec.Command(testpeer.Tool(t, "mosquitto_pub", "mosquitto-clients"), "-h", "127.0.0.1", "-p", p, "-t", "x", "-m", "1", "-q", "1").CombinedOutput()
	if err == nil {
		t.Fatalf("anonymous publish with default read accepted: %s", out)
	}
}
