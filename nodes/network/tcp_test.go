package network

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	// Servers listen on every interface in Node-RED; tests keep to loopback.
	netListenHost = "127.0.0.1"
}

// freePort finds a loopback port nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func dialTCP(t *testing.T, port int) net.Conn {
	t.Helper()
	var c net.Conn
	var err error
	for i := 0; i < 50; i++ {
		if c, err = net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			t.Cleanup(func() { _ = c.Close() })
			return c
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal(err)
	return nil
}

// describeTCP answers a tcp in message over its session, as the Node-RED
// 5 session's function did: {topic, payload, ip, port type, session type,
// keys} and a newline.
func describeTCP(t *testing.T) {
	setTestFn(t, "tcpdescribe", func(c node.Ctx, m *msg.Msg) error {
		keys := []any{}
		for _, k := range m.Keys() {
			keys = append(keys, k)
		}
		d := msg.ObjectOf("topic", m.Value("topic"), "payload", m.Value("payload"), "ip", m.Value("ip"),
			"port", msg.TypeOf(m.Value("port")), "session", m.Value("_session").(*msg.Object).Value("type"), "keys", keys)
		m.Set("payload", string(msg.Marshal(d))+"\n")
		c.Send(m)
		return nil
	})
}

func TestTCPInServerReplies(t *testing.T) {
	describeTCP(t)
	p1, p3 := freePort(t), freePort(t)
	h := newHTTPHarness(t, fmt.Sprintf(`[
{"id":"ti1","type":"tcp in","server":"server","port":"%d","datamode":"stream","datatype":"utf8","newline":"\\n","topic":"t","wires":[["tf","sink"]]},
{"id":"sink","type":"wstest-sink"},
{"id":"ti3","type":"tcp in","server":"server","port":"%d","datamode":"stream","datatype":"base64","newline":"","topic":"","wires":[["tf"]]},
{"id":"tf","type":"httptest-fn","fn":"tcpdescribe","wires":[["to"]]},
{"id":"to","type":"tcp out","beserver":"reply","wires":[]}]`, p1, p3), nil)
	// Node-RED 5 answered these (its ip is "::ffff:127.0.0.1": it listens
	// on every interface; these tests listen on 127.0.0.1).
	c := dialTCP(t, p1)
	_, _ = io.WriteString(c, "a\nb\nrest")
	r := bufio.NewReader(c)
	for _, want := range []string{
		`{"topic":"t","payload":"a","ip":"127.0.0.1","port":"number","session":"tcp","keys":["topic","payload","ip","port","_session","_msgid"]}`,
		`{"topic":"t","payload":"b","ip":"127.0.0.1","port":"number","session":"tcp","keys":["topic","payload","ip","port","_session","_msgid"]}`,
	} {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := r.ReadString('\n')
		if err != nil || strings.TrimSpace(line) != want {
			t.Fatalf("got %q %v\nwant %s", line, err, want)
		}
	}
	h.waitStatus("ti1", "//1 connection", 5*time.Second)
	c3 := dialTCP(t, p3)
	_, _ = io.WriteString(c3, "hello")
	line, _ := bufio.NewReader(c3).ReadString('\n')
	if want := `{"topic":"","payload":"aGVsbG8=","ip":"127.0.0.1","port":"number","session":"tcp","keys":["topic","payload","ip","port","_session","_msgid"]}`; strings.TrimSpace(line) != want {
		t.Errorf("base64: %q", line)
	}
	// The rest of a delimited stream comes when the connection ends (too
	// late to answer: the connection is closed by then, as in Node-RED).
	_ = c.(*net.TCPConn).CloseWrite()
	for _, want := range []string{"a", "b", "rest"} {
		if p := h.next("sink").Value("payload"); p != want {
			t.Errorf("stream part %v, want %s", p, want)
		}
	}
	h.waitStatus("ti1", "//0 connections", 5*time.Second)
}

