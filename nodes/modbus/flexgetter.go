package modbus

import (
	"fmt"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "modbus-flex-getter", Category: "modbus", Color: "#E9967A", Icon: "modbus.png",
		Inputs: 1, Outputs: 2,
		Props: props(
			node.Prop{Name: "logIOActivities", Kind: node.KindBool, Default: false},
			node.Prop{Name: "useIOFile", Kind: node.KindBool, Default: false},
			node.Prop{Name: "ioFile", Kind: node.KindString, Default: ""},
			node.Prop{Name: "useIOForPayload", Kind: node.KindBool, Default: false},
			node.Prop{Name: "enableDeformedMessages", Kind: node.KindBool, Default: false},
		),
		Help: "Reads what `msg.payload` `{fc, unitid, address, quantity}` asks for (fc 1..4); outputs as modbus-getter.",
		New:  newFlexGetter,
	})
}

type flexGetterNode struct{ inputNode }

func newFlexGetter(cfg *node.Config) (node.Node, error) {
	n := &flexGetterNode{}
	n.init(cfg)
	return n, nil
}

// Input finishes m itself on bad input: the node is Deferred.
func (n *flexGetterNode) Input(c node.Ctx, m *msg.Msg) error {
	if err := n.input(c, m); err != nil {
		c.Done(m, err)
	}
	return nil
}

func (n *flexGetterNode) input(c node.Ctx, m *msg.Msg) error {
	r, err := flexRequest(n.cl, m, false)
	if err != nil {
		return fmt.Errorf("node %s: %w", c.ID(), err)
	}
	return n.exec(m, r, nil, false)
}

// flexRequest reads {fc, unitid, address, quantity} from msg.payload.
func flexRequest(cl *Client, m *msg.Msg, write bool) (*request, error) {
	p, ok := m.Payload().(*msg.Object)
	if !ok {
		return nil, fmt.Errorf("msg.payload must be an object {fc, unitid, address, quantity}, got %s", msg.Marshal(m.Payload()))
	}
	fcv, ok := num(p.Value("fc"))
	fc := int(fcv)
	valid := fc >= 1 && fc <= 4
	if write {
		valid = fc == 5 || fc == 6 || fc == 15 || fc == 16
	}
	if !ok || !valid || float64(fc) != fcv {
		want := "1, 2, 3 or 4"
		if write {
			want = "5, 6, 15 or 16"
		}
		return nil, fmt.Errorf("msg.payload.fc must be %s, got %s", want, msg.Marshal(p.Value("fc")))
	}
	r := &request{fc: fc}
	if cl != nil {
		u, err := unitOf(p.Value("unitid"), cl, "msg.payload.unitid")
		if err != nil {
			return nil, err
		}
		r.unit = u
	}
	var err error
	if r.address, err = u16(p.Value("address"), "msg.payload.address"); err != nil {
		return nil, err
	}
	q := p.Value("quantity")
	if q == nil || q == "" {
		q = 1.0
	}
	if r.quantity, err = u16(q, "msg.payload.quantity"); err != nil || r.quantity == 0 {
		return nil, fmt.Errorf("msg.payload.quantity must be 1..65535, got %s", msg.Marshal(q))
	}
	return r, nil
}
