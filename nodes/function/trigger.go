package function

import (
	"context"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/mustache"
	"github.com/sluicehq/sluice/runtime/node"
	"github.com/sluicehq/sluice/runtime/typed"
)

func init() {
	opTypes := []string{"flow", "global", "str", "num", "bool", "json", "bin", "date", "env", "pay", "payl", "nul", "val"}
	node.Register(&node.Spec{
		Type:     "trigger",
		Category: "function",
		Color:    "#E6E0F8",
		Icon:     "trigger.svg",
		Inputs:   1,
		Outputs:  1,
		OutputsOf: func(cfg *node.Config) int {
			if looseEqual(cfg.Get("outputs"), 2.0) {
				return 2
			}
			return 1
		},
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "op1", Default: "1", TypeProp: "op1type", Types: opTypes, Label: "Send"},
			{Name: "op2", Default: "0", TypeProp: "op2type", Types: opTypes, Label: "then send"},
			{Name: "op1type", Kind: node.KindString, Default: "val"},
			{Name: "op2type", Kind: node.KindString, Default: "val"},
			{Name: "duration", Kind: node.KindNumber, Default: "250", Required: true, Label: "Duration"},
			{Name: "extend", Default: "false", Label: "Extend delay if new message arrives"},
			{Name: "overrideDelay", Default: "false", Label: "Override delay with msg.delay"},
			{Name: "units", Kind: node.KindString, Default: "ms", Options: []string{"ms", "s", "min", "hr"}},
			{Name: "reset", Kind: node.KindString, Default: "", Label: "Reset if msg.payload equals"},
			{Name: "bytopic", Kind: node.KindString, Default: "all", Options: []string{"all", "topic"}},
			{Name: "topic", Kind: node.KindString, Default: "topic", Required: true, Label: "Topic property"},
			{Name: "outputs", Kind: node.KindNumber, Default: 1},
		},
		Help: triggerHelp,
		New:  newTrigger,
	})
}

const triggerHelp = `Sends a message when triggered, then optionally a second message after a time.

The first message is sent at once (a string, number, JSON, buffer, timestamp, context or
environment value, the existing payload, or nothing). Then, after the duration, the second one
(the same kinds, the original payload, the latest message, or nothing), on the first output or,
if selected, a second output. Strings may use mustache: ` + "`{{payload}}`" + `.

While waiting, further messages are ignored, or extend the wait. A duration of 0 waits for a
reset; a negative duration (the *resend every* choice) repeats the first message.

` + "`msg.reset`" + `, or a payload equal to the reset value, stops the wait. With
*override delay*, ` + "`msg.delay`" + ` sets the duration in milliseconds. *For each topic*
keeps a separate wait per value of the topic property.`

// triggerOp is the first (op1) or second (op2) value.
type triggerOp struct {
	typ  string
	raw  any
	in   *typed.Input       // evaluated types
	tmpl *mustache.Template // str with {{
	num  float64            // num that is not a number: NaN, as Node-RED's Number()
}

type triggerNode struct {
	all       bool
	op1, op2  triggerOp
	second    bool
	topicPath []msg.PathPart
	extend    bool
	override  bool
	loop      bool
	duration  float64 // ms
	reset     any     // compared with == to payload.toString()

	mu     sync.Mutex
	clock  *nodeClock
	topics map[string]*triggerTopic
	npay   map[string]*msg.Msg
	closed bool
	c      node.Ctx
}

// triggerTopic is the wait for one topic.
type triggerTopic struct {
	tout *clockTimer
	zero bool // duration 0: waiting for a reset
	m2   any
}