func TestTCPInSingleAndClient(t *testing.T) {
	// A server of our own for the client role: it sends one message and
	// closes, then takes the reconnection.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conns := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	single := freePort(t)
	h := newHTTPHarness(t, fmt.Sprintf(`[
{"id":"cl","type":"tcp in","server":"client","host":"127.0.0.1","port":%d,"datamode":"single","datatype":"utf8","topic":"x","wires":[["sink1"]]},
{"id":"sv","type":"tcp in","server":"server","port":%d,"datamode":"single","datatype":"buffer","wires":[["sink2"]]},
{"id":"sink1","type":"wstest-sink"},{"id":"sink2","type":"wstest-sink"}]`, port, single), nil)
	c := <-conns
	_, _ = io.WriteString(c, "part1 ")
	_, _ = io.WriteString(c, "part2")
	_ = c.Close()
	m := h.next("sink1")
	if m.Value("payload") != "part1 part2" || m.Value("topic") != "x" || m.Has("ip") {
		t.Errorf("client single: %s", msg.Marshal(m))
	}
	// Having received something, the client reconnects at once.
	select {
	case c2 := <-conns:
		_ = c2.Close()
	case <-time.After(2 * time.Second):
		t.Error("the client did not reconnect quickly after the server's end")
	}
	s := dialTCP(t, single)
	_, _ = s.Write([]byte{1, 2})
	_, _ = s.Write([]byte{3})
	_ = s.Close()
	m = h.next("sink2")
	if b, ok := m.Value("payload").([]byte); !ok || string(b) != "\x01\x02\x03" || m.Value("ip") != "127.0.0.1" {
		t.Errorf("server single: %s", msg.Marshal(m))
	}
}

// tcpEcho is a server that sends back what it gets.
func tcpEcho(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c); _ = c.Close() }()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestTCPRequestModes(t *testing.T) {
	echo := tcpEcho(t)
	h := newHTTPHarness(t, fmt.Sprintf(`[
{"id":"r1","type":"tcp request","server":"127.0.0.1","port":"%[1]d","out":"time","ret":"buffer","splitc":"100","wires":[["sink1"]]},
{"id":"r2","type":"tcp request","server":"127.0.0.1","port":"%[1]d","out":"char","ret":"string","splitc":"\\n","wires":[["sink2"]]},
{"id":"r3","type":"tcp request","server":"127.0.0.1","port":"%[1]d","out":"count","ret":"buffer","splitc":"3","wires":[["sink3"]]},
{"id":"r4","type":"tcp request","server":"127.0.0.1","port":"%[1]d","out":"time","ret":"string","splitc":"50","wires":[["sink4"]]},
{"id":"r5","type":"tcp request","server":"127.0.0.1","port":"%[1]d","out":"sit","ret":"string","newline":"\\n","wires":[["sink5"]]},
{"id":"r6","type":"tcp request","server":"","port":"","out":"immed","wires":[["sink6"]]},
{"id":"sink1","type":"wstest-sink"},{"id":"sink2","type":"wstest-sink"},{"id":"sink3","type":"wstest-sink"},
{"id":"sink4","type":"wstest-sink"},{"id":"sink5","type":"wstest-sink"},{"id":"sink6","type":"wstest-sink"}]`, echo), nil)
	// What Node-RED 5 sent for "ab\ncdef" to an echo server.
	for id, want := range map[string]string{"r1": `{"type":"Buffer","data":[97,98,10,99,100,101,102]}`, "r2": `"ab\n"`, "r3": `{"type":"Buffer","data":[97,98,10]}`, "r4": `"ab\ncdef"`} {
		h.inject(id, `{"payload":"ab\ncdef","topic":"keep"}`)
		m := h.next("sink" + id[1:])
		if got := string(msg.Marshal(m.Value("payload"))); got != want || m.Value("topic") != "keep" {
			t.Errorf("%s: %s, want %s", id, msg.Marshal(m), want)
		}
	}
	// A number is sent as its text.
	h.inject("r4", `{"payload":42}`)
	if m := h.next("sink4"); m.Value("payload") != "42" {
		t.Errorf("number payload: %v", m.Value("payload"))
	}
	// sit keeps the connection and splits lines.
	h.inject("r5", `{"payload":"one\ntw"}`)
	if m := h.next("sink5"); m.Value("payload") != "one" {
		t.Errorf("sit: %v", m.Value("payload"))
	}
	h.inject("r5", `{"payload":"o\n"}`)
	if m := h.next("sink5"); m.Value("payload") != "two" {
		t.Errorf("sit second line: %v", m.Value("payload"))
	}
	h.waitStatus("r5", "green/dot/1 connection", 5*time.Second)
	h.inject("r5", `{"reset":true}`)
	h.waitStatus("r5", "green/ring/0 connections", 5*time.Second)
	// immed with host and port from the message sends nothing back.
	h.inject("r6", fmt.Sprintf(`{"payload":"x","host":"127.0.0.1","port":%d}`, echo))
	select {
	case m := <-h.sink("sink6"):
		t.Errorf("immed sent %s", msg.Marshal(m))
	case <-time.After(300 * time.Millisecond):
	}
}

