package sequence

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type:     "batch",
		Category: "sequence",
		Color:    seqColor,
		Icon:     "batch.svg",
		Inputs:   1,
		Outputs:  1,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "mode", Kind: node.KindString, Default: "count", Options: []string{"count", "interval", "concat"}, Label: "Mode"},
			{Name: "count", Kind: node.KindNumber, Default: 10, Label: "Number of messages"},
			{Name: "overlap", Kind: node.KindNumber, Default: 0, Label: "Overlap"},
			{Name: "interval", Kind: node.KindNumber, Default: 10, Label: "Interval (s)"},
			{Name: "allowEmptySequence", Kind: node.KindBool, Default: false, Label: "send empty message when no message arrives"},
			{Name: "honourParts", Kind: node.KindBool, Default: false, Label: "Allow msg.parts to also complete batch operation"},
			{Name: "topics", Kind: node.KindArray, Default: []any{msg.ObjectOf("topic", "")}, Label: "Topics"},
		},
		Help: batchHelp,
		New:  newBatch,
	})
}

const batchHelp = `Groups messages into sequences (` + "`msg.parts`" + `).

- **Group by number of messages**: every *count* messages make a sequence; with an
  *overlap* the last messages of one sequence start the next. With *honour parts* the end of
  an incoming sequence also ends the batch.
- **Group by time interval**: the messages of each interval make a sequence; optionally an
  empty message (` + "`payload`" + ` null) is sent for an interval without messages.
- **Concatenate sequences**: waits for a complete sequence of each listed topic, then sends
  them one after another, in topic order, as a single sequence.

` + "`msg.reset`" + ` drops the messages held.`

const (
	errTooManyBatch = "too many pending messages in batch node"
	errNoParts      = "no parts property in message"
)

type batchNode struct {
	mode        string
	count       int
	overlap     int
	honourParts bool
	interval    time.Duration
	allowEmpty  bool
	topics      []any

	mu      sync.Mutex
	ctx     node.Ctx
	pending []*msg.Msg
	eof     bool
	ticker  *time.Ticker
	quit    chan struct{} // ends the current ticker's goroutine

	nHeld int // Node-RED's pending_count

	// concat mode
	byTopic map[string]*topicGroups
}

type topicGroups struct {
	groups map[string]*concatGroup
	gids   []string
}

type concatGroup struct {
	msgs  []*msg.Msg
	count any
}

func newBatch(cfg *node.Config) (node.Node, error) {
	n := &batchNode{mode: cfg.StrOr("mode", "count"), honourParts: msg.Truthy(cfg.Get("honourParts"))}
	switch n.mode {
	case "count":
		count := msg.ToNumber(orOne(cfg.Get("count")))
		overlap := msg.ToNumber(orZero(cfg.Get("overlap")))
		if !(count > overlap) || math.IsNaN(count) {
			return nil, node.BadProp("count", cfg.Get("count"), "Invalid count and overlap")
		}
		if count > math.MaxInt32 {
			count = math.MaxInt32
		}
		n.count, n.overlap = int(count), int(math.Max(overlap, 0))
	case "interval":
		iv := msg.ToNumber(orZero(cfg.Get("interval")))
		if iv > 0 && !math.IsInf(iv, 0) {
			n.interval = time.Duration(iv * float64(time.Second))
		}
		n.allowEmpty = msg.Truthy(cfg.Get("allowEmptySequence"))
	case "concat":
		topics, _ := cfg.Get("topics").([]any)
		for _, t := range topics {
			var v any = msg.Undefined{}
			if o, ok := t.(*msg.Object); ok {
				v = valueOf(o, "topic")
			}
			n.topics = append(n.topics, v)
		}
		n.byTopic = map[string]*topicGroups{}
	default:
		return nil, node.BadProp("mode", n.mode, "unexpected mode")
	}
	return n, nil
}