func newTrigger(cfg *node.Config) (node.Node, error) {
	n := &triggerNode{
		all:      cfg.StrOr("bytopic", "all") == "all",
		second:   looseEqual(cfg.Get("outputs"), 2.0),
		override: msg.Truthy(cfg.Get("overrideDelay")),
		topics:   map[string]*triggerTopic{},
		npay:     map[string]*msg.Msg{},
	}
	n.clock = newNodeClock(&n.mu)
	ext := cfg.Get("extend")
	n.extend = ext == "true" || ext == true
	if r := cfg.Get("reset"); msg.Truthy(r) {
		n.reset = r
	}
	topic := cfg.StrOr("topic", "topic")
	p, err := msgPath(topic)
	if err != nil {
		return nil, node.BadProp("topic", topic, "%v", err)
	}
	n.topicPath = p
	n.duration = jsParseFloat(cfg.Get("duration"))
	if math.IsNaN(n.duration) {
		n.duration = 250
	}
	if n.duration < 0 {
		n.loop = true
		n.duration = -n.duration
		n.extend = false
	}
	switch cfg.Str("units") {
	case "s":
		n.duration *= 1000
	case "min":
		n.duration *= 60 * 1000
	case "hr":
		n.duration *= 60 * 60 * 1000
	}
	if n.op1, err = triggerOperand(cfg, "op1", "1"); err != nil {
		return nil, err
	}
	if n.op2, err = triggerOperand(cfg, "op2", "0"); err != nil {
		return nil, err
	}
	return n, nil
}

func triggerOperand(cfg *node.Config, name, def string) (triggerOp, error) {
	op := triggerOp{typ: cfg.StrOr(name+"type", "str"), raw: cfg.Get(name)}
	if !msg.Truthy(op.raw) {
		op.raw = def
	}
	if op.typ == "date" && op.raw == def {
		op.raw = ""
	}
	str := jsString(op.raw)
	if op.typ == "val" {
		switch str {
		case "true", "false":
			op.typ = "bool"
		case "null":
			op.typ, op.raw = "nul0", nil
		default:
			op.typ = "str"
		}
	}
	switch op.typ {
	case "pay", "payl", "nul", "nul0":
	case "str":
		if strings.Contains(str, "{{") {
			t, err := mustache.Parse(str)
			if err != nil {
				return op, node.BadProp(name, op.raw, "mustache: %v", err)
			}
			op.tmpl = t
		}
		op.raw = str
	case "num":
		op.num = msg.StringToNumber(str)
	default:
		in, err := typed.Prepare(op.typ, op.raw)
		if err != nil {
			return op, node.BadProp(name, op.raw, "%v", err)
		}
		op.in = in
	}
	return op, nil
}

// value evaluates the operand for m.
func (op *triggerOp) value(c node.Ctx, m *msg.Msg) (any, error) {
	switch op.typ {
	case "nul0":
		// The legacy value type "null" is a null payload, not nothing.
		return nil, nil
	case "str":
		if op.tmpl != nil {
			return op.tmpl.Render(m.Object, nil)
		}
		return op.raw, nil
	case "num":
		return op.num, nil
	}
	if op.in == nil {
		// A type the node has no use for here: Node-RED's
		// evaluateNodeProperty hands back the value as written.
		return op.raw, nil
	}
	return op.in.Eval(c, m)
}

func (n *triggerNode) Start(c node.Ctx) error {
	n.mu.Lock()
	n.c = c
	n.mu.Unlock()
	return nil
}

func (n *triggerNode) Input(c node.Ctx, m *msg.Msg) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.c = c
	if n.closed {
		return nil
	}
	tv, err := readProp(m.Object, n.topicPath)
	if err != nil {
		return err
	}
	topic := "_none"
	if !n.all && msg.Truthy(tv) {
		topic = jsKey(tv)
	}
	delay := n.duration
	if n.override {
		if d, ok := m.Get("delay"); ok {
			if f := jsParseFloat(d); !math.IsNaN(f) {
				delay = f
			}
		}
	}
	t := n.topics[topic]
	if t == nil {
		t = &triggerTopic{}
		n.topics[topic] = t
	}
	if n.isReset(m) {
		t.tout.Stop()
		delete(n.topics, topic)
		c.Status(n.stat())
		return nil
	}
	if n.op2.typ == "payl" {
		held := m.Clone()
		held.Track = nil
		n.npay[topic] = held
	}
	switch {
	case (t.tout == nil && !t.zero) || n.loop:
		return n.trigger(c, m, topic, t, delay)
	case n.extend && delay > 0:
		if n.op2.typ == "payl" {
			t.m2 = msg.Clone(m.Value("payload"))
		}
		t.tout.Stop()
		t.zero = false
		latest := m.Clone()
		latest.Track = nil
		t.tout = n.clock.After(jsDelay(delay, c.Log()), func() { n.fireExtended(topic, t, latest) })
	}
	return nil
}

