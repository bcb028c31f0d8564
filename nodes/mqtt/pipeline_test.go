package mqtt

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"

	_ "github.com/sluicehq/sluice/nodes/function" // change, switch
	_ "github.com/sluicehq/sluice/nodes/parser"   // json
	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/flow"
)

// pipelineFlow is flows/mqtt-pipeline.json pointed at a test broker, its
// QoS set to qos.
func pipelineFlow(t testing.TB, port int, qos string) *flow.Set {
	t.Helper()
	data, err := os.ReadFile("../../flows/mqtt-pipeline.json")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(data), `"port": "1883"`, `"port": "`+strconv.Itoa(port)+`"`, 1)
	s = strings.ReplaceAll(s, `"qos": "1"`, `"qos": "`+qos+`"`)
	set, err := flow.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestPipelineFlow(t *testing.T) {
	m := startMosquitto(t, "")
	s := m.sub("-t", "plant-1/#", "-F", "%t %q %p", "-q", "1")
	h := newHarness(t)
	if err := h.E.DeploySet(pipelineFlow(t, m.port, "1"), nil); err != nil {
		t.Fatal(err)
	}
	h.waitStatus("readings-in", "connected", 5*time.Second)
	m.pub("-q", "1", "-t", "sensors/s1/reading", "-m", `{"id":"s1","value":42}`)
	if got := s.next(5 * time.Second); got != `plant-1/readings 1 {"id":"s1","value":42,"site":"plant-1"}` {
		t.Fatalf("normal reading: %q", got)
	}
	m.pub("-q", "1", "-t", "sensors/s2/reading", "-m", `{"id":"s2","value":73.5}`)
	if got := s.next(5 * time.Second); got != `plant-1/alerts 1 {"id":"s2","value":73.5,"site":"plant-1"}` {
		t.Fatalf("hot reading: %q", got)
	}
	// Not JSON: the json node reports it and nothing goes out.
	m.pub("-q", "1", "-t", "sensors/s3/reading", "-m", `oops`)
	s.none(300 * time.Millisecond)
}

// BenchmarkPipeline measures messages a second end to end through
// flows/mqtt-pipeline.json with a real mosquitto: a Go client publishes
// b.N readings, another counts what comes out.
//
//	go test -run '^$' -bench Pipeline -benchtime 20000x ./nodes/mqtt/
func BenchmarkPipelineQoS0(b *testing.B) { benchPipeline(b, 0) }
func BenchmarkPipelineQoS1(b *testing.B) { benchPipeline(b, 1) }