func orOne(v any) any {
	if !msg.Truthy(v) {
		return 1.0
	}
	return v
}

func (n *batchNode) DeferDone() {}

func (n *batchNode) Start(c node.Ctx) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ctx = c
	n.startTicker()
	return nil
}

func (n *batchNode) startTicker() {
	if n.mode != "interval" || n.interval <= 0 {
		return
	}
	t := time.NewTicker(n.interval)
	quit := make(chan struct{})
	n.ticker, n.quit = t, quit
	go func() {
		for {
			select {
			case <-t.C:
				n.tick(t)
			case <-quit:
				return
			}
		}
	}()
}

func (n *batchNode) stopTicker() {
	if n.ticker != nil {
		n.ticker.Stop()
		close(n.quit)
		n.ticker, n.quit = nil, nil
	}
}

func (n *batchNode) tick(t *time.Ticker) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ticker != t {
		return // replaced by a reset
	}
	c := n.ctx
	if len(n.pending) > 0 {
		n.sendAll(c, n.pending, false)
		for _, m := range n.pending {
			c.Done(m, nil)
		}
		n.pending = nil
		n.nHeld = 0
	} else if n.allowEmpty {
		m := msg.New()
		m.Set("payload", nil)
		m.Set("parts", msg.ObjectOf("id", msg.NewID(), "index", 0.0, "count", 1.0))
		m.Delete("_msgid")
		c.Send(m)
	}
}

func (n *batchNode) Input(c node.Ctx, m *msg.Msg) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ctx = c
	if m.Has("reset") {
		n.doneAll(c)
		if n.mode == "interval" && n.ticker != nil {
			n.stopTicker()
			n.startTicker()
		}
		c.Done(m, nil)
		return nil
	}
	switch n.mode {
	case "count":
		n.inputCount(c, m)
	case "interval":
		n.pending = append(n.pending, m)
		n.nHeld++
		n.overflow(c)
	case "concat":
		n.inputConcat(c, m)
	}
	return nil
}

func (n *batchNode) doneAll(c node.Ctx) {
	for _, m := range n.pending {
		c.Done(m, nil)
	}
	n.pending = nil
	for _, tg := range n.byTopic {
		for _, gid := range tg.gids {
			for _, m := range tg.groups[gid].msgs {
				c.Done(m, nil)
			}
		}
	}
	if n.byTopic != nil {
		n.byTopic = map[string]*topicGroups{}
	}
	n.nHeld = 0
}

func (n *batchNode) inputCount(c node.Ctx, m *msg.Msg) {
	if n.honourParts {
		if p, ok := partsOf(m); ok {
			idx, iok := p.Value("index").(float64)
			cnt, cok := p.Value("count").(float64)
			if iok && cok && idx+1 == cnt {
				n.eof = true
			}
		}
	}
	n.pending = append(n.pending, m)
	n.nHeld++
	if len(n.pending) == n.count || n.eof {
		queue := n.pending
		n.sendAll(c, queue, n.overlap > 0)
		for i := 0; i < len(queue)-n.overlap; i++ {
			c.Done(queue[i], nil)
		}
		n.pending = nil
		if n.overlap > 0 {
			keep := queue[max(len(queue)-n.overlap, 0):]
			n.pending = append([]*msg.Msg(nil), keep...)
		}
		n.eof = false
		// Node-RED's count of held messages restarts here, overlap or not.
		n.nHeld = 0
		return
	}
	n.overflow(c)
}

// overflow drops everything held when more than nodeMessageBufferMaxLength
// messages wait; the newest carries the error.
func (n *batchNode) overflow(c node.Ctx) {
	max := maxKept(c)
	if max <= 0 || n.nHeld <= max || len(n.pending) == 0 {
		return
	}
	last := n.pending[len(n.pending)-1]
	c.Done(last, errors.New(errTooManyBatch))
	for _, m := range n.pending[:len(n.pending)-1] {
		c.Done(m, nil)
	}
	n.pending = nil
	n.nHeld = 0
}

