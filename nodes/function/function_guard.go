package function

import (
	"fmt"
	"math"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/dlclark/regexp2/v2"
	"github.com/dop251/goja"
)

// Runaway code must not take the process down or hold a node forever:
//
//   - time: a node's timeout (seconds; the functionTimeout setting when the
//     node has none) interrupts code that runs longer, in every entry into
//     the runtime (Node-RED only bounds the synchronous part of a message);
//   - regular expressions: goja runs the ones Go's regexp cannot (back
//     references, look-around) with regexp2, whose backtracking can be
//     exponential; every regexp2 match gives up after regexMatchTimeout
//     (process-wide: regexp2 has no per-pattern default), and the code then
//     gets an error (function_regexp.go);
//   - memory: goja has no heap limit, so a watchdog samples the Go heap
//     while code runs long and interrupts it when the heap has grown by more
//     than the limit (functionMemoryLimit setting, MB) since it started;
//   - recursion: the call stack is bounded (RangeError, as in V8).
//
// One watchdog goroutine serves every function node; it ticks only while
// some code has been running for a while, so short entries cost two mutex
// operations.

// regexMatchTimeout bounds one regexp2 match.
const regexMatchTimeout = time.Second

func init() {
	// regexp2 reads this when a pattern is compiled; set before any is.
	if regexp2.DefaultMatchTimeout == time.Duration(math.MaxInt64) {
		regexp2.DefaultMatchTimeout = regexMatchTimeout
	}
}

const (
	watchTick          = 5 * time.Millisecond
	defaultMemoryLimit = 256 << 20
)

// guard is one node's side of the watchdog.
type guard struct {
	mu       sync.Mutex
	vm       *goja.Runtime
	timeout  time.Duration
	memLimit uint64
	running  bool
	depth    int // entries nest when a Go callback calls back into the code
	since    time.Time
	seq      uint64
	// heap baseline for the current entry, taken when the watchdog first
	// sees it running long.
	baseSeq  uint64
	baseHeap uint64
}

// interrupt values: the error the interrupted code reports.
type interruptErr struct{ text string }

func (e *interruptErr) Error() string { return e.text }

func (n *fnNode) configureGuard() {
	g := &n.guard
	g.vm = n.vm
	g.timeout = n.timeout
	if g.timeout == 0 && n.c != nil {
		for _, name := range []string{"functionTimeout", "globalFunctionTimeout"} {
			if v, ok := n.c.Setting(name); ok {
				if f, ok := v.(float64); ok && f > 0 {
					g.timeout = time.Duration(f * float64(time.Second))
					break
				}
			}
		}
	}
	g.memLimit = defaultMemoryLimit
	if n.c != nil {
		if v, ok := n.c.Setting("functionMemoryLimit"); ok {
			if f, ok := v.(float64); ok && f > 0 {
				g.memLimit = uint64(f * (1 << 20))
			}
		}
	}
}

func (g *guard) start(n *fnNode) {
	n.configureGuard()
	watch.add(g)
}

func (g *guard) stop() { watch.remove(g) }

func (g *guard) begin() {
	g.mu.Lock()
	g.depth++
	if g.depth == 1 {
		g.running = true
		g.seq++
		g.since = time.Now()
	}
	g.mu.Unlock()
	watch.poke()
}

func (g *guard) end() {
	g.mu.Lock()
	g.depth--
	if g.depth == 0 {
		g.running = false
		g.vm.ClearInterrupt()
	}
	g.mu.Unlock()
}

// stopAll interrupts code running now (the node is stopping).
func (g *guard) stopAll() {
	g.mu.Lock()
	if g.running {
		g.vm.Interrupt(&interruptErr{"Function node stopped while its code was running"})
	}
	g.mu.Unlock()
}

// check is the watchdog's look at one node.
func (g *guard) check(now time.Time, heapNow func() uint64) (busy bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.running {
		return false
	}
	ran := now.Sub(g.since)
	if g.timeout > 0 && ran >= g.timeout {
		g.vm.Interrupt(&interruptErr{fmt.Sprintf("Script execution timed out after %dms", g.timeout.Milliseconds())})
		return true
	}
	if ran < 20*time.Millisecond {
		return true
	}
	h := heapNow()
	if g.baseSeq != g.seq {
		g.baseSeq, g.baseHeap = g.seq, h
		return true
	}
	if h > g.baseHeap && h-g.baseHeap > g.memLimit {
		g.vm.Interrupt(&interruptErr{fmt.Sprintf("Function node used more than %d MB of memory and was stopped", g.memLimit>>20)})
	}
	return true
}

// watchdog is the process-wide ticker.
type watchdog struct {
	mu     sync.Mutex
	guards map[*guard]struct{}
	wake   chan struct{}
	on     bool
}

var watch = &watchdog{guards: map[*guard]struct{}{}, wake: make(chan struct{}, 1)}

func (w *watchdog) add(g *guard) {
	w.mu.Lock()
	w.guards[g] = struct{}{}
	if !w.on {
		w.on = true
		go w.loop()
	}
	w.mu.Unlock()
}

func (w *watchdog) remove(g *guard) {
	w.mu.Lock()
	delete(w.guards, g)
	w.mu.Unlock()
}

// poke tells an idle watchdog that code started running.
func (w *watchdog) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *watchdog) loop() {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heapNow := func() uint64 {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			return sample[0].Value.Uint64()
		}
		return 0
	}
	t := time.NewTicker(watchTick)
	defer t.Stop()
	for {
		w.mu.Lock()
		if len(w.guards) == 0 {
			w.on = false
			w.mu.Unlock()
			return
		}
		list := make([]*guard, 0, len(w.guards))
		for g := range w.guards {
			list = append(list, g)
		}
		w.mu.Unlock()
		busy := false
		now := time.Now()
		var h uint64
		read := false
		lazyHeap := func() uint64 {
			if !read {
				h, read = heapNow(), true
			}
			return h
		}
		for _, g := range list {
			if g.check(now, lazyHeap) {
				busy = true
			}
		}
		if busy {
			<-t.C
			continue
		}
		// Nothing running: sleep until some code starts, checking now and
		// then whether the last node went away.
		select {
		case <-w.wake:
			<-t.C
		case <-time.After(time.Second):
		}
	}
}

// enter runs f inside the runtime under the watchdog.
func (n *fnNode) enter(f func() (goja.Value, error)) (v goja.Value, err error) {
	n.guard.begin()
	defer n.leave(&err)
	return f()
}

// leave ends an entry: a Go panic in a callback becomes an error, and the
// converted-later values are converted if they pile up.
func (n *fnNode) leave(err *error) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("function node %s: %v", n.id, p)
	}
	n.guard.end()
	if len(n.br.dirtyObjs)+len(n.br.dirtyArrs) > 1024 {
		n.br.flush()
	}
}

func isTimeout(err error) bool {
	_, ok := err.(*goja.InterruptedError)
	return ok
}
