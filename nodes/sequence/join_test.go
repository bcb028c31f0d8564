package sequence

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// roundTrip splits in and joins the parts back in automatic mode.
func roundTrip(t *testing.T, splitCfg, in string) string {
	t.Helper()
	s := build(t, "split", splitCfg)
	j := build(t, "join", `{"mode":"auto"}`)
	sc, jc := newCtx(), newCtx()
	feed(t, s, sc, message(in))
	for _, m := range sc.Take() {
		feed(t, j, jc, m)
	}
	out := jc.TakeJSON()
	if len(out) != 1 {
		t.Fatalf("join sent %d messages: %v", len(out), out)
	}
	return out[0]
}

func TestJoinUndoesSplit(t *testing.T) {
	cases := []struct{ cfg, in, want string }{
		{`{}`, `{"payload":"a\nb\nc","topic":"t"}`, `{"payload":"a\nb\nc","topic":"t"}`},
		{`{"arraySplt":2}`, `{"payload":[1,[2],3,4,5]}`, `{"payload":[1,[2],3,4,5]}`},
		{`{}`, `{"payload":{"x":1,"y":{"z":2}}}`, `{"payload":{"x":1,"y":{"z":2}}}`},
		{`{"property":"data","splt":","}`, `{"data":"p,q"}`, `{"data":"p,q"}`},
		{`{}`, `{"payload":"x","parts":{"id":"outer","index":2}}`, `{"payload":"x","parts":{"id":"outer","index":2}}`},
	}
	for _, tc := range cases {
		got := roundTrip(t, tc.cfg, tc.in)
		v, _ := msg.UnmarshalString(got)
		o := v.(*msg.Object)
		o.Delete("_msgid")
		if g := string(msg.Marshal(o)); g != tc.want {
			t.Errorf("%s %s\n got  %s\n want %s", tc.cfg, tc.in, g, tc.want)
		}
	}
}

func TestJoinBufferRoundTrip(t *testing.T) {
	s := build(t, "split", `{"spltType":"bin","splt":"[13,10]"}`)
	j := build(t, "join", `{}`)
	sc, jc := newCtx(), newCtx()
	m := msg.New()
	m.Set("payload", []byte("one\r\ntwo\r\nthree"))
	feed(t, s, sc, m)
	for _, p := range sc.Take() {
		feed(t, j, jc, p)
	}
	out := jc.Take()
	if len(out) != 1 || string(out[0].Value("payload").([]byte)) != "one\r\ntwo\r\nthree" {
		t.Fatalf("got %v", out)
	}
}

// The parts a join holds keep their sources waiting until the joined
// message is done downstream.
func TestJoinKeepsTrackersUntilOutputDone(t *testing.T) {
	j := build(t, "join", `{"mode":"custom","build":"array","count":"2"}`)
	c := newCtx()
	var mu sync.Mutex
	var finished []error
	feed(t, j, c, tracked(`{"payload":1}`, &finished, &mu))
	if len(finished) != 0 {
		t.Fatal("a held part was finished")
	}
	feed(t, j, c, tracked(`{"payload":2}`, &finished, &mu))
	out := c.Take()
	if len(out) != 1 || len(c.Dones()) != 2 {
		t.Fatalf("sent %d, done %d", len(out), len(c.Dones()))
	}
	mu.Lock()
	if len(finished) != 0 {
		mu.Unlock()
		t.Fatal("sources finished before the joined message was handled")
	}
	mu.Unlock()
	out[0].Track.Done(nil)
	mu.Lock()
	defer mu.Unlock()
	if len(finished) != 2 {
		t.Fatalf("finished %d sources, want 2", len(finished))
	}
}

func TestJoinTimeoutSends(t *testing.T) {
	j := build(t, "join", `{"mode":"custom","build":"string","joiner":"+","timeout":"0.05"}`)
	c := newCtx()
	feed(t, j, c, message(`{"payload":"a"}`))
	feed(t, j, c, message(`{"payload":"b","restartTimeout":true}`))
	c.WaitFor(t, "the timeout's send", func() bool { return c.SentCount() > 0 })
	expectJSON(t, c.TakeJSON(), `{"payload":"a+b","restartTimeout":true}`)
}

