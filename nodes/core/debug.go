package core

import (
	"context"
	"sync"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
	"github.com/sluicehq/sluice/runtime/typed"
)

func init() {
	node.Register(&node.Spec{
		Type: "debug", Category: "common", Color: "#87a980", Icon: "debug.svg", NameAlways: true,
		Inputs: 1, Outputs: 0,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString},
			{Name: "active", Kind: node.KindBool, Default: true},
			{Name: "tosidebar", Kind: node.KindBool, Default: true},
			{Name: "console", Kind: node.KindBool, Default: false},
			{Name: "tostatus", Kind: node.KindBool, Default: false},
			{Name: "complete", Kind: node.KindString, Default: "payload", Label: "output"},
			{Name: "targetType", Kind: node.KindString, Default: "msg", Options: []string{"msg", "full", "jsonata"}},
			{Name: "statusVal", Kind: node.KindString, Default: ""},
			{Name: "statusType", Kind: node.KindString, Default: "auto", Options: []string{"auto", "msg", "jsonata", "counter"}},
		},
		Help: "Shows a message property, the whole message or a JSONata expression's result in the debug sidebar, the log (`console`) and/or the node's status.",
		New:  newDebug,
	})
}

// statusLength is how much of a value the status line shows (Node-RED's
// debugStatusLength default).
const statusLength = 32

type debugNode struct {
	complete   string // property path, "true" for the whole message
	expr       *typed.Input
	console    bool
	toSidebar  bool
	active     bool
	toStatus   bool
	statusType string
	statusVal  string
	statusExpr *typed.Input

	mu       sync.Mutex
	oldState string
	counter  int
	last     time.Time
	timer    *time.Timer
}

func newDebug(cfg *node.Config) (node.Node, error) {
	n := &debugNode{
		console:    cfg.Bool("console", false),
		toSidebar:  cfg.Bool("tosidebar", true),
		active:     cfg.Bool("active", true),
		toStatus:   cfg.Bool("tostatus", false),
		statusType: cfg.StrOr("statusType", "auto"),
	}
	if cfg.Str("targetType") == "jsonata" {
		e, err := typed.Prepare("jsonata", cfg.Str("complete"))
		if err != nil {
			return nil, node.BadProp("complete", cfg.Get("complete"), "invalid JSONata expression: %v", err)
		}
		n.expr = e
	} else {
		n.complete = cfg.StrOr("complete", "payload")
		if n.complete == "false" {
			n.complete = "payload"
		}
		if n.complete != "true" {
			if _, err := msg.ParsePath(n.complete); err != nil {
				return nil, node.BadProp("complete", n.complete, "%v", err)
			}
		}
	}
	n.statusVal = cfg.StrOr("statusVal", n.complete)
	if n.statusType == "jsonata" {
		e, err := typed.Prepare("jsonata", cfg.Str("statusVal"))
		if err != nil {
			return nil, node.BadProp("statusVal", cfg.Get("statusVal"), "invalid JSONata expression: %v", err)
		}
		n.statusExpr = e
	}
	return n, nil
}

func (n *debugNode) Start(c node.Ctx) error {
	if n.toStatus {
		n.oldState = "{}"
	}
	n.last = time.Now()
	return nil
}

func (n *debugNode) Close(ctx context.Context, removed bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.timer != nil {
		n.timer.Stop()
	}
	return nil
}

func (n *debugNode) value(c node.Ctx, m *msg.Msg) (any, string, error) {
	if n.expr != nil {
		v, err := n.expr.Eval(c, m)
		return v, "", err
	}
	if n.complete == "true" {
		return m.Object, "", nil
	}
	v, ok, err := msg.Get(m.Object, n.complete)
	if err != nil || !ok {
		return msg.Undefined{}, n.complete, nil
	}
	return v, n.complete, nil
}

func (n *debugNode) Input(c node.Ctx, m *msg.Msg) error {
	if st, ok := m.Value("status").(*msg.Object); ok {
		if src, ok := st.Value("source").(*msg.Object); ok && src.Value("id") == c.Alias() {
			return nil // our own status coming back through a status node
		}
	}
	if n.toStatus {
		n.status(c, m)
	}
	v, prop, err := n.value(c, m)
	if err != nil {
		return err
	}
	if n.console {
		if s, ok := v.(string); ok {
			c.Log().Info(s)
		} else {
			c.Log().Info(msg.Inspect(v))
		}
	}
	if n.active && n.toSidebar {
		ev := msg.ObjectOf("id", c.ID(), "z", c.Z(), "_alias", c.Alias(), "path", c.Path(), "name", c.Name())
		if t, ok := m.Get("topic"); ok {
			ev.Set("topic", t)
		}
		if prop != "" {
			ev.Set("property", prop)
		}
		ev.Set("msg", msg.Clone(v))
		c.Services().Publish("debug", c.ID(), ev)
	}
	return nil
}

func (n *debugNode) status(c node.Ctx, m *msg.Msg) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.statusType == "counter" {
		// Counting is throttled as in Node-RED: a burst shows its total
		// 200 ms after the last message instead of every step.
		n.counter++
		since := time.Since(n.last)
		n.last = time.Now()
		if n.timer != nil {
			n.timer.Stop()
		}
		if since > 100*time.Millisecond {
			c.Status(node.Status{Fill: "blue", Shape: "ring", Text: msg.FormatNumber(float64(n.counter))})
			return
		}
		n.timer = time.AfterFunc(200*time.Millisecond, func() {
			n.mu.Lock()
			count := n.counter
			n.mu.Unlock()
			c.Status(node.Status{Fill: "blue", Shape: "ring", Text: msg.FormatNumber(float64(count))})
		})
		return
	}
	var out any
	switch {
	case n.statusType == "auto" && n.complete == "true":
		out = m.Payload()
	case n.statusType == "auto":
		out, _, _ = n.value(c, m)
	case n.statusExpr != nil:
		out, _ = n.statusExpr.Eval(c, m)
	default:
		v, ok, _ := msg.Get(m.Object, n.statusVal)
		if ok {
			out = v
		} else {
			out = msg.Undefined{}
		}
	}
	st := ""
	if s, ok := out.(string); ok {
		st = s
	} else {
		st = msg.Inspect(out)
	}
	fill, shape := "grey", "dot"
	if o, ok := out.(*msg.Object); ok && msg.Truthy(o.Value("fill")) && msg.Truthy(o.Value("shape")) && msg.Truthy(o.Value("text")) {
		fill, shape, st = msg.ToString(o.Value("fill")), msg.ToString(o.Value("shape")), msg.ToString(o.Value("text"))
	}
	if n.statusType == "auto" {
		if eo, ok := m.Get("error"); ok {
			fill = "red"
			if o, ok := eo.(*msg.Object); ok {
				st = msg.ToString(o.Value("message"))
			}
		}
		if so, ok := m.Value("status").(*msg.Object); ok {
			fill = strOr(so.Value("fill"), "grey")
			shape = strOr(so.Value("shape"), "ring")
			st = strOr(so.Value("text"), "")
		}
	}
	if r := []rune(st); len(r) > statusLength {
		st = string(r[:statusLength]) + "..."
	}
	key := fill + "\x00" + shape + "\x00" + st
	if key != n.oldState {
		n.oldState = key
		c.Status(node.Status{Fill: fill, Shape: shape, Text: st})
	}
}

func strOr(v any, def string) string {
	if !msg.Truthy(v) {
		return def
	}
	return msg.ToString(v)
}