func (n *triggerNode) isReset(m *msg.Msg) bool {
	if m.Has("reset") {
		return true
	}
	if n.reset == nil {
		return false
	}
	p, ok := m.Get("payload")
	if !ok || p == nil || msg.IsUndefined(p) {
		return false
	}
	return looseEqual(jsString(p), n.reset)
}

// trigger starts a wait: the second value is fixed, the first sent.
func (n *triggerNode) trigger(c node.Ctx, m *msg.Msg, topic string, t *triggerTopic, delay float64) error {
	switch n.op2.typ {
	case "pay":
		t.m2 = msg.Clone(m.Value("payload"))
	case "nul", "payl":
	default:
		v, err := n.op2.value(c, m)
		if err != nil {
			return err
		}
		t.m2 = v
	}
	switch n.op1.typ {
	case "pay", "nul":
	default:
		v, err := n.op1.value(c, m)
		if err != nil {
			return err
		}
		m.Set("payload", v)
	}
	// The message as it leaves now is what the second message copies.
	var held *msg.Msg
	if n.op1.typ != "nul" {
		held = m.Clone()
		held.Track = nil
	}
	switch {
	case delay == 0:
		t.zero = true
	case n.loop:
		t.tout.Stop()
		t.tout = nil
		if held != nil {
			t.tout = n.clock.Every(jsDelay(delay, c.Log()), func() {
				if n.op1.typ == "date" {
					held.Set("payload", float64(time.Now().UnixMilli()))
				}
				out := held.Clone()
				out.Track = nil
				n.c.Send(out)
			})
		}
	case t.tout == nil:
		orig := held
		if orig == nil {
			orig = m.Clone()
			orig.Track = nil
		}
		t.tout = n.clock.After(jsDelay(delay, c.Log()), func() { n.fire(topic, t, orig) })
	}
	c.Status(n.stat())
	if held != nil {
		c.Send(m)
	}
	return nil
}

// fire ends a wait: the second value goes out on a copy of the message that
// started it (or the latest message, for payl).
func (n *triggerNode) fire(topic string, t *triggerTopic, orig *msg.Msg) {
	if n.op2.typ == "nul" {
		n.forget(topic, t)
		return
	}
	if n.op2.typ == "flow" || n.op2.typ == "global" || n.op2.typ == "date" {
		v, err := n.op2.value(n.c, orig)
		if err != nil {
			// Node-RED reports it without a message and keeps the topic
			// blocked.
			n.c.Error(err, nil)
			return
		}
		t.m2 = v
	}
	var out *msg.Msg
	if n.op2.typ == "payl" {
		out = n.npay[topic]
		delete(n.npay, topic)
	} else {
		out = orig
		out.Set("payload", t.m2)
	}
	n.forget(topic, t)
	n.sendSecond(out)
}

func (n *triggerNode) fireExtended(topic string, t *triggerTopic, latest *msg.Msg) {
	if n.op2.typ == "flow" || n.op2.typ == "global" {
		v, err := n.op2.value(n.c, latest)
		if err != nil {
			n.c.Error(err, nil)
			return
		}
		t.m2 = v
	}
	var out *msg.Msg
	if n.op2.typ != "nul" && n.topics[topic] == t {
		out = latest
		out.Set("payload", t.m2)
	}
	n.forget(topic, t)
	n.sendSecond(out)
}

func (n *triggerNode) forget(topic string, t *triggerTopic) {
	if n.topics[topic] == t {
		delete(n.topics, topic)
	}
	n.c.Status(n.stat())
}

func (n *triggerNode) sendSecond(m *msg.Msg) {
	if m == nil {
		return
	}
	if n.second {
		n.c.SendTo(1, m)
	} else {
		n.c.Send(m)
	}
}

// stat is the status: a dot while waiting, with the number of topics when
// more than one waits.
func (n *triggerNode) stat() node.Status {
	switch len(n.topics) {
	case 0:
		return node.Status{}
	case 1:
		return node.Status{Fill: "blue", Shape: "dot"}
	}
	return node.Status{Fill: "blue", Shape: "dot", Text: strconv.Itoa(len(n.topics))}
}

func (n *triggerNode) Close(ctx context.Context, removed bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = true
	n.clock.Close()
	clear(n.topics)
	clear(n.npay)
	if n.c != nil {
		n.c.Status(n.stat())
	}
	return nil
}
