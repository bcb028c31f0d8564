package mqtt

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
)

func TestV5PropertiesIn(t *testing.T) {
	m := startMosquitto(t, "")
	h := newHarness(t)
	h.deploy(brokerNode("B", m.port, `"protocolVersion":"5"`)+`,
		{"id":"in","type":"mqtt in","z":"tab","topic":"v5/#","qos":"1","datatype":"auto-detect","broker":"B","wires":[["sink"]]},
		{"id":"sink","type":"mqtest-sink","z":"tab"}`, nil)
	h.waitStatus("in", "connected", 5*time.Second)
	m.pub("-V", "mqttv5", "-q", "1", "-t", "v5/a", "-m", `{"x":1}`,
		"-D", "publish", "user-property", "k", "v",
		"-D", "publish", "user-property", "k", "w",
		"-D", "publish", "user-property", "z", "1",
		"-D", "publish", "content-type", "application/json",
		"-D", "publish", "response-topic", "reply/here",
		"-D", "publish", "correlation-data", "abc",
		"-D", "publish", "message-expiry-interval", "60",
		"-D", "publish", "payload-format-indicator", "1")
	got := h.next("sink", 5*time.Second)
	want := `{"topic":"v5/a","payload":{"x":1},"qos":1,"retain":false,"responseTopic":"reply/here","correlationData":{"type":"Buffer","data":[97,98,99]},"contentType":"application/json","messageExpiryInterval":60,"payloadFormatIndicator":true,"userProperties":{"k":"[\"v\",\"w\"]","z":"1"},"_topic":"v5/a"}`
	got.Delete("_msgid")
	if s := string(msg.Marshal(got)); s != want && !strings.Contains(s, `"messageExpiryInterval":59`) {
		t.Fatalf("got  %s\nwant %s", s, want)
	}
	// A content type Node-RED knows as text keeps a JSON-looking payload a
	// string; an unknown one with UTF-8 text is auto-detected.
	m.pub("-V", "mqttv5", "-t", "v5/b", "-m", `{"x":1}`, "-D", "publish", "content-type", "text/plain")
	if got := h.next("sink", 5*time.Second); got.Value("payload") != `{"x":1}` {
		t.Fatalf("text/plain: %s", msg.Marshal(got))
	}
	m.pub("-V", "mqttv5", "-t", "v5/c", "-m", `[1]`, "-D", "publish", "content-type", "x/unknown")
	if got := h.next("sink", 5*time.Second); msg.Marshal(got.Value("payload")) == nil || string(msg.Marshal(got.Value("payload"))) != `[1]` {
		t.Fatalf("unknown type: %s", msg.Marshal(got))
	}
	m.pub("-V", "mqttv5", "-t", "v5/d", "-m", `[1]`, "-D", "publish", "content-type", "application/octet-stream")
	if got := h.next("sink", 5*time.Second); fmt.Sprintf("%T", got.Value("payload")) != "[]uint8" {
		t.Fatalf("octet-stream should stay a Buffer: %s", msg.Marshal(got))
	}
}

func TestV5PropertiesOut(t *testing.T) {
	m := startMosquitto(t, "")
	s := m.sub("-V", "mqttv5", "-t", "v5/#", "-F", "%j")
	h := newHarness(t)
	h.deploy(brokerNode("B", m.port, `"protocolVersion":5`)+`,
		{"id":"out","type":"mqtt out","z":"tab","topic":"","qos":"1","broker":"B"},
		{"id":"outNode","type":"mqtt out","z":"tab","topic":"v5/node","qos":"1","broker":"B",
		 "userProps":"{\"site\":\"north\",\"n\":2}","contentType":"text/plain","respTopic":"v5/resp","correl":"id-7","expiry":"120"}`, nil)
	h.waitStatus("out", "connected", 5*time.Second)
	h.inject("out", `{"topic":"v5/m","payload":"hello","responseTopic":"v5/r","correlationData":"c1","contentType":"text/plain",
		"messageExpiryInterval":"30","userProperties":{"a":"1","b":{"c":2},"n":null},"payloadFormatIndicator":true}`)
	l := parseLine(t, s.next(5*time.Second))
	p := l.Properties
	if l.Topic != "v5/m" || l.Payload != "hello" || p["response-topic"] != "v5/r" || p["correlation-data"] != "c1" ||
		p["content-type"] != "text/plain" || p["message-expiry-interval"] == nil || p["payload-format-indicator"] != float64(1) {
		t.Fatalf("properties: %s", fmt.Sprint(l))
	}
	up, _ := p["user-properties"].(map[string]any)
	if up["a"] != "1" || up["b"] != `{"c":2}` || up["n"] != nil {
		t.Fatalf("user properties: %v", up)
	}
	h.inject("outNode", `{"payload":"x","userProperties":{"ignored":"yes"}}`)
	l = parseLine(t, s.next(5*time.Second))
	up, _ = l.Properties["user-properties"].(map[string]any)
	if l.Topic != "v5/node" || up["site"] != "north" || up["n"] != "2" || up["ignored"] != nil ||
		l.Properties["response-topic"] != "v5/resp" || l.Properties["correlation-data"] != "id-7" {
		t.Fatalf("node properties: %v", l)
	}
	// No topic but a response topic: Node-RED answers there.
	h.inject("out", `{"payload":"answer","responseTopic":"v5/answer"}`)
	if l := parseLine(t, s.next(5*time.Second)); l.Topic != "v5/answer" {
		t.Fatalf("reply: %v", l)
	}
	// Topic aliases: the second publish goes with an empty topic and the
	// broker restores it.
	for i := 0; i < 3; i++ {
		h.inject("out", fmt.Sprintf(`{"topic":"v5/alias","topicAlias":1,"payload":"%d"}`, i))
		if l := parseLine(t, s.next(5*time.Second)); l.Topic != "v5/alias" || l.Payload != fmt.Sprint(i) {
			t.Fatalf("alias %d: %v", i, l)
		}
	}
}

