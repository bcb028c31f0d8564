package core

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// Link nodes are virtual wires. The runtime turns a link out's `links` into
// its wires (across flows too); link call finds its target itself and waits
// for the answer a link out in return mode sends back.

// linker is the part of the runtime's node context that link nodes need.
type linker interface {
	DeliverTo(id string, m *msg.Msg) bool
	FindNodes(typ, target string) []string
}

func init() {
	node.Register(&node.Spec{
		Type: "link in", Category: "common", Color: "#ddd", Icon: "link-out.svg", Inputs: 0, Outputs: 1,
		Props: []node.Prop{{Name: "name", Kind: node.KindString}, {Name: "links", Kind: node.KindArray, Default: []any{}}},
		Help:  "Receives messages from link out and link call nodes, on any flow.",
		New:   func(*node.Config) (node.Node, error) { return passOn{}, nil },
	})
	node.Register(&node.Spec{
		Type: "link out", Category: "common", Color: "#ddd", Icon: "link-out.svg", Inputs: 1, Outputs: 0,
		Props: []node.Prop{{Name: "name", Kind: node.KindString}, {Name: "mode", Kind: node.KindString, Default: "link", Options: []string{"link", "return"}},
			{Name: "links", Kind: node.KindArray, Default: []any{}}},
		Help: "Sends messages to the chosen link in nodes, or (return mode) back to the link call node that started the message's journey.",
		New:  newLinkOut,
	})
	node.Register(&node.Spec{
		Type: "link call", Category: "common", Color: "#ddd", Icon: "link-call.svg", Inputs: 1, Outputs: 1,
		Props: []node.Prop{{Name: "name", Kind: node.KindString}, {Name: "links", Default: []any{}},
			{Name: "linkType", Kind: node.KindString, Default: "static", Options: []string{"static", "dynamic"}},
			{Name: "timeout", Kind: node.KindNumber, Default: "30"}},
		Help: "Calls a link in node (chosen statically, or by `msg.target` name or id) and sends on what a link out in return mode returns; errors with \"timeout\" when nothing comes back in time.",
		New:  newLinkCall,
	})
}

type linkOut struct{ ret bool }

func newLinkOut(cfg *node.Config) (node.Node, error) {
	return &linkOut{ret: cfg.Str("mode") == "return"}, nil
}

func (n *linkOut) Input(c node.Ctx, m *msg.Msg) error {
	m.Set("_event", "node:"+c.Alias())
	if !n.ret {
		c.Send(m)
		return nil
	}
	src, _ := m.Value("_linkSource").([]any)
	if len(src) == 0 {
		c.Warn("link out: no link call node to return the message to")
		return nil
	}
	ev, _ := src[len(src)-1].(*msg.Object)
	m.Set("_linkSource", src[:len(src)-1])
	if ev != nil {
		if rn, ok := c.NodeByID(msg.ToString(ev.Value("node"))); ok {
			if lc, ok := rn.(*linkCall); ok {
				lc.returned(msg.ToString(ev.Value("id")), m)
				return nil
			}
		}
	}
	c.Warn("link out: no link call node to return the message to")
	return nil
}

type pendingCall struct {
	orig  *msg.Msg // a copy for the timeout error
	in    *msg.Msg
	timer *time.Timer
}

type linkCall struct {
	target  string
	dynamic bool
	timeout time.Duration

	ctx     node.Ctx
	mu      sync.Mutex
	pending map[string]*pendingCall
}

func newLinkCall(cfg *node.Config) (node.Node, error) {
	n := &linkCall{dynamic: cfg.Str("linkType") == "dynamic", pending: map[string]*pendingCall{}}
	switch l := cfg.Get("links").(type) {
	case string:
		n.target = l
	case []any:
		if len(l) > 0 {
			n.target = msg.ToString(l[0])
		}
	}
	secs, err := cfg.Num("timeout", 30)
	if err != nil {
		return nil, err
	}
	if secs <= 0 {
		secs = 30
	}
	n.timeout = time.Duration(secs * float64(time.Second))
	return n, nil
}

func (n *linkCall) DeferDone() {}

func (n *linkCall) Start(c node.Ctx) error {
	n.ctx = c
	return nil
}

func (n *linkCall) Input(c node.Ctx, m *msg.Msg) error {
	target := n.target
	if n.dynamic {
		target = msg.ToString(m.Value("target"))
		if !m.Has("target") {
			target = ""
		}
	}
	lk, ok := c.(linker)
	if !ok {
		return errors.New("link call: runtime does not support links")
	}
	ids := lk.FindNodes("link in", target)
	if !n.dynamic {
		// A static target is an id.
		ids = ids[:0]
		for _, id := range lk.FindNodes("link in", target) {
			ids = append(ids, id)
			break
		}
	}
	switch {
	case len(ids) == 0:
		return &node.JSError{Name: "Error", Message: fmt.Sprintf("target link-in node '%s' not found", target)}
	case len(ids) > 1:
		return &node.JSError{Name: "Error", Message: fmt.Sprintf("Multiple link-in nodes named '%s' found", target)}
	}
	var idb [14]byte
	_, _ = rand.Read(idb[:])
	evID := hex.EncodeToString(idb[:])
	src, _ := m.Value("_linkSource").([]any)
	if src == nil {
		src = []any{}
	}
	m.Set("_linkSource", src)
	// The copy kept for a timeout error is taken before this call's entry
	// is pushed, as Node-RED does.
	p := &pendingCall{orig: m.Clone(), in: m}
	m.Set("_linkSource", append(src, msg.ObjectOf("id", evID, "node", c.ID())))
	n.mu.Lock()
	n.pending[evID] = p
	p.timer = time.AfterFunc(n.timeout, func() { n.timedOut(evID) })
	n.mu.Unlock()
	lk.DeliverTo(ids[0], m)
	return nil
}

func (n *linkCall) timedOut(id string) {
	n.mu.Lock()
	p, ok := n.pending[id]
	delete(n.pending, id)
	n.mu.Unlock()
	if ok {
		n.ctx.Done(p.orig, errors.New("timeout"))
	}
}

func (n *linkCall) returned(id string, m *msg.Msg) {
	if src, ok := m.Value("_linkSource").([]any); ok && len(src) == 0 {
		m.Delete("_linkSource")
	}
	n.mu.Lock()
	p, ok := n.pending[id]
	delete(n.pending, id)
	n.mu.Unlock()
	if !ok {
		n.ctx.Send(m)
		return
	}
	p.timer.Stop()
	n.ctx.Send(m)
	n.ctx.Done(p.in, nil)
}

func (n *linkCall) Close(ctx context.Context, removed bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for id, p := range n.pending {
		p.timer.Stop()
		delete(n.pending, id)
	}
	return nil
}
