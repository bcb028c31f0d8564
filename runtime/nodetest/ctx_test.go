package nodetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
)

func TestCtxRecordsPortsAndCalls(t *testing.T) {
	c := New()
	a, b := Message(`{"payload":1}`), Message(`{"payload":2}`)
	c.SendPorts([][]*msg.Msg{nil, {a, b}, {b}})
	c.SendTo(2, a)
	calls := c.Calls()
	if len(calls) != 2 || len(calls[0]) != 3 || calls[0][0] != nil || calls[0][1] != a || calls[0][2] != b || calls[1][2] != a {
		t.Fatalf("calls %v", calls)
	}
	var ports []int
	for _, s := range c.Sent() {
		ports = append(ports, s.Port)
	}
	if len(ports) != 4 || ports[0] != 1 || ports[1] != 1 || ports[2] != 2 || ports[3] != 2 {
		t.Fatalf("ports %v", ports)
	}
	if got := c.TakeJSON(); strings.Join(got, " ") != `{"payload":1} {"payload":2} {"payload":2} {"payload":1}` {
		t.Fatalf("take %v", got)
	}
	if c.SentCount() != 0 || len(c.Calls()) != 0 {
		t.Fatal("Take did not forget")
	}
}

func TestCtxTrackedFinishesMessages(t *testing.T) {
	c := New()
	c.Tracked = true
	var finished []error
	m := Message(`{"payload":1}`)
	m.Track = msg.NewTracker(func(err error) { finished = append(finished, err) })
	c.Send(m) // the receiver's place
	c.Done(m, nil)
	if len(finished) != 0 {
		t.Fatal("finished while the sent copy is still held")
	}
	boom := errors.New("boom")
	c.Done(m, boom)
	if len(finished) != 1 || !errors.Is(finished[0], boom) {
		t.Fatalf("finished %v", finished)
	}
	if got := c.ErrTexts(); len(got) != 1 || got[0] != "boom" || len(c.Dones()) != 2 {
		t.Fatalf("errors %v dones %d", got, len(c.Dones()))
	}
}

func TestScopeAndLogs(t *testing.T) {
	c := New()
	if err := c.FlowContext().Set("a.b", 2.0, ""); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.FlowContext().Get("a.b", ""); v != 2.0 {
		t.Fatalf("get %v", v)
	}
	_ = c.FlowContext().Set("a", msg.Undefined{}, "")
	if keys, _ := c.FlowContext().Keys(""); len(keys) != 0 {
		t.Fatalf("keys %v", keys)
	}
	c.FlowScope.Fail = errors.New("store down")
	if _, err := c.FlowContext().Get("a", ""); err == nil {
		t.Fatal("Fail ignored")
	}
	c.Warn("careful")
	c.Log().Info("hello")
	if l := c.Logs(); !strings.Contains(l, "WARN careful") || !strings.Contains(l, "msg=hello") {
		t.Fatalf("logs %q", l)
	}
}
