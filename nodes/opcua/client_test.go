//go:build unix

package opcua

import (
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
)

func TestReadTypes(t *testing.T) {
	s := sharedServer(t)
	h := run(t, endpointJSON(s.url, ""), clientJSON("read", ""))
	cases := []struct{ topic, want string }{
		{"ns=1;s=Setpoint", `1.5`},
		{"ns=1;s=Text", `"hello"`},
		{"ns=1;s=Flag", `true`},
		{"ns=1;s=Big", `[2097152,1]`},                 // 2^53+1 as node-opcua's [high, low]
		{"ns=1;s=UBig", `[4294967295,4294967295]`},    // 2^64-1
		{"ns=1;s=When", `"2024-05-06T07:08:09.123Z"`}, // DateTime as ISO string
		{"ns=1;s=Label", `{"locale":"en","text":"Pump 1"}`},
		{"ns=1;s=Doubles", `[1.5,2.5,3.5]`},
		{"ns=1;s=Bytes;datatype=ByteString", `{"type":"Buffer","data":[1,2,3,250]}`},
	}
	for _, c := range cases {
		h.inject("c", `{"topic":"`+c.topic+`","payload":""}`)
		m := h.next("sink1", 20*time.Second)
		if got := js(m.Value("payload")); got != c.want {
			t.Errorf("%s: payload %s, want %s", c.topic, got, c.want)
		}
		st, _ := m.Value("statusCode").(*msg.Object)
		if st == nil || st.Value("value") != 0.0 || st.Value("name") != "Good" {
			t.Errorf("%s: statusCode %s", c.topic, js(st))
		}
		for _, k := range []string{"serverTimestamp", "sourceTimestamp"} {
			if s, _ := m.Value(k).(string); !strings.HasSuffix(s, "Z") {
				t.Errorf("%s: %s = %v", c.topic, k, m.Value(k))
			}
		}
	}
	// The package's browse paths from the root folder.
	h.inject("c", `{"topic":"br=/Objects/1:Plant/1:Line1/1:Speed"}`)
	if m := h.next("sink1", 10*time.Second); m.Value("topic") != "ns=1;s=Plant.Line1.Speed" {
		t.Errorf("browse path read %s", js(m))
	}
	// The ";datatype=" suffix moves to msg.datatype and leaves the topic.
	h.inject("c", `{"topic":"ns=1;s=Counter;datatype=Int32","payload":""}`)
	m := h.next("sink1", 10*time.Second)
	if m.Value("topic") != "ns=1;s=Counter" || m.Value("datatype") != "Int32" {
		t.Errorf("topic %v datatype %v", m.Value("topic"), m.Value("datatype"))
	}
	if _, ok := m.Value("payload").(float64); !ok {
		t.Errorf("Int32 payload %s", js(m.Value("payload")))
	}
}

func TestUnknownNodeIDGoesToCatch(t *testing.T) {
	s := sharedServer(t)
	h := run(t, endpointJSON(s.url, ""), clientJSON("read", ""))
	h.inject("c", `{"topic":"ns=1;s=NoSuchTag","payload":""}`)
	e := h.next("sinkErr", 20*time.Second)
	text := errText(e)
	if !strings.Contains(text, "ns=1;s=NoSuchTag") || !strings.Contains(text, "BadNodeIdUnknown") || !strings.Contains(text, "node c") {
		t.Errorf("error %s", text)
	}
	h.none("sink1", 200*time.Millisecond)
	h.inject("c", `{"topic":"ns=1;x=garbage","payload":""}`)
	e = h.next("sinkErr", 5*time.Second)
	if !strings.Contains(errText(e), "invalid node id") {
		t.Errorf("error %s", errText(e))
	}
}

