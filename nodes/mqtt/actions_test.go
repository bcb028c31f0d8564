package mqtt

import (
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
)

func TestDatatypesAndJSONErrors(t *testing.T) {
	m := startMosquitto(t, "")
	h := newHarness(t)
	in := func(id, dt string) string {
		return `{"id":"` + id + `","type":"mqtt in","z":"tab","topic":"dt","qos":"0","datatype":"` + dt + `","broker":"B","wires":[["sink` + id + `"]]},
		{"id":"sink` + id + `","type":"mqtest-sink","z":"tab"}`
	}
	h.deploy(brokerNode("B", m.port, "")+`,`+in("buf", "buffer")+`,`+in("b64", "base64")+`,`+in("utf", "utf8")+`,`+
		in("json", "json")+`,`+in("auto", "auto")+`,`+in("det", "auto-detect")+`,
		{"id":"catch","type":"catch","z":"tab","scope":["json"],"wires":[["sinkErr"]]},
		{"id":"sinkErr","type":"mqtest-sink","z":"tab"}`, nil)
	h.waitStatus("det", "connected", 5*time.Second)
	time.Sleep(100 * time.Millisecond)
	check := func(id string, want string) {
		t.Helper()
		got := h.next("sink"+id, 5*time.Second)
		if s := string(msg.Marshal(got.Value("payload"))); s != want {
			t.Fatalf("%s: payload %s, want %s", id, s, want)
		}
	}
	m.pub("-t", "dt", "-m", `{"a":[1,2]}`)
	check("buf", `{"type":"Buffer","data":[123,34,97,34,58,91,49,44,50,93,125]}`)
	check("b64", `"eyJhIjpbMSwyXX0="`)
	check("utf", `"{\"a\":[1,2]}"`)
	check("json", `{"a":[1,2]}`)
	check("auto", `"{\"a\":[1,2]}"`)
	check("det", `{"a":[1,2]}`)

	// Binary: is-utf8 says no to control bytes, so auto modes keep a Buffer
	// and json refuses it.
	m.pub("-t", "dt", "-m", "a\x01b")
	check("auto", `{"type":"Buffer","data":[97,1,98]}`)
	check("det", `{"type":"Buffer","data":[97,1,98]}`)
	check("utf", `"a\u0001b"`)
	got := h.next("sinkErr", 5*time.Second)
	if e := got.Value("error").(*msg.Object); e.Value("message") != "Invalid JSON string" {
		t.Fatalf("json error: %s", msg.Marshal(got))
	}
	h.nothing("sinkjson", 100*time.Millisecond)
	m.pub("-t", "dt", "-m", "not json")
	check("det", `"not json"`)
	got = h.next("sinkErr", 5*time.Second)
	if e := got.Value("error").(*msg.Object); e.Value("message") != "Failed to parse JSON string" || got.Value("topic") != "dt" {
		t.Fatalf("json parse error: %s", msg.Marshal(got))
	}
}

