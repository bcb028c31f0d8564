package kafka

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicehq/sluice/runtime/msg"
)

func inFlow(addrs, props string) string {
	return brokerNode(addrs) + `,
		{"id":"ki","type":"kafka in","z":"tab","broker":"kb",` + props + `,"wires":[["f1"]]},
		{"id":"f1","type":"kt-fail","z":"tab","wires":[["sink1"]]},
		{"id":"sink1","type":"kt-sink","z":"tab"}`
}

// kcat writes, Sluice reads: every field of the message, without a group.
func TestInKcatWrites(t *testing.T) {
	kcat(t)
	_, addrs := newCluster(t, kfake.SeedTopics(2, "in1"))
	runKcat(t, "k1:hello\n", "-b", addrs, "-P", "-t", "in1", "-p", "1", "-K", ":", "-H", "h1=v1")
	runKcat(t, `{"a":1}`+"\n", "-b", addrs, "-P", "-t", "in1", "-p", "0")
	h := newHarness(t)
	h.deploy(inFlow(addrs, `"topics":"in1","start":"earliest","datatype":"auto"`), nil)
	got := map[string]*msg.Object{}
	for range 2 {
		m := h.next("sink1", 15*time.Second)
		got[msg.ToString(m.Value("partition"))] = m
	}
	m1 := got["1"]
	if m1 == nil || m1.Value("payload") != "hello" || m1.Value("key") != "k1" || m1.Value("topic") != "in1" || m1.Value("offset") != 0.0 {
		t.Fatalf("partition 1 message: %s", msg.Marshal(m1))
	}
	if hd, _ := m1.Value("headers").(*msg.Object); hd == nil || hd.Value("h1") != "v1" {
		t.Errorf("headers: %s", msg.Marshal(m1.Value("headers")))
	}
	if ts, _ := m1.Value("timestamp").(float64); ts < float64(time.Now().Add(-time.Minute).UnixMilli()) {
		t.Errorf("timestamp %v", m1.Value("timestamp"))
	}
	if m0 := got["0"]; m0 == nil || m0.Value("payload") != `{"a":1}` || m0.Value("key") != nil {
		t.Errorf("partition 0 message: %s", msg.Marshal(m0))
	}
}

func TestInJSONAndRegex(t *testing.T) {
	kcat(t)
	_, addrs := newCluster(t, kfake.SeedTopics(1, "rx.a", "rx.b", "other"))
	runKcat(t, `{"n":1}`+"\n", "-b", addrs, "-P", "-t", "rx.a")
	runKcat(t, `{"n":2}`+"\n", "-b", addrs, "-P", "-t", "rx.b")
	runKcat(t, `{"n":3}`+"\n", "-b", addrs, "-P", "-t", "other")
	h := newHarness(t)
	h.deploy(inFlow(addrs, `"topics":"^rx\\.","topicRegex":true,"group":"g-rx","start":"earliest","datatype":"json"`), nil)
	sum := 0.0
	for range 2 {
		m := h.next("sink1", 20*time.Second)
		sum += m.Value("payload").(*msg.Object).Value("n").(float64)
	}
	if sum != 3 {
		t.Errorf("read n summing to %v, want the two rx.* records (3)", sum)
	}
	h.none("sink1", 500*time.Millisecond)
}

// At least once: while the flow fails a message its offset is not
// committed, so a consumer of the same group started later reads it again;
// once it succeeds, a later consumer does not.
func TestInFailedNotCommitted(t *testing.T) {
	t.Parallel() // mostly waiting on brokers
	kcat(t)
	_, addrs := newCluster(t, kfake.SeedTopics(1, "alo"))
	runKcat(t, "one\ntwo\n", "-b", addrs, "-P", "-t", "alo")
	props := `"topics":"alo","group":"g-alo","start":"earliest"`

	failing.Store("f1", true)
	defer failing.Delete("f1")
	h := newHarness(t)
	h.deploy(inFlow(addrs, props)+`,{"id":"c","type":"catch","z":"tab","scope":["f1"],"wires":[["sinkErr"]]},{"id":"sinkErr","type":"kt-sink","z":"tab"}`, nil)
	h.next("sinkErr", 20*time.Second)
	h.next("sinkErr", 5*time.Second)
	time.Sleep(time.Second) // past an auto-commit interval
	closeEngine(t, h)

	failing.Store("f1", false)
	h2 := newHarness(t)
	h2.deploy(inFlow(addrs, props), nil)
	if p := h2.next("sink1", 20*time.Second).Value("payload"); p != "one" {
		t.Fatalf("redelivered %v, want one", p)
	}
	if p := h2.next("sink1", 5*time.Second).Value("payload"); p != "two" {
		t.Fatalf("redelivered %v, want two", p)
	}
	time.Sleep(time.Second)
	closeEngine(t, h2)

	h3 := newHarness(t)
	h3.deploy(inFlow(addrs, props), nil)
	h3.waitStatus("ki", "connected", 10*time.Second)
	h3.none("sink1", 3*time.Second)
}

