package modbus

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// commonProps are the options every modbus node of the package carries;
// Sluice accepts them so flows validate, and always reports errors.
var commonProps = []node.Prop{
	{Name: "name", Kind: node.KindString, Default: ""},
	{Name: "showStatusActivities", Kind: node.KindBool, Default: false},
	{Name: "showErrors", Kind: node.KindBool, Default: false},
	{Name: "showWarnings", Kind: node.KindBool, Default: true},
	{Name: "server", Kind: node.KindString, ConfigType: "modbus-client", Required: true, Label: "Server"},
	{Name: "emptyMsgOnFail", Kind: node.KindBool, Default: false},
	{Name: "keepMsgProperties", Kind: node.KindBool, Default: false},
	{Name: "delayOnStart", Kind: node.KindBool, Default: false},
	{Name: "startDelayTime", Kind: node.KindString, Default: ""},
}

func props(extra ...node.Prop) []node.Prop {
	return append(append([]node.Prop{}, commonProps...), extra...)
}

var readFC = map[string]int{"Coil": 1, "Input": 2, "HoldingRegister": 3, "InputRegister": 4}
var writeFC = map[string]int{"Coil": 5, "HoldingRegister": 6, "MCoils": 15, "MHoldingRegisters": 16}

// attach finds the node's client config and mirrors its state in the
// node's status.
// connected is the status text while the connection is up.
func attach(c node.Ctx, serverID, connected string) (*Client, error) {
	n, _ := c.ConfigNode(serverID)
	cl, ok := n.(*Client)
	if !ok {
		return nil, fmt.Errorf("node %s: property \"server\": modbus-client %q not found", c.ID(), serverID)
	}
	cl.watch(c.ID(), func(st string, err error) {
		s := stateStatus(st, err)
		if st == "connected" && connected != "" {
			s.Text = connected
		}
		c.Status(s)
	})
	return cl, nil
}

func stateStatus(st string, err error) node.Status {
	switch st {
	case "connected":
		return node.Status{Fill: "green", Shape: "dot", Text: "connected"}
	case "error":
		t := "error"
		if err != nil {
			t = "error: " + err.Error()
		}
		return node.Status{Fill: "red", Shape: "ring", Text: t}
	}
	return node.Status{Fill: "yellow", Shape: "ring", Text: st}
}

// unitOf is the node's unitid property, or the client's default when empty.
func unitOf(v any, cl *Client, prop string) (byte, error) {
	if v == nil || v == "" {
		return cl.DefaultUnit(), nil
	}
	f, ok := num(v)
	if !ok || f < 0 || f > 255 || f != math.Trunc(f) {
		return 0, node.BadProp(prop, v, "unit id must be an integer 0..255")
	}
	return byte(f), nil
}

func num(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case bool:
		if t {
			return 1, true
		}
		return 0, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		return f, err == nil
	}
	return 0, false
}

func u16(v any, what string) (uint16, error) {
	f, ok := num(v)
	if !ok || f < 0 || f > 65535 || f != math.Trunc(f) {
		return 0, fmt.Errorf("%s must be an integer 0..65535, got %s", what, msg.Marshal(v))
	}
	return uint16(f), nil
}

// readResult is the package's response object for reads: the values and
// the raw data bytes; coils come 8 per byte, as the device sent them.
func readResult(fc int, pdu []byte) (values []any, resp *msg.Object) {
	if fc <= 2 {
		values = make([]any, 0, 8*len(pdu))
		for _, b := range pdu {
			for j := 0; j < 8; j++ {
				values = append(values, b&(1<<j) != 0)
			}
		}
	} else {
		values = make([]any, 0, len(pdu)/2)
		for i := 0; i+1 < len(pdu); i += 2 {
			values = append(values, float64(uint16(pdu[i])<<8|uint16(pdu[i+1])))
		}
	}
	resp = msg.NewObject(2)
	resp.Set("data", values)
	resp.Set("buffer", append([]byte(nil), pdu...))
	return values, resp
}

