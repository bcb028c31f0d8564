package sequence

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
	"github.com/sluicehq/sluice/runtime/typed"
)

func init() {
	node.Register(&node.Spec{
		Type:     "join",
		Category: "sequence",
		Color:    seqColor,
		Icon:     "join.svg",
		Inputs:   1,
		Outputs:  1,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "mode", Kind: node.KindString, Default: "auto", Options: []string{"auto", "custom", "reduce"}, Label: "Mode"},
			{Name: "build", Kind: node.KindString, Default: "object", Options: []string{"string", "buffer", "array", "object", "merged"}, Label: "to create"},
			{Name: "property", Kind: node.KindString, Default: "payload", TypeProp: "propertyType", Types: []string{"msg", "full"}, Label: "Combine each"},
			{Name: "propertyType", Kind: node.KindString, Default: "msg"},
			{Name: "key", Kind: node.KindString, Default: "topic", Label: "using the value of", Types: []string{"msg"}},
			{Name: "joiner", Kind: node.KindString, Default: `\n`, TypeProp: "joinerType", Types: []string{"str", "bin"}, Label: "joined using"},
			{Name: "joinerType", Kind: node.KindString, Default: "str"},
			{Name: "useparts", Kind: node.KindBool, Default: false, Label: "Use existing msg.parts property"},
			{Name: "accumulate", Default: "false", Label: "and every subsequent message"},
			{Name: "timeout", Kind: node.KindNumber, Default: "", Label: "After a timeout following the first message (s)"},
			{Name: "count", Kind: node.KindNumber, Default: "", Label: "After a number of message parts"},
			{Name: "reduceRight", Kind: node.KindBool, Default: false, Label: "Evaluate in reverse order"},
			{Name: "reduceExp", Kind: node.KindString, Label: "Reduce exp"},
			{Name: "reduceInit", Label: "Initial value", TypeProp: "reduceInitType", Types: []string{"str", "num", "bool", "json", "bin", "date", "jsonata", "env", "flow", "global"}},
			{Name: "reduceInitType", Kind: node.KindString},
			{Name: "reduceFixup", Kind: node.KindString, Label: "Fix-up exp"},
		},
		Help: joinHelp,
		New:  newJoin,
	})
}

const joinHelp = `Joins a sequence of messages into one message.

- **automatic**: undoes a split node, using ` + "`msg.parts`" + ` to rebuild the string, buffer,
  array or object.
- **manual**: combines a property (or whole messages) into a string or buffer (joined with
  a separator), an array, a key/value object (the key read from another property) or a
  merged object. The message is sent after a number of parts, after a timeout following
  the first part, or when a message with ` + "`msg.complete`" + ` arrives; with *every subsequent
  message* the result keeps growing and is sent again for each new part.
  ` + "`msg.reset`" + ` drops the parts held; ` + "`msg.restartTimeout`" + ` restarts the timer.
- **reduce**: folds a sequence with a JSONata expression: ` + "`$A`" + ` is the accumulated value,
  ` + "`$I`" + ` the part index, ` + "`$N`" + ` the number of parts; an optional fix-up expression
  is applied to the result.`

const errTooManyJoin = "too many pending messages in join node"

type joinNode struct {
	mode       string
	prop       *prop
	full       bool
	keyProp    *prop
	keyName    string
	timer      time.Duration
	count      float64
	countEmpty bool
	joiner     any // string or []byte
	build      string
	accumulate bool
	useparts   bool

	reduceExp   *typed.Input
	fixupExp    *typed.Input
	initIn      *typed.Input
	reduceRight bool

	mu       sync.Mutex
	ctx      node.Ctx
	props    map[string]*prop // msg.parts.property values seen, parsed
	inflight map[string]*joinGroup
	pending  map[string]*reduceGroup
	nPending int
}

type joinGroup struct {
	id           string
	currentCount int
	arr          []any
	extra        map[string]bool // non-index keys an array payload was given
	obj          *msg.Object
	targetCount  any
	typ          string // object, array, string, buffer or "" (unknown)
	joinChar     any
	arrayLen     any
	bufferLen    int
	prop         string
	msg          *msg.Msg
	dones        []*msg.Msg
	timer        *time.Timer
	epoch        int // bumped when the timer is replaced, so a stale firing does nothing
}

