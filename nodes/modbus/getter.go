package modbus

import (
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "modbus-getter", Category: "modbus", Color: "#E9967A", Icon: "modbus.png",
		Inputs: 1, Outputs: 2,
		Props: props(
			node.Prop{Name: "logIOActivities", Kind: node.KindBool, Default: false},
			node.Prop{Name: "unitid", Kind: node.KindAny, Default: ""},
			node.Prop{Name: "dataType", Kind: node.KindString, Required: true, Options: []string{"Coil", "Input", "HoldingRegister", "InputRegister"}},
			node.Prop{Name: "adr", Kind: node.KindNumber, Required: true, Label: "Address"},
			node.Prop{Name: "quantity", Kind: node.KindNumber, Required: true, Label: "Quantity"},
			node.Prop{Name: "useIOFile", Kind: node.KindBool, Default: false},
			node.Prop{Name: "ioFile", Kind: node.KindString, Default: ""},
			node.Prop{Name: "useIOForPayload", Kind: node.KindBool, Default: false},
			node.Prop{Name: "enableDeformedMessages", Kind: node.KindBool, Default: false},
		),
		Help: "Reads the configured coils, inputs or registers for each message. Output 1: `msg.payload` is the " +
			"values, `msg.responseBuffer` `{data, buffer}`; output 2: `msg.payload` is `{data, buffer}`, `msg.values` the values.",
		New: newGetter,
	})
}

type getterNode struct {
	inputNode
	unitid   any
	fc       int
	adr, qty uint16
}

func newGetter(cfg *node.Config) (node.Node, error) {
	n := &getterNode{unitid: cfg.Get("unitid")}
	n.init(cfg)
	var err error
	if n.fc, n.adr, n.qty, err = readTarget(cfg); err != nil {
		return nil, err
	}
	return n, nil
}

// Input finishes m itself on bad input: the node is Deferred.
func (n *getterNode) Input(c node.Ctx, m *msg.Msg) error {
	if err := n.input(c, m); err != nil {
		c.Done(m, err)
	}
	return nil
}

func (n *getterNode) input(c node.Ctx, m *msg.Msg) error {
	if n.cl == nil {
		return n.exec(m, nil, nil, false)
	}
	unit, err := unitOf(n.unitid, n.cl, "unitid")
	if err != nil {
		return err
	}
	return n.exec(m, &request{unit: unit, fc: n.fc, address: n.adr, quantity: n.qty}, nil, false)
}
