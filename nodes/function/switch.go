package function

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "switch", NoComplete: true,
		Category:  "function",
		Color:     "#E2D96E",
		Icon:      "switch.svg",
		Inputs:    1,
		Outputs:   1,
		OutputsOf: switchOutputs,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "property", Kind: node.KindString, Default: "payload", Required: true, Label: "Property",
				TypeProp: "propertyType", Types: []string{"msg", "flow", "global", "jsonata", "env"}},
			{Name: "propertyType", Kind: node.KindString, Default: "msg"},
			{Name: "rules", Kind: node.KindArray, Label: "Rules",
				Default: []any{msg.ObjectOf("t", "eq", "v", "", "vt", "str")}},
			{Name: "checkall", Kind: node.KindString, Default: "true", Required: true, Options: []string{"true", "false"}},
			{Name: "repair", Kind: node.KindBool, Default: false, Label: "recreate message sequences"},
			{Name: "outputs", Kind: node.KindNumber, Default: 1},
		},
		Help: switchHelp,
		New:  newSwitch,
	})
}

const switchHelp = `Routes each message to the outputs whose rule matches a property of it.

The property is a msg, flow or global property, an environment variable or a JSONata
expression. Each rule has its own output:
- value rules: ==, !=, <, <=, >, >=, is between, contains, matches regex, is true/false,
  is null/not null, is of type, is empty/not empty, has key (JavaScript comparisons:
  "5" == 5 holds);
- sequence rules on ` + "`msg.parts`" + `: head, tail, index between;
- a JSONata expression that must give true (` + "`$I`" + ` and ` + "`$N`" + ` are the
  part index and count);
- *otherwise*, when no earlier rule matched.

Values compare against a string, number, msg/flow/global property, JSONata result,
environment variable or the previous value of the property.

*checking all rules* sends to every matching output; *stopping after first match* to the
first only. *recreate message sequences* re-numbers ` + "`msg.parts`" + ` per output (the
whole sequence is held until its last part arrives).`

// switchOutputs is the outputs property when present, else one per rule.
func switchOutputs(cfg *node.Config) int {
	if cfg.Has("outputs") {
		if n, err := cfg.Num("outputs", 0); err == nil && n >= 0 && n == math.Trunc(n) {
			return int(n)
		}
	}
	if rules, ok := cfg.Get("rules").([]any); ok {
		return len(rules)
	}
	return 1
}

type switchRule struct {
	t      string
	v, v2  *operand
	icase  bool
	re     *jsRegexp // regex against a constant pattern
	hasV2  bool
	bindIN bool // jsonata_exp: $I and $N were set once and stay set
	lastI  any
	lastN  any
}

type switchNode struct {
	prop     *operand
	propType string
	rules    []*switchRule
	checkAll bool
	repair   bool
	seq      bool // sequences are held until complete (repair, or a tail rule)
	maxKept  int
	maxRead  bool

	mu   sync.Mutex
	prev any

	pendingCount int
	pendingID    int
	pendingIn    map[string]*seqGroup
	pendingOut   map[string][][]*msg.Msg
	received     map[string]int
}

type seqGroup struct {
	count any
	msgs  []*msg.Msg
}

var switchOps = map[string]bool{
	"eq": true, "neq": true, "lt": true, "lte": true, "gt": true, "gte": true, "btwn": true,
	"cont": true, "regex": true, "true": true, "false": true, "null": true, "nnull": true,
	"empty": true, "nempty": true, "istype": true, "head": true, "tail": true, "index": true,
	"hask": true, "jsonata_exp": true, "else": true,
}

// usesV lists the operators that read the rule's value.
var usesV = map[string]bool{
	"eq": true, "neq": true, "lt": true, "lte": true, "gt": true, "gte": true, "btwn": true,
	"cont": true, "regex": true, "istype": true, "head": true, "tail": true, "index": true,
	"hask": true, "jsonata_exp": true,
}

