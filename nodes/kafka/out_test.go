package kafka

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicehq/sluice/runtime/msg"
)

// Sluice writes, kcat (librdkafka) reads: payload forms, keys, headers,
// explicit partitions, and complete firing only after the broker's ack.
func TestOutKcatReads(t *testing.T) {
	kcat(t)
	_, addrs := newCluster(t, kfake.SeedTopics(3, "out1"))
	h := newHarness(t)
	h.deploy(brokerNode(addrs)+`,
		{"id":"ko","type":"kafka out","z":"tab","broker":"kb","topic":"","acks":"all","idempotent":true,"compression":"lz4"},
		{"id":"done","type":"complete","z":"tab","scope":["ko"],"wires":[["sink1"]]},
		{"id":"sink1","type":"kt-sink","z":"tab"}`, nil)
	h.waitStatus("ko", "connected", 10*time.Second)

	send := func(payload any, key any, part any, headers *msg.Object) {
		m := msg.New()
		m.Set("topic", "out1")
		m.Set("payload", payload)
		if key != nil {
			m.Set("key", key)
		}
		if part != nil {
			m.Set("partition", part)
		}
		if headers != nil {
			m.Set("headers", headers)
		}
		h.inject("ko", m.Object)
	}
	obj := msg.NewObject(1)
	obj.Set("a", 1.0)
	hd := msg.NewObject(1)
	hd.Set("h1", "v1")
	send("hello", "k1", 2.0, hd)
	send([]byte{0x01, 0x02}, nil, 2.0, nil)
	send(obj, "k2", "2", nil)
	for range 3 {
		h.next("sink1", 10*time.Second)
	}
	out := runKcat(t, "", "-b", addrs, "-C", "-t", "out1", "-p", "2", "-o", "beginning", "-e", "-q",
		"-f", "%k|%s|%h|%p\n")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{"k1|hello|h1=v1|2", "|\x01\x02||2", `k2|{"a":1}||2`}
	if len(lines) != len(want) {
		t.Fatalf("kcat read %q, want %q", lines, want)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("record %d: %q, want %q", i, lines[i], want[i])
		}
	}
}

// Keyed records land by key hash, so one key's records keep their order in
// one partition; many records all arrive.
func TestOutManyKeyedInOrder(t *testing.T) {
	kcat(t)
	_, addrs := newCluster(t, kfake.SeedTopics(4, "many"))
	h := newHarness(t)
	h.deploy(brokerNode(addrs)+`,
		{"id":"ko","type":"kafka out","z":"tab","broker":"kb","topic":"many"},
		{"id":"done","type":"complete","z":"tab","scope":["ko"],"wires":[["sink1"]]},
		{"id":"sink1","type":"kt-sink","z":"tab"}`, nil)
	const n = 2000
	for i := range n {
		m := msg.New()
		m.Set("key", "dev"+string(rune('a'+i%5)))
		m.Set("payload", float64(i))
		h.inject("ko", m.Object)
	}
	for range n {
		h.next("sink1", 20*time.Second)
	}
	out := runKcat(t, "", "-b", addrs, "-C", "-t", "many", "-o", "beginning", "-e", "-q", "-f", "%k %s\n")
	last := map[string]int{}
	count := 0
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, _ := strings.Cut(l, " ")
		i := int(msg.ToNumber(v))
		if p, ok := last[k]; ok && i <= p {
			t.Fatalf("key %s: %d after %d", k, i, p)
		}
		last[k] = i
		count++
	}
	if count != n {
		t.Fatalf("kcat counted %d records, want %d", count, n)
	}
}

// A record the broker refuses (a partition that does not exist) is an
// error to catch nodes naming the topic and partition, and complete nodes
// stay silent.
func TestOutRefusedRecord(t *testing.T) {
	_, addrs := newCluster(t, kfake.SeedTopics(1, "small"))
	h := newHarness(t)
	h.deploy(brokerNode(addrs)+`,
		{"id":"ko","type":"kafka out","z":"tab","broker":"kb","topic":"small","partition":"5"},
		{"id":"c","type":"catch","z":"tab","scope":["ko"],"wires":[["sinkErr"]]},
		{"id":"done","type":"complete","z":"tab","scope":["ko"],"wires":[["sinkDone"]]},
		{"id":"sinkErr","type":"kt-sink","z":"tab"},
		{"id":"sinkDone","type":"kt-sink","z":"tab"}`, nil)
	m := msg.New()
	m.Set("payload", "x")
	h.inject("ko", m.Object)
	e := h.next("sinkErr", 15*time.Second)
	text := msg.ToString(e.Value("error").(*msg.Object).Value("message"))
	if !strings.Contains(text, `"small"`) || !strings.Contains(text, "partition 5") {
		t.Errorf("error %q should name the topic and partition", text)
	}
	h.none("sinkDone", 300*time.Millisecond)
}

