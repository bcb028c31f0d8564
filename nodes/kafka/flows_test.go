package kafka

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/twmb/franz-go/pkg/kfake"

	_ "github.com/sluicehq/sluice/nodes/function" // change nodes of the example flows
	_ "github.com/sluicehq/sluice/nodes/mqtt"
	"github.com/sluicehq/sluice/runtime/mqttbroker"
	"github.com/sluicehq/sluice/runtime/msg"
)

// exampleFlow loads a flow from flows/ with its brokers pointed at the test
// peers; edit changes nodes by id before deploying.
func exampleFlow(t *testing.T, file, mqttAddr, kafkaAddrs string, edit map[string]map[string]any) []byte {
	t.Helper()
	raw, err := os.ReadFile("../../flows/" + file)
	if err != nil {
		t.Fatal(err)
	}
	v, err := msg.Unmarshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(mqttAddr, "tcp://"))
	for _, n := range v.([]any) {
		o := n.(*msg.Object)
		switch o.Value("type") {
		case "mqtt-broker":
			o.Set("broker", host)
			o.Set("port", port)
		case "kafka-broker":
			o.Set("brokers", kafkaAddrs)
		}
		for k, val := range edit[msg.ToString(o.Value("id"))] {
			o.Set(k, val)
		}
	}
	return []byte(msg.Marshal(v))
}

