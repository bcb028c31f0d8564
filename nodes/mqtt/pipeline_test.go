package mqtt

import (
	"context"
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
	if got := s.next(5 * time.Second); got != `plant-1/readings 1 {"id":"s1","value":42,"site":"plant-1","level":"normal"}` {
		t.Fatalf("normal reading: %q", got)
	}
	m.pub("-q", "1", "-t", "sensors/s2/reading", "-m", `{"id":"s2","value":73.5}`)
	if got := s.next(5 * time.Second); got != `plant-1/alerts 1 {"id":"s2","value":73.5,"site":"plant-1","level":"alert"}` {
		t.Fatalf("hot reading: %q", got)
	}
	// Not JSON: the json node reports it and nothing goes out; no numeric
	// value: the switch drops it.
	m.pub("-q", "1", "-t", "sensors/s3/reading", "-m", `oops`)
	m.pub("-q", "1", "-t", "sensors/s4/reading", "-m", `{"id":"s4","value":"n/a"}`)
	s.none(300 * time.Millisecond)
}

// BenchmarkPipeline measures messages a second end to end through
// flows/mqtt-pipeline.json with a real mosquitto, the flows in this
// process (for -cpuprofile): a Go client publishes b.N readings, another
// counts what comes out. The comparison with Node-RED and a hand-written
// client, each a process of its own, is bench/mqtt_test.go.
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
