//go:build unix

package modbus

import (
	"fmt"
	"testing"
	"time"
)

func readNodeJSON(id, dataType string, adr, qty int, extra string) string {
	return fmt.Sprintf(`{"id":%q,"type":"modbus-read","z":"t1","name":"","topic":"","unitid":"","dataType":%q,"adr":"%d","quantity":"%d","rate":"100","rateUnit":"ms","server":"mb"%s,"wires":[["sink1"],["sink2"]]}`,
		id, dataType, adr, qty, extra)
}

// Each table of the pymodbus device, read by a modbus-read node, in the
// package's two output shapes.
func TestReadTables(t *testing.T) {
	needPeer(t)
	port := freePort(t)
	startDevice(t, port, 0)
	cases := []struct {
		dataType string
		adr, qty int
		values   string
		buffer   string
	}{
		{"Coil", 0, 10, `[true,false,true,true,false,false,false,true,true,true,false,false,false,false,false,false]`, `[141,3]`},
		{"Input", 0, 8, `[false,true,false,true,true,false,false,false]`, `[26]`},
		{"HoldingRegister", 0, 3, `[100,101,102]`, `[0,100,0,101,0,102]`},
		{"InputRegister", 2, 2, `[1002,1003]`, `[3,234,3,235]`},
	}
	for _, tc := range cases {
		t.Run(tc.dataType, func(t *testing.T) {
			h := run(t, port, "", readNodeJSON("r", tc.dataType, tc.adr, tc.qty, ""))
			m1 := h.next("sink1", 5*time.Second)
			m2 := h.next("sink2", 5*time.Second)
			if got := js(m1.Value("payload")); got != tc.values {
				t.Errorf("output 1 payload = %s, want %s", got, tc.values)
			}
			wantResp := fmt.Sprintf(`{"data":%s,"buffer":{"type":"Buffer","data":%s}}`, tc.values, tc.buffer)
			if got := js(m1.Value("responseBuffer")); got != wantResp {
				t.Errorf("output 1 responseBuffer = %s, want %s", got, wantResp)
			}
			if got := js(m2.Value("payload")); got != wantResp {
				t.Errorf("output 2 payload = %s, want %s", got, wantResp)
			}
			if got := js(m2.Value("values")); got != tc.values {
				t.Errorf("output 2 values = %s, want %s", got, tc.values)
			}
			if m1.Value("topic") != "polling" {
				t.Errorf("topic = %v, want polling", m1.Value("topic"))
			}
			in := js(m1.Value("input"))
			want := fmt.Sprintf(`"fc":%d,"address":%d,"quantity":%d`, readFC[tc.dataType], tc.adr, tc.qty)
			if !contains(in, want) || !contains(in, `"unitid":1`) {
				t.Errorf("msg.input = %s, want it to hold %s", in, want)
			}
			h.waitStatus("r", "green/dot/polling", 5*time.Second)
		})
	}
}

func contains(s, sub string) bool { return len(sub) == 0 || indexOf(s, sub) >= 0 }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// The Sluice decode extension against registers pymodbus holds.
func TestReadDecode(t *testing.T) {
	needPeer(t)
	port := freePort(t)
	startDevice(t, port, 0)
	cases := []struct {
		name     string
		adr, qty int
		extra    string
		want     string
	}{
		{"float32 low word first", 10, 2, `,"decode":"float32","wordOrder":"LE"`, `[12.5]`},
		{"float32 high word first", 12, 2, `,"decode":"float32","wordOrder":"BE"`, `[-3.25]`},
		{"float32 wrong word order", 10, 2, `,"decode":"float32","wordOrder":"BE"`, `[2.3418499935796343e-41]`},
		{"int16", 30, 1, `,"decode":"int16"`, `[-5]`},
		{"uint16 scaled", 0, 2, `,"decode":"uint16","scale":0.5,"offset":-50`, `[0,0.5]`},
		{"uint32", 0, 2, `,"decode":"uint32"`, fmt.Sprint("[", 100*65536+101, "]")},
		{"string", 20, 4, `,"decode":"string"`, `"Sluice!"`},
		{"string byte swapped", 20, 3, `,"decode":"string","byteOrder":"LE"`, `"lSiuec"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := run(t, port, "", readNodeJSON("r", "HoldingRegister", tc.adr, tc.qty, tc.extra))
			m1 := h.next("sink1", 5*time.Second)
			if got := js(m1.Value("payload")); got != tc.want {
				t.Errorf("decoded payload = %s, want %s", got, tc.want)
			}
			m2 := h.next("sink2", 5*time.Second)
			if js(m2.Value("values")) != js(m1.Value("responseBuffer").(interface{ Value(string) any }).Value("data")) {
				t.Errorf("output 2 values %s differ from the raw registers", js(m2.Value("values")))
			}
		})
	}
}

// An address past the device's table is exception 2 at a catch node.
func TestReadIllegalAddress(t *testing.T) {
	needPeer(t)
	port := freePort(t)
	startDevice(t, port, 0)
	h := run(t, port, "", readNodeJSON("r", "HoldingRegister", 1000, 2, ""))
	m := h.next("sinkErr", 5*time.Second)
	e := js(m.Value("error"))
	if !contains(e, `"message":"node r: read fc 3 address 1000 quantity 2: Modbus exception 2: Illegal data address`) || !contains(e, `"code":"2"`) {
		t.Errorf("msg.error = %s", e)
	}
	h.waitStatus("r", "red/ring/exception 2", 5*time.Second)
	select {
	case m := <-h.sink("sink1"):
		t.Errorf("a failed read sent %s", js(m))
	default:
	}
}

func TestResponseNode(t *testing.T) {
	needPeer(t)
	port := freePort(t)
	startDevice(t, port, 0)
	h := run(t, port, "",
		`{"id":"g","z":"t1","type":"modbus-getter","dataType":"HoldingRegister","adr":"0","quantity":"3","server":"mb","wires":[[],["resp","resp2"]]}`,
		`{"id":"resp","z":"t1","type":"modbus-response","registerShowMax":20}`,
		`{"id":"resp2","z":"t1","type":"modbus-response","registerShowMax":2}`)
	h.waitStatus("g", "green/dot/connected", 5*time.Second)
	h.inject("g", `{"payload":1}`)
	h.waitStatus("resp", "green/dot/[100,101,102]", 5*time.Second)
	h.waitStatus("resp2", "green/dot/data: 3 items", 5*time.Second)
}
