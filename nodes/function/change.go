// Package function holds Node-RED's function-category nodes that need no
// JavaScript engine: change, switch, range.
package function

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
	"github.com/sluicehq/sluice/runtime/typed"
)

func init() {
	node.Register(&node.Spec{
		Type:     "change",
		Category: "function",
		Color:    "#E2D96E",
		Icon:     "swap.svg",
		Inputs:   1,
		Outputs:  1,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "rules", Kind: node.KindArray, Label: "Rules",
				Default: []any{msg.ObjectOf("t", "set", "p", "payload", "pt", "msg", "to", "", "tot", "str")}},
			// Flows from Node-RED 0.x describe one rule with these.
			{Name: "action", Kind: node.KindString, Default: ""},
			{Name: "property", Kind: node.KindString, Default: ""},
			{Name: "from", Kind: node.KindString, Default: ""},
			{Name: "to", Kind: node.KindString, Default: ""},
			{Name: "reg", Kind: node.KindBool, Default: false},
		},
		Help: changeHelp,
		New:  newChange,
	})
}

const changeHelp = `Sets, changes, deletes or moves message properties, flow context or global context.

Rules run in order, each on the result of the previous one.
- **Set** a property to a value: a string, number, boolean, JSON, buffer, timestamp,
  JSONata expression, environment variable, or another msg/flow/global property
  (*Deep copy* copies an object instead of referencing it).
- **Change** searches a property and replaces: text (every occurrence), a regular expression
  (with ` + "`$1`" + `-style groups), or a whole number or boolean that matches exactly.
- **Delete** removes a property.
- **Move** sets a property from another one and deletes the source.

Context properties may name a store: ` + "`#:(file)::counter`" + `.
A JSONata error goes to catch nodes and stops the message.`

// changeRule is one migrated, validated rule.
type changeRule struct {
	t string // set, change, delete, move

	pt      string // msg, flow, global
	p       string
	path    []msg.PathPart
	ctx     ctxRef
	toPath  []msg.PathPart // tot msg
	toCtx   ctxRef         // tot flow/global
	tot     string
	to      any          // the constant value (str, num, bool, env, json, bin)
	toExpr  *typed.Input // date, jsonata
	dc      bool
	fromt   string
	from    any
	fromRE  *jsRegexp // fromt re
	fromLit string    // fromt str, num, bool: the text searched for
	fromRef any       // fromt msg/flow/global: []msg.PathPart or ctxRef

	// steps are what runs: the rule itself, or for a move the set and
	// delete steps Node-RED runs.
	steps []*changeRule
}

type changeNode struct {
	rules []*changeRule
}

func newChange(cfg *node.Config) (node.Node, error) {
	raw, ok := cfg.Raw.Get("rules")
	var rules []any
	if !ok || raw == nil || msg.IsUndefined(raw) {
		// Without an action the legacy rule does nothing at all.
		if cfg.Str("action") != "" {
			rules = []any{legacyRule(cfg)}
		}
	} else if rules, ok = raw.([]any); !ok {
		return nil, node.BadProp("rules", raw, "must be an array of rules")
	}
	n := &changeNode{}
	for i, r := range rules {
		o, ok := r.(*msg.Object)
		if !ok {
			return nil, node.BadProp(fmt.Sprintf("rules[%d]", i), r, "must be an object")
		}
		rule, err := newChangeRule(cfg, o, fmt.Sprintf("rules[%d]", i))
		if err != nil {
			return nil, err
		}
		n.rules = append(n.rules, rule)
	}
	return n, nil
}

// legacyRule builds the single rule of a 0.x change node.
func legacyRule(cfg *node.Config) *msg.Object {
	action := cfg.Str("action")
	if action == "replace" {
		action = "set"
	}
	r := msg.ObjectOf("t", action, "p", cfg.Str("property"))
	switch action {
	case "set", "move":
		r.Set("to", cfg.Str("to"))
	case "change":
		r.Set("from", cfg.Str("from"))
		r.Set("to", cfg.Str("to"))
		reg, has := cfg.Raw.Get("reg")
		r.Set("re", (has && reg == nil) || msg.Truthy(reg))
	}
	return r
}

func str(o *msg.Object, k string) string {
	v, ok := o.Get(k)
	if !ok || v == nil || msg.IsUndefined(v) {
		return ""
	}
	return msg.ToString(v)
}

