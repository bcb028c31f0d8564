package sequence

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// stripIDs removes the random sequence ids so outputs can be compared.
func stripIDs(js []string) []string {
	out := make([]string, len(js))
	for i, s := range js {
		v, _ := msg.UnmarshalString(s)
		o := v.(*msg.Object)
		if p, ok := o.Value("parts").(*msg.Object); ok {
			p.Delete("id")
		}
		out[i] = string(msg.Marshal(o))
	}
	return out
}

func expectJSON(t *testing.T, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("message %d\n got  %s\n want %s", i, got[i], want[i])
		}
	}
}

func TestSplitKinds(t *testing.T) {
	cases := []struct {
		name, cfg, in string
		want          []string
	}{
		{"string", `{}`, `{"payload":"a\nb","_msgid":"x"}`, []string{
			`{"payload":"a","parts":{"type":"string","ch":"\n","index":0,"count":2}}`,
			`{"payload":"b","parts":{"type":"string","ch":"\n","index":1,"count":2}}`}},
		{"escaped separator", `{"splt":"\\t"}`, `{"payload":"a\tb"}`, []string{
			`{"payload":"a","parts":{"type":"string","ch":"\t","index":0,"count":2}}`,
			`{"payload":"b","parts":{"type":"string","ch":"\t","index":1,"count":2}}`}},
		{"length in UTF-16 units", `{"spltType":"len","splt":"2"}`, `{"payload":"héllo"}`, []string{
			`{"payload":"hé","parts":{"type":"string","ch":"","len":2,"count":3,"index":0}}`,
			`{"payload":"ll","parts":{"type":"string","ch":"","len":2,"count":3,"index":1}}`,
			`{"payload":"o","parts":{"type":"string","ch":"","len":2,"count":3,"index":2}}`}},
		{"array", `{"arraySplt":2}`, `{"payload":[1,2,3]}`, []string{
			`{"payload":[1,2],"parts":{"type":"array","count":2,"len":2,"index":0}}`,
			`{"payload":[3],"parts":{"type":"array","count":2,"len":2,"index":1}}`}},
		{"object with addname", `{"addname":"msg.topic"}`, `{"payload":{"b":1,"1":2}}`, []string{
			`{"payload":2,"parts":{"type":"object","key":"1","index":0,"count":2},"topic":"1"}`,
			`{"payload":1,"parts":{"type":"object","key":"b","index":1,"count":2},"topic":"b"}`}},
		{"other property", `{"property":"a.b","splt":","}`, `{"a":{"b":"x,y"}}`, []string{
			`{"a":{"b":"x"},"parts":{"property":"a.b","type":"string","ch":",","index":0,"count":2}}`,
			`{"a":{"b":"y"},"parts":{"property":"a.b","type":"string","ch":",","index":1,"count":2}}`}},
		{"number dropped", `{}`, `{"payload":5}`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := build(t, "split", tc.cfg)
			c := newCtx()
			feed(t, n, c, message(tc.in))
			expectJSON(t, stripIDs(c.TakeJSON()), tc.want...)
		})
	}
}

func TestSplitBuffer(t *testing.T) {
	n := build(t, "split", `{"spltType":"bin","splt":"[0,0]"}`)
	c := newCtx()
	m := msg.New()
	m.Set("payload", []byte{1, 0, 0, 2, 0, 0})
	feed(t, n, c, m)
	// Node-RED counts three parts but does not send an empty last one.
	expectJSON(t, stripIDs(c.TakeJSON()),
		`{"payload":{"type":"Buffer","data":[1]},"parts":{"type":"buffer","ch":[0,0],"count":3,"index":0}}`,
		`{"payload":{"type":"Buffer","data":[2]},"parts":{"type":"buffer","ch":[0,0],"count":3,"index":1}}`)
}

func TestSplitStreamHoldsUntilFlushed(t *testing.T) {
	n := build(t, "split", `{"spltType":"len","splt":"4","stream":true}`)
	c := newCtx()
	var mu sync.Mutex
	var finished []error
	a := tracked(`{"payload":"ab"}`, &finished, &mu)
	feed(t, n, c, a)
	if got := c.TakeJSON(); len(got) != 0 {
		t.Fatalf("sent %v before a chunk was full", got)
	}
	if len(finished) != 0 {
		t.Fatal("the unfinished message was finished early")
	}
	b := tracked(`{"payload":"cdef"}`, &finished, &mu)
	feed(t, n, c, b)
	out := c.Take()
	if len(out) != 1 || out[0].Value("payload") != "abcd" {
		t.Fatalf("got %v", out)
	}
	mu.Lock()
	if len(finished) != 1 {
		t.Fatalf("the first message should be finished once its data went out, finished %d", len(finished))
	}
	mu.Unlock()
	for _, m := range out {
		m.Track.Done(nil)
	}
	// "ef" is held with b; Close lets it go.
	if err := n.(node.Closer).Close(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(finished) != 2 {
		t.Fatalf("Close should release the held message, finished %d", len(finished))
	}
}

func TestSplitUndefinedIsNotFinished(t *testing.T) {
	n := build(t, "split", `{}`)
	c := newCtx()
	var mu sync.Mutex
	var finished []error
	feed(t, n, c, tracked(`{"topic":"x"}`, &finished, &mu))
	if len(c.Dones()) != 0 {
		t.Fatal("Node-RED does not call done for a message without the property")
	}
	if len(finished) != 1 {
		t.Fatal("the tracker must still be released")
	}
}

func TestSplitNullIsTypeError(t *testing.T) {
	n := build(t, "split", `{}`)
	c := newCtx()
	feed(t, n, c, message(`{"payload":null}`))
	if errs := c.ErrTexts(); len(errs) != 1 || errs[0] != "TypeError: Cannot convert undefined or null to object" {
		t.Fatalf("errors %v", errs)
	}
}

func TestSplitConfigErrors(t *testing.T) {
	for _, cfg := range []string{
		`{"spltType":"len","splt":"0"}`,
		`{"spltType":"len","splt":"x"}`,
		`{"spltType":"bin","splt":"{}"}`,
		`{"spltType":"bin","splt":"[]"}`,
		`{"arraySplt":0}`,
		`{"spltType":"what"}`,
	} {
		spec, _ := node.Lookup("split")
		if _, err := spec.New(config(cfg)); err == nil {
			t.Errorf("%s: no error", cfg)
		} else if !strings.Contains(err.Error(), "property") {
			t.Errorf("%s: error %q does not name the property", cfg, err)
		}
	}
}