func TestV5SubscriptionOptions(t *testing.T) {
	m := startMosquitto(t, "")
	m.pub("-t", "keep/r", "-m", "old", "-r")
	h := newHarness(t)
	h.deploy(brokerNode("B", m.port, `"protocolVersion":"5"`)+`,
		{"id":"noLocal","type":"mqtt in","z":"tab","topic":"nl/t","qos":"1","nl":true,"broker":"B","wires":[["sinkNL"]]},
		{"id":"local","type":"mqtt in","z":"tab","topic":"nl/+","qos":"1","nl":false,"broker":"B","wires":[["sinkLocal"]]},
		{"id":"rap","type":"mqtt in","z":"tab","topic":"keep/r","qos":"1","rap":true,"rh":2,"broker":"B","wires":[["sinkRap"]]},
		{"id":"out","type":"mqtt out","z":"tab","topic":"","broker":"B"},
		{"id":"sinkNL","type":"mqtest-sink","z":"tab"},
		{"id":"sinkLocal","type":"mqtest-sink","z":"tab"},
		{"id":"sinkRap","type":"mqtest-sink","z":"tab"}`, nil)
	h.waitStatus("out", "connected", 5*time.Second)
	time.Sleep(200 * time.Millisecond)
	h.inject("out", `{"topic":"nl/t","payload":"mine"}`)
	if got := h.next("sinkLocal", 5*time.Second); got.Value("payload") != "mine" {
		t.Fatalf("local: %s", msg.Marshal(got))
	}
	// rh 2: no retained message on subscribing.
	h.nothing("sinkRap", 300*time.Millisecond)
	h.nothing("sinkNL", 10*time.Millisecond)
	// rap: a live retained publish keeps its retain flag.
	m.pub("-t", "keep/r", "-m", "new", "-r")
	if got := h.next("sinkRap", 5*time.Second); got.Value("retain") != true || got.Value("payload") != "new" {
		t.Fatalf("rap: %s", msg.Marshal(got))
	}
}

func TestV5SharedSubscription(t *testing.T) {
	m := startMosquitto(t, "")
	h := newHarness(t)
	h.deploy(brokerNode("B1", m.port, `"protocolVersion":"5"`)+`,`+brokerNode("B2", m.port, `"protocolVersion":"5"`)+`,
		{"id":"in1","type":"mqtt in","z":"tab","topic":"$share/g/work/#","qos":"1","broker":"B1","wires":[["sinkAll"]]},
		{"id":"in2","type":"mqtt in","z":"tab","topic":"$share/g/work/#","qos":"1","broker":"B2","wires":[["sinkAll"]]},
		{"id":"sinkAll","type":"mqtest-sink","z":"tab"}`, nil)
	h.waitStatus("in1", "connected", 5*time.Second)
	h.waitStatus("in2", "connected", 5*time.Second)
	time.Sleep(200 * time.Millisecond)
	const n = 20
	for i := 0; i < n; i++ {
		m.pub("-V", "mqttv5", "-q", "1", "-t", fmt.Sprintf("work/%d", i), "-m", fmt.Sprint(i))
	}
	seen := map[string]bool{}
	for i := 0; i < n; i++ {
		got := h.next("sinkAll", 5*time.Second)
		seen[got.Value("topic").(string)] = true
	}
	h.nothing("sinkAll", 300*time.Millisecond)
	if len(seen) != n {
		t.Fatalf("each message once across the group: %v", seen)
	}
}

