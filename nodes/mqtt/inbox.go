package mqtt

import (
	"context"
	"sync"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
)

// inbox takes what the broker sends and feeds it to the flows on one
// goroutine, in order, waiting (Acquire) while the flows are saturated.
//
// When highWater messages wait here, the client's reader stops, so the
// broker holds the rest (brokers do not keep to their in-flight window:
// mosquitto sends twenty more for every acknowledgement). But the acks of
// our own publishes and subscriptions arrive on the same connection, behind
// those messages: while anything of ours is blocked waiting for one
// (awaiting), the reader goes on, or it would wait for itself.
type inbox struct {
	b *broker

	mu      sync.Mutex
	cond    *sync.Cond
	q       []*inPub
	spare   []*inPub
	waiters int
	closed  bool
	parked  []parked
	dropped int64
	peak    int // the longest the queue has been (tests)
	wake    chan struct{}

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	buf    []*subscription
}

// parked is a message no subscription wanted yet: right after a connect a
// persistent session may deliver before every node has subscribed again.
type parked struct {
	p     *inPub
	until time.Time
}

// parkFor is how long an unmatched message waits for a subscription before
// it is acknowledged and dropped, as Node-RED drops it at once.
var parkFor = 2 * time.Second

const maxParked = 10000

func newInbox(b *broker) *inbox {
	q := &inbox{b: b, wake: make(chan struct{}, 1), done: make(chan struct{})}
	q.cond = sync.NewCond(&q.mu)
	q.ctx, q.cancel = context.WithCancel(context.Background())
	return q
}

// put is called by the client's reader for every PUBLISH.
func (q *inbox) put(p *inPub) {
	q.mu.Lock()
	for len(q.q) >= highWater && q.b.awaiting.Load() == 0 && !q.closed {
		q.waiters++
		q.cond.Wait()
		q.waiters--
	}
	if q.closed {
		// Not acknowledged: a persistent session gets it again.
		q.mu.Unlock()
		return
	}
	if p.qos == 0 && len(q.q) >= overflow {
		q.dropped++
		n := q.dropped
		q.mu.Unlock()
		if n == 1 || n%10000 == 0 {
			_, warn := q.b.logger()
			warn("flows cannot keep up: QoS 0 messages dropped while this client waits for the broker's acks", "dropped", n)
		}
		return
	}
	q.q = append(q.q, p)
	if len(q.q) > q.peak {
		q.peak = len(q.q)
	}
	first := len(q.q) == 1
	q.mu.Unlock()
	if first {
		q.signal()
	}
}

func (q *inbox) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// nudge lets a waiting reader go on: something of ours now waits for the
// broker's answer.
func (q *inbox) nudge() {
	q.mu.Lock()
	if q.waiters > 0 {
		q.cond.Broadcast()
	}
	q.mu.Unlock()
}

// retry puts parked messages back in front: a subscription was added.
func (q *inbox) retry() {
	q.mu.Lock()
	if len(q.parked) == 0 {
		q.mu.Unlock()
		return
	}
	back := make([]*inPub, 0, len(q.parked)+len(q.q))
	for _, pk := range q.parked {
		back = append(back, pk.p)
	}
	q.parked = nil
	q.q = append(back, q.q...)
	q.mu.Unlock()
	q.signal()
}

func (q *inbox) close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
	q.cancel()
}

// expireLocked acknowledges and drops parked messages whose time is up.
func (q *inbox) expireLocked(now time.Time) {
	n := 0
	var dropped []string
	for _, pk := range q.parked {
		if now.Before(pk.until) {
			q.parked[n] = pk
			n++
			continue
		}
		if pk.p.ack != nil {
			pk.p.ack()
		}
		dropped = append(dropped, pk.p.topic)
	}
	clear(q.parked[n:])
	q.parked = q.parked[:n]
	if len(dropped) > 0 {
		// Node-RED drops these silently; a line in the log says where
		// messages went that no node wanted.
		_, warn := q.b.logger()
		warn("messages no subscription wanted were acknowledged and dropped", "count", len(dropped), "topic", dropped[0])
	}
}

func (q *inbox) run() {
	defer close(q.done)
	for {
		q.mu.Lock()
		for len(q.q) == 0 && !q.closed {
			var tick <-chan time.Time
			if len(q.parked) > 0 {
				tick = time.After(parkFor / 4)
			}
			q.mu.Unlock()
			select {
			case <-q.wake:
			case <-tick:
			case <-q.ctx.Done():
			}
			q.mu.Lock()
			q.expireLocked(time.Now())
		}
		if q.closed {
			q.mu.Unlock()
			return
		}
		batch := q.q
		q.q = q.spare[:0]
		q.spare = nil
		if q.waiters > 0 {
			q.cond.Broadcast()
		}
		q.mu.Unlock()
		for i, p := range batch {
			if q.ctx.Err() != nil {
				return
			}
			q.deliver(p)
			batch[i] = nil
		}
		q.mu.Lock()
		q.spare = batch[:0]
		q.mu.Unlock()
	}
}

// deliver hands one message to every node subscribed to it. A QoS 1 or 2
// message is acknowledged when every copy is done.
func (q *inbox) deliver(p *inPub) {
	subs := q.b.matches(p, q.buf[:0])
	q.buf = subs[:0]
	if len(subs) == 0 {
		q.mu.Lock()
		if len(q.parked) < maxParked {
			q.parked = append(q.parked, parked{p: p, until: time.Now().Add(parkFor)})
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		if p.ack != nil {
			p.ack()
		}
		return
	}
	var tr *msg.Tracker
	if p.ack != nil {
		ack := p.ack
		b := q.b
		tr = msg.NewTracker(func(error) {
			// Flows stopping: leave it unacknowledged for the next session.
			if !b.isClosing() {
				ack()
			}
		})
		tr.Add(len(subs) - 1)
	}
	for _, s := range subs {
		m := s.target.build(p, s.datatype)
		if m == nil {
			tr.Done(nil)
			continue
		}
		m.Track = tr
		if err := s.target.c.Acquire(q.ctx); err != nil {
			tr.Done(err)
			continue
		}
		s.target.c.Send(m)
		tr.Done(nil)
	}
	clear(subs)
}

func (b *broker) isClosing() bool { return b.closing.Load() }