// Two engines in one group split the partitions between them; together
// they read every record once.
func TestInGroupOfTwo(t *testing.T) {
	t.Parallel() // mostly waiting on brokers
	kcat(t)
	_, addrs := newCluster(t, kfake.SeedTopics(4, "grp"))
	props := `"topics":"grp","group":"g2","start":"earliest"`
	h1, h2 := newHarness(t), newHarness(t)
	h1.deploy(inFlow(addrs, props), nil)
	h2.deploy(inFlow(addrs, props), nil)
	h1.waitStatus("ki", "connected", 10*time.Second)
	h2.waitStatus("ki", "connected", 10*time.Second)
	time.Sleep(4 * time.Second) // both in the group, partitions assigned

	var in strings.Builder
	const n = 200
	for i := range n {
		fmt.Fprintf(&in, "key%d:%d\n", i, i)
	}
	runKcat(t, in.String(), "-b", addrs, "-P", "-t", "grp", "-K", ":")
	seen := map[string]bool{}
	parts := [2]map[float64]bool{{}, {}}
	deadline := time.After(30 * time.Second)
	for len(seen) < n {
		select {
		case m := <-h1.sink("sink1"):
			seen[m.Value("payload").(string)] = true
			parts[0][m.Value("partition").(float64)] = true
		case m := <-h2.sink("sink1"):
			seen[m.Value("payload").(string)] = true
			parts[1][m.Value("partition").(float64)] = true
		case <-deadline:
			t.Fatalf("read %d of %d records", len(seen), n)
		}
	}
	if len(parts[0]) == 0 || len(parts[1]) == 0 {
		t.Fatalf("partitions not split: %v / %v", parts[0], parts[1])
	}
	for p := range parts[0] {
		if parts[1][p] {
			t.Errorf("partition %v read by both", p)
		}
	}

	// The second takes over every partition when the first stops.
	time.Sleep(time.Second) // offsets of the first batch committed
	closeEngine(t, h1)
	in.Reset()
	for i := range n {
		fmt.Fprintf(&in, "key%d:late%d\n", i, i)
	}
	runKcat(t, in.String(), "-b", addrs, "-P", "-t", "grp", "-K", ":")
	late := map[string]bool{}
	// Generous: a rebalance on a loaded machine can take several session
	// timeouts.
	deadline = time.After(90 * time.Second)
	for len(late) < n {
		select {
		case m := <-h2.sink("sink1"):
			if p := m.Value("payload").(string); strings.HasPrefix(p, "late") {
				late[p] = true
			}
		case <-deadline:
			t.Fatalf("after takeover read %d of %d records", len(late), n)
		}
	}
}

func closeEngine(t *testing.T, h *harness) {
	t.Helper()
	ctx, cancel := contextTimeout(15 * time.Second)
	defer cancel()
	if err := h.E.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// Without a group, a regex subscription also reads topics created later.
func TestInRegexNewTopicNoGroup(t *testing.T) {
	kcat(t)
	_, addrs := newCluster(t, kfake.SeedTopics(1, "nt.a"))
	h := newHarness(t)
	h.deploy(inFlow(addrs, `"topics":"^nt\\.","topicRegex":true,"start":"latest"`), nil)
	h.waitStatus("ki", "connected", 10*time.Second)
	// librdkafka does not create topics: an admin client does.
	adm, err := sarama.NewClusterAdmin([]string{addrs}, sarama.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := adm.CreateTopic("nt.b", &sarama.TopicDetail{NumPartitions: 2, ReplicationFactor: 1}, false); err != nil {
		t.Fatal(err)
	}
	_ = adm.Close()
	runKcat(t, "late\n", "-b", addrs, "-P", "-t", "nt.b")
	if p := h.next("sink1", 15*time.Second).Value("payload"); p != "late" {
		t.Fatalf("read %v", p)
	}
}
