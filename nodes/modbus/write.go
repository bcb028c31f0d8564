package modbus

import (
	"fmt"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "modbus-write", Category: "modbus", Color: "#E9967A", Icon: "modbus.png",
		Inputs: 1, Outputs: 2,
		Props: props(
			node.Prop{Name: "unitid", Kind: node.KindAny, Default: ""},
			node.Prop{Name: "dataType", Kind: node.KindString, Required: true, Options: []string{"Coil", "HoldingRegister", "MCoils", "MHoldingRegisters"}},
			node.Prop{Name: "adr", Kind: node.KindNumber, Required: true, Label: "Address"},
			node.Prop{Name: "quantity", Kind: node.KindNumber, Required: true, Label: "Quantity"},
		),
		Help: "Writes `msg.payload` (or `msg.payload.value`): one 1/0/true/false for Coil (fc 5), one number for " +
			"HoldingRegister (fc 6), arrays for MCoils (fc 15) and MHoldingRegisters (fc 16). Output 1: `msg.payload` is " +
			"what was written, `msg.responseBuffer` the device's answer; output 2 the answer in `msg.payload`.",
		New: newWrite,
	})
}

type writeNode struct {
	inputNode
	unitid   any
	fc       int
	adr, qty uint16
}

func newWrite(cfg *node.Config) (node.Node, error) {
	n := &writeNode{unitid: cfg.Get("unitid")}
	n.init(cfg)
	dt := cfg.Str("dataType")
	fc, ok := writeFC[dt]
	if !ok {
		return nil, node.BadProp("dataType", dt, "dataType must be Coil, HoldingRegister, MCoils or MHoldingRegisters")
	}
	n.fc = fc
	var err error
	if n.adr, err = u16(cfg.Get("adr"), "adr"); err != nil {
		return nil, node.BadProp("adr", cfg.Get("adr"), "%v", err)
	}
	if q := cfg.Get("quantity"); q != nil && q != "" {
		if n.qty, err = u16(q, "quantity"); err != nil {
			return nil, node.BadProp("quantity", q, "%v", err)
		}
	}
	return n, nil
}

// Input finishes m itself on bad input: the node is Deferred.
func (n *writeNode) Input(c node.Ctx, m *msg.Msg) error {
	if err := n.input(c, m); err != nil {
		c.Done(m, err)
	}
	return nil
}

func (n *writeNode) input(c node.Ctx, m *msg.Msg) error {
	if n.cl == nil {
		return n.exec(m, nil, nil, false)
	}
	unit, err := unitOf(n.unitid, n.cl, "unitid")
	if err != nil {
		return err
	}
	v := m.Payload()
	if o, ok := v.(*msg.Object); ok && o.Has("value") {
		v = o.Value("value")
	}
	r := &request{unit: unit, fc: n.fc, address: n.adr, quantity: n.qty}
	if err := writeValues(r, v); err != nil {
		return fmt.Errorf("node %s: msg.payload: %w", c.ID(), err)
	}
	return n.exec(m, r, v, true)
}