func newChangeRule(cfg *node.Config, o *msg.Object, name string) (*changeRule, error) {
	r := &changeRule{
		t:     str(o, "t"),
		p:     str(o, "p"),
		pt:    str(o, "pt"),
		tot:   str(o, "tot"),
		fromt: str(o, "fromt"),
		dc:    msg.Truthy(o.Value("dc")),
	}
	to, ok := o.Get("to")
	if !ok {
		to = msg.Undefined{}
	}
	r.to = to
	r.from, _ = o.Get("from")
	if r.pt == "" {
		r.pt = "msg"
	}
	if r.t == "change" && msg.Truthy(o.Value("re")) {
		r.fromt = "re"
	}
	if r.t == "set" && r.tot == "" {
		if s, ok := to.(string); ok && strings.HasPrefix(s, "msg.") {
			r.to, r.tot = s[4:], "msg"
		}
	}
	if r.tot == "" {
		r.tot = "str"
	}
	if r.fromt == "" {
		r.fromt = "str"
	}
	switch r.t {
	case "set", "change", "delete", "move":
	default:
		return nil, node.BadProp(name+".t", r.t, `unknown rule type: want "set", "change", "delete" or "move"`)
	}
	if err := r.target(name); err != nil {
		return nil, err
	}
	if r.t == "move" {
		if r.tot != "msg" && r.tot != "flow" && r.tot != "global" {
			// Node-RED would stall on such a move and drop every message.
			return nil, node.BadProp(name+".tot", r.tot, `a move needs a target of type "msg", "flow" or "global"`)
		}
		return r, r.moveSteps(cfg, name)
	}
	if r.t == "change" {
		if err := r.prepareFrom(name); err != nil {
			return nil, err
		}
	}
	if r.t == "set" || r.t == "change" {
		if err := r.prepareTo(cfg, name); err != nil {
			return nil, err
		}
	}
	r.steps = []*changeRule{r}
	return r, nil
}

// target parses the property the rule acts on.
func (r *changeRule) target(name string) error {
	switch r.pt {
	case "msg":
		p, err := msgPath(r.p)
		if err != nil {
			return node.BadProp(name+".p", r.p, "%v", err)
		}
		r.path = p
	case "flow", "global":
		if r.p == "" {
			return node.BadProp(name+".p", r.p, "empty context key")
		}
		r.ctx = parseCtxRef(r.pt, r.p)
	default:
		return node.BadProp(name+".pt", r.pt, `must be "msg", "flow" or "global"`)
	}
	return nil
}

func (r *changeRule) prepareFrom(name string) error {
	from := ""
	if r.from != nil && !msg.IsUndefined(r.from) {
		from = msg.ToString(r.from)
	}
	switch r.fromt {
	case "msg":
		p, err := msgPath(from)
		if err != nil {
			return node.BadProp(name+".from", from, "%v", err)
		}
		r.fromRef = p
	case "flow", "global":
		r.fromRef = parseCtxRef(r.fromt, from)
	case "re":
		re, err := compileJS(from, false)
		if err != nil {
			return node.BadProp(name+".from", from, "Invalid 'from' property: %v", err)
		}
		r.fromRE = re
	default:
		r.fromLit = from
	}
	return nil
}

func (r *changeRule) prepareTo(cfg *node.Config, name string) error {
	text := ""
	if r.to != nil && !msg.IsUndefined(r.to) {
		text = msg.ToString(r.to)
	}
	switch r.tot {
	case "msg":
		p, err := msgPath(text)
		if err != nil {
			return node.BadProp(name+".to", text, "%v", err)
		}
		r.toPath = p
	case "flow", "global":
		r.toCtx = parseCtxRef(r.tot, text)
	case "num":
		f := msg.ToNumber(r.to)
		if math.IsNaN(f) {
			return node.BadProp(name+".to", r.to, "not a number")
		}
		r.to = f
	case "bool":
		r.to = strings.EqualFold(text, "true")
	case "json", "bin":
		v, err := msg.UnmarshalString(text)
		if err != nil {
			return node.BadProp(name+".to", text, "Invalid 'to' JSON property: %v", err)
		}
		if r.tot == "bin" {
			b, ok := bufferFrom(v)
			if !ok {
				return node.BadProp(name+".to", text, "a buffer is a JSON array of bytes or a string")
			}
			r.to = b
		} else {
			r.to = v
		}
	case "env":
		r.to = envProp(cfg, text)
	case "jsonata", "date":
		in, err := typed.Prepare(r.tot, text)
		if err != nil {
			if r.tot == "jsonata" {
				return node.BadProp(name+".to", text, "%v", exprError(err))
			}
			return node.BadProp(name+".to", text, "%v", err)
		}
		r.toExpr = in
	}
	return nil
}

