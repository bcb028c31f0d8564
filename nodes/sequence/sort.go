package sequence

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/sluicehq/sluice/runtime/jsonata"
	"github.com/sluicehq/sluice/runtime/jsonataref"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
	"github.com/sluicehq/sluice/runtime/typed"
)

func init() {
	node.Register(&node.Spec{
		Type:     "sort",
		Category: "sequence",
		Color:    seqColor,
		Icon:     "sort.svg",
		Inputs:   1,
		Outputs:  1,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "order", Kind: node.KindString, Default: "ascending", Options: []string{"ascending", "descending"}, Label: "Order"},
			{Name: "as_num", Kind: node.KindBool, Default: false, Label: "as number"},
			{Name: "target", Kind: node.KindString, Default: "payload", TypeProp: "targetType", Types: []string{"msg", "seq"}, Label: "Sort"},
			{Name: "targetType", Kind: node.KindString, Default: "msg"},
			{Name: "msgKey", Kind: node.KindString, Default: "payload", TypeProp: "msgKeyType", Types: []string{"elem", "jsonata"}, Label: "Key"},
			{Name: "msgKeyType", Kind: node.KindString, Default: "elem"},
			{Name: "seqKey", Kind: node.KindString, Default: "payload", TypeProp: "seqKeyType", Types: []string{"msg", "jsonata"}, Label: "Key"},
			{Name: "seqKeyType", Kind: node.KindString, Default: "msg"},
		},
		Help: sortHelp,
		New:  newSort,
	})
}

const sortHelp = `Sorts an array property of a message, or a sequence of messages.

- **Array**: sorts the elements of the property by their value or by a JSONata expression
  evaluated against each element.
- **Message sequence**: holds the parts of a sequence (` + "`msg.parts`" + `) until all have
  arrived, then sends them in order of a message property or a JSONata expression, with
  ` + "`msg.parts.index`" + ` renumbered.

*as number* compares the keys as numbers. The node holds at most
` + "`nodeMessageBufferMaxLength`" + ` messages (the oldest sequence is dropped with an error).`

const errTooManySort = "Too many pending messages in sort node"

// legacyMsg is Node-RED's test for JSONata written against msg: such an
// expression is evaluated against {msg: value}.
var legacyMsg = regexp.MustCompile(`(^|[^a-zA-Z0-9_'".])msg([^a-zA-Z0-9_'"]|$)`)

type sortNode struct {
	dir     int
	asNum   bool
	isProp  bool
	target  *prop
	keyProp *prop
	keyIn   *typed.Input         // sequence keys by expression
	elemExp *jsonata.NodeREDExpr // array element keys by expression
	legacy  bool

	mu      sync.Mutex
	pending map[string]*sortGroup
	nextSeq int
	count   int
}

type sortGroup struct {
	count any
	msgs  []*msg.Msg
	seq   int
}

func newSort(cfg *node.Config) (node.Node, error) {
	n := &sortNode{dir: 1, pending: map[string]*sortGroup{}}
	if cfg.StrOr("order", "ascending") != "ascending" {
		n.dir = -1
	}
	n.asNum = msg.Truthy(cfg.Get("as_num"))
	n.isProp = cfg.Str("targetType") == "msg"
	var err error
	if n.target, err = newProp("target", cfg.StrOr("target", "payload")); err != nil {
		return nil, err
	}
	keyType, keyName, keyExp := cfg.Str("seqKeyType"), "seqKey", cfg.Str("seqKey")
	if n.isProp {
		keyType, keyName, keyExp = cfg.Str("msgKeyType"), "msgKey", cfg.Str("msgKey")
	}
	if keyType == "jsonata" {
		if n.isProp {
			e, err := jsonata.CompileNodeRED(keyExp)
			if err != nil {
				return nil, node.BadProp(keyName, keyExp, "Invalid JSONata expression in sort node: %v", err)
			}
			n.elemExp, n.legacy = e, legacyMsg.MatchString(keyExp)
		} else {
			in, err := typed.Prepare(typed.JSONata, keyExp)
			if err != nil {
				return nil, node.BadProp(keyName, keyExp, "Invalid JSONata expression in sort node: %v", err)
			}
			n.keyIn = in
		}
	} else if n.keyProp, err = newProp("seqKey", cfg.StrOr("seqKey", "payload")); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *sortNode) DeferDone() {}

func (n *sortNode) Input(c node.Ctx, m *msg.Msg) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.isProp {
		send, err := n.sortProperty(c, m)
		if err == nil && send {
			c.Send(m)
		}
		c.Done(m, err)
		return nil
	}
	parts, ok := partsOf(m)
	if !ok || !parts.Has("id") || !parts.Has("index") {
		c.Done(m, nil)
		return nil
	}
	gid := keyString(parts.Value("id"))
	g := n.pending[gid]
	if g == nil {
		g = &sortGroup{count: msg.Undefined{}, seq: n.nextSeq}
		n.nextSeq++
		n.pending[gid] = g
	}
	g.msgs = append(g.msgs, m)
	if parts.Has("count") {
		g.count = parts.Value("count")
	}
	n.count++
	if cnt, ok := g.count.(float64); ok && cnt == float64(len(g.msgs)) {
		delete(n.pending, gid)
		n.count -= len(g.msgs)
		n.sortGroup(c, g)
		return nil
	}
	if max := maxKept(c); max > 0 && n.count > max {
		n.count -= n.dropOldest(c)
	}
	return nil
}

