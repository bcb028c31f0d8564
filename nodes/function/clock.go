package function

import (
	"container/heap"
	"log/slog"
	"math"
	"runtime/debug"
	"sync"
	"time"
)

// nodeClock gives a node JavaScript's setTimeout and setInterval: callbacks
// run one at a time, in deadline order, ties in the order they were set, so
// that two messages delayed by the same time leave in the order they came,
// as they do in Node-RED. Go's own timers fire on goroutines of their own
// and promise no order.
//
// Callbacks run with the node's lock held, taken before the timer is picked:
// once a message handler holding that lock has stopped a timer, its
// callback cannot run any more. Start timers and stop them with the lock
// held.
type nodeClock struct {
	lock sync.Locker // the node's state lock

	mu      sync.Mutex
	h       clockHeap
	seq     uint64
	wake    chan struct{}
	started bool
	closed  bool
}

// clockTimer is one pending setTimeout or setInterval.
type clockTimer struct {
	c     *nodeClock
	at    time.Time
	seq   uint64
	every time.Duration // > 0: an interval
	fn    func()
	idx   int // position in the heap, -1 when not pending
}

func newNodeClock(lock sync.Locker) *nodeClock {
	return &nodeClock{lock: lock, wake: make(chan struct{}, 1)}
}

// jsDelay is the delay Node.js uses for a setTimeout(fn, ms): anything that
// is not a number from 1 to 2^31-1 milliseconds becomes 1 ms (Node.js
// warns when a too-long delay is cut short, and so do we).
func jsDelay(ms float64, log *slog.Logger) time.Duration {
	if !(ms >= 1 && ms <= math.MaxInt32) {
		if ms > math.MaxInt32 && log != nil {
			log.Warn("delay does not fit into a 32-bit signed integer; set to 1 ms as Node.js does", "ms", ms)
		}
		ms = 1
	}
	return time.Duration(ms * float64(time.Millisecond))
}

// After runs fn once after d.
func (c *nodeClock) After(d time.Duration, fn func()) *clockTimer {
	return c.add(d, 0, fn)
}

// Every runs fn every d, the first time after d.
func (c *nodeClock) Every(d time.Duration, fn func()) *clockTimer {
	return c.add(d, d, fn)
}

func (c *nodeClock) add(d, every time.Duration, fn func()) *clockTimer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &clockTimer{c: c, at: time.Now().Add(d), seq: c.seq, every: every, fn: fn, idx: -1}
	if c.closed {
		return t
	}
	heap.Push(&c.h, t)
	if !c.started {
		c.started = true
		go c.run()
	}
	if t.idx == 0 {
		c.poke()
	}
	return t
}

func (c *nodeClock) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Stop cancels the timer; a nil or finished timer is ignored.
func (t *clockTimer) Stop() {
	if t == nil {
		return
	}
	c := t.c
	c.mu.Lock()
	if t.idx >= 0 {
		heap.Remove(&c.h, t.idx)
	}
	c.mu.Unlock()
}

// Close cancels every timer and ends the clock's goroutine.
func (c *nodeClock) Close() {
	c.mu.Lock()
	c.closed = true
	for _, t := range c.h {
		t.idx = -1
	}
	c.h = nil
	c.mu.Unlock()
	c.poke()
}

func (c *nodeClock) run() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return
		}
		wait := time.Hour
		if len(c.h) > 0 {
			wait = time.Until(c.h[0].at)
		}
		c.mu.Unlock()
		if wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-c.wake:
				if !timer.Stop() {
					<-timer.C
				}
				continue
			}
		}
		c.fire()
	}
}

// fire runs every due timer, each with the node's lock held.
func (c *nodeClock) fire() {
	c.lock.Lock()
	defer c.lock.Unlock()
	for {
		c.mu.Lock()
		if c.closed || len(c.h) == 0 {
			c.mu.Unlock()
			return
		}
		now := time.Now()
		t := c.h[0]
		if t.at.After(now) {
			c.mu.Unlock()
			return
		}
		if t.every > 0 {
			// Node.js re-arms an interval from when its callback runs.
			c.seq++
			t.at, t.seq = now.Add(t.every), c.seq
			heap.Fix(&c.h, 0)
		} else {
			heap.Pop(&c.h)
		}
		c.mu.Unlock()
		c.call(t.fn)
	}
}

// call runs a callback; a panic in it is logged, not a crash of the
// process, and the clock goes on.
func (c *nodeClock) call(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			slog.Error("timer callback panicked", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	fn()
}

type clockHeap []*clockTimer

func (h clockHeap) Len() int { return len(h) }
func (h clockHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h clockHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *clockHeap) Push(x any) {
	t := x.(*clockTimer)
	t.idx = len(*h)
	*h = append(*h, t)
}
func (h *clockHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.idx = -1
	return t
}
