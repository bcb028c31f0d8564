package sequence

import (
	"errors"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// The join node's reduce mode: the parts of a sequence are held until the
// last one has arrived, then folded in index order with a JSONata
// expression, and the last part carries the result.

func (n *joinNode) reduceMessage(c node.Ctx, m *msg.Msg) {
	if !m.Has("parts") {
		c.Send(m)
		c.Done(m, nil)
		return
	}
	parts, _ := partsOf(m)
	gid := keyString(valueOf(parts, "id"))
	g := n.pending[gid]
	if g == nil {
		g = &reduceGroup{count: valueOf(parts, "count")}
		n.pending[gid] = g
	}
	if parts.Has("count") && msg.IsUndefined(g.count) {
		g.count = parts.Value("count")
	}
	g.msgs = append(g.msgs, m)
	count := n.nPending + 1
	if cnt, ok := g.count.(float64); ok && cnt == float64(len(g.msgs)) {
		delete(n.pending, gid)
		count -= len(g.msgs)
		if err := n.reduceGroup(c, g); err != nil {
			// Node-RED reports the error against the part that completed
			// the group and finishes the others.
			for _, pm := range g.msgs {
				if pm != m {
					c.Done(pm, nil)
				}
			}
			c.Done(m, err)
			return
		}
	}
	n.nPending = count
	if max := maxKept(c); max > 0 && n.nPending > max {
		for _, pg := range n.pending {
			for _, pm := range pg.msgs {
				if pm != m {
					c.Done(pm, nil)
				}
			}
		}
		n.pending = map[string]*reduceGroup{}
		n.nPending = 0
		c.Done(m, errors.New(errTooManyJoin))
	}
}

// reduceGroup folds a complete group and sends the result; on success every
// part is finished.
func (n *joinNode) reduceGroup(c node.Ctx, g *reduceGroup) error {
	var acc any = msg.Undefined{}
	empty := msg.Wrap(msg.NewObject(0))
	if n.initIn != nil {
		// Node-RED ignores an error here and starts from undefined.
		if v, err := n.initIn.Eval(c, empty); err == nil {
			acc = v
		}
	}
	dir := 1
	if n.reduceRight {
		dir = -1
	}
	order := sortedOrder(len(g.msgs), func(i, j int) int {
		lt, gt := jsCompare(partIndex(g.msgs[i]), partIndex(g.msgs[j]))
		switch {
		case lt:
			return -dir
		case gt:
			return dir
		}
		return 0
	})
	for _, k := range order {
		pm := g.msgs[k]
		v, err := n.reduceExp.EvalWith(c, pm, map[string]any{"I": partIndex(pm), "N": g.count, "A": acc})
		if err != nil {
			return jsonataErr(err)
		}
		acc = v
	}
	last := g.msgs[order[len(order)-1]]
	if n.fixupExp != nil {
		v, err := n.fixupExp.EvalWith(c, msg.Wrap(msg.NewObject(0)), map[string]any{"N": g.count, "A": acc})
		if err != nil {
			return jsonataErr(err)
		}
		acc = v
	}
	last.Set("payload", acc)
	// The last part goes on as the result, under a tracker of its own that
	// holds every part's.
	out := msg.Wrap(last.Object)
	finish := chain(out, g.msgs)
	c.Send(out)
	finish()
	for _, pm := range g.msgs {
		c.Done(pm, nil)
	}
	return nil
}

func partIndex(m *msg.Msg) any {
	if p, ok := partsOf(m); ok {
		return valueOf(p, "index")
	}
	return msg.Undefined{}
}

// jsCompare gives a < b and a > b with JavaScript's relational rules:
// two strings compare as strings, anything else as numbers (NaN never).
func jsCompare(a, b any) (lt, gt bool) {
	as, aok := a.(string)
	bs, bok := b.(string)
	if aok && bok {
		return jsStringLess(as, bs), jsStringLess(bs, as)
	}
	x, y := msg.ToNumber(a), msg.ToNumber(b)
	return x < y, x > y
}

// jsStringLess compares by UTF-16 code units, as JavaScript does.
func jsStringLess(a, b string) bool {
	ascii := true
	for i := 0; i < len(a) && ascii; i++ {
		ascii = a[i] < 0x80
	}
	for i := 0; i < len(b) && ascii; i++ {
		ascii = b[i] < 0x80
	}
	if ascii {
		return a < b
	}
	ua, ub := newJSString(a), newJSString(b)
	for i := 0; i < len(ua.units) && i < len(ub.units); i++ {
		if ua.units[i] != ub.units[i] {
			return ua.units[i] < ub.units[i]
		}
	}
	return len(ua.units) < len(ub.units)
}
