package opcua

import (
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "OpcUa-Item", Category: "opcua", Color: "#3FADB5", Icon: "opcuanodeLogo.png",
		Inputs: 1, Outputs: 1,
		Props: []node.Prop{
			{Name: "item", Kind: node.KindString, Required: true, Label: "Item"},
			{Name: "datatype", Kind: node.KindString, Required: true, Label: "Type"},
			{Name: "value", Kind: node.KindAny, Default: nil, Label: "Value"},
			{Name: "name", Kind: node.KindString, Default: ""},
		},
		Help: "Sets `msg.topic` to the item's node id, `msg.datatype` to its type and `msg.browseName` to its name; " +
			"when `msg.payload` is empty the item's value is used. `msg.payload` is converted to the type (numbers, " +
			"booleans; arrays from `1,2,3`), ready for an OpcUa-Client write.",
		New: newItem,
	})
}

type itemNode struct {
	item, datatype, name string
	value                any
}

func newItem(cfg *node.Config) (node.Node, error) {
	// The package strips white space: "Double Array" becomes "DoubleArray".
	dt := strings.Join(strings.Fields(cfg.Str("datatype")), "")
	return &itemNode{item: cfg.Str("item"), datatype: dt, name: cfg.Name(), value: cfg.Get("value")}, nil
}

func (n *itemNode) Input(c node.Ctx, m *msg.Msg) error {
	m.Set("topic", n.item)
	m.Set("datatype", n.datatype)
	m.Set("browseName", n.name)
	p := m.Payload()
	if n.value != nil && n.value != "" && isEmpty(p) {
		m.Set("payload", convertItem(n.datatype, n.value))
	} else if hasLength(p) && !isEmpty(p) {
		// Numbers and booleans pass unchanged, as in the package (it tests
		// msg.payload.length); the client converts them when writing.
		m.Set("payload", convertItem(n.datatype, p))
	}
	c.Send(m)
	return nil
}

// isEmpty is the package's `msg.payload.length === 0` / `> 0` test: only
// strings and arrays have a length.
func isEmpty(v any) bool {
	switch t := v.(type) {
	case string:
		return t == ""
	case []any:
		return len(t) == 0
	case []byte:
		return len(t) == 0
	}
	return false
}

func hasLength(v any) bool {
	switch v.(type) {
	case string, []any, []byte:
		return true
	}
	return false
}

// convertItem is build_new_value_by_datatype: numbers to the type's range
// as typed arrays wrap them, booleans, strings; arrays from lists or
// "1,2,3". Types the client converts at write time pass unchanged.
func convertItem(dt string, v any) any {
	if strings.HasSuffix(dt, "Array") {
		items, err := arrayItems(v)
		if err != nil {
			return v
		}
		base := strings.TrimSuffix(dt, "Array")
		out := make([]any, len(items))
		for i, x := range items {
			out[i] = convertItem(base, x)
		}
		return out
	}
	switch dt {
	case "Float", "Double":
		f, err := number(v)
		if err != nil {
			return v
		}
		if dt == "Float" {
			return float64(float32(f))
		}
		return f
	case "SByte", "Int8":
		return wrapInt(v, 8, true)
	case "Byte", "UInt8":
		return wrapInt(v, 8, false)
	case "Int16":
		return wrapInt(v, 16, true)
	case "UInt16":
		return wrapInt(v, 16, false)
	case "Int32":
		return wrapInt(v, 32, true)
	case "UInt32":
		return wrapInt(v, 32, false)
	case "Boolean":
		if s, ok := v.(string); ok {
			return s != "" && s != "false"
		}
		return msg.Truthy(v)
	case "String":
		return msg.ToString(v)
	}
	return v
}

// wrapInt stores v in a typed array of the given width, as the package
// does (new Int16Array([v])[0]): out-of-range values wrap around.
func wrapInt(v any, bits uint, signed bool) any {
	f, err := number(v)
	if err != nil {
		return v
	}
	if f != f || f > 1e300 || f < -1e300 {
		return 0.0
	}
	u := uint64(int64(f))
	mask := uint64(1)<<bits - 1
	u &= mask
	if signed && u&(uint64(1)<<(bits-1)) != 0 {
		return float64(int64(u) - int64(uint64(1)<<bits))
	}
	return float64(u)
}