func TestDynamicSubscriptions(t *testing.T) {
	m := startMosquitto(t, "")
	h := newHarness(t)
	h.deploy(brokerNode("B", m.port, "")+`,
		{"id":"dyn","type":"mqtt in","z":"tab","topic":"","qos":"2","datatype":"utf8","inputs":1,"broker":"B","wires":[["sink"]]},
		{"id":"sink","type":"mqtest-sink","z":"tab"},
		{"id":"done","type":"complete","z":"tab","scope":["dyn"],"wires":[["sinkDone"]]},
		{"id":"sinkDone","type":"mqtest-sink","z":"tab"},
		{"id":"catch","type":"catch","z":"tab","scope":["dyn"],"wires":[["sinkErr"]]},
		{"id":"sinkErr","type":"mqtest-sink","z":"tab"}`, nil)
	h.waitStatus("dyn", "connected", 5*time.Second)
	m.pub("-t", "d/a", "-m", "before")
	h.nothing("sink", 200*time.Millisecond)

	h.inject("dyn", `{"action":"subscribe","topic":["d/a",{"topic":"d/b","qos":1,"datatype":"buffer"}]}`)
	done := h.next("sinkDone", 5*time.Second)
	if s := string(msg.Marshal(done.Value("subscriptions"))); s != `[{"topic":"d/a","qos":2},{"topic":"d/b","qos":1,"datatype":"buffer"}]` {
		t.Fatalf("subscriptions %s", s)
	}
	m.pub("-t", "d/a", "-m", "A")
	if got := h.next("sink", 5*time.Second); got.Value("payload") != "A" {
		t.Fatalf("d/a: %s", msg.Marshal(got))
	}
	m.pub("-t", "d/b", "-m", "B")
	if got := h.next("sink", 5*time.Second); string(msg.Marshal(got.Value("payload"))) != `{"type":"Buffer","data":[66]}` {
		t.Fatalf("d/b with its own datatype: %s", msg.Marshal(got))
	}
	h.inject("dyn", `{"action":"getSubscriptions"}`)
	list := h.next("sink", 5*time.Second)
	if list.Value("topic") != "subscriptions" || len(list.Value("payload").([]any)) != 2 {
		t.Fatalf("getSubscriptions: %s", msg.Marshal(list))
	}
	<-h.sink("sinkDone")

	h.inject("dyn", `{"action":"unsubscribe","topic":"d/a"}`)
	h.next("sinkDone", 5*time.Second)
	m.pub("-t", "d/a", "-m", "gone")
	h.nothing("sink", 300*time.Millisecond)
	h.inject("dyn", `{"action":"unsubscribe","topic":true}`)
	if done := h.next("sinkDone", 5*time.Second); string(msg.Marshal(done.Value("subscriptions"))) != `[]` {
		t.Fatalf("after unsubscribing all: %s", msg.Marshal(done))
	}
	m.pub("-t", "d/b", "-m", "gone")
	h.nothing("sink", 300*time.Millisecond)

	for body, want := range map[string]string{
		`{"action":"dance"}`:                     "Error: Invalid action specified",
		`{"action":"subscribe","topic":"a/#/b"}`: "Error: Invalid topic specified",
		`{"action":"subscribe","topic":5}`:       "Error: msg.topic is missing or invalid",
	} {
		h.inject("dyn", body)
		got := h.next("sinkErr", 5*time.Second)
		if e := got.Value("error").(*msg.Object); e.Value("message") != want {
			t.Fatalf("%s: error %s", body, msg.Marshal(got))
		}
	}

	// disconnect and connect actions.
	h.inject("dyn", `{"action":"disconnect"}`)
	h.waitStatus("dyn", "disconnected", 5*time.Second)
	h.next("sinkDone", 5*time.Second)
	h.inject("dyn", `{"action":"connect"}`)
	h.waitStatus("dyn", "connected", 5*time.Second)
	h.next("sinkDone", 5*time.Second)
	h.inject("dyn", `{"action":"connect","broker":{"clientid":"other"}}`)
	got := h.next("sinkErr", 5*time.Second)
	if e := got.Value("error").(*msg.Object); e.Value("message") != "Error: Disconnect from broker before connecting" {
		t.Fatalf("connect while connected: %s", msg.Marshal(got))
	}
	h.inject("dyn", `{"action":"connect","broker":{"clientid":"forced","force":true}}`)
	h.next("sinkDone", 5*time.Second)
	if !strings.Contains(m.Log(), "forced") {
		t.Logf("mosquitto log does not show the new client id (logging may be off)")
	}
}

func TestBirthCloseWillAndStatus(t *testing.T) { eachVersion(t, testBirthCloseWill) }

