package function

import (
	"math"
	"strings"
	"sync"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type:     "rbe",
		Category: "function",
		Color:    "#E2D96E",
		Icon:     "rbe.png",
		Label:    "filter",
		Inputs:   1,
		Outputs:  1,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "func", Kind: node.KindString, Default: "rbe", Options: []string{"rbe", "rbei", "deadband", "deadbandEq", "narrowband", "narrowbandEq"}, Label: "Mode"},
			{Name: "gap", Kind: node.KindString, Default: "", Label: "Value change", Check: checkGap},
			{Name: "start", Kind: node.KindString, Default: "", Label: "Start value"},
			{Name: "inout", Kind: node.KindString, Default: "out", Options: []string{"out", "in"}},
			{Name: "septopics", Kind: node.KindBool, Default: true, Label: "Apply mode separately for each topic"},
			{Name: "property", Kind: node.KindString, Default: "payload", Required: true, Types: []string{"msg"}, Label: "Property"},
			{Name: "topi", Kind: node.KindString, Default: "topic", Required: true, Types: []string{"msg"}, Label: "Topic"},
		},
		Help: filterHelp,
		New:  newFilter,
	})
}

const filterHelp = `Passes a message only when its value changes: report by exception.

Modes:
- *block unless value changes*: strings, numbers, booleans and (compared deeply) objects;
  *ignore initial value* also blocks the first value.
- *block unless value change is greater than* (or *greater or equal to*) a gap: a deadband,
  for numbers, the gap either absolute or a percentage of the last value.
- *block if value change is greater than* (or *greater or equal to*) a gap: a narrowband,
  which drops outliers; the first value (or the start value) is the reference.

The change is measured from the last value sent, or the last value received. Values are kept
per ` + "`msg.topic`" + ` (or another property) unless told otherwise; ` + "`msg.reset`" + ` forgets the
value of the message's topic, or every value.`

// checkGap is the editor's validation of the gap: digits, optional %.
func checkGap(v any, _ *node.Config) error {
	s, ok := v.(string)
	if !ok {
		if _, isNum := v.(float64); isNum {
			return nil
		}
		return node.BadProp("gap", v, "not a number")
	}
	t := strings.TrimSuffix(s, "%")
	for _, c := range t {
		if c != '.' && (c < '0' || c > '9') {
			return node.BadProp("gap", v, "not a number or a percentage")
		}
	}
	return nil
}

type filterNode struct {
	fn        string
	gapText   string  // the gap as written, Number()-ed for each message
	pc        bool    // gap in percent of the last value
	g         float64 // the percentage
	start     string
	inout     string
	sepTopics bool
	prop      []msg.PathPart
	topicProp []msg.PathPart

	mu       sync.Mutex
	previous map[string]any
}

func newFilter(cfg *node.Config) (node.Node, error) {
	n := &filterNode{
		fn:        cfg.StrOr("func", "rbe"),
		gapText:   cfg.StrOr("gap", "0"),
		start:     cfg.Str("start"),
		inout:     cfg.StrOr("inout", "out"),
		sepTopics: cfg.Get("septopics") != false,
		previous:  map[string]any{},
	}
	if !msg.Truthy(cfg.Get("start")) {
		n.start = ""
	}
	switch n.fn {
	case "rbe", "rbei", "deadband", "deadbandEq", "narrowband", "narrowbandEq":
	default:
		return nil, node.BadProp("func", n.fn, "unknown mode")
	}
	if strings.HasSuffix(n.gapText, "%") {
		n.pc = true
		n.g = jsParseFloat(n.gapText)
	}
	var err error
	prop := cfg.StrOr("property", "payload")
	if n.prop, err = msgPath(prop); err != nil {
		return nil, node.BadProp("property", prop, "%v", err)
	}
	topi := cfg.StrOr("topi", "topic")
	if n.topicProp, err = msgPath(topi); err != nil {
		return nil, node.BadProp("topi", topi, "%v", err)
	}
	return n, nil
}