func newSwitch(cfg *node.Config) (node.Node, error) {
	n := &switchNode{
		propType: cfg.StrOr("propertyType", "msg"),
		// Only the text "false" stops at the first match.
		checkAll: cfg.Str("checkall") != "false",
		repair:   msg.Truthy(cfg.Get("repair")),
		prev:     nil,
	}
	if b, ok := cfg.Get("checkall").(bool); ok && !b {
		n.checkAll = true
	}
	switch n.propType {
	case "msg", "flow", "global", "jsonata", "env":
	default:
		return nil, node.BadProp("propertyType", n.propType, `must be "msg", "flow", "global", "jsonata" or "env"`)
	}
	propVal, ok := cfg.Raw.Get("property")
	if !ok {
		propVal = "payload"
	}
	prop, err := newOperand(cfg, n.propType, propVal, "property", false)
	if err != nil {
		return nil, err
	}
	n.prop = prop
	n.seq = n.repair
	var rules []any
	if raw := cfg.Get("rules"); raw != nil {
		var ok bool
		if rules, ok = raw.([]any); !ok {
			return nil, node.BadProp("rules", raw, "must be an array of rules")
		}
	}
	for i, r := range rules {
		o, ok := r.(*msg.Object)
		name := fmt.Sprintf("rules[%d]", i)
		if !ok {
			return nil, node.BadProp(name, r, "must be an object")
		}
		rule, err := newSwitchRule(cfg, o, name)
		if err != nil {
			return nil, err
		}
		if rule.t == "tail" {
			n.seq = true
		}
		n.rules = append(n.rules, rule)
	}
	return n, nil
}

// defaultType is the type Node-RED gives an untyped rule value: num when
// Number(v) is a number, else str.
func defaultType(v any) string {
	if math.IsNaN(msg.ToNumber(rawOrUndefined(v))) {
		return "str"
	}
	return "num"
}

func newSwitchRule(cfg *node.Config, o *msg.Object, name string) (*switchRule, error) {
	r := &switchRule{t: str(o, "t"), icase: msg.Truthy(o.Value("case"))}
	if !switchOps[r.t] {
		return nil, node.BadProp(name+".t", r.t, "unknown operator")
	}
	v, _ := o.Get("v")
	vt := str(o, "vt")
	if vt == "" {
		vt = defaultType(v)
	}
	var err error
	switch vt {
	case "json", "null":
		// Node-RED hands these rule values over as the type's name.
		r.v = &operand{typ: "str", val: vt}
	default:
		if r.v, err = newOperand(cfg, vt, v, name+".v", usesV[r.t]); err != nil {
			return nil, err
		}
	}
	if v2, ok := o.Get("v2"); ok && !msg.IsUndefined(v2) {
		r.hasV2 = true
		v2t := str(o, "v2t")
		if v2t == "" {
			v2t = defaultType(v2)
		}
		if r.v2, err = newOperand(cfg, v2t, v2, name+".v2", r.t == "btwn" || r.t == "index"); err != nil {
			return nil, err
		}
	}
	if r.t == "regex" && vt == "str" {
		if r.re, err = compileJS(r.v.val.(string), r.icase); err != nil {
			return nil, node.BadProp(name+".v", v, "%v", err)
		}
	}
	return r, nil
}

func (n *switchNode) Input(c node.Ctx, m *msg.Msg) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	hasParts, err := partsOf(m)
	if err != nil {
		return err
	}
	if n.seq && hasParts {
		return n.hold(c, m)
	}
	return n.process(c, m, hasParts)
}

// partsOf reports whether msg.parts has an id and an index, the mark of a
// message in a sequence.
func partsOf(m *msg.Msg) (bool, error) {
	p, ok := m.Get("parts")
	if !ok {
		return false, nil
	}
	switch t := p.(type) {
	case nil:
		return false, &TypeError{Msg: "Cannot read properties of null (reading 'hasOwnProperty')"}
	case *msg.Object:
		return t.Has("id") && t.Has("index"), nil
	}
	return false, nil
}

