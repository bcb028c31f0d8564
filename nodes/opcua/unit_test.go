package opcua

import (
	"strings"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"
	"github.com/sluicehq/sluice/runtime/flow"
	"github.com/sluicehq/sluice/runtime/msg"
)

func TestToMsg(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{int64(9007199254740993), `[2097152,1]`},
		{int64(-1), `[4294967295,4294967295]`},
		{uint64(1) << 40, `[256,0]`},
		{int32(-5), `-5`},
		{float32(1.5), `1.5`},
		{time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.UTC), `"2024-01-02T03:04:05.006Z"`},
		{&ua.LocalizedText{Text: "x"}, `{"locale":null,"text":"x"}`},
		{&ua.QualifiedName{NamespaceIndex: 2, Name: "n"}, `{"namespaceIndex":2,"name":"n"}`},
		{ua.NewNumericNodeID(0, 85), `"ns=0;i=85"`},
		{ua.NewStringNodeID(2, "a;b"), `"ns=2;s=a;b"`},
		{[]int16{1, -2}, `[1,-2]`},
		{[]byte{1, 2}, `{"type":"Buffer","data":[1,2]}`},
		{ua.StatusBadTypeMismatch, `{"value":2155085824,"description":"The value supplied for the attribute is not of the same type as the attribute's value.","name":"BadTypeMismatch"}`},
	}
	for _, c := range cases {
		if got := string(msg.Marshal(toMsg(c.in))); got != c.want {
			t.Errorf("toMsg(%#v) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestVariantFor(t *testing.T) {
	cases := []struct {
		dt   string
		in   any
		typ  ua.TypeID
		want any
	}{
		{"Double", "2.5", ua.TypeIDDouble, 2.5},
		{"Float", 1.25, ua.TypeIDFloat, float32(1.25)},
		{"Int16", 12.7, ua.TypeIDInt16, int16(12)},
		{"Int64", "9223372036854775807", ua.TypeIDInt64, int64(9223372036854775807)},
		{"Int64", []any{2097152.0, 1.0}, ua.TypeIDInt64, int64(9007199254740993)},
		{"UInt64", "18446744073709551615", ua.TypeIDUint64, uint64(18446744073709551615)},
		{"Boolean", "false", ua.TypeIDBoolean, false},
		{"Boolean", "0", ua.TypeIDBoolean, true}, // the package: any string but "false"
		{"String", 5.0, ua.TypeIDString, "5"},
		{"DateTime", "2024-01-02T03:04:05Z", ua.TypeIDDateTime, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"DateTime", 0.0, ua.TypeIDDateTime, time.UnixMilli(0).UTC()},
	}
	for _, c := range cases {
		typ, arr, err := parseDatatype(c.dt)
		if err != nil {
			t.Fatal(err)
		}
		v, err := variantFor(typ, arr, c.in)
		if err != nil {
			t.Errorf("%s %v: %v", c.dt, c.in, err)
			continue
		}
		if v.Type() != c.typ || v.Value() != c.want {
			t.Errorf("%s %v: got %v %#v", c.dt, c.in, v.Type(), v.Value())
		}
	}
	v, err := variantFor(ua.TypeIDDouble, true, "1, 2,3")
	if err != nil || v.ArrayLength() != 3 {
		t.Errorf("array: %v %v", v, err)
	}
	for _, bad := range []struct {
		dt string
		in any
	}{{"Byte", 256.0}, {"Double", "x"}, {"Int64", 1.5}, {"UInt64", "-1"}, {"Int64", 1e300}, {"Frobnicate", 1.0}} {
		typ, arr, err := parseDatatype(bad.dt)
		if err == nil {
			_, err = variantFor(typ, arr, bad.in)
		}
		if err == nil {
			t.Errorf("%s %v: no error", bad.dt, bad.in)
		}
	}
}

func TestTopics(t *testing.T) {
	id, dt := splitTopic("ns=2;s=1:PST-007-Alarm-Level@Training?SETPOINT;datatype=Double")
	if id != "ns=2;s=1:PST-007-Alarm-Level@Training?SETPOINT" || dt != "Double" {
		t.Errorf("%q %q", id, dt)
	}
	for in, want := range map[string]string{"ns=2;s=Tag": "ns=2;s=Tag", "i=85": "ns=0;i=85", "ObjectsFolder": "ns=0;i=85",
		"ns=3;i=1001": "ns=3;i=1001"} {
		got, err := parseNodeID(in)
		if err != nil || nodeIDString(got) != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "ns=1;x=1", "Tag", "ns=a;s=b"} {
		if _, err := parseNodeID(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestItemConversion(t *testing.T) {
	cases := []struct {
		dt   string
		in   any
		want string
	}{
		{"Double", "66.6", `66.6`},
		{"Int16", 40000.0, `-25536`}, // wraps as Int16Array does
		{"UInt8", -1.0, `255`},
		{"Boolean", "false", `false`},
		{"Boolean", "yes", `true`},
		{"DoubleArray", "5,4,3", `[5,4,3]`},
		{"BooleanArray", []any{"true", 0.0}, `[true,false]`},
		{"String", 12.0, `"12"`},
		{"LocalizedText", "x", `"x"`},
	}
	for _, c := range cases {
		if got := string(msg.Marshal(convertItem(c.dt, c.in))); got != c.want {
			t.Errorf("%s %v = %s, want %s", c.dt, c.in, got, c.want)
		}
	}
}

func validate(t *testing.T, nodes string) string {
	t.Helper()
	set, err := flow.Parse([]byte(`[{"id":"t1","type":"tab"},` + nodes + `]`))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range set.Validate(flow.ValidateOptions{}) {
		out = append(out, p.String())
	}
	return strings.Join(out, "\n")
}

func TestValidation(t *testing.T) {
	ep := `{"id":"ep","type":"OpcUa-Endpoint","endpoint":"opc.tcp://127.0.0.1:4840","secpol":"None","secmode":"None"}`
	if p := validate(t, ep+`,{"id":"c1","type":"OpcUa-Client","z":"t1","endpoint":"ep","action":"read","wires":[[]]}`); p != "" {
		t.Errorf("valid flow: %s", p)
	}
	p := validate(t, ep+`,{"id":"c1","type":"OpcUa-Client","z":"t1","endpoint":"ep","action":"history","wires":[[]]}`)
	if !strings.Contains(p, "c1") || !strings.Contains(p, `"history"`) || !strings.Contains(p, "not supported") {
		t.Errorf("unsupported action: %s", p)
	}
	p = validate(t, `{"id":"ep","type":"OpcUa-Endpoint","endpoint":"http://x","secpol":"Basic999","secmode":"None"}`)
	if !strings.Contains(p, "opc.tcp://") || !strings.Contains(p, "Basic999") {
		t.Errorf("bad endpoint: %s", p)
	}
}