func benchPipeline(b *testing.B, qos byte) {
	m := startMosquitto(b, "max_queued_messages 0")
	e, err := engine.New(engine.Options{UserDir: b.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close(context.Background())
	up := make(chan struct{}, 1)
	e.Subscribe(func(ev engine.Event) {
		if ev.Kind == "status" && ev.ID == "readings-in" && ev.Status.Text == statusConnected.Text {
			select {
			case up <- struct{}{}:
			default:
			}
		}
	})
	if err := e.DeploySet(pipelineFlow(b, m.port, strconv.Itoa(int(qos))), nil); err != nil {
		b.Fatal(err)
	}
	select {
	case <-up:
	case <-time.After(5 * time.Second):
		b.Fatal("the pipeline never connected")
	}
	client := func(id string) pahomqtt.Client {
		o := pahomqtt.NewClientOptions().AddBroker("tcp://" + m.addr()).SetClientID(id)
		c := pahomqtt.NewClient(o)
		if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			b.Fatalf("connect %s: %v", id, tok.Error())
		}
		return c
	}
	var got atomic.Int64
	done := make(chan struct{})
	want := int64(b.N)
	rx := client("bench-rx")
	defer rx.Disconnect(100)
	rx.Subscribe("plant-1/#", qos, func(pahomqtt.Client, pahomqtt.Message) {
		if got.Add(1) == want {
			close(done)
		}
	}).Wait()
	tx := client("bench-tx")
	defer tx.Disconnect(100)
	payloads := [2]string{`{"id":"s1","value":42,"unit":"C"}`, `{"id":"s2","value":73.5,"unit":"C"}`}
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	var last pahomqtt.Token
	for i := 0; i < b.N; i++ {
		last = tx.Publish("sensors/s"+strconv.Itoa(i%8)+"/reading", qos, false, payloads[i%2])
		if qos > 0 && i%500 == 499 {
			last.Wait() // keep the publisher's own window bounded
		}
	}
	last.Wait()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		b.Fatalf("%d of %d messages came out", got.Load(), b.N)
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
	b.ReportMetric((cpuTime()-cpu0).Seconds()*100000/float64(b.N), "cpu-s/100k")
}

// cpuTime is the CPU time this process has used: the flows and the
// benchmark's own two clients (mosquitto's is not counted).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPahoPassthrough is the yardstick for BenchmarkPipeline: a
// hand-written paho client doing the pipeline's work (parse, label, route,
// publish, acknowledge the source after the publish is acknowledged), run
// against the same broker the same way.
func BenchmarkPahoPassthroughQoS0(b *testing.B) { benchPaho(b, 0) }
func BenchmarkPahoPassthroughQoS1(b *testing.B) { benchPaho(b, 1) }

func benchPaho(b *testing.B, qos byte) {
	m := startMosquitto(b, "max_queued_messages 0")
	client := func(id string) pahomqtt.Client {
		c := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker("tcp://" + m.addr()).SetClientID(id).SetAutoAckDisabled(true))
		c.Connect().Wait()
		return c
	}
	pt := client("pt")
	acks := make(chan pahomqtt.Message, 10000)
	go func() {
		for m := range acks {
			m.Ack()
		}
	}()
	type pend struct {
		t pahomqtt.Token
		m pahomqtt.Message
	}
	pends := make(chan pend, 10000)
	go func() {
		for p := range pends {
			p.t.Wait()
			acks <- p.m
		}
	}()
	pt.Subscribe("sensors/+/reading", qos, func(c pahomqtt.Client, m pahomqtt.Message) {
		var v map[string]any
		json.Unmarshal(m.Payload(), &v)
		v["site"] = "plant-1"
		out, _ := json.Marshal(v)
		topic := "plant-1/readings"
		if f, _ := v["value"].(float64); f > 50 {
			topic = "plant-1/alerts"
		}
		go func() { pends <- pend{c.Publish(topic, qos, false, out), m} }()
	}).Wait()
	var got atomic.Int64
	done := make(chan struct{})
	rx := client("rx")
	rx.Subscribe("plant-1/#", qos, func(_ pahomqtt.Client, m pahomqtt.Message) {
		m.Ack()
		if got.Add(1) == int64(b.N) {
			close(done)
		}
	}).Wait()
	tx := client("tx")
	start, cpu0 := time.Now(), cpuTime()
	var last pahomqtt.Token
	payloads := [2]string{`{"id":"s1","value":42,"unit":"C"}`, `{"id":"s2","value":73.5,"unit":"C"}`}
	for i := 0; i < b.N; i++ {
		last = tx.Publish("sensors/s"+strconv.Itoa(i%8)+"/reading", qos, false, payloads[i%2])
		if qos > 0 && i%500 == 499 {
			last.Wait()
		}
	}
	last.Wait()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		b.Fatalf("%d of %d", got.Load(), b.N)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	b.ReportMetric((cpuTime()-cpu0).Seconds()*100000/float64(b.N), "cpu-s/100k")
}

// BenchmarkClientsOnly is the benchmark clients' own share: the same
// publishes and subscription with nothing in between (the readings go
// straight to the counted topic), to take out of the cpu-s/100k figures.
func BenchmarkClientsOnly(b *testing.B) {
	m := startMosquitto(b, "max_queued_messages 0")
	client := func(id string) pahomqtt.Client {
		c := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker("tcp://" + m.addr()).SetClientID(id))
		c.Connect().Wait()
		return c
	}
	var got atomic.Int64
	done := make(chan struct{})
	rx := client("rx")
	defer rx.Disconnect(100)
	rx.Subscribe("plant-1/#", 1, func(pahomqtt.Client, pahomqtt.Message) {
		if got.Add(1) == int64(b.N) {
			close(done)
		}
	}).Wait()
	tx := client("tx")
	defer tx.Disconnect(100)
	start, cpu0 := time.Now(), cpuTime()
	var last pahomqtt.Token
	for i := 0; i < b.N; i++ {
		last = tx.Publish("plant-1/readings", 1, false, `{"id":"s1","value":42,"unit":"C"}`)
		if i%500 == 499 {
			last.Wait()
		}
	}
	last.Wait()
	<-done
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	b.ReportMetric((cpuTime()-cpu0).Seconds()*100000/float64(b.N), "cpu-s/100k")
}
