package mqtt

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// subscription is one node's interest in a topic filter.
type subscription struct {
	topic    string
	ref      string // the node's id
	req      subReq
	datatype string
	target   *inNode
}

// topicSubs are the subscriptions to one filter, by node id; the broker
// sees one subscription per filter.
type topicSubs struct {
	refs  map[string]*subscription
	order []string
}

func parseBrokerURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("not a valid broker URL: %v", err)
	}
	switch strings.ToLower(u.Scheme) {
	case "mqtt", "tcp", "mqtts", "ssl", "tls", "tcps", "mqtt+ssl", "ws", "wss":
	default:
		return nil, fmt.Errorf("unsupported URL scheme %q in %s (mqtt, mqtts, ws or wss)", u.Scheme, raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("no host in broker URL %s", raw)
	}
	return u, nil
}

// subReqsLocked builds the SUBSCRIBE requests for the given filters (all
// when nil): the highest QoS any node asked for, the MQTT 5 options of the
// latest, and the filter's subscription identifier when the broker takes
// them.
func (b *broker) subReqsLocked(topics []string) []subReq {
	if topics == nil {
		topics = b.topics
	}
	v5 := b.loop != nil && b.loop.d.protocol == 5
	var out []subReq
	for _, t := range topics {
		ts := b.subs[t]
		if ts == nil || len(ts.order) == 0 {
			continue
		}
		var r subReq
		var maxQoS byte
		for _, ref := range ts.order {
			s := ts.refs[ref]
			r = s.req
			if s.req.qos > maxQoS {
				maxQoS = s.req.qos
			}
		}
		r.qos = maxQoS
		r.topic = t
		if v5 && b.info.subIDs {
			r.subID = b.subIDs[t]
		} else {
			r.subID = 0
		}
		out = append(out, r)
	}
	return out
}

// subscribe records a node's subscription and, when connected, sends it;
// it returns once the broker answered (or at once when not connected).
func (b *broker) subscribe(ctx context.Context, s *subscription) error {
	return b.send(ctx, b.record(s))
}

// pendingSub is a recorded subscription still to be sent on the current
// connection; l is nil when there is none (the next connection's
// resubscribe sends it).
type pendingSub struct {
	l    *connLoop
	reqs []subReq
}

// record adds a node's subscription. Recorded before the connection is up,
// it goes with the connection's first SUBSCRIBE, before the nodes show
// connected.
func (b *broker) record(s *subscription) pendingSub {
	b.mu.Lock()
	ts := b.subs[s.topic]
	if ts == nil {
		ts = &topicSubs{refs: map[string]*subscription{}}
		b.subs[s.topic] = ts
		b.topics = append(b.topics, s.topic)
	}
	if _, dup := ts.refs[s.ref]; !dup {
		ts.order = append(ts.order, s.ref)
	}
	ts.refs[s.ref] = s
	if b.subIDs[s.topic] == 0 {
		b.subIDs[s.topic] = b.nextID
		b.nextID++
	}
	var p pendingSub
	if b.linkUp && b.loop != nil {
		p = pendingSub{l: b.loop, reqs: b.subReqsLocked([]string{s.topic})}
	}
	b.mu.Unlock()
	b.q.retry()
	return p
}

// send sends a recorded subscription on the connection it was recorded
// on, and waits for the broker's answer.
func (b *broker) send(ctx context.Context, p pendingSub) error {
	if p.l == nil {
		return nil
	}
	b.awaitStart()
	defer b.awaitEnd()
	return p.l.t.subscribe(ctx, p.reqs)
}

// unsubscribe drops a node's subscription. The broker hears of it when it
// was the filter's last and either the node is being removed or the broker
// node unsubscribes automatically (Node-RED's autoUnsubscribe).
func (b *broker) unsubscribe(ctx context.Context, topic, ref string, removeClient bool) error {
	unsub := removeClient || b.autoUnsubscribe()
	b.mu.Lock()
	ts := b.subs[topic]
	if ts == nil {
		b.mu.Unlock()
		return nil
	}
	if _, ok := ts.refs[ref]; ok {
		delete(ts.refs, ref)
		for i, r := range ts.order {
			if r == ref {
				ts.order = append(ts.order[:i:i], ts.order[i+1:]...)
				break
			}
		}
	}
	if len(ts.refs) > 0 {
		b.mu.Unlock()
		return nil
	}
	delete(b.subs, topic)
	for i, t := range b.topics {
		if t == topic {
			b.topics = append(b.topics[:i:i], b.topics[i+1:]...)
			break
		}
	}
	l := b.loop
	connected := b.linkUp
	if unsub {
		delete(b.subIDs, topic)
	}
	b.mu.Unlock()
	if !unsub || !connected || l == nil {
		return nil
	}
	b.awaitStart()
	defer b.awaitEnd()
	return l.t.unsubscribe(ctx, []string{topic})
}

// matches appends the subscriptions a received message belongs to: its
// topic matches the filter and, when the broker tags messages with
// subscription identifiers, the identifier is the filter's.
func (b *broker) matches(p *inPub, out []*subscription) []*subscription {
	b.mu.Lock()
	defer b.mu.Unlock()
	useIDs := p.v5 != nil && p.v5.subID != 0 && b.info.subIDs
	for _, t := range b.topics {
		ts := b.subs[t]
		if useIDs {
			if id := b.subIDs[t]; id != 0 && id != p.v5.subID {
				continue
			}
		}
		if !matchTopic(t, p.topic) {
			continue
		}
		for _, ref := range ts.order {
			out = append(out, ts.refs[ref])
		}
	}
	return out
}
