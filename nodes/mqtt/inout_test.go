package mqtt

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
)

// subLine is mosquitto_sub's -F %j output.
type subLine struct {
	Topic      string         `json:"topic"`
	QoS        int            `json:"qos"`
	Retain     int            `json:"retain"`
	Payload    string         `json:"payload"`
	Properties map[string]any `json:"properties"`
}

func parseLine(t *testing.T, l string) subLine {
	t.Helper()
	var s subLine
	if err := json.Unmarshal([]byte(l), &s); err != nil {
		t.Fatalf("mosquitto_sub line %q: %v", l, err)
	}
	return s
}

func TestInEveryQoS(t *testing.T) {
	m := startMosquitto(t, "")
	h := newHarness(t)
	h.deploy(brokerNode("B", m.port, "")+`,
		{"id":"in","type":"mqtt in","z":"tab","topic":"q/#","qos":"2","datatype":"auto-detect","broker":"B","wires":[["sink"]]},
		{"id":"sink","type":"mqtest-sink","z":"tab"}`, nil)
	h.waitStatus("in", "connected", 5*time.Second)
	for q := 0; q <= 2; q++ {
		topic := fmt.Sprintf("q/%d", q)
		m.pub("-q", fmt.Sprint(q), "-t", topic, "-m", fmt.Sprintf(`{"n":%d}`, q))
		got := h.next("sink", 5*time.Second)
		if got.Value("topic") != topic || got.Value("qos") != float64(q) || got.Value("retain") != false {
			t.Fatalf("QoS %d: got %s", q, msg.Marshal(got))
		}
		if p, ok := got.Value("payload").(*msg.Object); !ok || p.Value("n") != float64(q) {
			t.Fatalf("QoS %d: payload not parsed: %s", q, msg.Marshal(got))
		}
		// The broker was named 127.0.0.1, so Node-RED adds _topic.
		if got.Value("_topic") != topic {
			t.Fatalf("QoS %d: _topic missing: %s", q, msg.Marshal(got))
		}
	}
	// Key order as Node-RED builds the message.
	m.pub("-t", "q/x", "-m", "hi")
	got := h.next("sink", 5*time.Second)
	keys := strings.Join(got.Keys(), ",")
	if keys != "topic,payload,qos,retain,_topic,_msgid" {
		t.Fatalf("keys %s", keys)
	}
}

func TestOutEveryQoSAndRetain(t *testing.T) {
	m := startMosquitto(t, "")
	s := m.sub("-t", "o/#", "-F", "%j", "-q", "2")
	h := newHarness(t)
	h.deploy(brokerNode("B", m.port, "")+`,
		{"id":"out","type":"mqtt out","z":"tab","topic":"","qos":"","retain":"","broker":"B"},
		{"id":"out1","type":"mqtt out","z":"tab","topic":"o/fixed","qos":"1","retain":"true","broker":"B"}`, nil)
	h.waitStatus("out", "connected", 5*time.Second)
	for q := 0; q <= 2; q++ {
		h.inject("out", fmt.Sprintf(`{"topic":"o/%d","qos":%d,"payload":{"q":%d}}`, q, q, q))
		l := parseLine(t, s.next(5*time.Second))
		if l.Topic != fmt.Sprintf("o/%d", q) || l.QoS != q || l.Payload != fmt.Sprintf(`{"q":%d}`, q) || l.Retain != 0 {
			t.Fatalf("QoS %d: got %+v", q, l)
		}
	}
	// Numbers, booleans, null and Buffers as Node-RED sends them.
	for _, c := range []struct{ payload, want string }{
		{`42`, "42"}, {`true`, "true"}, {`null`, ""}, {`"text"`, "text"}, {`[1,"a"]`, `[1,"a"]`},
	} {
		h.inject("out", `{"topic":"o/conv","payload":`+c.payload+`}`)
		if l := parseLine(t, s.next(5*time.Second)); l.Payload != c.want {
			t.Fatalf("payload %s sent as %q, want %q", c.payload, l.Payload, c.want)
		}
	}
	// The node's own topic, QoS and retain win over the message's.
	h.inject("out1", `{"topic":"o/ignored","qos":0,"retain":false,"payload":"x"}`)
	l := parseLine(t, s.next(5*time.Second))
	if l.Topic != "o/fixed" || l.QoS != 1 {
		t.Fatalf("node settings not used: %+v", l)
	}
	// Retained: a subscriber that comes later still gets it.
	late := m.sub("-t", "o/fixed", "-F", "%j")
	if l := parseLine(t, late.next(5*time.Second)); l.Retain != 1 || l.Payload != "x" {
		t.Fatalf("retained message: %+v", l)
	}
}

func TestRetainedAndWildcards(t *testing.T) {
	m := startMosquitto(t, "")
	m.pub("-t", "home/kitchen/temp", "-m", "21", "-r", "-q", "1")
	h := newHarness(t)
	h.deploy(brokerNode("B", m.port, "")+`,
		{"id":"plus","type":"mqtt in","z":"tab","topic":"home/+/temp","qos":"1","datatype":"utf8","broker":"B","wires":[["sinkPlus"]]},
		{"id":"hash","type":"mqtt in","z":"tab","topic":"home/#","qos":"0","datatype":"auto","broker":"B","wires":[["sinkHash"]]},
		{"id":"sinkPlus","type":"mqtest-sink","z":"tab"},
		{"id":"sinkHash","type":"mqtest-sink","z":"tab"}`, nil)
	// Both filters match the retained message and the broker sends it for
	// each; as in Node-RED, every matching node gets every copy.
	for _, id := range []string{"sinkPlus", "sinkHash"} {
		got := h.next(id, 5*time.Second)
		if got.Value("retain") != true || got.Value("payload") != "21" || got.Value("topic") != "home/kitchen/temp" {
			t.Fatalf("%s: retained message %s", id, msg.Marshal(got))
		}
	}
	time.Sleep(200 * time.Millisecond)
	for _, id := range []string{"sinkPlus", "sinkHash"} {
		for len(h.sink(id)) > 0 {
			<-h.sink(id)
		}
	}
	m.pub("-t", "home/kitchen/light", "-m", "on")
	if got := h.next("sinkHash", 5*time.Second); got.Value("payload") != "on" || got.Value("retain") != false {
		t.Fatalf("# subscription: %s", msg.Marshal(got))
	}
	h.nothing("sinkPlus", 300*time.Millisecond)
	m.pub("-t", "home", "-m", "parent")
	if got := h.next("sinkHash", 5*time.Second); got.Value("topic") != "home" {
		t.Fatalf("home/# should match home: %s", msg.Marshal(got))
	}
}