// An unknown broker address shows an error status at once; a message waits
// for the broker as it would through an outage, and fails (to catch nodes,
// complete nodes silent) once connectWait is over.
func TestOutUnknownBroker(t *testing.T) {
	defer func(d time.Duration) { connectWait = d }(connectWait)
	connectWait = 2 * time.Second
	h := newHarness(t)
	h.deploy(brokerNode("127.0.0.1:1")+`,
		{"id":"ko","type":"kafka out","z":"tab","broker":"kb","topic":"x"},
		{"id":"c","type":"catch","z":"tab","scope":["ko"],"wires":[["sinkErr"]]},
		{"id":"done","type":"complete","z":"tab","scope":["ko"],"wires":[["sinkDone"]]},
		{"id":"sinkErr","type":"kt-sink","z":"tab"},
		{"id":"sinkDone","type":"kt-sink","z":"tab"}`, nil)
	s := h.waitStatus("ko", "kafka-broker kb", 20*time.Second)
	if s.Fill != "red" || !strings.Contains(s.Text, "127.0.0.1:1") {
		t.Errorf("status %+v, want red naming the address", s)
	}
	m := msg.New()
	m.Set("payload", "x")
	h.inject("ko", m.Object)
	h.none("sinkErr", time.Second) // still waiting for the broker
	e := h.next("sinkErr", 20*time.Second)
	if text := msg.ToString(e.Value("error").(*msg.Object).Value("message")); !strings.Contains(text, "127.0.0.1:1") {
		t.Errorf("error %q should name the broker address", text)
	}
	h.none("sinkDone", 300*time.Millisecond)
}

// A Kafka that is down when the flows start holds messages back until it
// comes up; none fails and they are written in order.
func TestOutBrokerDownAtStart(t *testing.T) {
	kcat(t)
	rc := newRestartableCluster(t, 1, "late")
	rc.stop()
	h := newHarness(t)
	h.deploy(brokerNode(rc.addr())+`,
		{"id":"ko","type":"kafka out","z":"tab","broker":"kb","topic":"late"},
		{"id":"c","type":"catch","z":"tab","scope":["ko"],"wires":[["sinkErr"]]},
		{"id":"done","type":"complete","z":"tab","scope":["ko"],"wires":[["sinkDone"]]},
		{"id":"sinkErr","type":"kt-sink","z":"tab"},
		{"id":"sinkDone","type":"kt-sink","z":"tab"}`, nil)
	h.waitStatus("ko", "kafka-broker kb", 20*time.Second)
	for i := range 20 {
		m := msg.New()
		m.Set("payload", fmt.Sprintf("r%d", i))
		h.inject("ko", m.Object)
	}
	h.none("sinkDone", time.Second)
	rc.start()
	for range 20 {
		h.next("sinkDone", 30*time.Second)
	}
	h.none("sinkErr", 100*time.Millisecond)
	out := runKcat(t, "", "-b", rc.addr(), "-C", "-t", "late", "-o", "beginning", "-e", "-q", "-f", "%s\n")
	var want strings.Builder
	for i := range 20 {
		fmt.Fprintf(&want, "r%d\n", i)
	}
	if out != want.String() {
		t.Fatalf("Kafka holds %q, want r0..r19 in order", out)
	}
}

// An oversize record is refused before it leaves: an error for catch
// nodes, no complete.
func TestOutOversize(t *testing.T) {
	_, addrs := newCluster(t, kfake.SeedTopics(1, "big"))
	h := newHarness(t)
	h.deploy(brokerNode(addrs)+`,
		{"id":"ko","type":"kafka out","z":"tab","broker":"kb","topic":"big"},
		{"id":"c","type":"catch","z":"tab","scope":["ko"],"wires":[["sinkErr"]]},
		{"id":"done","type":"complete","z":"tab","scope":["ko"],"wires":[["sinkDone"]]},
		{"id":"sinkErr","type":"kt-sink","z":"tab"},
		{"id":"sinkDone","type":"kt-sink","z":"tab"}`, nil)
	m := msg.New()
	m.Set("payload", make([]byte, 2<<20))
	h.inject("ko", m.Object)
	e := h.next("sinkErr", 15*time.Second)
	if text := msg.ToString(e.Value("error").(*msg.Object).Value("message")); !strings.Contains(text, `"big"`) {
		t.Errorf("error %q should name the topic", text)
	}
	h.none("sinkDone", 300*time.Millisecond)
}

