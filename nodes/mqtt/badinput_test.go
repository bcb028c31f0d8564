package mqtt

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/flow"
	"github.com/sluicehq/sluice/runtime/msg"
)

// Bad input of every kind gives a status or an error someone can act on,
// and the flows go on. Covered elsewhere: a refused connection
// (TestWrongPassword), a dropped one (TestBrokerRestart, the will in
// TestBirthCloseWillAndStatus), a broker that never answers
// (TestStopWhileConnecting), datatype json with a non-JSON payload
// (TestDatatypesAndJSONErrors) and a dynamic subscription to a/#/b
// (TestDynamicSubscriptions).

// warnings records the warnings nodes show in the debug sidebar.
type warnings struct {
	mu   sync.Mutex
	seen []string
}

func watchWarnings(h *harness) *warnings {
	w := &warnings{}
	h.E.Subscribe(func(ev engine.Event) {
		if o, ok := ev.Data.(*msg.Object); ok && ev.Kind == "debug" && o.Value("level") == 30.0 {
			w.mu.Lock()
			w.seen = append(w.seen, ev.ID+": "+msg.ToString(o.Value("msg")))
			w.mu.Unlock()
		}
	})
	return w
}

func (w *warnings) has(s string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, x := range w.seen {
		if x == s {
			return true
		}
	}
	return false
}

// TestUnreachableBroker: nothing listens at the broker's address. The
// nodes say why they cannot connect and keep trying; a message for the
// broker waits and goes out once it is there.
func TestUnreachableBroker(t *testing.T) {
	m := startMosquitto(t, "")
	m.stop()
	h := newHarness(t)
	h.deploy(brokerNode("B", m.Port, "")+`,
		{"id":"in","type":"mqtt in","z":"tab","topic":"later/#","qos":"1","datatype":"utf8","broker":"B","wires":[["sink"]]},
		{"id":"out","type":"mqtt out","z":"tab","topic":"later/x","qos":"1","broker":"B"},
		{"id":"sink","type":"mqtest-sink","z":"tab"}`, nil)
	for _, id := range []string{"in", "out"} {
		if st := h.waitStatus(id, "connection refused", 5*time.Second); st.Fill != "red" || st.Shape != "ring" {
			t.Fatalf("%s: status %+v", id, st)
		}
	}
	h.inject("out", `{"payload":"kept"}`)
	time.Sleep(300 * time.Millisecond)
	m.start()
	h.waitStatus("out", "connected", 10*time.Second)
	if got := h.next("sink", 10*time.Second); got.Value("payload") != "kept" {
		t.Fatalf("%s", msg.Marshal(got))
	}
}

// TestMalformedTopics: a/#/b as a node's topic refuses the deploy, naming
// the node, the property and the topic, and the running flows go on; as
// msg.topic of mqtt out it is Node-RED's "Invalid topic specified" warning
// and nothing is published.
func TestMalformedTopics(t *testing.T) {
	m := startMosquitto(t, "")
	h := newHarness(t)
	good := brokerNode("B", m.Port, "") + `,
		{"id":"in","type":"mqtt in","z":"tab","topic":"t/#","qos":"1","datatype":"utf8","broker":"B","wires":[["sink"]]},
		{"id":"out","type":"mqtt out","z":"tab","topic":"","qos":"1","broker":"B"},
		{"id":"sink","type":"mqtest-sink","z":"tab"}`
	h.deploy(good, nil)
	h.waitStatus("in", "connected", 5*time.Second)
	h.waitStatus("out", "connected", 5*time.Second)
	w := watchWarnings(h)

	for id, node := range map[string]string{
		"badIn":  `{"id":"badIn","type":"mqtt in","z":"tab","topic":"a/#/b","qos":"1","broker":"B","wires":[]}`,
		"badOut": `{"id":"badOut","type":"mqtt out","z":"tab","topic":"a/#/b","qos":"1","broker":"B"}`,
	} {
		set, err := flow.Parse([]byte(`[{"id":"tab","type":"tab","label":"t"},` + good + `,` + node + `]`))
		if err != nil {
			t.Fatal(err)
		}
		err = h.E.DeploySet(set, nil)
		if err == nil {
			t.Fatalf("%s: a/#/b deployed", id)
		}
		for _, want := range []string{id, "topic", "a/#/b"} {
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("%s: the error does not say %q: %v", id, want, err)
			}
		}
	}

	for _, topic := range []string{"a/#/b", "t/+", "t/#"} {
		h.inject("out", `{"topic":"`+topic+`","payload":"no"}`)
		waitFor(t, "the warning for "+topic, 5*time.Second, func() bool { return w.has("out: Invalid topic specified") })
		w.mu.Lock()
		w.seen = nil
		w.mu.Unlock()
	}
	h.inject("out", `{"topic":"t/ok","payload":"yes"}`)
	if got := h.next("sink", 5*time.Second); got.Value("topic") != "t/ok" || got.Value("payload") != "yes" {
		t.Fatalf("after the invalid topics: %s", msg.Marshal(got))
	}
	h.nothing("sink", 200*time.Millisecond)
}

