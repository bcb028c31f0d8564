//go:build unix

package opcua

import (
	"testing"
	"time"
)

func TestItemNode(t *testing.T) {
	h := run(t, endpointJSON("opc.tcp://127.0.0.1:1", ""),
		`{"id":"i1","type":"OpcUa-Item","z":"t1","item":"ns=2;i=6003","datatype":"Float Array","value":"1.5,2,3","name":"Results","wires":[["sink1"]]}`,
		`{"id":"i2","type":"OpcUa-Item","z":"t1","item":"ns=2;s=Count","datatype":"Int16","value":"","name":"","wires":[["sink1"]]}`)
	h.inject("i1", `{"payload":""}`)
	m := h.next("sink1", 5*time.Second)
	if m.Value("topic") != "ns=2;i=6003" || m.Value("datatype") != "FloatArray" || m.Value("browseName") != "Results" ||
		js(m.Value("payload")) != `[1.5,2,3]` {
		t.Errorf("item value %s", js(m))
	}
	h.inject("i1", `{"payload":"4,5"}`)
	if p := js(h.next("sink1", 5*time.Second).Value("payload")); p != `[4,5]` {
		t.Errorf("payload %s", p)
	}
	h.inject("i2", `{"payload":"70000"}`)
	if p := js(h.next("sink1", 5*time.Second).Value("payload")); p != `4464` {
		t.Errorf("Int16 wraps as the package's Int16Array: %s", p)
	}
	h.inject("i2", `{"payload":70000}`)
	if p := js(h.next("sink1", 5*time.Second).Value("payload")); p != `70000` {
		t.Errorf("a number passes unchanged: %s", p)
	}
}