func testBirthCloseWill(t *testing.T, extra string) {
	m := startMosquitto(t, "")
	s := m.sub("-t", "life/#", "-F", "%j")
	h := newHarness(t)
	h.deploy(brokerNode("B", m.port, `"birthTopic":"life/birth","birthPayload":"hello","birthQos":"1","birthRetain":"false",
		"closeTopic":"life/close","closePayload":"bye","willTopic":"life/will","willPayload":"gone","willQos":"1"`+extra)+`,
		{"id":"out","type":"mqtt out","z":"tab","topic":"life/x","broker":"B"},
		{"id":"st","type":"status","z":"tab","scope":["out"],"wires":[["sinkStatus"]]},
		{"id":"sinkStatus","type":"mqtest-sink","z":"tab"}`, nil)
	var texts []string
	for len(texts) < 3 {
		st := h.next("sinkStatus", 5*time.Second)
		texts = append(texts, st.Value("status").(*msg.Object).Value("text").(string))
	}
	if strings.Join(texts, ",") != "node-red:common.status.disconnected,node-red:common.status.connecting,node-red:common.status.connected" {
		t.Fatalf("status sequence %q", texts)
	}
	if l := parseLine(t, s.next(5*time.Second)); l.Topic != "life/birth" || l.Payload != "hello" {
		t.Fatalf("birth: %v", l)
	}
	// Stopping the flows sends the close message, and no will.
	if err := h.E.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if l := parseLine(t, s.next(5*time.Second)); l.Topic != "life/close" || l.Payload != "bye" {
		t.Fatalf("close: %v", l)
	}
	s.none(300 * time.Millisecond)

	// An unexpected loss: the broker publishes the will.
	h.flushStatus("out")
	h.deploy(brokerNode("B", m.port, `"willTopic":"life/will","willPayload":"gone","willQos":"1","clientid":"willtest"`+extra)+`,
		{"id":"out","type":"mqtt out","z":"tab","topic":"life/x","broker":"B"}`, nil)
	h.waitStatus("out", "connected", 5*time.Second)
	kickClients(t, m, "willtest")
	if l := parseLine(t, s.next(10*time.Second)); l.Topic != "life/will" || l.Payload != "gone" {
		t.Fatalf("will: %v", l)
	}
}

// kickClients takes the session of the client id over with a client of
// our own: the broker drops the old connection without a DISCONNECT, as a
// network failure would, and publishes its will.
func kickClients(t *testing.T, m *mosquitto, id string) {
	t.Helper()
	m.pub("-i", id, "-t", "takeover", "-m", "x")
}

// TestEarlyMessageWaitsForItsSubscription: a persistent session may
// deliver before the node that wants the message has subscribed again (the
// nodes start one by one); it waits a little for the subscription instead
// of being acknowledged and dropped.
func TestEarlyMessageWaitsForItsSubscription(t *testing.T) {
	m := startMosquitto(t, "")
	h := newHarness(t)
	h.deploy(brokerNode("B", m.port, "")+`,
		{"id":"dyn","type":"mqtt in","z":"tab","topic":"","datatype":"utf8","inputs":1,"broker":"B","wires":[["sink"]]},
		{"id":"sink","type":"mqtest-sink","z":"tab"}`, nil)
	h.waitStatus("dyn", "connected", 5*time.Second)
	var b *broker
	running.Range(func(k, _ any) bool {
		if k.(*broker).id == "B" {
			b = k.(*broker)
		}
		return true
	})
	acked := make(chan struct{}, 1)
	b.q.put(&inPub{topic: "early/x", payload: []byte("kept"), qos: 1, ack: func() { acked <- struct{}{} }})
	time.Sleep(100 * time.Millisecond)
	select {
	case <-acked:
		t.Fatal("acknowledged before anyone wanted it")
	default:
	}
	h.inject("dyn", `{"action":"subscribe","topic":"early/#"}`)
	if got := h.next("sink", 5*time.Second); got.Value("payload") != "kept" {
		t.Fatalf("%s", msg.Marshal(got))
	}
	select {
	case <-acked:
	case <-time.After(5 * time.Second):
		t.Fatal("never acknowledged")
	}
	// Unwanted for good: acknowledged after parkFor.
	b.q.put(&inPub{topic: "nobody/x", payload: []byte("x"), qos: 1, ack: func() { acked <- struct{}{} }})
	select {
	case <-acked:
	case <-time.After(parkFor + 2*time.Second):
		t.Fatal("an unwanted message was never acknowledged")
	}
}