func TestTCPRequestConnectFails(t *testing.T) {
	port := freePort(t)
	h := newHTTPHarness(t, fmt.Sprintf(`[{"id":"r","type":"tcp request","server":"127.0.0.1","port":"%d","out":"time","splitc":"10","wires":[[]]}]`, port), nil)
	h.inject("r", `{"payload":"x"}`)
	h.waitLog("r", fmt.Sprintf("connect failed 127.0.0.1:%d", port))
	h.waitStatus("r", "red/ring/common.status.error", 5*time.Second)
}

func TestTCPOutClientAndServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { b, _ := io.ReadAll(c); got <- string(b) }()
		}
	}()
	srvPort := freePort(t)
	h := newHTTPHarness(t, fmt.Sprintf(`[
{"id":"cl","type":"tcp out","host":"127.0.0.1","port":%d,"beserver":"client","base64":true,"end":true,"wires":[]},
{"id":"sv","type":"tcp out","port":%d,"beserver":"server","wires":[]}]`, ln.Addr().(*net.TCPAddr).Port, srvPort), nil)
	h.waitStatus("cl", "green/dot/common.status.connected", 5*time.Second)
	h.inject("cl", `{"payload":"aGVsbG8="}`)
	select {
	case s := <-got:
		if s != "hello" {
			t.Errorf("client wrote %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nothing written")
	}
	// end closed the connection; the node reconnects at once.
	h.waitStatus("cl", "green/dot/common.status.connected", 2*time.Second)

	a, b := dialTCP(t, srvPort), dialTCP(t, srvPort)
	h.waitStatus("sv", "//2 connections", 5*time.Second)
	h.inject("sv", `{"payload":{"x":1}}`)
	for _, c := range []net.Conn{a, b} {
		buf := make([]byte, 64)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		k, _ := c.Read(buf)
		if string(buf[:k]) != "[object Object]" {
			t.Errorf("server wrote %q", buf[:k])
		}
	}
}

func TestDecodeBase64JS(t *testing.T) {
	for in, want := range map[string]string{"aGVsbG8=": "hello", "aGVsbG8": "hello", "aGV sbG8=": "hello", "aGVsbG8=garbage": "hello", "-_8": "\xfb\xff"} {
		if got := string(decodeBase64JS(in)); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
	var d textDecoder
	if s := d.decode([]byte("a\xc3")) + d.decode([]byte("\xa9b")); s != "aéb" {
		t.Errorf("split character: %q", s)
	}
	if ip, _ := nodeIP(&net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 1}, true); ip != "::ffff:127.0.0.1" {
		t.Errorf("dual-stack peer: %s", ip)
	}
}
