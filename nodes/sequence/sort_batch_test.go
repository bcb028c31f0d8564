package sequence

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func TestSortArray(t *testing.T) {
	cases := []struct{ cfg, in, want string }{
		{`{"targetType":"msg"}`, `{"payload":[3,1,2]}`, `{"payload":[1,2,3]}`},
		{`{"targetType":"msg","order":"descending"}`, `{"payload":["b","c","a"]}`, `{"payload":["c","b","a"]}`},
		{`{"targetType":"msg","as_num":true}`, `{"payload":["10","9","1e1"]}`, `{"payload":["9","10","1e1"]}`},
		// Mixed types make an inconsistent comparator; V8's algorithm decides.
		{`{"targetType":"msg"}`, `{"payload":[3,1,"b","a",2,10]}`, `{"payload":[2,10,"a","b",1,3]}`},
		{`{"targetType":"msg","msgKey":"-$","msgKeyType":"jsonata"}`, `{"payload":[1,3,2]}`, `{"payload":[3,2,1]}`},
		{`{"targetType":"msg","msgKey":"msg.k","msgKeyType":"jsonata"}`, `{"payload":[{"k":2},{"k":1}]}`, `{"payload":[{"k":1},{"k":2}]}`},
	}
	for _, tc := range cases {
		n := build(t, "sort", tc.cfg)
		c := newCtx()
		feed(t, n, c, message(tc.in))
		expectJSON(t, c.TakeJSON(), tc.want)
	}
}

func TestSortLongArrayIsStable(t *testing.T) {
	n := build(t, "sort", `{"targetType":"msg","msgKey":"k","msgKeyType":"jsonata"}`)
	c := newCtx()
	arr := make([]any, 100)
	for i := range arr {
		arr[i] = msg.ObjectOf("k", float64(i%3), "i", float64(i))
	}
	m := msg.New()
	m.Set("payload", arr)
	feed(t, n, c, m)
	out := c.Take()[0].Value("payload").([]any)
	for i := 1; i < len(out); i++ {
		a, b := out[i-1].(*msg.Object), out[i].(*msg.Object)
		if a.Value("k").(float64) > b.Value("k").(float64) ||
			a.Value("k") == b.Value("k") && a.Value("i").(float64) > b.Value("i").(float64) {
			t.Fatalf("not a stable ascending order at %d", i)
		}
	}
}

func TestSortSequenceTooMany(t *testing.T) {
	n := build(t, "sort", `{"targetType":"seq","seqKey":"payload","seqKeyType":"msg"}`)
	c := newCtx()
	c.Settings["nodeMessageBufferMaxLength"] = 2.0
	feed(t, n, c, message(`{"payload":1,"parts":{"id":"a","index":0,"count":2}}`))
	feed(t, n, c, message(`{"payload":1,"parts":{"id":"b","index":0,"count":2}}`))
	feed(t, n, c, message(`{"payload":1,"parts":{"id":"b","index":1,"count":3}}`))
	if errs := c.ErrTexts(); len(errs) != 1 || errs[0] != errTooManySort {
		t.Fatalf("errors %v", errs)
	}
	// The oldest sequence (a) went; b is still held.
	feed(t, n, c, message(`{"payload":0,"parts":{"id":"b","index":2,"count":3}}`))
	expectJSON(t, c.TakeJSON(),
		`{"payload":0,"parts":{"id":"b","index":0,"count":3}}`,
		`{"payload":1,"parts":{"id":"b","index":1,"count":2}}`,
		`{"payload":1,"parts":{"id":"b","index":2,"count":3}}`)
}

func TestBatchCountOverlapTrackers(t *testing.T) {
	n := build(t, "batch", `{"mode":"count","count":2,"overlap":1}`)
	c := newCtx()
	var mu sync.Mutex
	var finished []error
	for i := 1; i <= 3; i++ {
		feed(t, n, c, tracked(`{"payload":`+string(rune('0'+i))+`,"_msgid":"m`+string(rune('0'+i))+`"}`, &finished, &mu))
	}
	expectJSON(t, c.TakeJSON(),
		`{"payload":1,"_msgid":"m1","parts":{"id":"m1","index":0,"count":2}}`,
		`{"payload":2,"_msgid":"m2","parts":{"id":"m1","index":1,"count":2}}`,
		`{"payload":2,"_msgid":"m2","parts":{"id":"m2","index":0,"count":2}}`,
		`{"payload":3,"_msgid":"m3","parts":{"id":"m2","index":1,"count":2}}`)
	if len(c.Dones()) != 2 {
		t.Fatalf("only the messages that left the window are done, got %d", len(c.Dones()))
	}
	if err := n.(node.Closer).Close(context.Background(), false); err != nil {
		t.Fatal(err)
	}
}

func TestBatchIntervalEmpty(t *testing.T) {
	n := build(t, "batch", `{"mode":"interval","interval":0.05,"allowEmptySequence":true}`)
	c := newCtx()
	if err := n.(node.Starter).Start(c); err != nil {
		t.Fatal(err)
	}
	defer n.(node.Closer).Close(context.Background(), false)
	feed(t, n, c, message(`{"payload":"x","_msgid":"a"}`))
	deadline := time.After(2 * time.Second)
	for {
		select {
		case <-c.Notify():
		case <-deadline:
			t.Fatal("no empty sequence sent")
		}
		k := c.SentCount()
		if k >= 2 {
			break
		}
	}
	out := stripIDs(c.TakeJSON())
	if out[0] != `{"payload":"x","_msgid":"a","parts":{"index":0,"count":1}}` || out[1] != `{"payload":null,"parts":{"index":0,"count":1}}` {
		t.Fatalf("got %v", out)
	}
}

func TestBatchConfigErrors(t *testing.T) {
	for _, cfg := range []string{
		`{"mode":"count","count":2,"overlap":2}`,
		`{"mode":"sideways"}`,
	} {
		spec, _ := node.Lookup("batch")
		if _, err := spec.New(config(cfg)); err == nil {
			t.Errorf("%s: no error", cfg)
		}
	}
}

// BenchmarkSplitJoin100 splits a 100-element array and joins it back.
func BenchmarkSplitJoin100(b *testing.B) {
	s := build(b, "split", `{}`)
	j := build(b, "join", `{"mode":"auto"}`)
	sc, jc := newCtx(), newCtx()
	arr := make([]any, 100)
	for i := range arr {
		arr[i] = float64(i)
	}
	b.ReportAllocs()
	for b.Loop() {
		m := msg.New()
		m.Set("payload", arr)
		feed(b, s, sc, m)
		for _, p := range sc.Take() {
			feed(b, j, jc, p)
		}
		if out := jc.Take(); len(out) != 1 {
			b.Fatalf("join sent %d", len(out))
		}
		sc.Reset()
		jc.Reset()
	}
}