// A topic name the broker refuses is an error soon, not a retry.
func TestOutInvalidTopic(t *testing.T) {
	_, addrs := newCluster(t)
	h := newHarness(t)
	h.deploy(brokerNode(addrs)+`,
		{"id":"ko","type":"kafka out","z":"tab","broker":"kb"},
		{"id":"c","type":"catch","z":"tab","scope":["ko"],"wires":[["sinkErr"]]},
		{"id":"sinkErr","type":"kt-sink","z":"tab"}`, nil)
	m := msg.New()
	m.Set("topic", "no such/topic!")
	m.Set("payload", "x")
	h.inject("ko", m.Object)
	e := h.next("sinkErr", 15*time.Second)
	if text := msg.ToString(e.Value("error").(*msg.Object).Value("message")); !strings.Contains(text, "no such/topic!") {
		t.Errorf("error %q should name the topic", text)
	}
	m = msg.New()
	m.Set("payload", "x")
	h.inject("ko", m.Object)
	e = h.next("sinkErr", 5*time.Second)
	if text := msg.ToString(e.Value("error").(*msg.Object).Value("message")); !strings.Contains(text, "no topic") {
		t.Errorf("error %q should say the topic is missing", text)
	}
}

// A payload JSON has no text for is an error naming msg.payload, not a
// record saying null.
func TestOutUnencodablePayload(t *testing.T) {
	_, addrs := newCluster(t, kfake.SeedTopics(1, "enc"))
	h := newHarness(t)
	h.deploy(brokerNode(addrs)+`,
		{"id":"ko","type":"kafka out","z":"tab","broker":"kb","topic":"enc"},
		{"id":"c","type":"catch","z":"tab","scope":["ko"],"wires":[["sinkErr"]]},
		{"id":"done","type":"complete","z":"tab","scope":["ko"],"wires":[["sinkDone"]]},
		{"id":"sinkErr","type":"kt-sink","z":"tab"},
		{"id":"sinkDone","type":"kt-sink","z":"tab"}`, nil)
	for _, p := range []any{msg.Undefined{}, make(chan int)} {
		m := msg.New()
		m.Set("payload", p)
		h.inject("ko", m.Object)
		e := h.next("sinkErr", 10*time.Second)
		if text := msg.ToString(e.Value("error").(*msg.Object).Value("message")); !strings.Contains(text, "msg.payload") || !strings.Contains(text, "JSON") {
			t.Errorf("error %q should name msg.payload and JSON", text)
		}
	}
	h.none("sinkDone", 300*time.Millisecond)
}

// With few records allowed in flight, messages wait in turn and all are
// written, in order.
func TestOutInflightBound(t *testing.T) {
	kcat(t)
	defer func(n int) { maxInflight = n }(maxInflight)
	maxInflight = 4
	_, addrs := newCluster(t, kfake.SeedTopics(2, "bound"))
	h := newHarness(t)
	h.deploy(brokerNode(addrs)+`,
		{"id":"ko","type":"kafka out","z":"tab","broker":"kb","topic":"bound","key":"k"},
		{"id":"done","type":"complete","z":"tab","scope":["ko"],"wires":[["sink1"]]},
		{"id":"sink1","type":"kt-sink","z":"tab"}`, nil)
	const n = 300
	for i := range n {
		m := msg.New()
		m.Set("payload", float64(i))
		h.inject("ko", m.Object)
	}
	for range n {
		h.next("sink1", 20*time.Second)
	}
	out := strings.Fields(runKcat(t, "", "-b", addrs, "-C", "-t", "bound", "-o", "beginning", "-e", "-q", "-f", "%s\n"))
	if len(out) != n {
		t.Fatalf("%d records, want %d", len(out), n)
	}
	for i, v := range out {
		if v != fmt.Sprint(i) {
			t.Fatalf("record %d is %s", i, v)
		}
	}
}
