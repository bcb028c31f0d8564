// Package bench holds the speed and memory benchmarks of DESIGN.md's
// targets: dispatch through node chains, fan-out, switch, JSONata, and the
// start-up and idle memory of the built binary.
package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/sluicehq/sluice/nodes/all"
	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// sink counts arrivals and signals when the expected number is in.
type sink struct {
	n    atomic.Int64
	want atomic.Int64
	done chan struct{}
}

func (s *sink) Input(c node.Ctx, m *msg.Msg) error {
	if s.n.Add(1) == s.want.Load() {
		s.done <- struct{}{}
	}
	return nil
}

var sinks = map[string]*sink{}

func init() {
	node.Register(&node.Spec{Type: "bench-sink", Inputs: 1, New: func(cfg *node.Config) (node.Node, error) {
		s := &sink{done: make(chan struct{}, 1)}
		sinks[cfg.ID()] = s
		return s, nil
	}})
}

func run(b *testing.B, flowJSON string, perMsg int) {
	e, err := engine.New(engine.Options{UserDir: b.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	if err := e.Deploy([]byte(flowJSON)); err != nil {
		b.Fatal(err)
	}
	defer e.Close(context.Background())
	s := sinks["sink"]
	s.n.Store(0)
	s.want.Store(int64(b.N * perMsg))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := e.Acquire(ctx); err != nil {
			b.Fatal(err)
		}
		m := msg.Wrap(msg.NewObject(4))
		m.Set("_msgid", "bench")
		m.Set("payload", float64(i))
		m.Set("topic", "sensors/line1/temp")
		if err := e.Inject("in", m); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		b.Fatalf("only %d of %d messages arrived", s.n.Load(), b.N*perMsg)
	}
	el := time.Since(start)
	b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
}

// chain builds in → n change nodes → sink.
func chain(n int, rule string) string {
	var b strings.Builder
	b.WriteString(`[{"id":"t","type":"tab"}`)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("c%d", i)
		if i == 0 {
			id = "in"
		}
		next := fmt.Sprintf("c%d", i+1)
		if i == n-1 {
			next = "sink"
		}
		fmt.Fprintf(&b, `,{"id":%q,"type":"change","z":"t","rules":[%s],"wires":[[%q]]}`, id, rule, next)
	}
	b.WriteString(`,{"id":"sink","type":"bench-sink","z":"t"}]`)
	return b.String()
}

// BenchmarkChain10Change: one message through ten change nodes (target ≥
// 500k msgs/s through the whole chain on 2 cores).
func BenchmarkChain10Change(b *testing.B) {
	run(b, chain(10, `{"t":"set","p":"seen","pt":"msg","to":"yes","tot":"str"}`), 1)
}

// BenchmarkFanOut3: one message to three wires (two deep clones).
func BenchmarkFanOut3(b *testing.B) {
	run(b, `[{"id":"t","type":"tab"},
	 {"id":"in","type":"change","z":"t","rules":[{"t":"set","p":"a","pt":"msg","to":"{\"x\":[1,2,3],\"y\":{\"z\":\"w\"}}","tot":"json"}],"wires":[["sink","sink","sink"]]},
	 {"id":"sink","type":"bench-sink","z":"t"}]`, 3)
}

// BenchmarkSwitch: a switch with four rules routing every message.
func BenchmarkSwitch(b *testing.B) {
	run(b, `[{"id":"t","type":"tab"},
	 {"id":"in","type":"switch","z":"t","property":"payload","propertyType":"msg","rules":[
	   {"t":"lt","v":"0","vt":"num"},{"t":"btwn","v":"0","vt":"num","v2":"1e12","v2t":"num"},{"t":"cont","v":"x","vt":"str"},{"t":"else"}],
	  "checkall":"false","outputs":4,"wires":[["sink"],["sink"],["sink"],["sink"]]},
	 {"id":"sink","type":"bench-sink","z":"t"}]`, 1)
}

// BenchmarkJSONataChange: a change node with one JSONata rule per message.
func BenchmarkJSONataChange(b *testing.B) {
	run(b, `[{"id":"t","type":"tab"},
	 {"id":"in","type":"change","z":"t","rules":[{"t":"set","p":"payload","pt":"msg","to":"{\"value\": payload * 2, \"topic\": $uppercase(topic)}","tot":"jsonata"}],"wires":[["sink"]]},
	 {"id":"sink","type":"bench-sink","z":"t"}]`, 1)
}