// writeResult is the package's response object for writes, from the
// device's echo of the request.
func writeResult(r *request, pdu []byte) *msg.Object {
	fc := r.fc
	o := msg.NewObject(2)
	o.Set("address", float64(r.address))
	if len(pdu) < 2 {
		return o
	}
	// goburrow returns only the value / quantity part of the echo.
	v := float64(uint16(pdu[0])<<8 | uint16(pdu[1]))
	switch fc {
	case 5:
		o.Set("state", v == 0xFF00)
	case 6:
		o.Set("value", v)
	default:
		o.Set("length", v)
	}
	return o
}

// outputs builds the two messages getter and writer nodes send: values
// with the response beside them, and the response with the values beside.
func outputs(in *msg.Msg, keep bool, req *msg.Object, values any, resp *msg.Object) [][]*msg.Msg {
	o1 := in.Clone()
	if !keep {
		for _, k := range o1.Keys() {
			if k != "_msgid" {
				o1.Delete(k)
			}
		}
	}
	for _, k := range req.Keys() {
		o1.Set(k, msg.Clone(req.Value(k)))
	}
	o1.Set("payload", values)
	o1.Set("responseBuffer", resp)
	o1.Set("input", req)
	o2 := o1.Clone()
	o2.Delete("responseBuffer")
	o2.Set("payload", msg.Clone(resp))
	o2.Set("values", msg.Clone(values))
	return [][]*msg.Msg{{o1}, {o2}}
}

// requestObject is the message the package builds for each request; it
// travels as msg.input.
func requestObject(topic any, r *request, value any, hasValue bool) *msg.Object {
	id := msg.NewID()
	p := msg.NewObject(6)
	if hasValue {
		p.Set("value", value)
	}
	p.Set("unitid", float64(r.unit))
	p.Set("fc", float64(r.fc))
	p.Set("address", float64(r.address))
	p.Set("quantity", float64(r.quantity))
	p.Set("messageId", id)
	o := msg.NewObject(3)
	o.Set("topic", topic)
	o.Set("messageId", id)
	o.Set("payload", p)
	return o
}

// failed reports err for m the way the node's options ask: to catch nodes
// always, and as an empty message with msg.error when emptyMsgOnFail.
func failed(c node.Ctx, m *msg.Msg, emptyOnFail bool, err error) {
	if emptyOnFail {
		e := m.Clone()
		e.Set("payload", "")
		eo := msg.NewObject(2)
		eo.Set("message", err.Error())
		var ee *ExceptionError
		if errors.As(err, &ee) {
			eo.Set("modbusCode", float64(ee.Exception))
		}
		e.Set("error", eo)
		c.SendPorts([][]*msg.Msg{{e}, {e.Clone()}})
	}
	var ee *ExceptionError
	if errors.As(err, &ee) {
		c.Status(node.Status{Fill: "red", Shape: "ring", Text: "exception " + ee.Code()})
	}
}

// readTarget is what the read and getter nodes read: the function code for
// dataType, the start address adr and the register or coil count quantity
// (default 1).
func readTarget(cfg *node.Config) (fc int, adr, qty uint16, err error) {
	dt := cfg.Str("dataType")
	fc, ok := readFC[dt]
	if !ok {
		return 0, 0, 0, node.BadProp("dataType", dt, "dataType must be Coil, Input, HoldingRegister or InputRegister")
	}
	if adr, err = u16(cfg.Get("adr"), "adr"); err != nil {
		return 0, 0, 0, node.BadProp("adr", cfg.Get("adr"), "%v", err)
	}
	q := cfg.Get("quantity")
	if q == nil || q == "" {
		q = 1.0
	}
	if qty, err = u16(q, "quantity"); err != nil || qty == 0 {
		return 0, 0, 0, node.BadProp("quantity", q, "quantity must be 1..65535")
	}
	return fc, adr, qty, nil
}