// process routes one message; errors from the rules go to catch nodes and
// the message goes nowhere.
func (n *switchNode) process(c node.Ctx, m *msg.Msg, hasParts bool) error {
	value, err := n.prop.eval(c, m, n.prev, nil)
	if err != nil {
		// A failing JSONata property is only a warning in Node-RED.
		c.Warn(err.Error())
		return nil
	}
	onward, err := n.applyRules(c, m, value, hasParts)
	if err != nil {
		return err
	}
	if !n.repair || !hasParts {
		if ports := portsOf(onward); ports != nil {
			c.SendPorts(ports)
		}
		return nil
	}
	n.collect(c, m, onward)
	return nil
}

func portsOf(onward []*msg.Msg) [][]*msg.Msg {
	var ports [][]*msg.Msg
	for i, m := range onward {
		if m == nil {
			continue
		}
		if ports == nil {
			ports = make([][]*msg.Msg, len(onward))
		}
		ports[i] = []*msg.Msg{m}
	}
	return ports
}

// applyRules evaluates the rules in order; the result has one entry per
// rule evaluated, m where it matched.
func (n *switchNode) applyRules(c node.Ctx, m *msg.Msg, value any, hasParts bool) ([]*msg.Msg, error) {
	if len(n.rules) == 0 {
		return nil, nil
	}
	onward := make([]*msg.Msg, 0, len(n.rules))
	elseFlag := true
	for _, r := range n.rules {
		var bind map[string]any
		if r.t == "jsonata_exp" && r.v.typ == "jsonata" {
			if hasParts {
				parts := m.Value("parts").(*msg.Object)
				r.bindIN = true
				r.lastI = rawOrUndefined(valueOr(parts, "index"))
				r.lastN = rawOrUndefined(valueOr(parts, "count"))
			}
			if r.bindIN {
				bind = map[string]any{"I": r.lastI, "N": r.lastN}
			}
		}
		v1, err := r.v.eval(c, m, n.prev, bind)
		if err != nil {
			return nil, err
		}
		var v2 any = msg.Undefined{}
		if r.v2 != nil {
			if v2, err = r.v2.eval(c, m, n.prev, nil); err != nil {
				return nil, err
			}
		}
		a := value
		if r.t == "else" {
			a = elseFlag
			elseFlag = true
		}
		ok, err := r.match(m, a, v1, v2)
		if err != nil {
			return nil, err
		}
		if ok {
			onward = append(onward, m)
			elseFlag = false
			if !n.checkAll {
				break
			}
		} else {
			onward = append(onward, nil)
		}
	}
	n.prev = value
	return onward, nil
}

func valueOr(o *msg.Object, k string) any {
	v, ok := o.Get(k)
	if !ok {
		return msg.Undefined{}
	}
	return v
}