// TestOversizePacket: a message larger than the broker accepts (mosquitto
// max_packet_size) reaches catch nodes as an error; it is not sent again
// and again, and the messages after it go through. An MQTT 5 broker
// announces its limit, so the message is refused before it is sent; an
// MQTT 3 broker closes the connection, and after maxLost tries the
// message is given up — by the mqtt out node, or in a persistent session
// (where the session itself sends it again) by the session.
func TestOversizePacket(t *testing.T) {
	m := startMosquitto(t, "max_packet_size 2000")
	for _, c := range []struct{ v, extra string }{{"4", ""}, {"5", ""}, {"4", `,"clientid":"big-persistent","cleansession":false`}} {
		v := c.v
		name := "MQTT" + v
		if c.extra != "" {
			name += "-persistent"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.deploy(brokerNode("B", m.Port, `"protocolVersion":"`+v+`"`+c.extra)+`,
				{"id":"out","type":"mqtt out","z":"tab","topic":"big/`+v+`","qos":"1","broker":"B"},
				{"id":"in","type":"mqtt in","z":"tab","topic":"big/`+v+`","qos":"1","datatype":"utf8","broker":"B","wires":[["sink"]]},
				{"id":"sink","type":"mqtest-sink","z":"tab"},
				{"id":"catch","type":"catch","z":"tab","scope":["out"],"wires":[["sinkErr"]]},
				{"id":"sinkErr","type":"mqtest-sink","z":"tab"}`, nil)
			h.waitStatus("out", "connected", 5*time.Second)
			h.waitStatus("in", "connected", 5*time.Second)
			// Subscribed once a probe comes back.
			m.pub("-t", "big/"+v, "-m", "probe")
			if got := h.next("sink", 5*time.Second); got.Value("payload") != "probe" {
				t.Fatalf("probe: %s", msg.Marshal(got))
			}
			h.inject("out", `{"payload":"`+strings.Repeat("x", 10000)+`"}`)
			h.inject("out", `{"payload":"small"}`)
			got := h.next("sinkErr", 20*time.Second)
			e, _ := got.Value("error").(*msg.Object)
			text, _ := e.Value("message").(string)
			want := "too large"
			if v == "4" {
				want = "ended each of the " + strconv.Itoa(maxLost) + " times"
			}
			if !strings.Contains(text, want) || !strings.Contains(text, `"big/`+v+`"`) || len(msg.ToString(got.Value("payload"))) != 10000 {
				t.Fatalf("error %q (want %q with the topic) on the message", text, want)
			}
			if got := h.next("sink", 10*time.Second); got.Value("payload") != "small" {
				t.Fatalf("after the oversize message: %.80s", msg.Marshal(got))
			}
			h.nothing("sinkErr", 300*time.Millisecond)
		})
	}
}
