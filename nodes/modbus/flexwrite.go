package modbus

import (
	"fmt"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "modbus-flex-write", Category: "modbus", Color: "#E9967A", Icon: "modbus.png",
		Inputs: 1, Outputs: 2,
		Props: props(),
		Help: "Writes what `msg.payload` `{value, fc, unitid, address, quantity}` asks for (fc 5, 6, 15, 16); " +
			"outputs as modbus-write.",
		New: newFlexWrite,
	})
}

type flexWriteNode struct{ inputNode }

func newFlexWrite(cfg *node.Config) (node.Node, error) {
	n := &flexWriteNode{}
	n.init(cfg)
	return n, nil
}

// Input finishes m itself on bad input: the node is Deferred.
func (n *flexWriteNode) Input(c node.Ctx, m *msg.Msg) error {
	if err := n.input(c, m); err != nil {
		c.Done(m, err)
	}
	return nil
}

func (n *flexWriteNode) input(c node.Ctx, m *msg.Msg) error {
	r, err := flexRequest(n.cl, m, true)
	if err != nil {
		return fmt.Errorf("node %s: %w", c.ID(), err)
	}
	v := m.Payload().(*msg.Object).Value("value")
	q := r.quantity
	r.quantity = 0
	if err := writeValues(r, v); err != nil {
		return fmt.Errorf("node %s: msg.payload.value: %w", c.ID(), err)
	}
	r.quantity = q
	return n.exec(m, r, v, true)
}
