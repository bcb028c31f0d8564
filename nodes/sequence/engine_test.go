package sequence_test

import (
	"context"
	"sync"
	"testing"
	"time"

	_ "github.com/sluicehq/sluice/nodes/core"
	_ "github.com/sluicehq/sluice/nodes/sequence"
	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/msg"
)

// Through the real runtime: a source's message is reported done only once
// every part a join held has gone out and been handled downstream.
func TestJoinHoldsSourceUntilJoinedMessageIsHandled(t *testing.T) {
	e, err := engine.New(engine.Options{UserDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	var mu sync.Mutex
	var got []string
	e.OnReceive(func(id string, m *msg.Msg) {
		if id == "out" {
			mu.Lock()
			got = append(got, string(msg.Marshal(m.Value("payload"))))
			mu.Unlock()
		}
	})
	err = e.Deploy([]byte(`[
	 {"id":"t","type":"tab","label":"T"},
	 {"id":"s","type":"split","z":"t","splt":",","x":1,"y":1,"wires":[["j"]]},
	 {"id":"j","type":"join","z":"t","mode":"custom","build":"array","count":"4","x":1,"y":1,"wires":[["out"]]},
	 {"id":"out","type":"debug","z":"t","active":false,"tosidebar":false,"x":1,"y":1,"wires":[]}]`))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 2)
	send := func(payload string) {
		m := msg.New()
		m.Set("payload", payload)
		m.Track = msg.NewTracker(func(err error) { done <- err })
		if err := e.Inject("s", m); err != nil {
			t.Fatal(err)
		}
		m.Track.Done(nil) // the test's own hold
	}
	send("a,b,c")
	select {
	case <-done:
		t.Fatal("the source was released while join still held its parts")
	case <-time.After(200 * time.Millisecond):
	}
	send("d")
	for i := 0; i < 2; i++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("sources never released")
		}
	}
	mu.Lock()
	if len(got) != 1 || got[0] != `["a","b","c","d"]` {
		t.Fatalf("joined %v", got)
	}
	mu.Unlock()
	// A part still held when the flows stop lets its source go.
	send("e")
	if err := e.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("stopping did not release the held part")
	}
}