// match is the rule's operator applied as Node-RED's JavaScript does.
func (r *switchRule) match(m *msg.Msg, a, b, c any) (bool, error) {
	switch r.t {
	case "eq":
		return looseEqual(a, b), nil
	case "neq":
		return !looseEqual(a, b), nil
	case "lt":
		return jsLT(a, b), nil
	case "lte":
		return jsLE(a, b), nil
	case "gt":
		return jsGT(a, b), nil
	case "gte":
		return jsGE(a, b), nil
	case "btwn":
		return (jsGE(a, b) && jsLE(a, c)) || (jsLE(a, b) && jsGE(a, c)), nil
	case "cont":
		return strings.Contains(jsString(a), jsString(b)), nil
	case "regex":
		re := r.re
		if re == nil {
			// new RegExp(undefined) is the empty pattern.
			pattern := ""
			if !msg.IsUndefined(b) {
				pattern = jsString(b)
			}
			var err error
			if re, err = cachedJS(pattern, r.icase); err != nil {
				return false, &SyntaxError{err}
			}
		}
		return re.MatchString(jsString(a))
	case "true":
		return a == true, nil
	case "false":
		return a == false, nil
	case "null":
		return isNullish(a), nil
	case "nnull":
		return !isNullish(a), nil
	case "empty":
		n, ok := length(a)
		return ok && n == 0, nil
	case "nempty":
		n, ok := length(a)
		return ok && n != 0, nil
	case "istype":
		return isType(a, b), nil
	case "head", "tail", "index":
		if r.t == "tail" {
			// JavaScript reads parts.count first, so its TypeError names it.
			cnt, err := partField(m, "count")
			if err != nil {
				return false, err
			}
			idx, _ := partField(m, "index")
			return jsLE(msg.ToNumber(cnt)-msg.ToNumber(b), idx), nil
		}
		idx, err := partField(m, "index")
		if err != nil {
			return false, err
		}
		if r.t == "head" {
			return jsLT(idx, msg.ToNumber(b)), nil
		}
		return jsLE(msg.ToNumber(b), idx) && jsLE(idx, msg.ToNumber(c)), nil
	case "hask":
		return hasKey(a, b), nil
	case "jsonata_exp":
		return b == true, nil
	case "else":
		return a == true, nil
	}
	return false, errors.New("unknown switch operator " + r.t)
}

// partField reads msg.parts.<k>; no msg.parts is JavaScript's TypeError.
func partField(m *msg.Msg, k string) (any, error) {
	p, ok := m.Get("parts")
	switch t := p.(type) {
	case *msg.Object:
		return valueOr(t, k), nil
	case nil:
		what := "null"
		if !ok {
			what = "undefined"
		}
		return nil, &TypeError{Msg: fmt.Sprintf("Cannot read properties of %s (reading '%s')", what, k)}
	case msg.Undefined:
		return nil, &TypeError{Msg: fmt.Sprintf("Cannot read properties of undefined (reading '%s')", k)}
	}
	return msg.Undefined{}, nil
}

// length is the length of a string, array or Buffer, or the number of keys
// of an object; ok is false for other values.
func length(v any) (int, bool) {
	switch t := v.(type) {
	case string:
		return len(t), true
	case []any:
		return len(t), true
	case []byte:
		return len(t), true
	case *msg.Object:
		return t.Len(), true
	}
	return 0, false
}

func isType(a, b any) bool {
	switch b {
	case "array":
		_, ok := a.([]any)
		return ok
	case "buffer":
		_, ok := a.([]byte)
		return ok
	case "json":
		var text string
		switch t := a.(type) {
		case msg.Undefined:
			return false
		default:
			text = jsString(t)
		}
		_, err := msg.UnmarshalString(text)
		return err == nil
	case "null":
		return a == nil
	case "number":
		f, ok := msg.Num(a)
		return ok && !math.IsNaN(f)
	}
	switch a.(type) {
	case []any, []byte, nil:
		return false
	}
	return msg.TypeOf(a) == b
}

// hasKey is a.hasOwnProperty(String(b)).
func hasKey(a, b any) bool {
	if isNullish(a) {
		return false
	}
	if isObjectLike(b) || b == nil {
		return false
	}
	k := jsString(b)
	switch t := a.(type) {
	case *msg.Object:
		return t.Has(k)
	case []any:
		if k == "length" {
			return true
		}
		i, ok := canonicalIndex(k)
		return ok && i < len(t) && !msg.IsUndefined(t[i])
	case []byte:
		i, ok := canonicalIndex(k)
		return ok && i < len(t)
	case string:
		if k == "length" {
			return true
		}
		i, ok := canonicalIndex(k)
		return ok && i < utf16Len(t)
	}
	return false
}

func canonicalIndex(k string) (int, bool) {
	if !msg.IsArrayIndex(k) {
		return 0, false
	}
	i, err := strconv.Atoi(k)
	return i, err == nil
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}
