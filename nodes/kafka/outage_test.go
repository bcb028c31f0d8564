package kafka

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicehq/sluice/runtime/msg"
)

// A broker that goes away for a few seconds mid-stream holds records back:
// none fails, each is finished only once written, and all are in Kafka
// after the broker is back.
func TestOutBrokerOutage(t *testing.T) {
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
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.DataDir(dir), kfake.SeedTopics(2, "outage"))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := start()
	addrs := fmt.Sprintf("127.0.0.1:%d", port)
	h := newHarness(t)
	h.deploy(brokerNode(addrs)+`,
		{"id":"ko","type":"kafka out","z":"tab","broker":"kb","topic":"outage"},
		{"id":"c","type":"catch","z":"tab","scope":["ko"],"wires":[["sinkErr"]]},
		{"id":"done","type":"complete","z":"tab","scope":["ko"],"wires":[["sinkDone"]]},
		{"id":"sinkErr","type":"kt-sink","z":"tab"},
		{"id":"sinkDone","type":"kt-sink","z":"tab"}`, nil)
	h.waitStatus("ko", "connected", 10*time.Second)
	send := func(from, to int) {
		for i := from; i < to; i++ {
			m := msg.New()
			m.Set("key", fmt.Sprintf("k%d", i%3))
			m.Set("payload", fmt.Sprintf("r%d", i))
			h.inject("ko", m.Object)
		}
	}
	send(0, 100)
	for range 100 {
		h.next("sinkDone", 10*time.Second)
	}
	c.Close()
	send(100, 200)
	h.none("sinkDone", 3*time.Second) // nothing finished while the broker is down
	c = start()
	defer c.Close()
	for range 100 {
		h.next("sinkDone", 30*time.Second)
	}
	h.none("sinkErr", 100*time.Millisecond)
	out := runKcat(t, "", "-b", addrs, "-C", "-t", "outage", "-o", "beginning", "-e", "-q", "-f", "%s\n")
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		seen[l] = true
	}
	for i := range 200 {
		if !seen[fmt.Sprintf("r%d", i)] {
			t.Fatalf("record r%d missing after the outage (%d distinct records)", i, len(seen))
		}
	}
}
