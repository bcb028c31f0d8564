//go:build unix

package opcua

import (
	"context"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/msg"
)

// benchItems monitored items of one subscription; the server changes all
// of them every benchRate (OPCUA_BENCH_RATE_MS overrides it).
const benchItems = 1000

var benchRate = func() time.Duration {
	if ms, err := strconv.Atoi(os.Getenv("OPCUA_BENCH_RATE_MS")); err == nil && ms > 0 {
		return time.Duration(ms) * time.Millisecond
	}
	return 50 * time.Millisecond
}()

func rssKB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f, _ := strconv.ParseFloat(strings.Fields(l)[1], 64)
			return f
		}
	}
	return 0
}

// BenchmarkSubscribe1000 measures data changes per second delivered to a
// wire from one OpcUa-Client subscribed to 1,000 items, and the memory the
// process holds with that subscription running.
func BenchmarkSubscribe1000(b *testing.B) {
	needPeer(b)
	srv := startServer(b, freePort(b), "--items", fmt.Sprint(benchItems), "--rate", fmt.Sprint(benchRate.Milliseconds()))
	defer srv.stop()
	e, err := engine.New(engine.Options{UserDir: runDir, CloseTimeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close(context.Background())
	// Values carry the server's tick: a tick skipped for an item is a
	// change lost between the server's queue and the wire.
	var got, skipped atomic.Int64
	var mu sync.Mutex
	last := map[string]float64{}
	e.OnReceive(func(id string, m *msg.Msg) {
		if id != "sinkB" {
			return
		}
		got.Add(1)
		tick := math.Floor(m.Payload().(float64))
		topic := m.Value("topic").(string)
		mu.Lock()
		if prev, ok := last[topic]; ok && tick > prev+1 {
			skipped.Add(int64(tick - prev - 1))
		}
		last[topic] = tick
		mu.Unlock()
	})
	flowJSON := `[{"id":"t1","type":"tab"},` + endpointJSON(srv.url, "") + `,` +
		`{"id":"sinkB","type":"opctest-sink","z":"t1"},` +
		fmt.Sprintf(`{"id":"c","type":"OpcUa-Client","z":"t1","endpoint":"ep","action":"subscribe","time":%d,"timeUnit":"ms","wires":[["sinkB"]]}]`, benchRate.Milliseconds())
	if err := e.Deploy([]byte(flowJSON)); err != nil {
		b.Fatal(err)
	}
	ids := make([]any, benchItems)
	for i := range ids {
		ids[i] = fmt.Sprintf("ns=1;s=Bench.%d", i)
	}
	m := msg.New()
	m.Set("payload", ids)
	if err := e.Inject("c", m); err != nil {
		b.Fatal(err)
	}
	// Wait for the first full round of values.
	deadline := time.Now().Add(60 * time.Second)
	for got.Load() < benchItems {
		if time.Now().After(deadline) {
			b.Fatalf("only %d values after 60 s", got.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.ResetTimer()
	start, from := time.Now(), got.Load()
	want := from + int64(b.N)
	deadline = time.Now().Add(120 * time.Second)
	for got.Load() < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	el := time.Since(start)
	b.StopTimer()
	n := got.Load() - from
	b.ReportMetric(float64(n)/el.Seconds(), "changes/s")
	b.ReportMetric(float64(skipped.Load()), "skipped")
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
	b.ReportMetric(rssKB()/1024, "rss-MiB")
}
