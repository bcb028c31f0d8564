//go:build unix

package modbus

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// Units take turns: a unit with many waiting requests does not hold back
// the next unit's first request.
func TestQueueTakesTurnsBetweenUnits(t *testing.T) {
	cl := &Client{queues: map[byte][]*request{}, wake: make(chan struct{}, 1)}
	add := func(unit byte, adr uint16) {
		r := &request{unit: unit, address: adr}
		cl.mu.Lock()
		if len(cl.queues[unit]) == 0 {
			cl.units = append(cl.units, unit)
		}
		cl.queues[unit] = append(cl.queues[unit], r)
		cl.queued++
		cl.mu.Unlock()
	}
	add(1, 10)
	add(1, 11)
	add(1, 12)
	add(2, 20)
	add(3, 30)
	add(2, 21)
	var got []uint16
	for r := cl.next(); r != nil; r = cl.next() {
		got = append(got, r.address)
	}
	want := []uint16{10, 20, 30, 11, 21, 12}
	if len(got) != len(want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
	if cl.queued != 0 || len(cl.units) != 0 {
		t.Errorf("queue not empty: %d queued, units %v", cl.queued, cl.units)
	}
}

func regs(vs ...uint16) []byte {
	b := make([]byte, 2*len(vs))
	for i, v := range vs {
		binary.BigEndian.PutUint16(b[2*i:], v)
	}
	return b
}

func TestDecoder(t *testing.T) {
	f64 := math.Float64bits(-1234.5678)
	cases := []struct {
		cfg  string
		data []byte
		want string
	}{
		{`{"decode":"int32"}`, regs(0xFFFF, 0xFFFE), `[-2]`},
		{`{"decode":"int32","wordOrder":"LE"}`, regs(0xFFFE, 0xFFFF), `[-2]`},
		{`{"decode":"uint32","wordOrder":"LE"}`, regs(0x0001, 0x0002), `[131073]`},
		{`{"decode":"uint16","byteOrder":"LE"}`, regs(0x0100), `[1]`},
		{`{"decode":"float64"}`, regs(uint16(f64>>48), uint16(f64>>32), uint16(f64>>16), uint16(f64)), `[-1234.5678]`},
		{`{"decode":"float64","wordOrder":"LE"}`, regs(uint16(f64), uint16(f64>>16), uint16(f64>>32), uint16(f64>>48)), `[-1234.5678]`},
		{`{"decode":"int16","scale":"0.1","offset":"1"}`, regs(0xFF9C), `[-9]`},
		{`{"scale":10}`, regs(7), `[70]`},
	}
	for _, tc := range cases {
		raw, _ := msg.UnmarshalString(tc.cfg)
		d, err := newDecoder(&node.Config{Raw: raw.(*msg.Object)})
		if err != nil {
			t.Fatalf("%s: %v", tc.cfg, err)
		}
		v, err := d.decode(tc.data)
		if err != nil {
			t.Fatalf("%s: %v", tc.cfg, err)
		}
		if got := js(v); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.cfg, got, tc.want)
		}
	}
	raw, _ := msg.UnmarshalString(`{"decode":"float32"}`)
	d, _ := newDecoder(&node.Config{Raw: raw.(*msg.Object)})
	if _, err := d.decode(regs(1, 2, 3)); err == nil || !strings.Contains(err.Error(), "3 registers do not divide into float32 values") {
		t.Errorf("odd register count: %v", err)
	}
	raw, _ = msg.UnmarshalString(`{"decode":"int8"}`)
	if _, err := newDecoder(&node.Config{Raw: raw.(*msg.Object)}); err == nil || !strings.Contains(err.Error(), `property "decode"`) {
		t.Errorf("bad decode kind: %v", err)
	}
}

func TestWriteValues(t *testing.T) {
	cases := []struct {
		fc    int
		value string
		want  string
		err   string
	}{
		{5, `"true"`, "coils [true]", ""},
		{5, `0`, "coils [false]", ""},
		{5, `2`, "", "not a coil state"},
		{6, `-2`, "regs [65534]", ""},
		{6, `70000`, "", "not a register value"},
		{15, `"1,0,1"`, "coils [true false true]", ""},
		{16, `[1,2.5]`, "", "value 1 (2.5) is not a register value"},
		{16, `[]`, "", "needs 1..1968 values"},
	}
	for _, tc := range cases {
		v, _ := msg.UnmarshalString(tc.value)
		r := &request{fc: tc.fc}
		err := writeValues(r, v)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("fc %d %s: error %v, want %q", tc.fc, tc.value, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("fc %d %s: %v", tc.fc, tc.value, err)
			continue
		}
		got := ""
		if r.coils != nil {
			got = "coils " + strings.Trim(strings.ReplaceAll(js(anySlice(r.coils)), ",", " "), "")
		} else {
			got = "regs " + strings.ReplaceAll(js(anyRegs(r.regs)), ",", " ")
		}
		if got != tc.want {
			t.Errorf("fc %d %s: %s, want %s", tc.fc, tc.value, got, tc.want)
		}
	}
}

func anySlice(b []bool) []any {
	out := make([]any, len(b))
	for i, v := range b {
		out[i] = v
	}
	return out
}

func anyRegs(r []uint16) []any {
	out := make([]any, len(r))
	for i, v := range r {
		out[i] = float64(v)
	}
	return out
}

func TestBadConfig(t *testing.T) {
	cases := []struct {
		typ, cfg, want string
	}{
		{"modbus-client", `{"clienttype":"udp"}`, `property "clienttype"`},
		{"modbus-client", `{"tcpType":"UDP"}`, `property "tcpType"`},
		{"modbus-client", `{"unit_id":300}`, `property "unit_id"`},
		{"modbus-read", `{"dataType":"Coils","adr":0,"quantity":1,"rate":1,"rateUnit":"s"}`, `property "dataType"`},
		{"modbus-read", `{"dataType":"Coil","adr":0,"quantity":1,"rate":1,"rateUnit":"d"}`, `property "rateUnit"`},
		{"modbus-read", `{"dataType":"Coil","adr":0,"quantity":1,"rate":0,"rateUnit":"s"}`, `property "rate"`},
		{"modbus-read", `{"dataType":"Coil","adr":70000,"quantity":1,"rate":1,"rateUnit":"s"}`, `property "adr"`},
		{"modbus-read", `{"dataType":"Coil","adr":0,"quantity":1,"rate":1,"rateUnit":"s","decode":"float32"}`, `property "decode"`},
		{"modbus-write", `{"dataType":"InputRegister","adr":0}`, `property "dataType"`},
	}
	for _, tc := range cases {
		spec, _ := node.Lookup(tc.typ)
		raw, _ := msg.UnmarshalString(tc.cfg)
		_, err := spec.New(&node.Config{Raw: raw.(*msg.Object)})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: error %v, want %s", tc.typ, tc.cfg, err, tc.want)
		}
	}
}