func TestJoinCloseStopsTimers(t *testing.T) {
	j := build(t, "join", `{"mode":"custom","build":"array","timeout":"0.05"}`)
	c := newCtx()
	var mu sync.Mutex
	var finished []error
	feed(t, j, c, tracked(`{"payload":1}`, &finished, &mu))
	if err := j.(node.Closer).Close(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if got := c.TakeJSON(); len(got) != 0 {
		t.Fatalf("sent after close: %v", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(finished) != 1 {
		t.Fatal("close must release the held part")
	}
}

func TestJoinWarnings(t *testing.T) {
	j := build(t, "join", `{"mode":"auto"}`)
	c := newCtx()
	feed(t, j, c, message(`{"payload":1}`))
	j2 := build(t, "join", `{"mode":"custom","build":"object","key":"topic","count":"2"}`)
	feed(t, j2, c, message(`{"payload":1}`))
	j3 := build(t, "join", `{"mode":"custom","build":"merged","count":"2"}`)
	feed(t, j3, c, message(`{"payload":[1]}`))
	want := []string{
		"Message missing msg.parts property - cannot join in 'auto' mode",
		"Message missing key property 'msg.topic' - cannot add to object",
		"Cannot merge non-object types",
	}
	if strings.Join(c.Warns(), "|") != strings.Join(want, "|") {
		t.Fatalf("warnings %q", c.Warns())
	}
}

func TestJoinStringWithoutSeparatorFails(t *testing.T) {
	// Parts of type string but no ch: Node-RED's join throws reading it.
	j := build(t, "join", `{}`)
	c := newCtx()
	feed(t, j, c, message(`{"payload":"a","parts":{"id":"g","type":"string","index":0,"count":1}}`))
	if errs := c.ErrTexts(); len(errs) != 1 || errs[0] != "TypeError: Cannot read properties of undefined (reading 'toString')" {
		t.Fatalf("errors %v", errs)
	}
}

func TestJoinReduce(t *testing.T) {
	j := build(t, "join", `{"mode":"reduce","reduceExp":"$A + payload * $I","reduceInit":"100","reduceInitType":"num","reduceFixup":"$A / $N"}`)
	c := newCtx()
	feed(t, j, c, message(`{"payload":3,"parts":{"id":"g","index":2,"count":3}}`))
	feed(t, j, c, message(`{"payload":5,"parts":{"id":"g","index":0,"count":3}}`))
	if got := c.TakeJSON(); len(got) != 0 {
		t.Fatalf("sent before the group was complete: %v", got)
	}
	feed(t, j, c, message(`{"payload":7,"parts":{"id":"g","index":1,"count":3}}`))
	// (100 + 5*0 + 7*1 + 3*2) / 3; the part with the last index carries it.
	expectJSON(t, c.TakeJSON(), `{"payload":37.666666666666664,"parts":{"id":"g","index":2,"count":3}}`)
	if len(c.Dones()) != 3 {
		t.Fatalf("done %d", len(c.Dones()))
	}
}

func TestJoinReduceTooMany(t *testing.T) {
	j := build(t, "join", `{"mode":"reduce","reduceExp":"$A","reduceInit":"0","reduceInitType":"num"}`)
	c := newCtx()
	c.Settings["nodeMessageBufferMaxLength"] = 2.0
	for i := 0; i < 3; i++ {
		feed(t, j, c, message(`{"payload":1,"parts":{"id":"g`+string(rune('a'+i))+`","index":0,"count":2}}`))
	}
	if errs := c.ErrTexts(); len(errs) != 1 || errs[0] != errTooManyJoin {
		t.Fatalf("errors %v", errs)
	}
	if len(c.Dones()) != 3 {
		t.Fatalf("every held message should be finished, done %d", len(c.Dones()))
	}
}

func TestJoinReduceErrorLooksLikeNodeRED(t *testing.T) {
	j := build(t, "join", `{"mode":"reduce","reduceExp":"$nosuch()","reduceInit":"0","reduceInitType":"num"}`)
	c := newCtx()
	feed(t, j, c, message(`{"payload":1,"parts":{"id":"g","index":0,"count":1}}`))
	if len(c.ErrTexts()) != 1 {
		t.Fatalf("errors %v", c.ErrTexts())
	}
	e, ok := c.Errs()[0].Err.(interface{ Code() string })
	if !ok || e.Code() != "T1006" || c.Errs()[0].Err.Error() != "[object Object]" {
		t.Fatalf("error %#v", c.Errs()[0].Err)
	}
}

func TestJoinConfigErrors(t *testing.T) {
	for _, cfg := range []string{
		`{"mode":"reduce","reduceExp":"$A +"}`,
		`{"mode":"reduce","reduceExp":"$A","reduceFixup":"("}`,
		`{"mode":"custom","joinerType":"bin","joiner":"1"}`,
		`{"mode":"other"}`,
	} {
		spec, _ := node.Lookup("join")
		if _, err := spec.New(config(cfg)); err == nil {
			t.Errorf("%s: no error", cfg)
		}
	}
}