func TestWriteAndReadBack(t *testing.T) {
	s := sharedServer(t)
	h := run(t, endpointJSON(s.url, ""), clientJSON("write", ""),
		`{"id":"r","type":"OpcUa-Client","z":"t1","endpoint":"ep","action":"read","wires":[["sinkR"]]}`,
		`{"id":"item","type":"OpcUa-Item","z":"t1","item":"ns=1;s=Setpoint","datatype":"Double","value":"","name":"SP","wires":[["c"]]}`)
	// Through an OpcUa-Item, with the datatype it sets.
	h.inject("item", `{"payload":"42.25"}`)
	m := h.next("sink1", 20*time.Second)
	if st, _ := m.Value("payload").(*msg.Object); st == nil || st.Value("value") != 0.0 {
		t.Fatalf("write result %s", js(m))
	}
	if m.Value("datatype") != "Double" || m.Value("browseName") != "SP" {
		t.Errorf("item fields %s", js(m))
	}
	h.inject("r", `{"topic":"ns=1;s=Setpoint"}`)
	if v := h.next("sinkR", 10*time.Second).Value("payload"); v != 42.25 {
		t.Errorf("read back %v", v)
	}
	// Without a datatype the variable's own type is used.
	h.inject("c", `{"topic":"ns=1;s=Text","payload":"written"}`)
	h.next("sink1", 10*time.Second)
	h.inject("r", `{"topic":"ns=1;s=Text"}`)
	if v := h.next("sinkR", 10*time.Second).Value("payload"); v != "written" {
		t.Errorf("read back %v", v)
	}
	// Int64 from a decimal string, exactly.
	h.inject("c", `{"topic":"ns=1;s=Big;datatype=Int64","payload":"9007199254740995"}`)
	h.next("sink1", 10*time.Second)
	h.inject("r", `{"topic":"ns=1;s=Big"}`)
	if v := js(h.next("sinkR", 10*time.Second).Value("payload")); v != `[2097152,3]` {
		t.Errorf("Int64 read back %s", v)
	}
	h.none("sinkErr", 100*time.Millisecond)
}

func TestWriteWrongTypeIsAClearError(t *testing.T) {
	s := sharedServer(t)
	h := run(t, endpointJSON(s.url, ""), clientJSON("write", ""))
	// The server refuses a String for a Double variable.
	h.inject("c", `{"topic":"ns=1;s=Setpoint;datatype=String","payload":"abc"}`)
	e := h.next("sinkErr", 20*time.Second)
	text := errText(e)
	if !strings.Contains(text, "ns=1;s=Setpoint") || !strings.Contains(text, "BadTypeMismatch") {
		t.Errorf("error %s", text)
	}
	m := h.next("sink1", 5*time.Second) // the package still sends the status code
	if st, _ := m.Value("payload").(*msg.Object); st == nil || st.Value("name") != "BadTypeMismatch" {
		t.Errorf("payload %s", js(m.Value("payload")))
	}
	// A value that cannot be converted never reaches the server.
	h.inject("c", `{"topic":"ns=1;s=Setpoint;datatype=Double","payload":"abc"}`)
	e = h.next("sinkErr", 5*time.Second)
	if text := errText(e); !strings.Contains(text, `"abc" is not a number`) {
		t.Errorf("error %s", text)
	}
	// Out of range for the type: refused (the package clamps silently).
	h.inject("c", `{"topic":"ns=1;s=Counter;datatype=Int32","payload":3000000000}`)
	e = h.next("sinkErr", 5*time.Second)
	if text := errText(e); !strings.Contains(text, "out of range") {
		t.Errorf("error %s", text)
	}
	// A read-only variable.
	h.inject("c", `{"topic":"ns=1;s=ReadOnly","payload":1}`)
	e = h.next("sinkErr", 5*time.Second)
	if text := errText(e); !strings.Contains(text, "BadNotWritable") && !strings.Contains(text, "BadUserAccessDenied") {
		t.Errorf("error %s", text)
	}
}

