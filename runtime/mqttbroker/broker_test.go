package mqttbroker

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"
)

func tool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if p := filepath.Join("/usr/bin", name); fileExists(p) {
		return p
	}
	if os.Getenv("CI") == "" {
		t.Skipf("%s is not installed (Debian: apt-get install mosquitto-clients); CI requires it", name)
	}
	t.Fatalf("%s is not installed (Debian: apt-get install mosquitto-clients)", name)
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestMosquittoClients checks the embedded broker with mosquitto's own
// clients, MQTT 3.1.1 and 5: retained messages, QoS 1, and v5 properties.
func TestMosquittoClients(t *testing.T) {
	port := freePort(t)
	b, err := Start([]string{"127.0.0.1:" + strconv.Itoa(port)}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got := b.Addrs(); len(got) != 1 || got[0] != "tcp://127.0.0.1:"+strconv.Itoa(port) {
		t.Fatalf("addrs %v", got)
	}
	p := strconv.Itoa(port)
	pub := func(args ...string) {
		t.Helper()
		out, err := exec.Command(tool(t, "mosquitto_pub"), append([]string{"-h", "127.0.0.1", "-p", p}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("mosquitto_pub: %v %s", err, out)
		}
	}
	sub := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(tool(t, "mosquitto_sub"), append([]string{"-h", "127.0.0.1", "-p", p, "-W", "5"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("mosquitto_sub: %v %s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	pub("-t", "a/b", "-m", "kept", "-r", "-q", "1")
	if got := sub("-t", "a/#", "-C", "1", "-v"); got != "a/b kept" {
		t.Fatalf("retained over MQTT 3.1.1: %q", got)
	}
	pub("-V", "mqttv5", "-t", "v5/x", "-m", "p", "-r", "-D", "publish", "user-property", "k", "v", "-D", "publish", "content-type", "text/plain")
	if got := sub("-V", "mqttv5", "-t", "v5/x", "-C", "1", "-F", "%t %C %P %p"); got != "v5/x text/plain k:v p" {
		t.Fatalf("MQTT 5 properties: %q", got)
	}
}

func TestWebsocketListener(t *testing.T) {
	port := freePort(t)
	b, err := Start([]string{"ws://127.0.0.1:" + strconv.Itoa(port)}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	o := pahomqtt.NewClientOptions().AddBroker("ws://127.0.0.1:" + strconv.Itoa(port)).SetClientID("ws-test")
	got := make(chan string, 1)
	c := pahomqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect over websockets: %v", tok.Error())
	}
	defer c.Disconnect(100)
	c.Subscribe("w", 1, func(_ pahomqtt.Client, m pahomqtt.Message) { got <- string(m.Payload()) }).Wait()
	c.Publish("w", 1, false, "over ws").Wait()
	select {
	case s := <-got:
		if s != "over ws" {
			t.Fatalf("got %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nothing came back")
	}
}

func TestListenErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := l.Addr().String()
	for _, addrs := range [][]string{{busy}, {"ws://" + busy}, {"nonsense"}, {"http://127.0.0.1:1"}, nil} {
		b, err := Start(addrs, nil, nil)
		if err == nil {
			b.Close()
			t.Errorf("%v: want an error", addrs)
			continue
		}
		if len(addrs) > 0 && !strings.Contains(err.Error(), addrs[0]) {
			t.Errorf("%v: error should name the address: %v", addrs, err)
		}
	}
}
