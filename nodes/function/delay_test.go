package function

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/node"
)

const delaySink = `{"id":"sink","type":"fnrig-sink","wires":[]}`

func delayJSON(extra string) string {
	return `{"id":"d","type":"delay","pauseType":"delay","timeout":"5","timeoutUnits":"seconds","rate":"1","nbRateUnits":"1",
	"rateUnits":"second","randomFirst":"1","randomLast":"5","randomUnits":"seconds","drop":false,"allowrate":false,
	"outputs":1,"wires":[["sink"]]` + extra + `}`
}

// A held message is still in flight: its source hears of it once it has
// been sent on, not when the delay node took it.
func TestDelayHoldsTracker(t *testing.T) {
	r := newRig(t, nil, delayJSON(`,"timeout":"150","timeoutUnits":"milliseconds"`), delaySink)
	done := r.sendTracked("d", `{"payload":1}`)
	if _, ok := finished(done, 80*time.Millisecond); ok {
		t.Fatal("message reported done while still held")
	}
	got := r.wait("sink", 1, 2*time.Second)
	if el := got[0].at.Sub(r.start); el < 140*time.Millisecond {
		t.Fatalf("sent after %s, want 150ms", el)
	}
	if err, ok := finished(done, time.Second); !ok || err != nil {
		t.Fatalf("done %v %v", ok, err)
	}
}

// Stopping the flows drops held messages; their sources learn they were
// not delivered.
func TestDelayCloseFailsHeld(t *testing.T) {
	r := newRig(t, nil, delayJSON(`,"timeout":"10"`), delaySink)
	done := r.sendTracked("d", `{"payload":1}`)
	time.Sleep(20 * time.Millisecond)
	if err := r.e.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	err, ok := finished(done, time.Second)
	if !ok || !errors.Is(err, errDelayStopped) {
		t.Fatalf("done %v %v", ok, err)
	}
}

func TestDelayFlushOnlyFinishesAtOnce(t *testing.T) {
	r := newRig(t, nil, delayJSON(`,"timeout":"10"`), delaySink)
	held := r.sendTracked("d", `{"payload":1}`)
	flush := r.sendTracked("d", `{"flush":true}`)
	if err, ok := finished(flush, time.Second); !ok || err != nil {
		t.Fatalf("flush message: %v %v", ok, err)
	}
	if err, ok := finished(held, time.Second); !ok || err != nil {
		t.Fatalf("flushed message: %v %v", ok, err)
	}
	r.exactly("sink", 20*time.Millisecond, `{"payload":1}`)
}

// The rate limiter sends one message per interval.
func TestDelayRateSpacing(t *testing.T) {
	r := newRig(t, nil, delayJSON(`,"pauseType":"rate","rate":"20"`), delaySink)
	for i := 0; i < 4; i++ {
		r.send("d", `{"payload":1}`)
	}
	got := r.wait("sink", 4, 2*time.Second)
	for i := 1; i < len(got); i++ {
		if gap := got[i].at.Sub(got[i-1].at); gap < 40*time.Millisecond {
			t.Fatalf("gap %d is %s, want about 50ms", i, gap)
		}
	}
	if el := got[0].at.Sub(r.start); el > 40*time.Millisecond {
		t.Fatalf("first message waited %s", el)
	}
}

// nodeMessageBufferMaxLength bounds the rate limiter's queue: when full it
// is emptied and the message that found it full is an error.
func TestDelayRateQueueLimit(t *testing.T) {
	r := newRig(t, rigSettings{"nodeMessageBufferMaxLength": 2.0},
		delayJSON(`,"pauseType":"rate","rate":"1","rateUnits":"minute"`), delaySink)
	first := r.sendTracked("d", `{"payload":0}`)
	q1 := r.sendTracked("d", `{"payload":1}`)
	q2 := r.sendTracked("d", `{"payload":2}`)
	over := r.sendTracked("d", `{"payload":3}`)
	if err, ok := finished(first, time.Second); !ok || err != nil {
		t.Fatalf("first: %v %v", ok, err)
	}
	for i, d := range []chan error{q1, q2, over} {
		if err, ok := finished(d, time.Second); !ok || !errors.Is(err, errDelayTooMany) {
			t.Fatalf("message %d: %v %v", i+1, ok, err)
		}
	}
	if !strings.Contains(r.logs.String(), "too many pending messages in delay node") {
		t.Fatal("the error was not reported")
	}
	r.exactly("sink", 20*time.Millisecond, `{"payload":0}`)
}

func TestDelayBurstWindow(t *testing.T) {
	r := newRig(t, nil, delayJSON(`,"pauseType":"burst","rate":"2","nbRateUnits":"1","rateUnits":"second","timer":0`), delaySink)
	for i := 0; i < 3; i++ {
		r.send("d", `{"payload":1}`)
	}
	r.exactly("sink", 50*time.Millisecond, `{"payload":1}`, `{"payload":1}`)
	r.waitStatus("d", time.Second, func(s node.Status) bool { return s.Fill == "red" })
}

func TestDelayStatusCount(t *testing.T) {
	r := newRig(t, nil, delayJSON(`,"timeout":"2"`), delaySink)
	r.send("d", `{"payload":1}`)
	r.send("d", `{"payload":2}`)
	r.waitStatus("d", time.Second, func(s node.Status) bool { return s.Text == "2" && s.Fill == "blue" })
	r.send("d", `{"reset":true}`)
	r.waitStatus("d", time.Second, func(s node.Status) bool { return s.Text == "0" && s.Shape == "ring" })
}

func TestDelayBadConfig(t *testing.T) {
	badConfig(t, "delay", `{"pauseType":"sometimes"}`, "pauseType")
	badConfig(t, "delay", `{"pauseType":"delay","timeout":"soon"}`, "timeout")
	badConfig(t, "delay", `{"pauseType":"rate","rate":"-1"}`, "rate")
	spec, _ := node.Lookup("delay")
	if n := spec.OutputCount(config(`{"pauseType":"rate","outputs":2}`)); n != 2 {
		t.Fatalf("outputs %d", n)
	}
	if n := spec.OutputCount(config(`{"pauseType":"rate","outputs":"2"}`)); n != 1 {
		t.Fatalf("outputs %d for the string \"2\" (Node-RED compares with ===)", n)
	}
}