// moveSteps lays a move out as Node-RED runs it: set the destination from
// the source and delete the source, through a temporary property when the
// destination is inside the source (or is the source).
func (r *changeRule) moveSteps(cfg *node.Config, name string) error {
	to := ""
	if r.to != nil && !msg.IsUndefined(r.to) {
		to = msg.ToString(r.to)
	}
	step := func(kv ...any) error {
		s, err := newChangeRule(cfg, msg.ObjectOf(kv...), name)
		if err != nil {
			return err
		}
		r.steps = append(r.steps, s)
		return nil
	}
	var err error
	if r.tot != r.pt || (strings.Contains(r.p, to) && r.p != to) {
		err = errors.Join(
			step("t", "set", "p", to, "pt", r.tot, "to", r.p, "tot", r.pt),
			step("t", "delete", "p", r.p, "pt", r.pt))
	} else {
		err = errors.Join(
			step("t", "set", "p", "_temp_move", "pt", r.tot, "to", r.p, "tot", r.pt),
			step("t", "delete", "p", r.p, "pt", r.pt),
			step("t", "set", "p", to, "pt", r.tot, "to", "_temp_move", "tot", r.pt),
			step("t", "delete", "p", "_temp_move", "pt", r.pt))
	}
	return err
}

func (n *changeNode) Input(c node.Ctx, m *msg.Msg) error {
	for _, r := range n.rules {
		for _, s := range r.steps {
			keep, err := s.apply(c, m)
			if err != nil {
				return err
			}
			if !keep {
				return nil
			}
		}
	}
	c.Send(m)
	return nil
}

