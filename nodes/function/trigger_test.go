package function

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/node"
)

func triggerJSON(extra string) string {
	return `{"id":"tr","type":"trigger","op1":"1","op2":"0","op1type":"str","op2type":"str","duration":"50","extend":false,
	"overrideDelay":false,"units":"ms","reset":"","bytopic":"all","topic":"topic","outputs":1,"wires":[["sink"]]` + extra + `}`
}

// The triggering message is done once handled; the second message is a
// delivery of its own and does not keep the source waiting.
func TestTriggerTrackers(t *testing.T) {
	r := newRig(t, nil, triggerJSON(`,"duration":"300"`), delaySink)
	done := r.sendTracked("tr", `{"payload":"x"}`)
	if err, ok := finished(done, 200*time.Millisecond); !ok || err != nil {
		t.Fatalf("done %v %v", ok, err)
	}
	got := r.exactly("sink", 0, `{"payload":"1"}`)
	second := r.wait("sink", 2, 2*time.Second)
	if el := second[1].at.Sub(got[0].at); el < 280*time.Millisecond {
		t.Fatalf("second message after %s, want 300ms", el)
	}
	if second[0].o.Value("_msgid") != second[1].o.Value("_msgid") {
		t.Fatal("the second message is not a copy of the first")
	}
}

func TestTriggerLoopUntilReset(t *testing.T) {
	r := newRig(t, nil, triggerJSON(`,"duration":"-40","op1":"tick"`), delaySink)
	r.send("tr", `{"payload":0}`)
	got := r.wait("sink", 4, 2*time.Second)
	for i := 2; i < len(got); i++ {
		if gap := got[i].at.Sub(got[i-1].at); gap < 30*time.Millisecond {
			t.Fatalf("repeat %d after %s", i, gap)
		}
	}
	r.send("tr", `{"reset":true}`)
	time.Sleep(20 * time.Millisecond)
	r.mu.Lock()
	n := len(r.got["sink"])
	r.mu.Unlock()
	time.Sleep(120 * time.Millisecond)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got["sink"]) != n {
		t.Fatalf("repeats went on after reset: %d then %d", n, len(r.got["sink"]))
	}
}

// A new message restarts the loop with itself.
func TestTriggerLoopRestarts(t *testing.T) {
	r := newRig(t, nil, triggerJSON(`,"duration":"-60","op1type":"pay"`), delaySink)
	r.send("tr", `{"payload":"a"}`)
	r.send("tr", `{"payload":"b"}`)
	got := r.wait("sink", 4, 2*time.Second)
	for i, want := range []string{"a", "b", "b", "b"} {
		if p := got[i].o.Value("payload"); p != want {
			t.Fatalf("message %d: %v; all: %s", i, p, rigJSON(got))
		}
	}
}

func TestTriggerStatusPerTopic(t *testing.T) {
	r := newRig(t, nil, triggerJSON(`,"bytopic":"topic","duration":"0"`), delaySink)
	r.send("tr", `{"topic":"a"}`)
	r.send("tr", `{"topic":"b"}`)
	r.waitStatus("tr", time.Second, func(s node.Status) bool { return s.Text == "2" })
	r.send("tr", `{"topic":"a","reset":1}`)
	r.send("tr", `{"topic":"b","reset":1}`)
	r.waitStatus("tr", time.Second, func(s node.Status) bool { return s == node.Status{} })
}

func TestTriggerStopCancels(t *testing.T) {
	r := newRig(t, nil, triggerJSON(`,"duration":"60"`), delaySink)
	r.send("tr", `{"payload":0}`)
	r.wait("sink", 1, time.Second)
	if err := r.e.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	r.exactly("sink", 100*time.Millisecond, `{"payload":"1"}`)
}

func TestTriggerTopicError(t *testing.T) {
	c := newCtx()
	_, err := feed(t, build(t, "trigger", `{"topic":"a.b","duration":"0"}`), c, `{"payload":1}`)
	if err == nil || err.Error() != "TypeError: Cannot read properties of undefined (reading 'b')" {
		t.Fatalf("got %v", err)
	}
}

func TestTriggerNumNaN(t *testing.T) {
	got, err := feed(t, build(t, "trigger", `{"op1":"abc","op1type":"num","duration":"0"}`), newCtx(), `{"payload":1}`)
	if err != nil || got != `{"payload":NaN}` && got != `{"payload":null}` {
		t.Fatalf("got %s %v", got, err)
	}
}

func TestTriggerBadConfig(t *testing.T) {
	badConfig(t, "trigger", `{"op1":"{{#x}}","op1type":"str"}`, "op1")
	badConfig(t, "trigger", `{"op2":"{nope","op2type":"json"}`, "op2")
	badConfig(t, "trigger", `{"topic":"a..b"}`, "topic")
	spec, _ := node.Lookup("trigger")
	if n := spec.OutputCount(config(`{"outputs":"2"}`)); n != 2 {
		t.Fatalf("outputs %d", n)
	}
}

func TestTriggerOddOp1Type(t *testing.T) {
	got, err := feed(t, build(t, "trigger", `{"op1":"x","op1type":"payl","duration":"0"}`), newCtx(), `{"payload":1}`)
	if err != nil || got != `{"payload":"x"}` {
		t.Fatalf("got %s %v", got, err)
	}
}