func mqttPeer(t *testing.T) (string, paho.Client) {
	t.Helper()
	b, err := mqttbroker.Start([]string{"127.0.0.1:0"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	addr := b.Addrs()[0]
	opts := paho.NewClientOptions().AddBroker(strings.Replace(addr, "mqtt://", "tcp://", 1)).SetClientID("kafka-test")
	cl := paho.NewClient(opts)
	if tok := cl.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("mqtt connect %s: %v", addr, tok.Error())
	}
	t.Cleanup(func() { cl.Disconnect(100) })
	return strings.Replace(addr, "mqtt://", "tcp://", 1), cl
}

// flows/mqtt-to-kafka.json: QoS 1 telemetry from several devices reaches
// Kafka keyed by device, stamped with the site, in per-device order.
func TestFlowMQTTToKafka(t *testing.T) {
	kcat(t)
	_, addrs := newCluster(t, kfake.SeedTopics(3, "factory-telemetry"))
	mqttAddr, cl := mqttPeer(t)
	h := newHarness(t)
	if err := h.E.Deploy(exampleFlow(t, "mqtt-to-kafka.json", mqttAddr, addrs, nil)); err != nil {
		t.Fatal(err)
	}
	h.waitStatus("telemetry-in", "connected", 10*time.Second)
	h.waitStatus("to-kafka", "connected", 10*time.Second)
	const perDevice = 200
	for i := range perDevice {
		for d := range 3 {
			tok := cl.Publish(fmt.Sprintf("factory/dev%d/telemetry", d), 1, false, fmt.Sprintf(`{"seq":%d}`, i))
			tok.Wait()
			if tok.Error() != nil {
				t.Fatal(tok.Error())
			}
		}
	}
	var lines []string
	deadline := time.Now().Add(20 * time.Second)
	for {
		out := runKcat(t, "", "-b", addrs, "-C", "-t", "factory-telemetry", "-o", "beginning", "-e", "-q", "-f", "%k %s\n")
		lines = strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) >= 3*perDevice || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(lines) != 3*perDevice {
		t.Fatalf("Kafka holds %d records, want %d", len(lines), 3*perDevice)
	}
	last := map[string]float64{}
	for _, l := range lines {
		k, v, _ := strings.Cut(l, " ")
		p, err := msg.Unmarshal([]byte(v))
		if err != nil {
			t.Fatalf("record %q: %v", l, err)
		}
		o := p.(*msg.Object)
		if o.Value("site") != "plant-1" || o.Value("timestamp") == nil {
			t.Fatalf("record %q lacks site or timestamp", l)
		}
		seq := o.Value("seq").(float64)
		if prev, ok := last[k]; ok && seq != prev+1 {
			t.Fatalf("device %s: seq %v after %v", k, seq, prev)
		}
		last[k] = seq
	}
	if len(last) != 3 || last["dev0"] != perDevice-1 {
		t.Fatalf("keys %v, want dev0..dev2 up to %d", last, perDevice-1)
	}
}

// flows/kafka-to-mqtt.json: a command keyed by device reaches that
// device's MQTT topic.
func TestFlowKafkaToMQTT(t *testing.T) {
	kcat(t)
	_, addrs := newCluster(t, kfake.SeedTopics(2, "device-commands"))
	mqttAddr, cl := mqttPeer(t)
	got := make(chan paho.Message, 10)
	if tok := cl.Subscribe("factory/+/commands", 1, func(_ paho.Client, m paho.Message) { got <- m }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal("subscribe failed")
	}
	runKcat(t, "dev7|reboot\n", "-b", addrs, "-P", "-t", "device-commands", "-K", "|")
	h := newHarness(t)
	// earliest: the record was written before the group first joined.
	flowJSON := exampleFlow(t, "kafka-to-mqtt.json", mqttAddr, addrs, map[string]map[string]any{"commands-in": {"start": "earliest"}})
	if err := h.E.Deploy(flowJSON); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m.Topic() != "factory/dev7/commands" || string(m.Payload()) != "reboot" {
			t.Fatalf("got %s %q", m.Topic(), m.Payload())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no command reached the device topic")
	}
}

// The bridge during a Kafka outage: QoS 1 telemetry published while the
// broker is down waits (unacknowledged, unfinished) and reaches Kafka once
// it is back; nothing is lost.
func TestFlowMQTTToKafkaOutage(t *testing.T) {
	t.Parallel() // mostly waiting on brokers
	kcat(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	dir := t.TempDir()
	start := func() *kfake.Cluster {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.DataDir(dir), kfake.SeedTopics(3, "factory-telemetry"))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := start()
	addrs := fmt.Sprintf("127.0.0.1:%d", port)
	mqttAddr, cl := mqttPeer(t)
	h := newHarness(t)
	if err := h.E.Deploy(exampleFlow(t, "mqtt-to-kafka.json", mqttAddr, addrs, nil)); err != nil {
		t.Fatal(err)
	}
	h.waitStatus("telemetry-in", "connected", 10*time.Second)
	h.waitStatus("to-kafka", "connected", 10*time.Second)
	publish := func(from, to int) {
		for i := from; i < to; i++ {
			tok := cl.Publish(fmt.Sprintf("factory/dev%d/telemetry", i%3), 1, false, fmt.Sprintf(`{"seq":%d}`, i))
			if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
				t.Fatalf("publish %d: %v", i, tok.Error())
			}
		}
	}
	var missing []int
	count := func(want int) int {
		var n int
		// Generous: under a loaded CI machine sarama's retries after a slow
		// answer can hold a partition back for ten seconds at a time.
		deadline := time.Now().Add(90 * time.Second)
		for {
			out := runKcat(t, "", "-b", addrs, "-C", "-t", "factory-telemetry", "-o", "beginning", "-e", "-q", "-f", "%s\n")
			seen := map[string]bool{}
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				if l != "" {
					seen[l] = true
				}
			}
			n, missing = 0, missing[:0]
			for i := range want {
				found := false
				for l := range seen {
					if strings.Contains(l, fmt.Sprintf(`"seq":%d,`, i)) {
						found = true
						break
					}
				}
				if found {
					n++
				} else {
					missing = append(missing, i)
				}
			}
			if n >= want || time.Now().After(deadline) {
				return n
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	publish(0, 100)
	if n := count(100); n != 100 {
		t.Fatalf("before the outage %d of 100 in Kafka; missing %v, %d messages in the flows; nodes %+v", n, missing, h.E.Inflight(), h.E.Stats())
	}
	c.Close()
	publish(100, 200)
	time.Sleep(2 * time.Second)
	c = start()
	defer c.Close()
	publish(200, 300)
	if n := count(300); n != 300 {
		t.Fatalf("after the outage %d of 300 readings in Kafka; missing %v, %d messages in the flows; nodes %+v", n, missing, h.E.Inflight(), h.E.Stats())
	}
}