// apply runs one rule. keep is false when Node-RED stops the message; err
// goes to catch nodes.
func (r *changeRule) apply(c node.Ctx, m *msg.Msg) (keep bool, err error) {
	value, err := r.value(c, m)
	if err == errSkip {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if r.dc {
		value = msg.Clone(value)
	}
	from := fromValue{typ: r.fromt, raw: r.from, lit: r.fromLit, re: r.fromRE}
	if r.t == "change" && r.fromRef != nil {
		if from, err = r.dynamicFrom(c, m); err == errSkip {
			return true, nil
		} else if err != nil {
			return false, err
		}
	}
	if r.pt == "msg" {
		r.applyMsg(c, m, value, from)
		return true, nil
	}
	return r.applyCtx(c, m, value, from)
}

// value is the rule's "to" value for this message.
func (r *changeRule) value(c node.Ctx, m *msg.Msg) (any, error) {
	if r.t != "set" && r.t != "change" {
		return msg.Undefined{}, nil
	}
	switch r.tot {
	case "msg":
		v, err := readProp(m.Object, r.toPath)
		if err != nil {
			return nil, errSkip
		}
		return v, nil
	case "flow", "global":
		v, err := r.toCtx.get(c, m)
		if err != nil {
			if isKeyErr(err) {
				return nil, errSkip
			}
			// Node-RED treats a failed context read as undefined.
			return msg.Undefined{}, nil
		}
		return v, nil
	case "json", "bin":
		// Node-RED parses the JSON afresh for every message.
		return msg.Clone(r.to), nil
	case "jsonata", "date":
		v, err := r.toExpr.Eval(c, m)
		if err != nil {
			if r.tot == "jsonata" {
				return nil, exprError(err)
			}
			return nil, err
		}
		return v, nil
	}
	return r.to, nil
}

// fromValue is what a change rule searches for.
type fromValue struct {
	typ string // str, num, bool, re, or "" when the type is unsupported
	raw any
	lit string
	re  *jsRegexp
	// noRE: a number or boolean read from msg/context has no search pattern
	// (JavaScript then searches for the text "undefined").
	noRE bool
}

// dynamicFrom reads a "from" held in msg or context and classifies it as
// Node-RED does.
func (r *changeRule) dynamicFrom(c node.Ctx, m *msg.Msg) (fromValue, error) {
	var v any
	switch ref := r.fromRef.(type) {
	case []msg.PathPart:
		got, err := readProp(m.Object, ref)
		if err != nil {
			return fromValue{}, errSkip
		}
		v = got
	case ctxRef:
		got, err := ref.get(c, m)
		if err != nil {
			if isKeyErr(err) {
				return fromValue{}, errSkip
			}
			return fromValue{}, err
		}
		v = got
	}
	switch t := v.(type) {
	case float64, int, int64:
		return fromValue{typ: "num", raw: t, noRE: true}, nil
	case bool:
		return fromValue{typ: "bool", raw: t, noRE: true}, nil
	case string:
		return fromValue{typ: "str", raw: t, lit: t}, nil
	}
	// Node-RED reports the error and still applies the rule with no
	// pattern: its callback runs twice.
	c.Error(fmt.Errorf("Error: Invalid 'from' property: unsupported type: %s", msg.TypeOf(v)), m)
	return fromValue{typ: "", raw: v, noRE: true}, nil
}

func (r *changeRule) applyMsg(c node.Ctx, m *msg.Msg, value any, from fromValue) {
	switch r.t {
	case "delete":
		_, _ = setProp(m.Object, r.path, msg.Undefined{})
	case "set":
		ok, err := setProp(m.Object, r.path, value)
		if err == nil && !ok {
			c.Warn("Cannot set property of non-object type: " + r.p)
		}
	case "change":
		current, err := readProp(m.Object, r.path)
		if err != nil {
			return
		}
		if next, ok := r.changed(current, value, from, true); ok {
			_, _ = setProp(m.Object, r.path, next)
		}
	}
}

func (r *changeRule) applyCtx(c node.Ctx, m *msg.Msg, value any, from fromValue) (bool, error) {
	var err error
	switch r.t {
	case "delete":
		err = r.ctx.set(c, m, msg.Undefined{})
	case "set":
		err = r.ctx.set(c, m, value)
	case "change":
		var current any
		current, err = r.ctx.get(c, m)
		if err != nil {
			break
		}
		next, ok := r.changed(current, value, from, false)
		if !ok {
			if _, isStr := current.(string); !isStr {
				// Node-RED never calls back when nothing matched a
				// non-string value: the message stops here.
				return false, nil
			}
			return true, nil
		}
		err = r.ctx.set(c, m, next)
	}
	if err != nil {
		if isKeyErr(err) {
			return true, nil
		}
		return false, err
	}
	return true, nil
}

// isKeyErr: a bad nested reference in a context key is a JavaScript throw
// that the change node swallows.
func isKeyErr(err error) bool {
	return strings.HasPrefix(err.Error(), "Invalid expression started at position")
}

// changed applies a change rule to current; ok is false when nothing is to
// be written.
func (r *changeRule) changed(current, value any, from fromValue, onMsg bool) (any, bool) {
	switch cur := current.(type) {
	case string:
		if (from.typ == "num" || from.typ == "bool" || from.typ == "str") && isString(from.raw, cur) {
			return value, true
		}
		repl := jsString(value)
		var out string
		switch {
		case from.noRE || from.typ == "":
			// String.prototype.replace(undefined, v) replaces the first
			// "undefined" in the text.
			out = replaceFirst(cur, "undefined", repl)
		case from.re != nil:
			s, err := from.re.ReplaceAll(cur, repl)
			if err != nil {
				return nil, false
			}
			out = s
		default:
			out = replaceLiteral(cur, from.lit, repl)
		}
		if onMsg && r.tot == "bool" && out == repl {
			return value, true
		}
		return out, true
	case float64, int, int64:
		if from.typ == "num" && looseEqual(cur, msg.ToNumber(from.raw)) {
			return value, true
		}
	case bool:
		if from.typ == "bool" && isString(from.raw, msg.ToString(cur)) {
			return value, true
		}
	}
	return nil, false
}

// isString is JavaScript's v === s.
func isString(v any, s string) bool {
	t, ok := v.(string)
	return ok && t == s
}

func replaceFirst(s, old, repl string) string {
	i := strings.Index(s, old)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.WriteString(s[:i])
	writeLiteralRepl(&b, repl, strings.Contains(repl, "$"), s, i, i+len(old), old)
	b.WriteString(s[i+len(old):])
	return b.String()
}
