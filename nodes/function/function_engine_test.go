package function_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/sluicehq/sluice/nodes/core"
	_ "github.com/sluicehq/sluice/nodes/function"
	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/msg"
)

// flowRun deploys a flow on a real engine and collects what reaches nodes
// whose id starts with "out".
type flowRun struct {
	e    *engine.Engine
	mu   sync.Mutex
	got  []string
	wake chan struct{}
}

func deployFlow(t *testing.T, flowJSON string) *flowRun {
	t.Helper()
	e, err := engine.New(engine.Options{UserDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	r := &flowRun{e: e, wake: make(chan struct{}, 100)}
	e.OnReceive(func(id string, m *msg.Msg) {
		if !strings.HasPrefix(id, "out") {
			return
		}
		r.mu.Lock()
		r.got = append(r.got, id+" "+string(msg.Marshal(m.Object)))
		r.mu.Unlock()
		select {
		case r.wake <- struct{}{}:
		default:
		}
	})
	if err := e.Deploy([]byte(flowJSON)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.Close(ctx)
	})
	return r
}

// wait returns the collected messages once n have arrived.
func (r *flowRun) wait(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		r.mu.Lock()
		if len(r.got) >= n {
			out := append([]string(nil), r.got...)
			r.mu.Unlock()
			return out
		}
		r.mu.Unlock()
		select {
		case <-r.wake:
		case <-deadline:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("got %d of %d messages: %v", len(r.got), n, r.got)
		}
	}
}

const tab = `{"id":"t1","type":"tab","label":"Flow 1"}`

func debugNode(id string) string {
	return `{"id":"` + id + `","type":"debug","z":"t1","active":false,"tosidebar":false,"x":1,"y":1,"wires":[]}`
}

func TestEngineInitialize(t *testing.T) {
	r := deployFlow(t, `[`+tab+`,
		{"id":"fn","type":"function","z":"t1","func":"msg.payload = flow.get('start'); return msg;","initialize":"flow.set('start', 'from setup');","outputs":1,"x":1,"y":1,"wires":[["out1"]]},
		`+debugNode("out1")+`]`)
	if err := r.e.Inject("fn", msg.New()); err != nil {
		t.Fatal(err)
	}
	got := r.wait(t, 1)
	if !strings.Contains(got[0], `"payload":"from setup"`) {
		t.Fatal(got)
	}
}

func TestEngineErrorsAndStatus(t *testing.T) {
	r := deployFlow(t, `[`+tab+`,
		{"id":"fn","type":"function","z":"t1","name":"f","func":"node.status({fill:'red',shape:'ring',text:'x'});\nif (msg.payload) { throw new TypeError('bad ' + msg.payload); }\nreturn msg;","outputs":1,"x":1,"y":1,"wires":[["out1"]]},
		{"id":"c","type":"catch","z":"t1","scope":null,"x":1,"y":1,"wires":[["out2"]]},
		{"id":"s","type":"status","z":"t1","scope":["fn"],"x":1,"y":1,"wires":[["out3"]]},
		`+debugNode("out1")+`,`+debugNode("out2")+`,`+debugNode("out3")+`]`)
	m := msg.New()
	m.Set("payload", "p")
	if err := r.e.Inject("fn", m); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(r.wait(t, 2), "\n")
	for _, want := range []string{
		`out2 {"_msgid":"` + m.Value("_msgid").(string) + `","payload":"p","error":{"message":"TypeError: bad p","source":{"id":"fn","type":"function","name":"f","count":1},"stack":"TypeError: bad p\n    at Function node:fn [f]:3:`,
		`"_error":{}}`,
		`out3 {"status":{"fill":"red","shape":"ring","text":"x","source":{"id":"fn","type":"function","name":"f"}}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s\nin %s", want, got)
		}
	}
}
