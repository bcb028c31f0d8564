package kafka

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/sluicehq/sluice/internal/testpeer"
)

// End to end through the built binary, as a user runs it: flows/
// mqtt-to-kafka.json and flows/kafka-to-mqtt.json under `sluice run`, a
// real mosquitto (max_queued_messages 0, so the broker drops nothing;
// max_inflight_messages 0, see mosquittoBridgeConf),
// kfake in this process, kcat as the independent counter on the Kafka side.

// bridgeSize is how many messages each direction carries: 100,000, or
// 20,000 under the race detector, which slows this process's Kafka broker
// several times over (the benchmark in bench/ carries 100,000 either way).
func bridgeSize() int {
	if raceEnabled {
		return 20000
	}
	return 100000
}

const bridgeDevices = 10

// mosquittoBridgeConf: drop nothing, and no in-flight window towards the
// bridge. mosquitto 2.0.11 delivers a QoS 1 stream out of order to a
// client whose in-flight window (20 by default) is full and whose acks
// come late, as they do when each waits for Kafka: per-device order would
// then be lost in the broker, before Sluice sees the messages.
const mosquittoBridgeConf = "max_queued_messages 0\nmax_inflight_messages 0"

// telemetry is a ~100-byte reading of device d with sequence number seq.
func telemetry(d, seq int) string {
	return fmt.Sprintf(`{"device":"dev%d","seq":%d,"temp":21.5,"humidity":48.2,"ok":true,"pad":"%s"}`,
		d, seq, strings.Repeat("x", 24-len(strconv.Itoa(seq))))
}