func (n *filterNode) Input(c node.Ctx, m *msg.Msg) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	// Node-RED ignores read errors here: a missing parent is no topic and
	// no value.
	topic, err := readProp(m.Object, n.topicProp)
	if err != nil {
		topic = msg.Undefined{}
	}
	if m.Has("reset") {
		if ts, ok := topic.(string); ok && n.sepTopics && ts != "" {
			// Node-RED deletes msg.topic's entry, whatever the topic
			// property is.
			key := "undefined"
			if tv, ok := m.Get("topic"); ok {
				key = jsKey(tv)
			}
			delete(n.previous, key)
		} else {
			clear(n.previous)
		}
	}
	value, err := readProp(m.Object, n.prop)
	if err != nil || msg.IsUndefined(value) {
		return nil
	}
	t := "_no_topic"
	if n.sepTopics && msg.Truthy(topic) {
		t = jsKey(topic)
	}
	if n.fn == "rbe" || n.fn == "rbei" {
		prev, seen := n.previous[t]
		send := n.fn != "rbei" || seen
		changed := false
		if isObjectLike(value) || value == nil {
			if !isObjectLike(prev) && prev != nil || !seen {
				// Node-RED keeps this empty object even when the value
				// equals it ({} first is not sent, but counts as seen).
				prev = msg.NewObject(0)
				n.previous[t] = prev
			}
			changed = !compareObjects(value, prev)
		} else {
			changed = !seen || !jsStrictEqual(value, prev)
		}
		if changed {
			n.previous[t] = msg.Clone(value)
			if send {
				c.Send(m)
			}
		}
		return nil
	}
	v := jsParseFloat(value)
	if math.IsNaN(v) {
		c.Warn("no number found in payload")
		return nil
	}
	prevV, seen := n.previous[t]
	if !seen && (n.fn == "narrowband" || n.fn == "narrowbandEq") {
		if n.start == "" {
			prevV = v
		} else {
			prevV = msg.StringToNumber(n.start)
		}
		n.previous[t], seen = prevV, true
	}
	var gap float64
	if n.pc {
		gap = math.Abs(msg.ToNumber(prevV) * n.g / 100)
		if math.IsNaN(gap) {
			gap = 0
		}
	} else {
		gap = msg.StringToNumber(n.gapText)
	}
	if !seen {
		prevV = v - gap - 1
		n.previous[t] = prevV
	}
	p := msg.ToNumber(prevV)
	d := math.Abs(v - p)
	pass := false
	switch {
	case d == gap:
		pass = n.fn == "deadbandEq" || n.fn == "narrowband"
	case d > gap:
		pass = n.fn == "deadband" || n.fn == "deadbandEq"
	case d < gap:
		pass = n.fn == "narrowband" || n.fn == "narrowbandEq"
	}
	if pass {
		if n.inout == "out" {
			n.previous[t] = v
		}
		c.Send(m)
	}
	if n.inout == "in" {
		n.previous[t] = v
	}
	return nil
}

// compareObjects is RED.util.compareObjects: deep equality of JSON-like
// values, key order ignored, Buffers by content.
func compareObjects(a, b any) bool {
	if jsStrictEqual(a, b) {
		return true
	}
	if a == nil || b == nil || msg.IsUndefined(a) || msg.IsUndefined(b) {
		return false
	}
	aa, aArr := a.([]any)
	ba, bArr := b.([]any)
	if aArr != bArr {
		return false
	}
	if aArr {
		if len(aa) != len(ba) {
			return false
		}
		for i := range aa {
			if !compareObjects(aa[i], ba[i]) {
				return false
			}
		}
		return true
	}
	ab, aBuf := a.([]byte)
	bb, bBuf := b.([]byte)
	if aBuf != bBuf {
		return false
	}
	if aBuf {
		return string(ab) == string(bb)
	}
	if !isObjectLike(a) || !isObjectLike(b) {
		return false
	}
	// Dates and other objects without own properties compare equal, as
	// they do in Node-RED.
	ao, _ := a.(*msg.Object)
	bo, _ := b.(*msg.Object)
	if ao.Len() != bo.Len() {
		return false
	}
	for _, k := range ao.Keys() {
		bv, ok := bo.Get(k)
		if !ok {
			bv = msg.Undefined{}
		}
		if !compareObjects(ao.Value(k), bv) {
			return false
		}
	}
	return true
}
