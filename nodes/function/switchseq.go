package function

import (
	"context"
	"errors"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// Sequences: with "recreate message sequences" or a tail rule, the switch
// needs msg.parts.count before it can route, so it holds every part of a
// sequence until the last one has arrived, as Node-RED does.
//
// A held message keeps a hold on its tracker so that its source is not told
// it was handled before it has actually been sent on.

var (
	errTooMany = errors.New("too many pending messages in switch node")
	errClosed  = errors.New("switch node stopped while holding a message sequence")
)

func (n *switchNode) maxPending(c node.Ctx) int {
	if !n.maxRead {
		n.maxRead = true
		if v, ok := c.Setting("nodeMessageBufferMaxLength"); ok {
			if f, ok := msg.Num(v); ok && f > 0 {
				n.maxKept = int(f)
			}
		}
	}
	return n.maxKept
}

// hold adds m to its sequence and, when the sequence is complete, routes
// every part in arrival order.
func (n *switchNode) hold(c node.Ctx, m *msg.Msg) error {
	parts := m.Value("parts").(*msg.Object)
	id := msg.ToString(parts.Value("id"))
	if n.pendingIn == nil {
		n.pendingIn = map[string]*seqGroup{}
	}
	g := n.pendingIn[id]
	if g == nil {
		g = &seqGroup{count: msg.Undefined{}}
		n.pendingIn[id] = g
		n.pendingID++
	}
	m.Track.Add(1)
	g.msgs = append(g.msgs, m)
	n.pendingCount++
	detached := false
	if max := n.maxPending(c); max > 0 && n.pendingCount > max {
		n.clearPending(errTooMany, g)
		c.Error(errTooMany, m)
		detached = true
	}
	if cnt, ok := parts.Get("count"); ok {
		g.count = cnt
	}
	// Strict equality: a count that is not a number never completes.
	if cnt, ok := g.count.(float64); !ok || cnt != float64(len(g.msgs)) {
		if detached {
			for _, pm := range g.msgs {
				pm.Track.Done(errTooMany)
			}
		}
		return nil
	}
	held := len(g.msgs)
	for _, pm := range g.msgs {
		if pp, ok := pm.Value("parts").(*msg.Object); ok {
			pp.Set("count", g.count)
		}
		hasParts, err := partsOf(pm)
		if err == nil {
			err = n.process(c, pm, hasParts)
		}
		if err != nil {
			c.Error(err, pm)
		}
	}
	for _, pm := range g.msgs {
		pm.Track.Done(nil)
	}
	n.pendingCount -= held
	delete(n.pendingIn, id)
	return nil
}

// collect keeps the routing of one part (repair mode); the last part sends
// the whole sequence, re-numbered per output.
func (n *switchNode) collect(c node.Ctx, m *msg.Msg, onward []*msg.Msg) {
	parts := m.Value("parts").(*msg.Object)
	id := msg.ToString(parts.Value("id"))
	if n.received == nil {
		n.received = map[string]int{}
		n.pendingOut = map[string][][]*msg.Msg{}
	}
	n.received[id]++
	cnt, isNum := parts.Value("count").(float64)
	complete := isNum && float64(n.received[id]) == cnt
	n.pendingOut[id] = append(n.pendingOut[id], onward)
	n.pendingCount++
	if complete {
		sendGroup(c, n.pendingOut[id], len(onward))
		// Node-RED subtracts the port count here, not the parts held.
		n.pendingCount -= len(onward)
		delete(n.pendingOut, id)
		delete(n.received, id)
	}
	if max := n.maxPending(c); max > 0 && n.pendingCount > max {
		n.clearPending(errTooMany, nil)
		c.Error(errTooMany, m)
	}
}

// sendGroup sends each part to the outputs it matched, as copies whose
// msg.parts count and index only the parts on that output. The port count
// comes from the last part's routing, as in Node-RED: a shorter routing
// (stop at first match) counts its missing ports as matched.
func sendGroup(c node.Ctx, onwards [][]*msg.Msg, ports int) {
	counts := make([]int, ports)
	for _, o := range onwards {
		for j := range ports {
			if j >= len(o) || o[j] != nil {
				counts[j]++
			}
		}
	}
	ids := make([]string, ports)
	for j := range ids {
		ids[j] = msg.NewID()
	}
	next := make([]int, ports)
	for _, o := range onwards {
		out := make([][]*msg.Msg, ports)
		any := false
		for j := range ports {
			if j >= len(o) || o[j] == nil {
				continue
			}
			cm := o[j].Clone()
			if p, ok := cm.Value("parts").(*msg.Object); ok {
				p.Set("id", ids[j])
				p.Set("index", float64(next[j]))
				p.Set("count", float64(counts[j]))
			}
			next[j]++
			out[j] = []*msg.Msg{cm}
			any = true
		}
		if any {
			c.SendPorts(out)
		}
	}
}

// clearPending drops every held sequence except keep, the group being
// filled: like Node-RED's local reference to it, it may still complete with
// the message in hand, but is no longer found by later parts.
func (n *switchNode) clearPending(why error, keep *seqGroup) {
	for _, g := range n.pendingIn {
		if g == keep {
			continue
		}
		for _, m := range g.msgs {
			m.Track.Done(why)
		}
	}
	n.pendingCount = 0
	n.pendingID = 0
	n.pendingIn = nil
	n.pendingOut = nil
	n.received = nil
}

// Close drops the sequences still held.
func (n *switchNode) Close(ctx context.Context, removed bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.clearPending(errClosed, nil)
	return nil
}