// sendAll sends msgs as one sequence named after the first message's id.
func (n *batchNode) sendAll(c node.Ctx, msgs []*msg.Msg, clone bool) {
	id := msgs[0].Value("_msgid")
	count := float64(len(msgs))
	for i, m := range msgs {
		out := m
		if clone {
			out = m.Clone()
		}
		p, ok := partsOf(out)
		if !ok {
			p = msg.NewObject(3)
			out.Set("parts", p)
		}
		p.Set("id", id)
		p.Set("index", float64(i))
		p.Set("count", count)
		c.Send(out)
	}
}

func (n *batchNode) inputConcat(c node.Ctx, m *msg.Msg) {
	topic := valueOf(m.Object, "topic")
	listed := false
	for _, t := range n.topics {
		if strictEqual(t, topic) {
			listed = true
			break
		}
	}
	if !listed {
		// Node-RED neither sends nor finishes such a message.
		release(m)
		return
	}
	p, ok := partsOf(m)
	if !ok || !p.Has("id") || !p.Has("index") || !p.Has("count") {
		c.Done(m, errors.New(errNoParts))
		return
	}
	tkey := keyString(topic)
	tg := n.byTopic[tkey]
	if tg == nil {
		tg = &topicGroups{groups: map[string]*concatGroup{}}
		n.byTopic[tkey] = tg
	}
	gid := keyString(p.Value("id"))
	g := tg.groups[gid]
	if g == nil {
		g = &concatGroup{count: msg.Undefined{}}
		tg.groups[gid] = g
		tg.gids = append(tg.gids, gid)
	}
	g.msgs = append(g.msgs, m)
	if msg.IsUndefined(g.count) {
		g.count = p.Value("count")
	}
	n.nHeld++
	if max := maxKept(c); max > 0 && n.nHeld > max {
		// Node-RED compares msg.id here, which messages rarely have: then
		// every held message carries the error.
		id := valueOf(m.Object, "id")
		for _, tg := range n.byTopic {
			for _, gid := range tg.gids {
				for _, hm := range tg.groups[gid].msgs {
					if strictEqual(valueOf(hm.Object, "id"), id) {
						c.Done(hm, errors.New(errTooManyBatch))
					} else {
						c.Done(hm, nil)
					}
				}
			}
		}
		n.byTopic = map[string]*topicGroups{}
		n.nHeld = 0
		return
	}
	n.tryConcat(c)
}

func (n *batchNode) firstGroup(topic any) *concatGroup {
	tg := n.byTopic[keyString(topic)]
	if tg == nil || len(tg.gids) == 0 {
		return nil
	}
	return tg.groups[tg.gids[0]]
}

func (n *batchNode) tryConcat(c node.Ctx) {
	for _, t := range n.topics {
		g := n.firstGroup(t)
		if g == nil {
			return
		}
		if cnt, ok := g.count.(float64); !ok || cnt != float64(len(g.msgs)) {
			return
		}
	}
	var all []*msg.Msg
	for _, t := range n.topics {
		all = append(all, n.firstGroup(t).msgs...)
	}
	for _, t := range n.topics {
		tg := n.byTopic[keyString(t)]
		if len(tg.gids) > 0 {
			delete(tg.groups, tg.gids[0])
			tg.gids = tg.gids[1:]
		}
	}
	n.sendAll(c, all, true)
	for _, m := range all {
		c.Done(m, nil)
	}
	n.nHeld -= len(all)
}

func (n *batchNode) Close(ctx context.Context, removed bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.stopTicker()
	for _, m := range n.pending {
		release(m)
	}
	n.pending = nil
	for _, tg := range n.byTopic {
		for _, gid := range tg.gids {
			for _, m := range tg.groups[gid].msgs {
				release(m)
			}
		}
	}
	n.byTopic = nil
	return nil
}
