package function

import (
	"container/heap"
	"errors"
	"time"

	"github.com/dop251/goja"

	"github.com/sluicehq/sluice/runtime/msg"
)

// Timers run in due order (then creation order, as Node does) on one
// time.Timer per node, taking the node's lock like every other entry into
// the runtime. Stopping the node clears them, as Node-RED's function node
// does.

type timerEntry struct {
	id       int64
	when     time.Time
	seq      uint64
	fn       goja.Callable
	args     []goja.Value
	interval time.Duration // > 0 for setInterval
	index    int
}

type timerHeap []*timerEntry

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].when.Equal(h[j].when) {
		return h[i].seq < h[j].seq
	}
	return h[i].when.Before(h[j].when)
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	e := x.(*timerEntry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.index = -1
	return e
}

type timerQueue struct {
	h      timerHeap
	byID   map[int64]*timerEntry
	nextID int64
	seq    uint64
	t      *time.Timer
}

// maxTimeout is Node's largest delay; larger or invalid ones become 1 ms.
const maxTimeout = 2147483647

func delayOf(v goja.Value) time.Duration {
	ms := number(v)
	if !(ms >= 1 && ms <= maxTimeout) {
		ms = 1
	}
	return time.Duration(ms * float64(time.Millisecond))
}

func (n *fnNode) addTimer(fn goja.Callable, delay time.Duration, args []goja.Value, repeat bool) int64 {
	q := &n.timers
	if q.byID == nil {
		q.byID = map[int64]*timerEntry{}
	}
	q.nextID++
	q.seq++
	e := &timerEntry{id: q.nextID, when: time.Now().Add(delay), seq: q.seq, fn: fn, args: args}
	if repeat {
		e.interval = delay
	}
	q.byID[e.id] = e
	heap.Push(&q.h, e)
	n.armTimers()
	return e.id
}

func (n *fnNode) cancelTimer(id int64) {
	q := &n.timers
	if e, ok := q.byID[id]; ok {
		delete(q.byID, id)
		if e.index >= 0 {
			heap.Remove(&q.h, e.index)
		}
	}
}

// armTimers points the node's time.Timer at the earliest timer.
func (n *fnNode) armTimers() {
	q := &n.timers
	if len(q.h) == 0 {
		if q.t != nil {
			q.t.Stop()
		}
		return
	}
	d := time.Until(q.h[0].when)
	if q.t == nil {
		q.t = time.AfterFunc(d, n.fireTimers)
		return
	}
	q.t.Reset(d)
}

func (n *fnNode) fireTimers() {
	n.mu.Lock()
	defer n.mu.Unlock()
	q := &n.timers
	now := time.Now()
	for len(q.h) > 0 && !q.h[0].when.After(now) {
		e := heap.Pop(&q.h).(*timerEntry)
		if e.interval > 0 {
			q.seq++
			e.when = e.when.Add(e.interval)
			if e.when.Before(now) {
				e.when = now.Add(e.interval)
			}
			e.seq = q.seq
			heap.Push(&q.h, e)
		} else {
			delete(q.byID, e.id)
		}
		_, err := n.enter(func() (goja.Value, error) { return e.fn(goja.Undefined(), e.args...) })
		if err != nil {
			// Node-RED reports errors thrown by timer callbacks against an
			// empty message, so catch nodes see them.
			n.br.flush()
			n.c.Error(n.errorOf(err), msg.Wrap(msg.NewObject(1)))
		}
	}
	n.armTimers()
}

// clear drops every timer (the node is stopping).
func (q *timerQueue) clear() {
	if q.t != nil {
		q.t.Stop()
	}
	q.h = nil
	clear(q.byID)
}

func (n *fnNode) setTimers() {
	vm := n.vm
	mk := func(repeat bool) func(goja.FunctionCall) goja.Value {
		return func(c goja.FunctionCall) goja.Value {
			fn, ok := goja.AssertFunction(c.Argument(0))
			if !ok {
				panic(vm.NewTypeError(`The "callback" argument must be of type function. Received ` + n.inspect(c.Argument(0))))
			}
			var args []goja.Value
			if len(c.Arguments) > 2 {
				args = append(args, c.Arguments[2:]...)
			}
			return vm.ToValue(n.addTimer(fn, delayOf(c.Argument(1)), args, repeat))
		}
	}
	cancel := func(c goja.FunctionCall) goja.Value {
		if a := c.Argument(0); a.ExportType() == tInt64 || a.ExportType() == tFloat64 {
			n.cancelTimer(a.ToInteger())
		}
		return goja.Undefined()
	}
	f, err := vm.RunProgram(timersProg())
	if err != nil {
		panic(errors.New("function timers: " + err.Error()))
	}
	install, _ := goja.AssertFunction(f)
	_, err = install(goja.Undefined(), vm.GlobalObject(), vm.ToValue(mk(false)), vm.ToValue(mk(true)), vm.ToValue(cancel))
	if err != nil {
		panic(errors.New("function timers: " + err.Error()))
	}
}

// timersJS gives setTimeout and setInterval Node's Timeout objects (ref,
// unref, hasRef, refresh, and a number when converted).
const timersJS = `(function(g, add, addRepeat, cancel) {
	const ids = new WeakMap();
	class Timeout {
		ref() { return this; }
		unref() { return this; }
		hasRef() { return true; }
		[Symbol.toPrimitive]() { return ids.get(this); }
	}
	function make(id) { const t = new Timeout(); ids.set(t, id); return t; }
	function idOf(t) {
		if (t instanceof Timeout) { return ids.get(t); }
		const n = Number(t);
		return Number.isInteger(n) ? n : undefined;
	}
	g.setTimeout = function setTimeout(fn, ms, ...args) { return make(add(fn, ms, ...args)); };
	g.setInterval = function setInterval(fn, ms, ...args) { return make(addRepeat(fn, ms, ...args)); };
	g.clearTimeout = function clearTimeout(t) { const id = idOf(t); if (id !== undefined) { cancel(id); } };
	g.clearInterval = function clearInterval(t) { const id = idOf(t); if (id !== undefined) { cancel(id); } };
})`
