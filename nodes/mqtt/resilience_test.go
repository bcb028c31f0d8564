package mqtt

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// wsProxy serves MQTT over websockets in front of mosquitto (Debian's
// mosquitto cannot open a websockets listener here): each websocket
// connection is bridged to a TCP connection to the broker.
func wsProxy(t *testing.T, m *mosquitto, useTLS bool) string {
	t.Helper()
	up := websocket.Upgrader{Subprotocols: []string{"mqtt"}}
	var mu sync.Mutex
	var conns []io.Closer
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		tcp, err := net.Dial("tcp", m.addr())
		if err != nil {
			ws.Close()
			return
		}
		mu.Lock()
		conns = append(conns, ws, tcp)
		mu.Unlock()
		go func() {
			defer tcp.Close()
			for {
				_, data, err := ws.ReadMessage()
				if err != nil {
					return
				}
				if _, err := tcp.Write(data); err != nil {
					return
				}
			}
		}()
		buf := make([]byte, 32<<10)
		for {
			n, err := tcp.Read(buf)
			if n > 0 {
				if ws.WriteMessage(websocket.BinaryMessage, buf[:n]) != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		ws.Close()
	})
	var srv *httptest.Server
	if useTLS {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		srv.Close()
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/mqtt"
}

func TestWebsocketTransport(t *testing.T) {
	m := startMosquitto(t, "")
	ws := wsProxy(t, m, false)
	wss := wsProxy(t, m, true)
	h := newHarness(t)
	h.deploy(`{"id":"T","type":"tls-config","verifyservercert":false},
		{"id":"B1","type":"mqtt-broker","broker":"`+ws+`"},
		{"id":"B2","type":"mqtt-broker","broker":"`+wss+`","usetls":true,"tls":"T","protocolVersion":"5"},
		{"id":"in","type":"mqtt in","z":"tab","topic":"ws/#","qos":"1","datatype":"utf8","broker":"B1","wires":[["sink"]]},
		{"id":"out","type":"mqtt out","z":"tab","topic":"ws/x","qos":"1","broker":"B2"},
		{"id":"sink","type":"mqtest-sink","z":"tab"}`, nil)
	h.waitStatus("in", "connected", 5*time.Second)
	h.waitStatus("out", "connected", 5*time.Second)
	for i := 0; i < 50; i++ {
		h.inject("out", fmt.Sprintf(`{"payload":"m%d"}`, i))
	}
	for i := 0; i < 50; i++ {
		if got := h.next("sink", 5*time.Second); got.Value("payload") != fmt.Sprintf("m%d", i) {
			t.Fatalf("message %d: %s", i, msg.Marshal(got))
		}
	}
	m.pub("-t", "ws/y", "-m", "from mosquitto_pub")
	if got := h.next("sink", 5*time.Second); got.Value("payload") != "from mosquitto_pub" {
		t.Fatalf("%s", msg.Marshal(got))
	}
}

func TestWrongPassword(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "passwd")
	if out, err := exec.Command(tool(t, "mosquitto_passwd"), "-b", "-c", pw, "alice", "s3cret").CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v %s", err, out)
	}
	m := startMosquitto(t, "password_file "+pw+"\nallow_anonymous false")
	h := newHarness(t)
	flow := brokerNode("B4", m.port, "") + `,` + brokerNode("B5", m.port, `"protocolVersion":"5"`) + `,
		{"id":"in","type":"mqtt in","z":"tab","topic":"pw","qos":"1","datatype":"utf8","broker":"B4","wires":[["sink"]]},
		{"id":"out","type":"mqtt out","z":"tab","topic":"pw","qos":"1","broker":"B5"},
		{"id":"sink","type":"mqtest-sink","z":"tab"}`
	bad := map[string]map[string]string{"B4": {"user": "alice", "password": "wrong"}, "B5": {"user": "alice", "password": "wrong"}}
	h.deploy(flow, bad)
	st := h.waitStatus("in", "not Authorized", 5*time.Second)
	if st.Fill != "red" || st.Shape != "ring" {
		t.Fatalf("v3 status %+v", st)
	}
	st = h.waitStatus("out", "Not authorized", 5*time.Second)
	if st.Fill != "red" {
		t.Fatalf("v5 status %+v", st)
	}
	// A message for the broker waits instead of failing or crashing.
	h.inject("out", `{"payload":"later"}`)
	time.Sleep(300 * time.Millisecond)
	good := map[string]map[string]string{"B4": {"user": "alice", "password": "s3cret"}, "B5": {"user": "alice", "password": "s3cret"}}
	h.flushStatus("in")
	h.flushStatus("out")
	h.deploy(flow, good)
	h.waitStatus("in", "connected", 5*time.Second)
	h.waitStatus("out", "connected", 5*time.Second)
	h.inject("out", `{"payload":"now"}`)
	if got := h.next("sink", 5*time.Second); got.Value("payload") != "now" {
		t.Fatalf("%s", msg.Marshal(got))
	}
}

