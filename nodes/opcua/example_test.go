//go:build unix

package opcua

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	_ "github.com/sluicehq/sluice/nodes/function" // change
	_ "github.com/sluicehq/sluice/nodes/kafka"    // kafka out
	"github.com/sluicehq/sluice/runtime/msg"
)

// flows/opcua-to-kafka.json against the node-opcua server and an
// in-process Kafka-protocol broker: changes of the three tags arrive in
// Kafka as JSON records keyed by tag, in order per tag.
func TestExampleFlowOPCUAToKafka(t *testing.T) {
	s := sharedServer(t)
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "opcua-values"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	addrs := strings.Join(kc.ListenAddrs(), ",")

	raw, err := os.ReadFile("../../flows/opcua-to-kafka.json")
	if err != nil {
		t.Fatal(err)
	}
	v, err := msg.Unmarshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	var nodes []string
	for _, n := range v.([]any) {
		o := n.(*msg.Object)
		switch o.Value("type") {
		case "OpcUa-Endpoint":
			o.Set("endpoint", s.url)
		case "kafka-broker":
			o.Set("brokers", addrs)
		case "tab":
			continue
		}
		nodes = append(nodes, string(msg.Marshal(o)))
	}
	// run adds its own tab t1 (sinks, catch) next to the flow's tab.
	nodes = append([]string{`{"id":"o2k-tab","type":"tab"}`}, nodes...)
	run(t, nodes[0], nodes[1:]...)

	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.ConsumeTopics("opcua-values"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	last := map[string]float64{}
	count := map[string]int{}
	for count["ns=1;s=Counter"] < 5 || count["ns=1;s=Setpoint"] < 1 || count["ns=1;s=Changing"] < 2 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("records per tag %v", count)
		}
		fs.EachRecord(func(r *kgo.Record) {
			p, err := msg.Unmarshal(r.Value)
			if err != nil {
				t.Fatalf("record %q: %v", r.Value, err)
			}
			o := p.(*msg.Object)
			tag := msg.ToString(o.Value("tag"))
			if string(r.Key) != tag || o.Value("status") != "Good" || !strings.HasSuffix(msg.ToString(o.Value("sourceTimestamp")), "Z") {
				t.Fatalf("record key %q value %s", r.Key, r.Value)
			}
			if tag == "ns=1;s=Counter" {
				c := o.Value("value").(float64)
				if prev, ok := last[tag]; ok && c <= prev {
					t.Fatalf("counter %v after %v", c, prev)
				}
				last[tag] = c
			}
			count[tag]++
		})
	}
}
