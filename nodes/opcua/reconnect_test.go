//go:build unix

package opcua

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServerRestartMidSubscription stops the server under a running
// subscription and starts it again: the status says so, and the same
// subscription delivers again without a new message.
func TestServerRestartMidSubscription(t *testing.T) {
	needPeer(t)
	srv := startServer(t, freePort(t), "--change", "50")
	t.Cleanup(srv.stop)
	h := run(t, endpointJSON(srv.url, ""), clientJSON("subscribe", ""),
		`{"id":"r","type":"OpcUa-Client","z":"t1","endpoint":"ep","action":"read","wires":[["sinkR"]]}`)
	h.inject("c", `{"topic":"ns=1;s=Counter"}`)
	h.next("sink1", 20*time.Second)
	h.waitStatus("c", "green/dot/subscribed 1 items", 10*time.Second)

	srv.stop()
	st := h.waitStatus("c", "red/ring/error", 20*time.Second)
	if !strings.Contains(st, "lost") && !strings.Contains(st, "connect") {
		t.Errorf("status while down %q", st)
	}
	h.waitStatus("r", "red/ring/error", 10*time.Second)
	// Requests while down fail with the reason.
	h.inject("r", `{"topic":"ns=1;s=Text"}`)
	if e := errText(h.next("sinkErr", 30*time.Second)); !strings.Contains(e, "not connected") {
		t.Errorf("error while down %q", e)
	}
	for len(h.sink("sink1")) > 0 {
		<-h.sink("sink1")
	}

	srv.start()
	h.waitStatus("c", "green/dot/subscribed 1 items", 30*time.Second)
	m := h.next("sink1", 20*time.Second)
	if m.Value("topic") != "ns=1;s=Counter" {
		t.Errorf("after restart %s", js(m))
	}
	h.waitStatus("r", "green/dot/session active", 5*time.Second)
	h.inject("r", `{"topic":"ns=1;s=Text"}`)
	h.next("sinkR", 10*time.Second)
}

// TestServerFrozen stops the server process without closing its sockets
// (as a power loss or a cut cable looks): the keep-alive notices, and the
// session comes back when the server answers again.
func TestServerFrozen(t *testing.T) {
	needPeer(t)
	srv := startServer(t, freePort(t))
	t.Cleanup(srv.stop)
	h := run(t, endpointJSON(srv.url, ""), clientJSON("subscribe", ""))
	h.inject("c", `{"topic":"ns=1;s=Counter"}`)
	h.next("sink1", 20*time.Second)
	if err := syscall.Kill(srv.cmd.Process.Pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	h.waitStatus("c", "red/ring/error", 20*time.Second)
	if err := syscall.Kill(srv.cmd.Process.Pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	h.waitStatus("c", "green/dot/subscribed 1 items", 30*time.Second)
	for len(h.sink("sink1")) > 0 {
		<-h.sink("sink1")
	}
	h.next("sink1", 10*time.Second)
}