// TestBrokerRestart streams QoS 1 messages out through a broker restart:
// every one arrives (some may arrive twice: at least once), and the mqtt in
// node subscribes again by itself.
func TestBrokerRestart(t *testing.T) {
	m := startMosquitto(t, "persistence true\nmax_queued_messages 0")
	rx := m.sub("-t", "stream/#", "-q", "1", "-c", "-i", "rx-"+strconv.Itoa(m.port), "-F", "%p")
	h := newHarness(t)
	h.deploy(brokerNode("B", m.port, `"clientid":"sluice-restart","cleansession":false`)+`,
		{"id":"out","type":"mqtt out","z":"tab","topic":"stream/a","qos":"1","broker":"B"},
		{"id":"in","type":"mqtt in","z":"tab","topic":"back/#","qos":"1","datatype":"utf8","broker":"B","wires":[["sink"]]},
		{"id":"sink","type":"mqtest-sink","z":"tab"}`, nil)
	h.waitStatus("out", "connected", 5*time.Second)
	const n = 300
	go func() {
		for i := 0; i < n; i++ {
			v, _ := msg.UnmarshalString(fmt.Sprintf(`{"payload":"%d"}`, i))
			_ = h.E.Inject("out", msg.Wrap(v.(*msg.Object)))
			time.Sleep(3 * time.Millisecond)
		}
	}()
	time.Sleep(300 * time.Millisecond)
	h.flushStatus("out")
	m.stop()
	h.waitStatus("out", "disconnected", 5*time.Second)
	time.Sleep(300 * time.Millisecond)
	m.start()
	h.waitStatus("out", "connected", 10*time.Second)
	seen := map[string]bool{}
	deadline := time.After(20 * time.Second)
	for len(seen) < n {
		select {
		case l, ok := <-rx.Lines:
			if !ok {
				t.Fatal("mosquitto_sub ended")
			}
			seen[l] = true
		case <-deadline:
			t.Fatalf("after the restart %d of %d messages arrived", len(seen), n)
		}
	}
	// Subscriptions were renewed.
	m.pub("-q", "1", "-t", "back/1", "-m", "again")
	if got := h.next("sink", 5*time.Second); got.Value("payload") != "again" {
		t.Fatalf("%s", msg.Marshal(got))
	}
	// A persistent session: QoS 1 messages published while we are away
	// are kept by the broker and arrive when we are back.
	setReconnectMin(2 * time.Second)
	defer setReconnectMin(100 * time.Millisecond)
	h.flushStatus("in")
	m.stop()
	h.waitStatus("in", "disconnected", 5*time.Second)
	m.start()
	for i := 0; i < 20; i++ {
		m.pub("-q", "1", "-t", "back/q", "-m", strconv.Itoa(i))
	}
	got := map[string]bool{}
	for len(got) < 20 {
		got[h.next("sink", 10*time.Second).Value("payload").(string)] = true
	}
}

// TestBackpressure feeds a slow flow a burst of QoS 1 messages: the flow's
// queues stay small (the client stops taking messages while the flows are
// full, the broker holds the rest) and every message arrives, in order.
func TestBackpressure(t *testing.T) {
	m := startMosquitto(t, "max_queued_messages 0")
	const limit = 200
	h := newHarness(t, func(o *engine.Options) { o.MaxInflight = limit })
	h.deploy(brokerNode("B", m.port, "")+`,
		{"id":"in","type":"mqtt in","z":"tab","topic":"bp","qos":"1","datatype":"utf8","broker":"B","wires":[["slow"]]},
		{"id":"slow","type":"mqtest-pass","z":"tab","delay":0.3,"wires":[["sink"]]},
		{"id":"sink","type":"mqtest-sink","z":"tab"}`, nil)
	h.waitStatus("in", "connected", 5*time.Second)
	const n = 2000
	var lines strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&lines, "%d\n", i)
	}
	cmd := exec.Command(tool(t, "mosquitto_pub"), "-h", "127.0.0.1", "-p", strconv.Itoa(m.port), "-q", "1", "-t", "bp", "-l")
	cmd.Stdin = strings.NewReader(lines.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_pub: %v %s", err, out)
	}
	var maxInflight atomic.Int64
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				if v := h.E.Inflight(); v > maxInflight.Load() {
					maxInflight.Store(v)
				}
			}
		}
	}()
	for i := 0; i < n; i++ {
		got := h.next("sink", 10*time.Second)
		if got.Value("payload") != strconv.Itoa(i) {
			t.Fatalf("message %d out of order: %s", i, msg.Marshal(got))
		}
	}
	close(stop)
	if v := maxInflight.Load(); v > limit+50 {
		t.Fatalf("flows held %d messages, limit %d", v, limit)
	}
	peak := inboxPeak(t, "B")
	if peak > highWater+100 {
		t.Fatalf("the client queued %d messages for the flows, bound %d", peak, highWater)
	}
	t.Logf("%d QoS 1 messages through a slow flow; at most %d queued in the flows, %d in the client", n, maxInflight.Load(), peak)
}

