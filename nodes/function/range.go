package function

import (
	"math"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	num := func(name, label string) node.Prop {
		return node.Prop{Name: name, Kind: node.KindNumber, Default: "", Required: true, Label: label}
	}
	node.Register(&node.Spec{
		Type:     "range",
		Category: "function",
		Color:    "#E2D96E",
		Icon:     "range.svg",
		Inputs:   1,
		Outputs:  1,
		Props: []node.Prop{
			num("minin", "input from"),
			num("maxin", "input to"),
			num("minout", "target from"),
			num("maxout", "target to"),
			{Name: "action", Kind: node.KindString, Default: "scale", Options: []string{"scale", "clamp", "roll", "drop"}},
			{Name: "round", Kind: node.KindBool, Default: false},
			{Name: "property", Kind: node.KindString, Default: "payload", Required: true, TypeProp: "", Types: []string{"msg"}},
			{Name: "name", Kind: node.KindString, Default: ""},
		},
		Help: rangeHelp,
		New:  newRange,
	})
}

const rangeHelp = `Maps a number from one range onto another, linearly.

**Input**: the number in the chosen message property (default ` + "`msg.payload`" + `). A string
holding a number is converted; anything that is not a number is logged and the message is
dropped. A message without the property passes through unchanged.

**Actions**
- *scale*: map the value, even when it lies outside the input range.
- *clamp*: limit the value to the input range first, so the result stays in the target range.
- *roll*: wrap the value round within the input range first (e.g. angles, hours).
- *drop*: map the value, but drop the message when it lies outside the input range.

**Round** rounds the result to the nearest integer (the target limits are rounded inwards).

Example: input 0–1023 to target 0–5 turns an ADC reading into volts.`

type rangeNode struct {
	action                       string
	round                        bool
	minin, maxin, minout, maxout float64
	path                         []msg.PathPart
	prop                         string
}

func newRange(cfg *node.Config) (node.Node, error) {
	n := &rangeNode{action: cfg.Str("action"), round: msg.Truthy(cfg.Get("round"))}
	for _, f := range []struct {
		name string
		dst  *float64
	}{{"minin", &n.minin}, {"maxin", &n.maxin}, {"minout", &n.minout}, {"maxout", &n.maxout}} {
		raw, ok := cfg.Raw.Get(f.name)
		if !ok {
			return nil, node.BadProp(f.name, nil, "required number is missing")
		}
		// Node-RED converts with Number(): "" is 0, "abc" is NaN.
		v := msg.ToNumber(raw)
		if math.IsNaN(v) {
			return nil, node.BadProp(f.name, raw, "not a number")
		}
		*f.dst = v
	}
	if n.minin > n.maxin {
		n.minin, n.maxin = n.maxin, n.minin
		n.minout, n.maxout = n.maxout, n.minout
	}
	if n.round {
		n.maxout = math.Floor(n.maxout)
		n.minout = math.Ceil(n.minout)
	}
	n.prop = cfg.StrOr("property", "payload")
	p, err := msgPath(n.prop)
	if err != nil {
		return nil, node.BadProp("property", n.prop, "%v", err)
	}
	n.path = p
	return n, nil
}

func (n *rangeNode) Input(c node.Ctx, m *msg.Msg) error {
	value, err := readProp(m.Object, n.path)
	if err != nil {
		return err
	}
	if msg.IsUndefined(value) {
		c.Send(m)
		return nil
	}
	v := msg.ToNumber(value)
	if math.IsNaN(v) {
		c.Log().Info("Not a number: " + jsString(value))
		return nil
	}
	switch n.action {
	case "drop":
		if v < n.minin || v > n.maxin {
			return nil
		}
	case "clamp":
		v = math.Max(n.minin, math.Min(n.maxin, v))
	case "roll":
		d := n.maxin - n.minin
		v = math.Mod(math.Mod(v-n.minin, d)+d, d) + n.minin
	}
	out := (v-n.minin)/(n.maxin-n.minin)*(n.maxout-n.minout) + n.minout
	if n.round {
		out = jsRound(out)
	}
	if _, err := msg.SetPath(m.Object, n.path, out, true); err != nil {
		return err
	}
	c.Send(m)
	return nil
}

// jsRound is Math.round: halves go up, towards +Infinity.
func jsRound(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	r := math.Floor(x)
	if x-r >= 0.5 {
		r++
	}
	return r
}