func TestBrowse(t *testing.T) {
	s := sharedServer(t)
	h := run(t, endpointJSON(s.url, ""), clientJSON("browse", ""),
		`{"id":"b","type":"OpcUa-Browser","z":"t1","endpoint":"ep","item":"","datatype":"","topic":"ns=1;s=Plant","items":[],"name":"","wires":[["sinkR"]]}`)
	h.inject("c", `{"topic":"ns=1;s=Plant.Line1"}`)
	m := h.next("sink1", 20*time.Second)
	items, _ := m.Value("payload").([]any)
	got := map[string]*msg.Object{}
	for _, it := range items {
		o := it.(*msg.Object).Value("item").(*msg.Object)
		got[msg.ToString(o.Value("nodeId"))] = o
	}
	temp := got["ns=1;s=Plant.Line1.Temp"]
	if temp == nil || got["ns=1;s=Plant.Line1.Speed"] == nil {
		t.Fatalf("children %s", js(items))
	}
	if js(temp.Value("browseName")) != `{"namespaceIndex":1,"name":"Temp"}` || js(temp.Value("displayName")) != `{"locale":null,"text":"Temp"}` ||
		temp.Value("nodeClass") != 2.0 || temp.Value("dataType") != "Double" || temp.Value("value") != 21.5 {
		t.Errorf("Temp %s", js(temp))
	}
	if sp := got["ns=1;s=Plant.Line1.Speed"]; sp.Value("dataType") != "Int32" {
		t.Errorf("Speed %s", js(sp))
	}
	// The browser node browses its own topic when msg.topic is empty.
	h.inject("b", `{"payload":""}`)
	m = h.next("sinkR", 20*time.Second)
	if m.Value("endpoint") != s.url {
		t.Errorf("endpoint %v", m.Value("endpoint"))
	}
	names := ""
	for _, it := range m.Value("payload").([]any) {
		o := it.(*msg.Object).Value("item").(*msg.Object)
		if o.Value("nodeClass") == 1.0 {
			names += msg.ToString(o.Value("browseName").(*msg.Object).Value("name")) + ","
		}
	}
	if names != "Line1,Line2," {
		t.Errorf("folders %q in %s", names, js(m.Value("payload")))
	}
	h.waitStatus("b", "green/dot/Items:", 5*time.Second)
}

func TestSubscribe(t *testing.T) {
	s := sharedServer(t)
	h := run(t, endpointJSON(s.url, ""), clientJSON("subscribe", ""))
	h.inject("c", `{"topic":"ns=1;s=Counter","payload":"","keep":"me"}`)
	var last float64 = -1
	for i := 0; i < 5; i++ {
		m := h.next("sink1", 20*time.Second)
		if m.Value("topic") != "ns=1;s=Counter" || m.Value("keep") != "me" {
			t.Fatalf("message %s", js(m))
		}
		v, _ := m.Value("payload").(float64)
		if v <= last {
			t.Errorf("counter went from %v to %v", last, v)
		}
		last = v
		for _, k := range []string{"statusCode", "serverTimestamp", "sourceTimestamp", "serverPicoseconds", "sourcePicoseconds"} {
			if !m.Has(k) {
				t.Errorf("no %s in %s", k, js(m))
			}
		}
	}
	h.waitStatus("c", "green/dot/subscribed 1 items", 5*time.Second)
	// Unsubscribe stops the changes.
	h.inject("c", `{"topic":"ns=1;s=Counter","action":"unsubscribe"}`)
	time.Sleep(500 * time.Millisecond)
	for len(h.sink("sink1")) > 0 {
		<-h.sink("sink1")
	}
	h.none("sink1", 600*time.Millisecond)
}

func TestSubscribeManyFromOneMessage(t *testing.T) {
	s := sharedServer(t)
	h := run(t, endpointJSON(s.url, ""), clientJSON("subscribe", ""))
	h.inject("c", `{"payload":["ns=1;s=Counter","ns=1;s=Changing","ns=1;s=Text","ns=1;s=Nope"]}`)
	seen := map[string]bool{}
	deadline := time.After(20 * time.Second)
	for len(seen) < 3 {
		select {
		case m := <-h.sink("sink1"):
			seen[msg.ToString(m.Value("topic"))] = true
		case <-deadline:
			t.Fatalf("saw only %v", seen)
		}
	}
	if seen["ns=1;s=Nope"] {
		t.Error("unknown node delivered")
	}
	e := h.next("sinkErr", 5*time.Second)
	if !strings.Contains(errText(e), "ns=1;s=Nope") || !strings.Contains(errText(e), "BadNodeIdUnknown") {
		t.Errorf("error %s", errText(e))
	}
	h.waitStatus("c", "yellow/dot/subscribed 3 items, 1 failed", 5*time.Second)
	// The package's topic "multiple": the payload is the DataValue.
	h.inject("c", `{"topic":"multiple","payload":[{"nodeId":"ns=1;s=Setpoint","datatype":"Double"}]}`)
	for {
		m := h.next("sink1", 10*time.Second)
		if m.Value("topic") != "ns=1;s=Setpoint" {
			continue
		}
		p, _ := m.Value("payload").(*msg.Object)
		if p == nil || js(p.Value("value").(*msg.Object).Value("dataType")) != "11" {
			t.Fatalf("multiple payload %s", js(m))
		}
		break
	}
}

