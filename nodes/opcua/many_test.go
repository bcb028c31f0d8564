//go:build unix

package opcua

import (
	"fmt"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
)

// TestSubscribeThousands subscribes 2,000 items from one message (several
// CreateMonitoredItems batches) and sees every one of them deliver.
func TestSubscribeThousands(t *testing.T) {
	needPeer(t)
	const items = 2000
	srv := startServer(t, freePort(t), "--items", fmt.Sprint(items), "--rate", "500")
	t.Cleanup(srv.stop)
	h := run(t, endpointJSON(srv.url, ""), clientJSON("subscribe", `,"time":250`))
	ids := make([]any, items)
	for i := range ids {
		ids[i] = fmt.Sprintf("ns=1;s=Bench.%d", i)
	}
	m := msg.New()
	m.Set("payload", ids)
	if err := h.E.Inject("c", m); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	deadline := time.After(30 * time.Second)
	for len(seen) < items {
		select {
		case m := <-h.sink("sink1"):
			seen[msg.ToString(m.Value("topic"))] = true
		case <-deadline:
			t.Fatalf("%d of %d items delivered", len(seen), items)
		}
	}
	h.waitStatus("c", fmt.Sprintf("green/dot/subscribed %d items", items), 5*time.Second)
	h.none("sinkErr", 100*time.Millisecond)
}