// TestNothingLostOnStop: a QoS 1 message is acknowledged only when the flow
// is done with it, so messages still in the flow when it stops come again
// from a broker that keeps the session.
func TestNothingLostOnStop(t *testing.T) {
	m := startMosquitto(t, "")
	h := newHarness(t)
	broker := brokerNode("B", m.port, `"clientid":"sluice-keep","cleansession":false,"autoUnsubscribe":false`)
	h.deploy(broker+`,
		{"id":"in","type":"mqtt in","z":"tab","topic":"keep","qos":"1","datatype":"utf8","broker":"B","wires":[["hold"]]},
		{"id":"hold","type":"mqtest-hold","z":"tab"}`, nil)
	h.waitStatus("in", "connected", 5*time.Second)
	for i := 0; i < 5; i++ {
		m.pub("-q", "1", "-t", "keep", "-m", strconv.Itoa(i))
	}
	waitFor(t, "5 held messages", 5*time.Second, func() bool { return held.Load() >= 5 })
	if err := h.E.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	h.deploy(broker+`,
		{"id":"in","type":"mqtt in","z":"tab","topic":"keep","qos":"1","datatype":"utf8","broker":"B","wires":[["sink"]]},
		{"id":"sink","type":"mqtest-sink","z":"tab"}`, nil)
	got := map[string]bool{}
	for len(got) < 5 {
		got[h.next("sink", 5*time.Second).Value("payload").(string)] = true
	}
}

// mqtestHold takes messages and never finishes them.
type mqtestHold struct{}

func (mqtestHold) DeferDone() {}
func (mqtestHold) Input(node.Ctx, *msg.Msg) error {
	held.Add(1)
	return nil
}

var held atomic.Int64

func init() {
	node.Register(&node.Spec{Type: "mqtest-hold", Inputs: 1, New: func(*node.Config) (node.Node, error) { return mqtestHold{}, nil }})
}

// inboxPeak is the longest a running broker node's inbox has been.
func inboxPeak(t *testing.T, id string) int {
	t.Helper()
	peak := -1
	running.Range(func(k, _ any) bool {
		if b := k.(*broker); b.id == id {
			b.q.mu.Lock()
			peak = b.q.peak
			b.q.mu.Unlock()
		}
		return true
	})
	if peak < 0 {
		t.Fatalf("no running broker node %s", id)
	}
	return peak
}

// TestBackpressureBrokerDefaults runs the burst of TestBackpressure against
// mosquitto's default limits (max_queued_messages 1000): what the broker
// cannot queue for a slow client it drops, before Sluice sees it. The test
// shows how much arrives; what arrives is whole and in order.
func TestBackpressureBrokerDefaults(t *testing.T) {
	m := startMosquitto(t, "")
	h := newHarness(t, func(o *engine.Options) { o.MaxInflight = 200 })
	h.deploy(brokerNode("B", m.port, "")+`,
		{"id":"in","type":"mqtt in","z":"tab","topic":"bp","qos":"1","datatype":"utf8","broker":"B","wires":[["slow"]]},
		{"id":"slow","type":"mqtest-pass","z":"tab","delay":0.5,"wires":[["sink"]]},
		{"id":"sink","type":"mqtest-sink","z":"tab"}`, nil)
	h.waitStatus("in", "connected", 5*time.Second)
	const n = 5000
	var lines strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&lines, "%d\n", i)
	}
	cmd := exec.Command(tool(t, "mosquitto_pub"), "-h", "127.0.0.1", "-p", strconv.Itoa(m.port), "-q", "1", "-t", "bp", "-l")
	cmd.Stdin = strings.NewReader(lines.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_pub: %v %s", err, out)
	}
	last, count := -1, 0
	for {
		select {
		case got := <-h.sink("sink"):
			v, _ := strconv.Atoi(got.Value("payload").(string))
			if v <= last {
				t.Fatalf("message %d after %d", v, last)
			}
			last = v
			count++
			continue
		case <-time.After(time.Second):
		}
		break
	}
	t.Logf("mosquitto defaults: %d of %d QoS 1 messages reached a slow flow (the broker dropped the rest); Sluice queued at most %d", count, n, inboxPeak(t, "B"))
	if count < 1000 {
		t.Fatalf("only %d arrived", count)
	}
}

// TestStopWhileConnecting: a broker that accepts TCP but never answers
// CONNECT must not hold up stopping the flows.
func TestStopWhileConnecting(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // hold it open, say nothing
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	for _, v := range []string{"4", "5"} {
		h := newHarness(t)
		h.deploy(brokerNode("B", port, `"protocolVersion":"`+v+`"`)+`,
			{"id":"in","type":"mqtt in","z":"tab","topic":"x","qos":"1","broker":"B","wires":[]},
			{"id":"out","type":"mqtt out","z":"tab","topic":"x","qos":"1","broker":"B"}`, nil)
		h.waitStatus("in", "connecting", 5*time.Second)
		h.inject("out", `{"payload":"waits"}`)
		time.Sleep(200 * time.Millisecond)
		start := time.Now()
		if err := h.E.Stop(t.Context()); err != nil {
			t.Fatalf("MQTT %s: %v", v, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("MQTT %s: stopping took %s", v, d)
		}
	}
}
