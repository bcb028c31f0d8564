package kafka

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/flow"
	"github.com/sluicehq/sluice/runtime/msg"
)

// BenchmarkKafkaOut measures records per second through kafka out into the
// in-process broker, acks=all and idempotent, counting a record only when
// its complete node fired (the broker acknowledged it).
func BenchmarkKafkaOut(b *testing.B) {
	_, addrs := newCluster(b, kfake.SeedTopics(4, "bench"))
	e, err := engine.New(engine.Options{UserDir: b.TempDir(), CloseTimeout: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = e.Close(context.Background()) }()
	var acked atomic.Int64
	e.OnReceive(func(id string, _ *msg.Msg) {
		if strings.HasPrefix(id, "sink") {
			acked.Add(1)
		}
	})
	set, err := flow.Parse([]byte(`[{"id":"tab","type":"tab"},` + brokerNode(addrs) + `,
		{"id":"ko","type":"kafka out","z":"tab","broker":"kb","topic":"bench"},
		{"id":"done","type":"complete","z":"tab","scope":["ko"],"wires":[["sink1"]]},
		{"id":"sink1","type":"kt-sink","z":"tab"}]`))
	if err != nil {
		b.Fatal(err)
	}
	if err := e.DeploySet(set, nil); err != nil {
		b.Fatal(err)
	}
	payload := []byte(`{"device":"dev-0001","seq":123456,"temp":21.5,"humidity":48.2,"site":"plant-1","ok":true,"pad":"xxxxxxxx"}`)
	keys := []string{"dev0", "dev1", "dev2", "dev3", "dev4", "dev5", "dev6", "dev7"}
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		m := msg.New()
		m.Set("key", keys[i%len(keys)])
		m.Set("payload", payload)
		if err := e.Inject("ko", m); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for acked.Load() < int64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d records acknowledged", acked.Load(), b.N)
		}
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