// sortProperty sorts the array in the target property; it reports whether
// the message goes on (only arrays do).
func (n *sortNode) sortProperty(c node.Ctx, m *msg.Msg) (bool, error) {
	data, err := n.target.get(m)
	if err != nil {
		return false, err
	}
	arr, ok := data.([]any)
	if !ok {
		return false, nil
	}
	if n.elemExp == nil {
		order := sortedOrder(len(arr), func(i, j int) int { return n.compare(arr[i], arr[j]) })
		sorted := make([]any, len(arr))
		for i, k := range order {
			sorted[i] = arr[k]
		}
		// In place, as Array.prototype.sort does.
		copy(arr, sorted)
		return true, nil
	}
	keys := make([]any, len(arr))
	bindings := typed.Bindings(c)
	for i, e := range arr {
		var input any = e
		if n.legacy {
			input = msg.ObjectOf("msg", e)
		}
		v, err := n.elemExp.EvalContext(stopCtx(c), input, bindings)
		if err != nil {
			return false, sortExpError(err)
		}
		keys[i] = v
	}
	idx := sortedOrder(len(arr), func(i, j int) int { return n.compare(keys[i], keys[j]) })
	out := make([]any, len(arr))
	for i, k := range idx {
		out[i] = arr[k]
	}
	n.target.set(m, out)
	return true, nil
}

// stopCtx ends when the node stops, so that a runaway expression does not
// outlive it.
func stopCtx(c node.Ctx) context.Context {
	if c == nil || c.Stopping() == nil {
		return context.Background()
	}
	return stopContext(c.Stopping())
}

type stopContext <-chan struct{}

func (s stopContext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (s stopContext) Done() <-chan struct{}       { return s }
func (s stopContext) Value(any) any               { return nil }
func (s stopContext) Err() error {
	select {
	case <-s:
		return context.Canceled
	default:
		return nil
	}
}

func sortExpError(err error) error {
	return fmt.Errorf("Invalid JSONata expression in sort node: %s", jsErrorString(err))
}

// jsErrorString is err.toString() for an error from JSONata: the library
// throws plain objects, which print as [object Object].
func jsErrorString(err error) string {
	var je *jsonataref.Error
	if errors.As(err, &je) && je.Err == nil {
		return "[object Object]"
	}
	return err.Error()
}

// compare is the comparator Node-RED sorts with: 0 for strictly equal
// keys, the direction when the first is greater, else minus it.
func (n *sortNode) compare(a, b any) int {
	x, y := a, b
	if n.asNum {
		x, y = msg.ToNumber(x), msg.ToNumber(y)
	}
	if strictEqual(x, y) {
		return 0
	}
	if _, gt := jsCompare(toPrimitive(x), toPrimitive(y)); gt {
		return n.dir
	}
	return -n.dir
}

// strictEqual is JavaScript's === for the values messages hold.
func strictEqual(a, b any) bool {
	switch x := a.(type) {
	case nil, bool, string, msg.Undefined:
		return a == b
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	}
	return false
}

// toPrimitive is what a relational comparison turns an object into.
func toPrimitive(v any) any {
	switch v.(type) {
	case []any, *msg.Object, []byte:
		return msg.ToString(v)
	}
	return v
}

func (n *sortNode) sortGroup(c node.Ctx, g *sortGroup) {
	keys := make([]any, len(g.msgs))
	for i, m := range g.msgs {
		if n.keyIn != nil {
			v, err := n.keyIn.Eval(c, m)
			if err != nil {
				last := g.msgs[len(g.msgs)-1]
				for _, pm := range g.msgs[:len(g.msgs)-1] {
					c.Done(pm, nil)
				}
				c.Done(last, sortExpError(err))
				return
			}
			keys[i] = v
			continue
		}
		v, err := n.keyProp.get(m)
		if err != nil {
			// Node-RED gives up on the group silently when a key cannot
			// be read.
			for _, pm := range g.msgs {
				release(pm)
			}
			return
		}
		keys[i] = v
	}
	idx := sortedOrder(len(g.msgs), func(i, j int) int { return n.compare(keys[i], keys[j]) })
	for i, k := range idx {
		m := g.msgs[k]
		if p, ok := partsOf(m); ok {
			p.Set("index", float64(i))
		}
		c.Send(m)
		c.Done(m, nil)
	}
}

// dropOldest gives up the sequence that started first: its last message
// carries the error; it returns how many messages were dropped.
func (n *sortNode) dropOldest(c node.Ctx) int {
	var oldest *sortGroup
	var key string
	for k, g := range n.pending {
		if oldest == nil || g.seq < oldest.seq {
			oldest, key = g, k
		}
	}
	if oldest == nil {
		return 0
	}
	last := len(oldest.msgs) - 1
	c.Done(oldest.msgs[last], errors.New(errTooManySort))
	for _, m := range oldest.msgs[:last] {
		c.Done(m, nil)
	}
	delete(n.pending, key)
	return len(oldest.msgs)
}

func (n *sortNode) Close(ctx context.Context, removed bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, g := range n.pending {
		for _, m := range g.msgs {
			release(m)
		}
	}
	n.pending = map[string]*sortGroup{}
	n.count = 0
	return nil
}
