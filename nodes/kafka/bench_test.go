package kafka

import (
	"context"
	"fmt"
	"os/exec"
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

// BenchmarkKafkaIn measures records per second from the in-process broker
// through kafka in (consumer group, offsets committed as messages finish)
// to a sink; kcat writes the records first.
func BenchmarkKafkaIn(b *testing.B) {
	kcatPath, err := exec.LookPath("kcat")
	if err != nil {
		b.Skip("kcat not installed")
	}
	_, addrs := newCluster(b, kfake.SeedTopics(4, "benchin"))
	var in strings.Builder
	for i := range b.N {
		fmt.Fprintf(&in, "dev%d:{\"device\":\"dev-0001\",\"seq\":%d,\"temp\":21.5,\"humidity\":48.2,\"site\":\"plant-1\",\"ok\":true}\n", i%8, i)
	}
	cmd := exec.Command(kcatPath, "-b", addrs, "-P", "-t", "benchin", "-K", ":")
	cmd.Stdin = strings.NewReader(in.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("kcat: %v\n%s", err, out)
	}
	e, err := engine.New(engine.Options{UserDir: b.TempDir(), CloseTimeout: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = e.Close(context.Background()) }()
	var got atomic.Int64
	e.OnReceive(func(id string, _ *msg.Msg) {
		if strings.HasPrefix(id, "sink") {
			got.Add(1)
		}
	})
	set, err := flow.Parse([]byte(`[{"id":"tab","type":"tab"},` + brokerNode(addrs) + `,
		{"id":"ki","type":"kafka in","z":"tab","broker":"kb","topics":"benchin","group":"bench","start":"earliest","wires":[["sink1"]]},
		{"id":"sink1","type":"kt-sink","z":"tab"}]`))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	if err := e.DeploySet(set, nil); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for got.Load() < int64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d records read", got.Load(), b.N)
		}
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