func TestMonitorDeadband(t *testing.T) {
	s := sharedServer(t)
	// Changing swings ±100; a 1000 absolute deadband lets only the first
	// value through, a 0.001 one every change.
	h := run(t, endpointJSON(s.url, ""), clientJSON("monitor", `,"deadbandvalue":1000`),
		`{"id":"c2","type":"OpcUa-Client","z":"t1","endpoint":"ep","action":"monitor","deadbandtype":"a","deadbandvalue":0.001,"time":"100","timeUnit":"ms","wires":[["sinkR"]]}`)
	h.inject("c", `{"topic":"ns=1;s=Changing"}`)
	h.inject("c2", `{"topic":"ns=1;s=Changing"}`)
	h.next("sink1", 20*time.Second)
	for i := 0; i < 5; i++ {
		m := h.next("sinkR", 10*time.Second)
		if _, ok := m.Value("payload").(float64); !ok || m.Value("topic") != "ns=1;s=Changing" {
			t.Fatalf("monitor message %s", js(m))
		}
	}
	h.none("sink1", 500*time.Millisecond)
}

func TestMethod(t *testing.T) {
	s := sharedServer(t)
	h := run(t, endpointJSON(s.url, ""), clientJSON("method", ""))
	h.inject("c", `{"topic":"x","objectId":"ns=1;s=Device","methodId":"ns=1;s=Add","inputArguments":[{"dataType":"Double","value":2.5},{"dataType":"Double","value":"4"}]}`)
	m := h.next("sink1", 20*time.Second)
	if m.Value("payload") != 6.5 {
		t.Errorf("payload %s", js(m.Value("payload")))
	}
	if js(m.Value("output")) != `[{"dataType":11,"arrayType":0,"value":6.5}]` {
		t.Errorf("output %s", js(m.Value("output")))
	}
	if r, _ := m.Value("result").(*msg.Object); r == nil || js(r.Value("statusCode").(*msg.Object).Value("value")) != "0" {
		t.Errorf("result %s", js(m.Value("result")))
	}
	// Wrong argument type: the server's verdict reaches catch.
	h.inject("c", `{"topic":"x","objectId":"ns=1;s=Device","methodId":"ns=1;s=Add","inputArguments":[{"dataType":"String","value":"a"},{"dataType":"Double","value":1}]}`)
	e := h.next("sinkErr", 10*time.Second)
	if !strings.Contains(errText(e), "ns=1;s=Add") {
		t.Errorf("error %s", errText(e))
	}
}