func mqttClient(t *testing.T, addr, id string) paho.Client {
	t.Helper()
	o := paho.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(id).SetCleanSession(true)
	o.SetWriteTimeout(30 * time.Second)
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("mqtt connect %s as %s: %v", addr, id, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

// publishTelemetry sends perDevice readings from each device at QoS 1, one
// client per device, keeping up to 200 publishes in flight per client;
// progress counts publishes the broker acknowledged.
func publishTelemetry(t *testing.T, addr string, perDevice int, progress *atomic.Int64) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, bridgeDevices)
	for d := range bridgeDevices {
		c := mqttClient(t, addr, fmt.Sprintf("device-%d", d))
		wg.Add(1)
		go func() {
			defer wg.Done()
			topic := fmt.Sprintf("factory/dev%d/telemetry", d)
			window := make([]paho.Token, 0, 200)
			flush := func() error {
				for _, tok := range window {
					if !tok.WaitTimeout(60*time.Second) || tok.Error() != nil {
						return fmt.Errorf("publish on %s: %v", topic, tok.Error())
					}
				}
				progress.Add(int64(len(window)))
				window = window[:0]
				return nil
			}
			for seq := range perDevice {
				window = append(window, c.Publish(topic, 1, false, telemetry(d, seq)))
				if len(window) == cap(window) {
					if err := flush(); err != nil {
						errs <- err
						return
					}
				}
			}
			if err := flush(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// seqCheck tallies per-key sequence numbers as a consumer reads them:
// distinct readings, duplicates (at least once allows them) and readings
// that came before an earlier-published one of the same key.
type seqCheck struct {
	seen     map[string]map[int]bool
	last     map[string]int
	total    int
	dups     int
	reorders []string
}

func newSeqCheck() *seqCheck {
	return &seqCheck{seen: map[string]map[int]bool{}, last: map[string]int{}}
}

func (s *seqCheck) add(key string, seq int) {
	s.total++
	if s.seen[key] == nil {
		s.seen[key] = map[int]bool{}
	}
	if s.seen[key][seq] {
		// A resent reading: at least once. Order is judged on first
		// arrivals only.
		s.dups++
		return
	}
	s.seen[key][seq] = true
	if prev, ok := s.last[key]; ok && seq < prev && len(s.reorders) < 10 {
		s.reorders = append(s.reorders, fmt.Sprintf("%s: seq %d after %d", key, seq, prev))
	}
	if seq > s.last[key] || len(s.seen[key]) == 1 {
		s.last[key] = seq
	}
}

func (s *seqCheck) distinct() int {
	n := 0
	for _, m := range s.seen {
		n += len(m)
	}
	return n
}

// seqOf finds "seq":N in a JSON record without parsing the rest.
func seqOf(rec string) (int, bool) {
	i := strings.Index(rec, `"seq":`)
	if i < 0 {
		return 0, false
	}
	j := i + len(`"seq":`)
	k := j
	for k < len(rec) && rec[k] >= '0' && rec[k] <= '9' {
		k++
	}
	n, err := strconv.Atoi(rec[j:k])
	return n, err == nil
}

// kafkaTelemetry reads the topic with kcat until want distinct readings
// are there or the time is up.
func kafkaTelemetry(t *testing.T, addrs, topic string, want int, within time.Duration) *seqCheck {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cmd := exec.CommandContext(ctx, kcat(t), "-b", addrs, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%k\t%s\n")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr testpeer.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		s := newSeqCheck()
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			k, v, _ := strings.Cut(sc.Text(), "\t")
			if seq, ok := seqOf(v); ok && k != "probe" {
				s.add(k, seq)
			}
		}
		err = cmd.Wait()
		cancel()
		if err != nil {
			t.Fatalf("kcat: %v\n%s", err, stderr.String())
		}
		if s.distinct() >= want || time.Now().After(deadline) {
			return s
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// waitBridgeUp publishes probe readings until one reaches Kafka: the
// bridge's subscription and producer are both up.
func waitBridgeUp(t *testing.T, c paho.Client, addrs string, r *testpeer.Sluice) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for seq := 0; ; seq++ {
		c.Publish("factory/probe/telemetry", 1, false, fmt.Sprintf(`{"seq":%d}`, seq)).Wait()
		out := runKcat(t, "", "-b", addrs, "-C", "-t", "factory-telemetry", "-o", "beginning", "-e", "-q", "-f", "%k\n")
		if strings.Contains(out, "probe") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no probe reading reached Kafka through the bridge\n%s", r.Logs.Tail(4000))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// flows/mqtt-to-kafka.json in the built binary: every QoS 1 reading of ten
// devices reaches Kafka in per-device order, across a Kafka outage of a few
// seconds in the middle of the stream. The reading is acknowledged to
// mosquitto only once Kafka acknowledged its record, so readings that
// arrive while Kafka is away wait (in mosquitto and in flight) instead of
// being lost.
func TestBridgeMQTTToKafka(t *testing.T) {
	t.Parallel() // mostly waiting on peers
	kcat(t)
	n := bridgeSize()
	perDevice := n / bridgeDevices
	mq := testpeer.StartMosquitto(t, mosquittoBridgeConf).Addr()
	kc := newRestartableCluster(t, 3, "factory-telemetry")
	r := testpeer.RunSluice(t, exampleFlow(t, "mqtt-to-kafka.json", mq, kc.addr(), nil), nil)
	waitBridgeUp(t, mqttClient(t, mq, "probe"), kc.addr(), r)

	var published atomic.Int64
	outage := make(chan time.Duration, 1)
	go func() {
		// Kafka goes away once a third of the readings are out, for 3 s.
		for published.Load() < int64(n/3) {
			time.Sleep(5 * time.Millisecond)
		}
		start := time.Now()
		kc.stop()
		time.Sleep(3 * time.Second)
		kc.start()
		outage <- time.Since(start)
	}()
	start := time.Now()
	publishTelemetry(t, mq, perDevice, &published)
	pubTime := time.Since(start)
	down := <-outage
	s := kafkaTelemetry(t, kc.addr(), "factory-telemetry", n, 60*time.Second)
	t.Logf("%d readings published in %v; Kafka down %v; in Kafka after %v: %d records, %d distinct, %d duplicates",
		n, pubTime.Round(time.Millisecond), down.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), s.total, s.distinct(), s.dups)
	if got := s.distinct(); got != n {
		missing := []string{}
		for d := range bridgeDevices {
			k := fmt.Sprintf("dev%d", d)
			for seq := 0; seq < perDevice && len(missing) < 10; seq++ {
				if !s.seen[k][seq] {
					missing = append(missing, fmt.Sprintf("%s/%d", k, seq))
				}
			}
		}
		t.Fatalf("%d of %d readings in Kafka; missing e.g. %v\n%s", got, n, missing, r.Logs.Tail(4000))
	}
	if len(s.reorders) > 0 {
		t.Errorf("per-device order broken: %v", s.reorders)
	}
	if s.dups > n/10 {
		t.Errorf("%d duplicates for %d readings: more than an outage's resends explain", s.dups, n)
	}
}

// flows/kafka-to-mqtt.json in the built binary: kcat writes commands keyed
// by device; every one reaches its device's MQTT topic, in per-device
// order.
func TestBridgeKafkaToMQTT(t *testing.T) {
	t.Parallel() // mostly waiting on peers
	kcat(t)
	n := bridgeSize()
	perDevice := n / bridgeDevices
	mq := testpeer.StartMosquitto(t, mosquittoBridgeConf).Addr()
	kc := newRestartableCluster(t, 3, "device-commands")

	var mu sync.Mutex
	s := newSeqCheck()
	all := make(chan struct{})
	sub := mqttClient(t, mq, "devices")
	if tok := sub.Subscribe("factory/+/commands", 1, func(_ paho.Client, m paho.Message) {
		key := strings.TrimSuffix(strings.TrimPrefix(m.Topic(), "factory/"), "/commands")
		seq, ok := seqOf(string(m.Payload()))
		if !ok {
			return
		}
		mu.Lock()
		s.add(key, seq)
		if s.distinct() == n {
			close(all)
		}
		mu.Unlock()
	}); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}

	var in strings.Builder
	for seq := range perDevice {
		for d := range bridgeDevices {
			fmt.Fprintf(&in, "dev%d|{\"cmd\":\"set\",\"seq\":%d,\"value\":%d}\n", d, seq, seq%100)
		}
	}
	start := time.Now()
	runKcat(t, in.String(), "-b", kc.addr(), "-P", "-t", "device-commands", "-K", "|")
	written := time.Since(start)
	// earliest: the commands were written before the group first joined.
	r := testpeer.RunSluice(t, exampleFlow(t, "kafka-to-mqtt.json", mq, kc.addr(),
		map[string]map[string]any{"commands-in": {"start": "earliest"}}), nil)
	select {
	case <-all:
	case <-time.After(90 * time.Second):
		mu.Lock()
		got := s.distinct()
		mu.Unlock()
		t.Fatalf("%d of %d commands reached MQTT\n%s", got, n, r.Logs.Tail(4000))
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d commands written by kcat in %v; all on MQTT %v later: %d received, %d duplicates",
		n, written.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), s.total, s.dups)
	if len(s.reorders) > 0 {
		t.Errorf("per-device order broken: %v", s.reorders)
	}
}

// Nothing is acknowledged to mosquitto that Kafka has not acknowledged:
// readings that arrive while Kafka is down are held, unacknowledged, and
// when the bridge is stopped meanwhile, mosquitto keeps them in the
// bridge's session and sends them again to the next run, which writes
// them.
func TestBridgeUnwrittenNotAcked(t *testing.T) {
	t.Parallel() // mostly waiting on peers
	kcat(t)
	mq := testpeer.StartMosquitto(t, mosquittoBridgeConf).Addr()
	kc := newRestartableCluster(t, 3, "factory-telemetry")
	flow := exampleFlow(t, "mqtt-to-kafka.json", mq, kc.addr(), nil)
	r := testpeer.RunSluice(t, flow, nil)
	pub := mqttClient(t, mq, "device-0")
	// The bridge's persistent session exists once a probe went through.
	waitBridgeUp(t, pub, kc.addr(), r)
	kc.stop()
	const n = 50
	for seq := range n {
		if tok := pub.Publish("factory/dev0/telemetry", 1, false, telemetry(0, seq)); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
	time.Sleep(2 * time.Second) // the readings reach the bridge and wait
	r.Stop()
	kc.start()
	r2 := testpeer.RunSluice(t, flow, nil)
	s := kafkaTelemetry(t, kc.addr(), "factory-telemetry", n, 30*time.Second)
	if got := s.distinct(); got != n {
		t.Fatalf("%d of %d readings held during the outage reached Kafka after a restart\nfirst run:\n%s\nsecond run:\n%s",
			got, n, r.Logs.Tail(3000), r2.Logs.Tail(3000))
	}
	if len(s.reorders) > 0 {
		t.Errorf("order broken: %v", s.reorders)
	}
	t.Logf("%d readings, %d duplicates", s.total, s.dups)
}