func TestV5ReasonCodes(t *testing.T) {
	dir := t.TempDir()
	acl := filepath.Join(dir, "acl")
	if err := os.WriteFile(acl, []byte("topic readwrite open/#\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := startMosquitto(t, "acl_file "+acl)
	h := newHarness(t)
	h.deploy(brokerNode("B", m.port, `"protocolVersion":"5"`)+`,
		{"id":"out","type":"mqtt out","z":"tab","topic":"","qos":"1","broker":"B"},
		{"id":"catch","type":"catch","z":"tab","scope":null,"wires":[["sinkErr"]]},
		{"id":"sinkErr","type":"mqtest-sink","z":"tab"}`, nil)
	h.waitStatus("out", "connected", 5*time.Second)
	h.inject("out", `{"topic":"closed/x","payload":"no"}`)
	got := h.next("sinkErr", 5*time.Second)
	e, _ := got.Value("error").(*msg.Object)
	if text, _ := e.Value("message").(string); !strings.Contains(text, "reason code") {
		t.Fatalf("want the PUBACK reason code in the error, got %s", msg.Marshal(got))
	}
}

// TestV5OverlapAndQoS2: with subscription identifiers each node gets a
// message once even when filters overlap; QoS 2 works both ways.
func TestV5OverlapAndQoS2(t *testing.T) {
	m := startMosquitto(t, "")
	s := m.sub("-V", "mqttv5", "-t", "q2/out", "-q", "2", "-F", "%q %p")
	h := newHarness(t)
	h.deploy(brokerNode("B", m.port, `"protocolVersion":"5"`)+`,
		{"id":"all","type":"mqtt in","z":"tab","topic":"ov/#","qos":"2","datatype":"utf8","broker":"B","wires":[["sinkAll"]]},
		{"id":"one","type":"mqtt in","z":"tab","topic":"ov/+","qos":"2","datatype":"utf8","broker":"B","wires":[["sinkOne","out"]]},
		{"id":"out","type":"mqtt out","z":"tab","topic":"q2/out","qos":"2","broker":"B"},
		{"id":"sinkAll","type":"mqtest-sink","z":"tab"},
		{"id":"sinkOne","type":"mqtest-sink","z":"tab"}`, nil)
	h.waitStatus("out", "connected", 5*time.Second)
	m.pub("-V", "mqttv5", "-q", "2", "-t", "ov/x", "-m", "once")
	for _, id := range []string{"sinkAll", "sinkOne"} {
		if got := h.next(id, 5*time.Second); got.Value("payload") != "once" || got.Value("qos") != 2.0 {
			t.Fatalf("%s: %s", id, msg.Marshal(got))
		}
		h.nothing(id, 300*time.Millisecond)
	}
	if l := s.next(5 * time.Second); l != "2 once" {
		t.Fatalf("QoS 2 publish: %q", l)
	}
}

func TestV5DynamicSubscriptionOptions(t *testing.T) {
	m := startMosquitto(t, "")
	m.pub("-t", "dyn5/r", "-m", "retained", "-r")
	h := newHarness(t)
	h.deploy(brokerNode("B", m.port, `"protocolVersion":"5"`)+`,
		{"id":"dyn","type":"mqtt in","z":"tab","topic":"","qos":"2","datatype":"utf8","inputs":1,"broker":"B","wires":[["sink"]]},
		{"id":"done","type":"complete","z":"tab","scope":["dyn"],"wires":[["sinkDone"]]},
		{"id":"sink","type":"mqtest-sink","z":"tab"},
		{"id":"sinkDone","type":"mqtest-sink","z":"tab"}`, nil)
	h.waitStatus("dyn", "connected", 5*time.Second)
	h.inject("dyn", `{"action":"subscribe","topic":{"topic":"dyn5/r","qos":"1","rh":2,"nl":"true","rap":false}}`)
	done := h.next("sinkDone", 5*time.Second)
	if s := string(msg.Marshal(done.Value("subscriptions"))); s != `[{"topic":"dyn5/r","qos":1,"rh":2,"nl":true,"rap":false}]` {
		t.Fatalf("subscriptions %s", s)
	}
	// rh 2: the retained message is not sent on subscribing.
	h.nothing("sink", 300*time.Millisecond)
	m.pub("-t", "dyn5/r", "-m", "live", "-r")
	// rap false: the retain flag is cleared on a live message.
	if got := h.next("sink", 5*time.Second); got.Value("payload") != "live" || got.Value("retain") != false {
		t.Fatalf("%s", msg.Marshal(got))
	}
}

// TestV5SessionResumes: an MQTT 5 persistent session (clean start off,
// session expiry set) keeps QoS 1 messages across a broker restart.
func TestV5SessionResumes(t *testing.T) {
	m := startMosquitto(t, "persistence true")
	h := newHarness(t)
	h.deploy(brokerNode("B", m.port, `"protocolVersion":"5","clientid":"v5-keep","cleansession":false,"sessionExpiry":"600"`)+`,
		{"id":"in","type":"mqtt in","z":"tab","topic":"keep5/#","qos":"1","datatype":"utf8","broker":"B","wires":[["sink"]]},
		{"id":"sink","type":"mqtest-sink","z":"tab"}`, nil)
	h.waitStatus("in", "connected", 5*time.Second)
	setReconnectMin(2 * time.Second)
	defer setReconnectMin(100 * time.Millisecond)
	h.flushStatus("in")
	m.stop()
	h.waitStatus("in", "disconnected", 5*time.Second)
	m.start()
	for i := 0; i < 10; i++ {
		m.pub("-V", "mqttv5", "-q", "1", "-t", "keep5/x", "-m", fmt.Sprint(i))
	}
	got := map[string]bool{}
	for len(got) < 10 {
		got[h.next("sink", 10*time.Second).Value("payload").(string)] = true
	}
}