func TestReadMultipleAndWriteMultiple(t *testing.T) {
	s := sharedServer(t)
	h := run(t, endpointJSON(s.url, ""), clientJSON("readmultiple", ""),
		`{"id":"w","type":"OpcUa-Client","z":"t1","endpoint":"ep","action":"writemultiple","wires":[["sinkR"]]}`)
	// writemultiple with an array of {nodeId, datatype, value}.
	h.inject("w", `{"topic":"writemultiple","payload":[{"nodeId":"ns=1;s=Plant.Line2.Temp","datatype":"Double","value":30.5},{"nodeId":"ns=1;s=Plant.Line1.Speed","datatype":"Int32","value":"1500"}]}`)
	m := h.next("sinkR", 20*time.Second)
	if js(m.Value("payload")) != `[{"value":0,"description":"No Error","name":"Good"},{"value":0,"description":"No Error","name":"Good"}]` {
		t.Errorf("writemultiple %s", js(m.Value("payload")))
	}
	// Stored items, then "writemultiple" writes them.
	h.inject("w", `{"topic":"ns=1;s=Text","datatype":"String","payload":"stored"}`)
	h.inject("w", `{"topic":"writemultiple","payload":""}`)
	h.next("sinkR", 10*time.Second)

	// Stored topics, then "readmultiple" reads them: one message per item
	// on output 1 and all of them on output 3.
	h.inject("c", `{"topic":"ns=1;s=Plant.Line2.Temp"}`)
	h.inject("c", `{"topic":"ns=1;s=Plant.Line1.Speed"}`)
	h.inject("c", `{"topic":"ns=1;s=Text"}`)
	h.inject("c", `{"topic":"readmultiple","payload":""}`)
	want := []string{`ns=1;s=Plant.Line2.Temp=30.5`, `ns=1;s=Plant.Line1.Speed=1500`, `ns=1;s=Text="stored"`}
	for _, w := range want {
		m := h.next("sink1", 10*time.Second)
		if got := msg.ToString(m.Value("topic")) + "=" + js(m.Value("payload")); got != w {
			t.Errorf("got %s want %s", got, w)
		}
	}
	all := h.next("sink3", 5*time.Second)
	if vals, _ := all.Value("payload").([]any); len(vals) != 3 {
		t.Errorf("output 3 %s", js(all))
	}
	// payload "ALL": one message with every DataValue.
	h.inject("c", `{"topic":"readmultiple","payload":"ALL"}`)
	m = h.next("sink1", 10*time.Second)
	if vals, _ := m.Value("payload").([]any); len(vals) != 3 || m.Value("items") == nil {
		t.Errorf("ALL %s", js(m))
	}
	// An array of node ids replaces the stored ones.
	h.inject("c", `{"topic":"readmultiple","payload":["ns=1;s=Flag"]}`)
	if m := h.next("sink1", 10*time.Second); m.Value("payload") != true {
		t.Errorf("array read %s", js(m))
	}
	h.next("sink3", 5*time.Second)
}

func TestInfo(t *testing.T) {
	s := sharedServer(t)
	h := run(t, endpointJSON(s.url, ""), clientJSON("info", ""))
	h.inject("c", `{"topic":"ns=1;s=Setpoint"}`)
	m := h.next("sink1", 20*time.Second)
	if m.Value("nodeId") != "ns=1;s=Setpoint" || m.Value("nodeClass") != 2.0 || m.Value("dataType") != "ns=0;i=11" ||
		js(m.Value("browseName")) != `{"namespaceIndex":1,"name":"Setpoint"}` || m.Value("topic") != "ns=1;s=Setpoint" {
		t.Errorf("info %s", js(m))
	}
}

func TestEvents(t *testing.T) {
	s := sharedServer(t)
	h := run(t, endpointJSON(s.url, ""), clientJSON("events", ""))
	h.inject("c", `{"topic":"ns=1;s=Device","eventTypeIds":"i=2041"}`)
	m := h.next("sink1", 20*time.Second)
	p, _ := m.Value("payload").(*msg.Object)
	if p == nil || !strings.HasPrefix(msg.ToString(p.Value("EventId")), "0x") || m.Value("topic") != p.Value("EventId") {
		t.Fatalf("event %s", js(m))
	}
	if text := js(p.Value("Message")); !strings.Contains(text, "tick ") {
		t.Errorf("Message %s", text)
	}
	if p.Value("Severity") != 500.0 || p.Value("SourceName") != "Device" {
		t.Errorf("event %s", js(p))
	}
}

func TestUnsupportedActionRefused(t *testing.T) {
	s := sharedServer(t)
	h := run(t, endpointJSON(s.url, ""), clientJSON("read", ""))
	h.inject("c", `{"topic":"ns=1;s=Text","action":"history"}`)
	e := h.next("sinkErr", 10*time.Second)
	if text := errText(e); !strings.Contains(text, `"history"`) || !strings.Contains(text, "node c") {
		t.Errorf("error %s", text)
	}
}

func TestStatusOutput(t *testing.T) {
	s := sharedServer(t)
	h := run(t, endpointJSON(s.url, ""), clientJSON("read", ""))
	h.waitStatus("c", "green/dot/session active", 20*time.Second)
	for {
		m := h.next("sink2", 5*time.Second)
		if m.Value("status") == "connected" {
			if m.Value("endpoint") != s.url || m.Value("error") != nil {
				t.Errorf("status message %s", js(m))
			}
			break
		}
	}
}
