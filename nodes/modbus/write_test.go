//go:build unix

package modbus

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// mbpoll reads from the device as an independent client (-0: zero-based
// addresses as on the wire; -1: one poll).
func mbpoll(t *testing.T, port int, table string, adr, qty int) []string {
	t.Helper()
	out, err := exec.Command("mbpoll", "-m", "tcp", "-p", fmt.Sprint(port), "-a", "1", "-t", table,
		"-r", fmt.Sprint(adr), "-c", fmt.Sprint(qty), "-0", "-1", "127.0.0.1").CombinedOutput()
	if err != nil {
		t.Fatalf("mbpoll: %v\n%s", err, out)
	}
	var vals []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "[") {
			f := strings.Fields(line)
			vals = append(vals, f[1])
		}
	}
	return vals
}

func TestWriteThenMbpoll(t *testing.T) {
	needPeer(t, "mbpoll")
	port := freePort(t)
	startDevice(t, port, 0)
	cases := []struct {
		name, node, payload string
		table               string
		adr, qty            int
		want                string
		out2                string
	}{
		{"Coil", `"type":"modbus-write","dataType":"Coil","adr":"5","quantity":"1"`, `{"payload":true}`, "0", 5, 1, "1", `{"address":5,"state":true}`},
		{"HoldingRegister", `"type":"modbus-write","dataType":"HoldingRegister","adr":"50","quantity":"1"`, `{"payload":4242}`, "4", 50, 1, "4242", `{"address":50,"value":4242}`},
		{"MCoils", `"type":"modbus-write","dataType":"MCoils","adr":"8","quantity":"4"`, `{"payload":[false,true,true,false]}`, "0", 8, 4, "0 1 1 0", `{"address":8,"length":4}`},
		{"MHoldingRegisters", `"type":"modbus-write","dataType":"MHoldingRegisters","adr":"60","quantity":"3"`, `{"payload":{"value":[7,8,-1]}}`, "4", 60, 3, "7 8 65535", `{"address":60,"length":3}`},
		{"flex fc 16", `"type":"modbus-flex-write"`, `{"payload":{"value":[11,12],"fc":16,"unitid":1,"address":70,"quantity":2}}`, "4", 70, 2, "11 12", `{"address":70,"length":2}`},
		{"flex fc 5", `"type":"modbus-flex-write"`, `{"payload":{"value":1,"fc":5,"unitid":1,"address":3,"quantity":1}}`, "0", 3, 1, "1", `{"address":3,"state":true}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := run(t, port, "", `{"id":"w","z":"t1",`+tc.node+`,"server":"mb","wires":[["sink1"],["sink2"]]}`)
			h.waitStatus("w", "green/dot/connected", 5*time.Second)
			h.inject("w", tc.payload)
			m1 := h.next("sink1", 5*time.Second)
			m2 := h.next("sink2", 5*time.Second)
			if got := js(m2.Value("payload")); got != tc.out2 {
				t.Errorf("output 2 payload = %s, want %s", got, tc.out2)
			}
			if got := js(m1.Value("responseBuffer")); got != tc.out2 {
				t.Errorf("output 1 responseBuffer = %s, want %s", got, tc.out2)
			}
			if got := strings.Join(mbpoll(t, port, tc.table, tc.adr, tc.qty), " "); got != tc.want {
				t.Errorf("mbpoll reads %q after the write, want %q", got, tc.want)
			}
		})
	}
}

func TestWriteBadPayload(t *testing.T) {
	needPeer(t)
	port := freePort(t)
	startDevice(t, port, 0)
	h := run(t, port, "", `{"id":"w","z":"t1","type":"modbus-write","dataType":"HoldingRegister","adr":"1","quantity":"1","server":"mb","wires":[["sink1"],["sink2"]]}`)
	h.waitStatus("w", "green/dot/connected", 5*time.Second)
	h.inject("w", `{"payload":"abc"}`)
	m := h.next("sinkErr", 5*time.Second)
	if e := js(m.Value("error")); !strings.Contains(e, `node w: msg.payload: value 0 (\"abc\") is not a register value`) {
		t.Errorf("msg.error = %s", e)
	}
	h.inject("w", `{"payload":1}`)
	h.next("sink1", 5*time.Second)
}

func TestGetters(t *testing.T) {
	needPeer(t)
	port := freePort(t)
	startDevice(t, port, 0)
	h := run(t, port, "",
		`{"id":"g","z":"t1","type":"modbus-getter","unitid":"","dataType":"InputRegister","adr":"0","quantity":"3","server":"mb","wires":[["sink1"],["sink2"]]}`,
		`{"id":"fg","z":"t1","type":"modbus-flex-getter","keepMsgProperties":true,"server":"mb","wires":[["sink1"],["sink2"]]}`)
	h.waitStatus("g", "green/dot/connected", 5*time.Second)
	h.inject("g", `{"topic":"t","payload":"go"}`)
	m1, m2 := h.next("sink1", 5*time.Second), h.next("sink2", 5*time.Second)
	if got := js(m1.Value("payload")); got != `[1000,1001,1002]` {
		t.Errorf("getter payload = %s", got)
	}
	if got := js(m2.Value("payload")); got != `{"data":[1000,1001,1002],"buffer":{"type":"Buffer","data":[3,232,3,233,3,234]}}` {
		t.Errorf("getter output 2 payload = %s", got)
	}
	if m1.Value("topic") != "t" {
		t.Errorf("getter topic = %v", m1.Value("topic"))
	}
	h.inject("fg", `{"keepme":1,"payload":{"fc":3,"unitid":1,"address":4,"quantity":2}}`)
	m1, _ = h.next("sink1", 5*time.Second), h.next("sink2", 5*time.Second)
	if got := js(m1.Value("payload")); got != `[104,105]` {
		t.Errorf("flex-getter payload = %s", got)
	}
	if m1.Value("keepme") != 1.0 {
		t.Errorf("keepMsgProperties lost msg.keepme: %s", js(m1))
	}
	h.inject("fg", `{"payload":{"fc":3,"unitid":1,"address":500,"quantity":2}}`)
	if e := js(h.next("sinkErr", 5*time.Second).Value("error")); !strings.Contains(e, "Modbus exception 2: Illegal data address") || !strings.Contains(e, `"code":"2"`) {
		t.Errorf("flex-getter illegal address: msg.error = %s", e)
	}
	h.waitStatus("fg", "red/ring/exception 2", 5*time.Second)
	h.inject("fg", `{"payload":{"fc":1,"address":0,"quantity":3}}`)
	if got := js(h.next("sink1", 5*time.Second).Value("payload")); got != `[true,false,true,false,false,false,false,false]` {
		t.Errorf("coils read = %s", got)
	}
	h.next("sink2", time.Second)
	h.waitStatus("fg", "green/dot/connected", 5*time.Second)
	h.inject("fg", `{"payload":{"fc":7,"address":0}}`)
	if e := js(h.next("sinkErr", 5*time.Second).Value("error")); !strings.Contains(e, "msg.payload.fc must be 1, 2, 3 or 4, got 7") {
		t.Errorf("flex-getter bad fc: msg.error = %s", e)
	}
}

// delayOnStart drops inputs until startDelayTime seconds have passed.
func TestDelayOnStart(t *testing.T) {
	needPeer(t)
	port := freePort(t)
	startDevice(t, port, 0)
	h := run(t, port, "", `{"id":"g","z":"t1","type":"modbus-getter","dataType":"HoldingRegister","adr":"1","quantity":"1","delayOnStart":true,"startDelayTime":"0.4","server":"mb","wires":[["sink1"],["sink2"]]}`)
	h.inject("g", `{"payload":1}`)
	select {
	case m := <-h.sink("sink1"):
		t.Fatalf("input during the start delay was read: %s", js(m))
	case <-time.After(200 * time.Millisecond):
	}
	time.Sleep(300 * time.Millisecond)
	h.inject("g", `{"payload":1}`)
	if got := js(h.next("sink1", 5*time.Second).Value("payload")); got != `[101]` {
		t.Errorf("after the delay: %s", got)
	}
}

// Many messages at once, for several unit ids, share one connection: every
// one is answered, each with its own registers.
func TestBurstSharesOneConnection(t *testing.T) {
	needPeer(t)
	port := freePort(t)
	startDevice(t, port, 0)
	h := run(t, port, "", `{"id":"fg","z":"t1","type":"modbus-flex-getter","keepMsgProperties":true,"server":"mb","wires":[["sink1"],[]]}`)
	h.waitStatus("fg", "green/dot/connected", 5*time.Second)
	const n = 300
	for i := 0; i < n; i++ {
		h.inject("fg", fmt.Sprintf(`{"i":%d,"payload":{"fc":3,"unitid":%d,"address":%d,"quantity":1}}`, i, 1+i%3, i%10))
	}
	seen := map[float64]bool{}
	for len(seen) < n {
		m := h.next("sink1", 10*time.Second)
		i := m.Value("i").(float64)
		if got, want := js(m.Value("payload")), fmt.Sprintf("[%d]", 100+int(i)%10); got != want {
			t.Fatalf("message %v: payload %s, want %s", i, got, want)
		}
		seen[i] = true
	}
	select {
	case m := <-h.sink("sinkErr"):
		t.Errorf("burst raised %s", js(m.Value("error")))
	default:
	}
}