type reduceGroup struct {
	count any
	msgs  []*msg.Msg
}

func newJoin(cfg *node.Config) (node.Node, error) {
	n := &joinNode{mode: cfg.StrOr("mode", "auto"), inflight: map[string]*joinGroup{}, pending: map[string]*reduceGroup{}}
	switch n.mode {
	case "auto", "custom", "reduce":
	default:
		return nil, node.BadProp("mode", n.mode, `must be "auto", "custom" or "reduce"`)
	}
	propName := cfg.StrOr("property", "payload")
	if cfg.Str("propertyType") == "full" {
		n.full = true
		propName = "payload"
	}
	p, err := newProp("property", propName)
	if err != nil {
		return nil, err
	}
	n.prop = p
	n.keyName = cfg.StrOr("key", "topic")
	n.build = cfg.StrOr("build", "array")
	if n.mode == "custom" && n.build == "object" {
		if n.keyProp, err = newProp("key", n.keyName); err != nil {
			return nil, err
		}
	}
	if n.mode != "auto" {
		t := msg.ToNumber(orZero(cfg.Get("timeout")))
		if t > 0 && !math.IsInf(t, 0) {
			n.timer = time.Duration(t * float64(time.Second))
		}
	}
	n.count = msg.ToNumber(orZero(cfg.Get("count")))
	n.countEmpty = cfg.Get("count") == ""
	n.accumulate = cfg.Get("accumulate") == true
	if v, ok := cfg.Raw.Get("useparts"); ok {
		n.useparts = msg.Truthy(v)
	} else {
		n.useparts = true
	}
	switch cfg.StrOr("joinerType", "str") {
	case "bin":
		raw := cfg.StrOr("joiner", "[]")
		v, err := msg.UnmarshalString(raw)
		arr, ok := v.([]any)
		if err != nil || !ok {
			return nil, node.BadProp("joiner", raw, "not an array of byte values")
		}
		b := make([]byte, len(arr))
		for i, e := range arr {
			b[i] = toByte(msg.ToNumber(e))
		}
		n.joiner = b
	case "str":
		n.joiner = unescape(cfg.Str("joiner"))
	default:
		n.joiner = cfg.Str("joiner")
	}
	if n.mode == "reduce" {
		if err := n.prepareReduce(cfg); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// orZero is JavaScript's `v || 0` ahead of Number(...).
func orZero(v any) any {
	if !msg.Truthy(v) {
		return 0.0
	}
	return v
}

func (n *joinNode) prepareReduce(cfg *node.Config) error {
	exp := cfg.Str("reduceExp")
	e, err := typed.Prepare(typed.JSONata, exp)
	if err != nil {
		return node.BadProp("reduceExp", exp, "Invalid JSONata expression: %v", err)
	}
	n.reduceExp = e
	if fx := cfg.Str("reduceFixup"); fx != "" {
		f, err := typed.Prepare(typed.JSONata, fx)
		if err != nil {
			return node.BadProp("reduceFixup", fx, "Invalid JSONata expression: %v", err)
		}
		n.fixupExp = f
	}
	if cfg.Has("reduceInit") {
		in, err := typed.Prepare(cfg.Str("reduceInitType"), cfg.Get("reduceInit"))
		if err != nil {
			return node.BadProp("reduceInit", cfg.Get("reduceInit"), "%v", err)
		}
		n.initIn = in
	}
	n.reduceRight = msg.Truthy(cfg.Get("reduceRight"))
	return nil
}

func (n *joinNode) DeferDone() {}

func (n *joinNode) Input(c node.Ctx, m *msg.Msg) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ctx = c
	if n.mode == "reduce" {
		n.reduceMessage(c, m)
		return nil
	}
	if err := n.input(c, m); err != nil {
		c.Done(m, err)
	}
	return nil
}

// input handles a message in automatic and manual mode; an error finishes
// m with it.
func (n *joinNode) input(c node.Ctx, m *msg.Msg) error {
	var property any
	if n.full {
		property = m.Object
	} else {
		v, err := n.prop.get(m)
		if err != nil {
			c.Warn("Message property " + n.prop.name + " not found")
			c.Done(m, nil)
			return nil
		}
		property = v
	}
	parts, hasParts := partsOf(m)
	if n.mode == "auto" && (!hasParts || !parts.Has("id")) {
		if m.Has("reset") {
			// Node-RED forgets every group without finishing its messages.
			for _, g := range n.inflight {
				n.stopTimer(g)
				for _, d := range g.dones {
					release(d)
				}
			}
			n.inflight = map[string]*joinGroup{}
		} else {
			c.Warn("Message missing msg.parts property - cannot join in 'auto' mode")
		}
		c.Done(m, nil)
		return nil
	}
	if n.mode == "custom" && m.Has("parts") && !n.useparts {
		if hasParts && parts.Has("parts") {
			m.Set("parts", msg.ObjectOf("parts", parts.Value("parts")))
		} else {
			m.Delete("parts")
		}
		parts, hasParts = partsOf(m)
	}

	partID := "_"
	var payloadType string
	var targetCount, joinChar, propertyKey, arrayLen, propertyIndex any = msg.Undefined{}, msg.Undefined{}, msg.Undefined{}, msg.Undefined{}, msg.Undefined{}
	if n.mode == "auto" {
		partID = keyString(parts.Value("id"))
		payloadType, _ = parts.Value("type").(string)
		targetCount = valueOf(parts, "count")
		joinChar = valueOf(parts, "ch")
		propertyKey = valueOf(parts, "key")
		arrayLen = valueOf(parts, "len")
		propertyIndex = valueOf(parts, "index")
		pp := "payload"
		if v := parts.Value("property"); msg.Truthy(v) {
			pp = msg.ToString(v)
		}
		v, err := n.partProp(pp).get(m)
		if err != nil {
			return err
		}
		property = v
	} else {
		payloadType = n.build
		targetCount = n.count
		joinChar = n.joiner
		if n.countEmpty && m.Has("parts") {
			targetCount = 0.0
			if hasParts && msg.Truthy(parts.Value("count")) {
				targetCount = parts.Value("count")
			}
			if hasParts && parts.Has("id") {
				partID = keyString(parts.Value("id"))
			}
		}
		if n.build == "object" {
			v, err := n.keyProp.get(m)
			if err != nil {
				return err
			}
			propertyKey = v
		}
	}

	if m.Has("restartTimeout") {
		if g := n.inflight[partID]; g != nil {
			n.stopTimer(g)
			n.startTimer(g)
		}
	}
	if m.Has("reset") {
		if g := n.inflight[partID]; g != nil {
			n.stopTimer(g)
			for _, d := range g.dones {
				c.Done(d, nil)
			}
			delete(n.inflight, partID)
		}
		c.Done(m, nil)
		return nil
	}
	if payloadType == "object" && (propertyKey == nil || msg.IsUndefined(propertyKey) || propertyKey == "") {
		if n.mode == "auto" {
			c.Warn("Message missing 'msg.parts.key' property - cannot add to object")
		} else if m.Has("complete") {
			if g := n.inflight[partID]; g != nil {
				g.msg.Set("complete", m.Value("complete"))
				if err := n.completeSend(c, g, m); err != nil {
					return err
				}
			}
		} else {
			c.Warn("Message missing key property 'msg." + n.keyName + "' - cannot add to object")
		}
		c.Done(m, nil)
		return nil
	}

	g := n.inflight[partID]
	if g == nil {
		g = &joinGroup{id: partID, targetCount: targetCount, msg: m.Clone()}
		g.msg.Track = nil
		if payloadType == "object" || payloadType == "merged" {
			g.typ = "object"
			g.obj = msg.NewObject(4)
		} else {
			g.typ = payloadType
			g.arr = []any{}
			switch payloadType {
			case "string":
				g.joinChar = joinChar
			case "array":
				g.arrayLen = arrayLen
			case "buffer":
				g.joinChar = joinChar
			}
		}
		n.inflight[partID] = g
		n.startTimer(g)
		if n.mode == "auto" {
			if s, ok := parts.Value("property").(string); ok {
				g.prop = s
			}
		} else {
			g.prop = n.prop.name
		}
	}
	g.dones = append(g.dones, m)

	if payloadType == "buffer" && !msg.IsUndefined(property) {
		switch t := property.(type) {
		case []byte:
			g.bufferLen += len(t)
		case string:
			g.bufferLen += newJSString(t).len()
		case []any:
			g.bufferLen += len(t)
		default:
			g.dones = g.dones[:len(g.dones)-1]
			return errors.New("Cannot join " + msg.TypeOf(property) + " to buffer")
		}
	}
	switch payloadType {
	case "object":
		g.obj.Set(keyString(propertyKey), property)
		g.currentCount = g.obj.Len()
	case "merged":
		switch t := property.(type) {
		case *msg.Object:
			for i := 0; i < t.Len(); i++ {
				k, v := t.At(i)
				if k != "_msgid" {
					g.obj.Set(k, v)
				}
			}
			g.currentCount = g.obj.Len()
		case []byte:
			for i, b := range t {
				g.obj.Set(itoa(i), float64(b))
			}
			g.currentCount = g.obj.Len()
		case nil:
			g.currentCount = g.obj.Len()
		default:
			if !m.Has("complete") {
				c.Warn("Cannot merge non-object types")
			}
		}
	default:
		g.add(propertyIndex, property)
	}
	for i := 0; i < m.Len(); i++ {
		k, v := m.At(i)
		g.msg.Set(k, v)
	}
	tcnt := g.targetCount
	if m.Has("parts") {
		if !msg.Truthy(tcnt) {
			tcnt = msg.Undefined{}
			if hasParts {
				tcnt = valueOf(parts, "count")
			}
		}
		g.targetCount = tcnt
	}
	if t := msg.ToNumber(tcnt); (t > 0 && float64(g.currentCount) >= t) || m.Has("complete") {
		return n.completeSend(c, g, m)
	}
	return nil
}

// partProp is the property named by msg.parts.property, parsed once.
func (n *joinNode) partProp(name string) *prop {
	if p := n.props[name]; p != nil {
		return p
	}
	p, err := newProp("parts.property", name)
	if err != nil {
		// An unparsable name reads as missing, as a lookup that finds
		// nothing would.
		p = &prop{name: name, in: typed.MustPrepare(typed.Str, ""), bad: true}
	}
	if n.props == nil || len(n.props) > 64 {
		n.props = map[string]*prop{}
	}
	n.props[name] = p
	return p
}

// maxSlots bounds the array a sequence index may open up; an index beyond it
// is counted but kept out of the array rather than allocating gigabytes.
const maxSlots = 1 << 24

// add puts one part into an array payload: at its index when it has one,
// else at the end.
func (g *joinGroup) add(index, v any) {
	if idx := msg.ToNumber(index); !math.IsNaN(idx) {
		key := keyString(index)
		if !msg.IsArrayIndex(key) || idx >= maxSlots {
			if g.extra == nil {
				g.extra = map[string]bool{}
			}
			if !g.extra[key] {
				g.currentCount++
			}
			g.extra[key] = true
			return
		}
		i := int(idx)
		for len(g.arr) <= i {
			g.arr = append(g.arr, msg.Undefined{})
		}
		if cur := g.arr[i]; cur == nil || msg.IsUndefined(cur) {
			g.currentCount++
		}
		g.arr[i] = v
		return
	}
	if !msg.IsUndefined(v) {
		g.arr = append(g.arr, v)
		g.currentCount++
	}
}

// completeSend sends the group's message and finishes the parts it holds.
// When it fails, cur (the message being handled, if any) is left to the
// caller and the other parts are let go, as Node-RED drops them.
func (n *joinNode) completeSend(c node.Ctx, g *joinGroup, cur *msg.Msg) (err error) {
	defer func() {
		if err != nil {
			for _, d := range g.dones {
				if d != cur {
					release(d)
				}
			}
			g.dones = nil
		}
	}()
	n.stopTimer(g)
	if n.mode == "auto" || !n.accumulate || g.msg.Has("complete") {
		delete(n.inflight, g.id)
	}
	prop := g.prop
	if prop == "" {
		prop = "payload"
	}
	var payload any
	switch {
	case g.typ == "array" && msg.ToNumber(g.arrayLen) > 1:
		flat := make([]any, 0, len(g.arr))
		for _, e := range g.arr {
			if msg.IsUndefined(e) {
				continue
			}
			if a, ok := e.([]any); ok {
				flat = append(flat, a...)
			} else {
				flat = append(flat, e)
			}
		}
		g.arr = flat
		payload = flat
	case g.typ == "buffer":
		payload = g.joinBuffer()
	case g.typ == "object":
		payload = g.obj
	default:
		payload = g.arr
	}
	if g.typ == "string" {
		sep, err := joinSeparator(g.joinChar)
		if err != nil {
			return err
		}
		if err := setPath(g.msg, prop, joinStrings(g.arr, sep)); err != nil {
			return err
		}
	} else {
		if n.full {
			g.msg = g.msg.Clone()
		}
		if err := setPath(g.msg, prop, payload); err != nil {
			return err
		}
	}
	if p, ok := partsOf(g.msg); ok && p.Has("parts") {
		g.msg.Set("parts", p.Value("parts"))
	} else {
		g.msg.Delete("parts")
	}
	g.msg.Delete("complete")
	out := g.msg.Clone()
	finish := chain(out, g.dones)
	c.Send(out)
	finish()
	for _, d := range g.dones {
		c.Done(d, nil)
	}
	g.dones = nil
	return nil
}

// joinSeparator is the join character as String() gives it.
func joinSeparator(ch any) (string, error) {
	switch t := ch.(type) {
	case string:
		return t, nil
	case msg.Undefined:
		return "", &node.JSError{Name: "TypeError", Message: "Cannot read properties of undefined (reading 'toString')"}
	case nil:
		return "", &node.JSError{Name: "TypeError", Message: "Cannot read properties of null (reading 'toString')"}
	}
	return msg.ToString(ch), nil
}

// joinStrings is Array.prototype.join: null, undefined and holes are empty.
func joinStrings(a []any, sep string) string {
	var b strings.Builder
	for i, e := range a {
		if i > 0 {
			b.WriteString(sep)
		}
		if e == nil || msg.IsUndefined(e) {
			continue
		}
		b.WriteString(msg.ToString(e))
	}
	return b.String()
}

func (g *joinGroup) joinBuffer() []byte {
	if !msg.IsUndefined(g.joinChar) {
		sep := bufferFrom(g.joinChar)
		var out []byte
		for i, e := range g.arr {
			if i > 0 {
				out = append(out, sep...)
			}
			out = append(out, bufferFrom(e)...)
		}
		if out == nil {
			out = []byte{}
		}
		return out
	}
	// Buffer.concat(list, total): the total counts what the parts said
	// their length was, and the result is cut or zero-filled to it.
	out := make([]byte, 0, g.bufferLen)
	for _, e := range g.arr {
		out = append(out, bufferFrom(e)...)
	}
	if len(out) > g.bufferLen {
		out = out[:g.bufferLen]
	}
	for len(out) < g.bufferLen {
		out = append(out, 0)
	}
	return out
}

// bufferFrom is Buffer.from(v) for the values a join can hold.
func bufferFrom(v any) []byte {
	switch t := v.(type) {
	case []byte:
		return t
	case string:
		return []byte(t)
	case []any:
		b := make([]byte, len(t))
		for i, e := range t {
			b[i] = toByte(msg.ToNumber(e))
		}
		return b
	case nil, msg.Undefined:
		return nil
	}
	return []byte(msg.ToString(v))
}

func (n *joinNode) startTimer(g *joinGroup) {
	if n.timer <= 0 {
		return
	}
	g.epoch++
	epoch := g.epoch
	g.timer = time.AfterFunc(n.timer, func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.inflight[g.id] != g || g.epoch != epoch || n.ctx == nil {
			return
		}
		if err := n.completeSend(n.ctx, g, nil); err != nil {
			n.ctx.Error(err, nil)
		}
	})
}

func (n *joinNode) stopTimer(g *joinGroup) {
	if g.timer != nil {
		g.timer.Stop()
		g.timer = nil
		g.epoch++
	}
}

func (n *joinNode) Close(ctx context.Context, removed bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, g := range n.inflight {
		n.stopTimer(g)
		for _, d := range g.dones {
			release(d)
		}
	}
	n.inflight = map[string]*joinGroup{}
	for _, g := range n.pending {
		for _, d := range g.msgs {
			release(d)
		}
	}
	n.pending = map[string]*reduceGroup{}
	return nil
}

// keyString is a value used as a JavaScript object key.
func keyString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return msg.ToString(v)
}

// valueOf is o[k], undefined when absent.
func valueOf(o *msg.Object, k string) any {
	if v, ok := o.Get(k); ok {
		return v
	}
	return msg.Undefined{}
}

func itoa(i int) string { return msg.FormatNumber(float64(i)) }
