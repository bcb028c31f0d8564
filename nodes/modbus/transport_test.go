//go:build unix

package modbus

import (
	"strings"
	"testing"
	"time"
)

// RTU frames over TCP (tcpType TELNET), against pymodbus' RTU framer.
func TestRTUOverTCP(t *testing.T) {
	needPeer(t)
	port := freePort(t)
	d := &device{t: t, port: port, rtu: true}
	d.start()
	t.Cleanup(d.stop)
	h := run(t, port, `,"tcpType":"TELNET"`,
		`{"id":"g","z":"t1","type":"modbus-getter","dataType":"HoldingRegister","adr":"0","quantity":"4","server":"mb","wires":[["sink1"],["sink2"]]}`,
		`{"id":"w","z":"t1","type":"modbus-write","dataType":"MHoldingRegisters","adr":"40","quantity":"2","server":"mb","wires":[["sink1"],["sink2"]]}`,
		`{"id":"fg","z":"t1","type":"modbus-flex-getter","server":"mb","wires":[["sink1"],["sink2"]]}`)
	h.waitStatus("g", "green/dot/connected", 5*time.Second)
	h.inject("g", `{"payload":1}`)
	if got := js(h.next("sink1", 5*time.Second).Value("payload")); got != `[100,101,102,103]` {
		t.Errorf("RTU over TCP read = %s", got)
	}
	h.next("sink2", time.Second)
	h.inject("w", `{"payload":[5,6]}`)
	h.next("sink1", 5*time.Second)
	h.next("sink2", time.Second)
	h.inject("fg", `{"payload":{"fc":3,"address":40,"quantity":2}}`)
	if got := js(h.next("sink1", 5*time.Second).Value("payload")); got != `[5,6]` {
		t.Errorf("read back after RTU write = %s", got)
	}
	h.next("sink2", time.Second)
	h.inject("fg", `{"payload":{"fc":3,"address":900,"quantity":2}}`)
	if e := js(h.next("sinkErr", 5*time.Second).Value("error")); !strings.Contains(e, "Modbus exception 2") {
		t.Errorf("RTU exception: %s", e)
	}
}
