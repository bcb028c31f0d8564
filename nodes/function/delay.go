package function

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type:     "delay",
		Category: "function",
		Color:    "#E6E0F8",
		Icon:     "timer.svg",
		Inputs:   1,
		Outputs:  1,
		OutputsOf: func(cfg *node.Config) int {
			if delayTwoOutputs(cfg) {
				return 2
			}
			return 1
		},
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "pauseType", Kind: node.KindString, Default: "delay", Required: true, Options: []string{"delay", "delayv", "random", "rate", "queue", "timed", "burst"}, Label: "Action"},
			{Name: "timeout", Kind: node.KindNumber, Default: "5", Required: true, Label: "Delay"},
			{Name: "timeoutUnits", Kind: node.KindString, Default: "seconds", Options: []string{"milliseconds", "seconds", "minutes", "hours", "days"}},
			{Name: "rate", Kind: node.KindNumber, Default: "1", Required: true, Label: "Rate"},
			{Name: "nbRateUnits", Kind: node.KindNumber, Default: "1"},
			{Name: "rateUnits", Kind: node.KindString, Default: "second", Options: []string{"second", "minute", "hour", "day"}},
			{Name: "randomFirst", Kind: node.KindNumber, Default: "1", Required: true},
			{Name: "randomLast", Kind: node.KindNumber, Default: "5", Required: true},
			{Name: "randomUnits", Kind: node.KindString, Default: "seconds", Options: []string{"milliseconds", "seconds", "minutes", "hours", "days"}},
			{Name: "drop", Kind: node.KindBool, Default: false, Label: "Drop intermediate messages"},
			{Name: "allowrate", Kind: node.KindBool, Default: false, Label: "Allow msg.rate to override the rate"},
			{Name: "outputs", Kind: node.KindNumber, Default: 1},
		},
		// Node-RED's node copies its name, so errors show "name": "".
		NameAlways: true,
		Help:       delayHelp,
		New:        newDelay,
	})
}

const delayHelp = `Delays each message, or limits the rate at which messages pass.

**Delay** modes hold every message for a fixed time, a random time between two limits, or
the time in ` + "`msg.delay`" + ` (milliseconds). ` + "`msg.reset`" + ` drops every held
message; ` + "`msg.flush`" + ` sends them at once (or only the first *n* when it is a number).

**Rate limit** modes let one message through per interval:
- *All messages*: queue the others and send them one per interval, or drop them (optionally
  sending dropped messages on a second output). ` + "`msg.rate`" + ` can set the interval when allowed;
  ` + "`msg.toFront`" + ` queues a message first.
- *For each msg.topic*: keep only the latest message of each topic and send one per interval
  (or all topics at once per interval).
- *Burst*: let up to *rate* messages through per time window, drop the rest.

A held message counts as in flight until it is sent or dropped.`

// delayTwoOutputs is Node-RED's strict node.outputs === 2: only the number.
func delayTwoOutputs(cfg *node.Config) bool {
	v, ok := cfg.Raw.Value("outputs").(float64)
	return ok && v == 2
}

var (
	errDelayTooMany = errors.New("too many pending messages in delay node")
	errDelayStopped = errors.New("delay node stopped while holding the message")
)

// unitMs is the length of a time unit in milliseconds, seconds by default.
func unitMs(unit string) float64 {
	switch unit {
	case "milliseconds":
		return 1
	case "minutes", "minute":
		return 60 * 1000
	case "hours", "hour":
		return 60 * 60 * 1000
	case "days", "day":
		return 24 * 60 * 60 * 1000
	}
	return 1000
}

type delayNode struct {
	mode      string
	timeout   float64 // ms, delay and delayv
	first     float64 // ms, random
	diff      float64
	fixedRate float64 // ms between messages
	timer     float64 // ms, the burst window
	burst     any     // the rate property as written, compared as JavaScript does
	drop      bool
	allowrate bool
	two       bool

	mu    sync.Mutex
	clock *nodeClock
	c     node.Ctx

	// delay, delayv, random: the held messages in arrival order.
	pending []*delayHeld
	// rate, queue, timed: the queue, and the interval draining it (nil when
	// not running).
	buffer   []delayEntry
	interval *clockTimer
	rate     any // the current interval; msg.rate may set it to any value
	lastSent time.Time
	sentOnce bool
	busy     *clockTimer // pending depth report
	// burst
	inflight    int
	burstTimers []*clockTimer
	closed      bool
}

// delayHeld is a message waiting for its own timer.
type delayHeld struct {
	m *msg.Msg
	t *clockTimer
}

// delayEntry is a queued message: m is what is sent, done what finishes
// (the same message unless it had to be copied).
type delayEntry struct {
	m, done *msg.Msg
}

func newDelay(cfg *node.Config) (node.Node, error) {
	n := &delayNode{
		mode:      cfg.Str("pauseType"),
		burst:     cfg.Get("rate"),
		drop:      msg.Truthy(cfg.Get("drop")),
		allowrate: msg.Truthy(cfg.Get("allowrate")),
		two:       delayTwoOutputs(cfg),
	}
	switch n.mode {
	case "delay", "delayv", "random", "rate", "queue", "timed", "burst":
	default:
		return nil, node.BadProp("pauseType", cfg.Get("pauseType"), `must be one of "delay", "delayv", "random", "rate", "queue", "timed", "burst"`)
	}
	num := func(name string) float64 { return msg.ToNumber(cfg.Get(name)) }
	n.timeout = num("timeout") * unitMs(cfg.Str("timeoutUnits"))
	rateUnit := unitMs(cfg.Str("rateUnits") + "s")
	nb := num("nbRateUnits")
	n.fixedRate = rateUnit / num("rate")
	n.timer = nb * rateUnit
	if nb > 0 {
		n.fixedRate *= nb
	}
	n.first = num("randomFirst") * unitMs(cfg.Str("randomUnits"))
	n.diff = num("randomLast")*unitMs(cfg.Str("randomUnits")) - n.first
	n.rate = n.fixedRate
	// Node-RED refuses these in its editor; a flow file can still hold
	// them, and a delay that is not a number would pass messages on at once.
	switch n.mode {
	case "delay":
		if math.IsNaN(n.timeout) || n.timeout < 0 {
			return nil, node.BadProp("timeout", cfg.Get("timeout"), "not a delay (a number ≥ 0)")
		}
	case "rate", "queue", "timed", "burst":
		if r := num("rate"); math.IsNaN(r) || r < 0 {
			return nil, node.BadProp("rate", cfg.Get("rate"), "not a rate (a number ≥ 0)")
		}
	}
	n.clock = newNodeClock(&n.mu)
	return n, nil
}

func (n *delayNode) DeferDone() {}

func (n *delayNode) Start(c node.Ctx) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.c = c
	switch n.mode {
	case "queue", "timed":
		n.interval = n.clock.Every(n.rateDelay(), n.tickTopics)
	case "burst":
		c.Status(node.Status{Fill: "green", Shape: "ring"})
	}
	return nil
}

func (n *delayNode) rateDelay() time.Duration {
	var log *slog.Logger
	if n.c != nil {
		log = n.c.Log()
	}
	return jsDelay(msg.ToNumber(n.rate), log)
}

func (n *delayNode) Input(c node.Ctx, m *msg.Msg) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.c = c
	if n.closed {
		m.Track.Done(errDelayStopped)
		return nil
	}
	switch n.mode {
	case "delay", "delayv", "random":
		n.inputDelay(c, m)
		return nil
	case "rate":
		return n.inputRate(c, m)
	case "burst":
		n.inputBurst(c, m)
		return nil
	}
	return n.inputTopics(c, m)
}

// --- delay, delayv, random ---

func (n *delayNode) inputDelay(c node.Ctx, m *msg.Msg) {
	var wait float64
	switch n.mode {
	case "delay":
		wait = n.timeout
	case "delayv":
		wait = n.timeout
		if v, ok := m.Get("delay"); ok {
			if d := jsParseFloat(v); !math.IsNaN(d) {
				wait = d
			}
		}
		if wait < 0 {
			wait = 0
		}
	case "random":
		wait = n.first + n.diff*rand.Float64()
	}
	// A message that is nothing but msg.flush only flushes.
	flushOnly := m.Len() == 2 && m.Has("flush")
	if !flushOnly {
		h := &delayHeld{m: m}
		h.t = n.clock.After(jsDelay(wait, c.Log()), func() { n.release(h) })
		n.pending = append(n.pending, h)
	}
	_, reset := m.Get("reset")
	flush, hasFlush := m.Get("flush")
	if reset {
		n.clearPending(true)
	}
	if hasFlush && (n.mode != "delay" || !reset) {
		n.flushPending(flush)
	}
	if flushOnly {
		c.Done(m, nil)
	}
	switch {
	case n.mode == "delay" && (reset || hasFlush):
	case n.mode == "delay" && n.timeout > 1000,
		n.mode == "delayv" && wait >= 0,
		n.mode == "random" && n.timeout >= 1000:
		n.statusCount(len(n.pending))
	}
}

// release sends a held message when its time has come (or a flush says so).
func (n *delayNode) release(h *delayHeld) {
	for i, p := range n.pending {
		if p == h {
			n.pending = append(n.pending[:i], n.pending[i+1:]...)
			break
		}
	}
	switch {
	case n.mode == "delay" && n.timeout > 1000:
		n.statusCount(len(n.pending))
	case n.mode == "delayv" && len(n.pending) == 0:
		n.c.Status(node.Status{})
	}
	n.c.Send(h.m)
	if n.mode == "delayv" || (n.mode == "random" && n.timeout >= 1000) {
		n.statusCount(len(n.pending))
	}
	n.c.Done(h.m, nil)
}

func (n *delayNode) clearPending(report bool) {
	for _, h := range n.pending {
		h.t.Stop()
		n.c.Done(h.m, nil)
	}
	n.pending = nil
	if report {
		n.c.Status(node.Status{Fill: "blue", Shape: "ring", Text: "0"})
	}
}

// flushPending sends the held messages now: all of them, or the first
// Math.floor(flush) when msg.flush is a number.
func (n *delayNode) flushPending(flush any) {
	count := float64(len(n.pending))
	if f, ok := flush.(float64); ok {
		count = math.Min(math.Floor(f), count)
	}
	for i := 0.0; i < count; i++ {
		h := n.pending[0]
		h.t.Stop()
		n.release(h)
	}
	n.statusCount(len(n.pending))
}

func (n *delayNode) statusCount(k int) {
	n.c.Status(node.Status{Fill: "blue", Shape: "dot", Text: strconv.Itoa(k)})
}

// --- rate limit, all messages ---

// rateOverride is msg.rate when the node lets it set the interval.
func (n *delayNode) rateOverride(m *msg.Msg) (any, bool) {
	if !n.allowrate {
		return nil, false
	}
	v, ok := m.Get("rate")
	if !ok || math.IsNaN(jsParseFloat(v)) {
		return nil, false
	}
	return v, true
}

func (n *delayNode) inputRate(c node.Ctx, m *msg.Msg) error {
	_, reset := m.Get("reset")
	flush, hasFlush := m.Get("flush")
	// finished: m has been finished, or a queue entry will finish it.
	finished := false
	if !n.drop {
		queued := m
		if hasFlush {
			// Node-RED queues a copy without msg.flush.
			queued = m.Clone()
			queued.Delete("flush")
		}
		held := false
		if queued.Len() > 1 {
			if n.interval != nil {
				if r, ok := n.rateOverride(queued); ok && !jsStrictEqual(n.rate, r) {
					n.rate = r
					n.interval.Stop()
					n.interval = n.clock.Every(n.rateDelay(), n.drain)
				}
				if max := delayMaxKept(c); max > 0 && len(n.buffer) >= max {
					for _, e := range n.buffer {
						e.done.Track.Done(errDelayTooMany)
					}
					n.buffer = nil
					c.Done(m, errDelayTooMany)
					finished = true
				} else {
					e := delayEntry{m: queued, done: m}
					if m.Value("toFront") == true {
						n.buffer = append([]delayEntry{e}, n.buffer...)
					} else {
						n.buffer = append(n.buffer, e)
					}
					held = true
					n.reportDepth()
				}
			} else {
				if r, ok := n.rateOverride(queued); ok {
					n.rate = r
				}
				if reset {
					if hasFlush {
						n.buffer = append(n.buffer, delayEntry{m: queued, done: m})
						held = true
					}
				} else {
					c.Send(queued)
				}
				n.reportDepth()
				n.interval = n.clock.Every(n.rateDelay(), n.drain)
			}
		}
		if hasFlush {
			count := float64(len(n.buffer))
			if f, ok := flush.(float64); ok {
				count = math.Min(math.Floor(f), count)
			}
			if count == 0 {
				n.interval.Stop()
				n.interval = nil
			} else {
				for ; count > 0; count-- {
					e := n.buffer[0]
					n.buffer = n.buffer[1:]
					e.m.Delete("flush")
					e.m.Delete("reset")
					n.sendEntry(e, 1)
				}
				n.interval.Stop()
				n.interval = n.clock.Every(n.rateDelay(), n.drain)
			}
			n.statusCount(len(n.buffer))
		}
		if held {
			finished = true
		} else if !finished {
			defer c.Done(m, nil)
			finished = true
		}
	} else if !reset {
		if r, ok := n.rateOverride(m); ok {
			n.rate = r
		}
		now := time.Now()
		switch {
		case !n.sentOnce:
			n.sentOnce, n.lastSent = true, now
			c.Send(m)
		case float64(now.Sub(n.lastSent)) > msg.ToNumber(n.rate)*float64(time.Millisecond):
			n.lastSent = now
			c.Send(m)
		case n.two:
			c.SendTo(1, m)
		}
		defer c.Done(m, nil)
		finished = true
	}
	if reset {
		if v, ok := m.Get("flush"); !ok || msg.IsUndefined(v) {
			n.interval.Stop()
			n.interval = nil
			n.sentOnce = false
		}
		for _, e := range n.buffer {
			// Node-RED forgets them without finishing them.
			e.done.Track.Done(nil)
		}
		n.buffer = nil
		n.rate = n.fixedRate
		n.c.Status(node.Status{Fill: "blue", Shape: "ring", Text: "0"})
		if !finished {
			c.Done(m, nil)
		}
	}
	return nil
}

// sendEntry sends a queued message that has more than min properties
// besides _msgid; Node-RED silently forgets the others.
func (n *delayNode) sendEntry(e delayEntry, min int) {
	if e.m.Len() > min {
		n.c.Send(e.m)
		n.c.Done(e.done, nil)
		return
	}
	e.done.Track.Done(nil)
}

// drain is the rate limiter's interval: one message per tick; a tick that
// finds the queue empty stops the interval.
func (n *delayNode) drain() {
	if len(n.buffer) == 0 {
		n.interval.Stop()
		n.interval = nil
	} else {
		e := n.buffer[0]
		n.buffer = n.buffer[1:]
		n.sendEntry(e, 1)
	}
	n.reportDepth()
}

// reportDepth shows the queue length at most every half second.
func (n *delayNode) reportDepth() {
	if n.busy != nil {
		return
	}
	n.busy = n.clock.After(500*time.Millisecond, func() {
		n.busy = nil
		n.statusCount(len(n.buffer))
	})
}

func delayMaxKept(c node.Ctx) int {
	if v, ok := c.Setting("nodeMessageBufferMaxLength"); ok {
		if f, ok := msg.Num(v); ok && f > 0 {
			return int(f)
		}
	}
	return 0
}

// --- burst ---

func (n *delayNode) inputBurst(c node.Ctx, m *msg.Msg) {
	defer c.Done(m, nil)
	if m.Has("reset") {
		for _, t := range n.burstTimers {
			t.Stop()
		}
		n.burstTimers = nil
		n.inflight = 0
		c.Status(node.Status{Fill: "green", Shape: "ring"})
		return
	}
	if jsLT(float64(n.inflight), n.burst) {
		n.inflight++
		c.Send(m)
		i := n.inflight - 1
		for len(n.burstTimers) <= i {
			n.burstTimers = append(n.burstTimers, nil)
		}
		// Node-RED keeps one handle per slot; an older timer in the slot
		// still runs, it just cannot be cancelled by a reset any more.
		n.burstTimers[i] = n.clock.After(jsDelay(n.timer, c.Log()), func() {
			if looseEqual(float64(n.inflight), n.burst) {
				n.c.Status(node.Status{Fill: "green", Shape: "ring"})
			}
			n.inflight--
		})
		return
	}
	if n.two {
		c.SendTo(1, m)
	}
	c.Status(node.Status{Fill: "red", Shape: "dot"})
}

// --- rate limit per topic ---

func (n *delayNode) inputTopics(c node.Ctx, m *msg.Msg) error {
	if r, ok := n.rateOverride(m); ok && !jsStrictEqual(n.rate, r) {
		n.rate = r
		n.interval.Stop()
		// Node-RED switches to the all-messages drain here.
		n.interval = n.clock.Every(n.rateDelay(), n.drain)
	}
	if !m.Has("topic") {
		m.Set("topic", "_none_")
	}
	topic := m.Value("topic")
	hit := false
	for i, e := range n.buffer {
		if jsStrictEqual(topic, e.m.Value("topic")) {
			if n.two {
				c.SendTo(1, e.m)
			}
			c.Done(e.done, nil)
			n.buffer[i] = delayEntry{m: m, done: m}
			hit = true
			break
		}
	}
	if !hit {
		n.buffer = append(n.buffer, delayEntry{m: m, done: m})
		n.reportDepth()
	}
	if flush, ok := m.Get("flush"); ok {
		count := float64(len(n.buffer))
		if f, ok := flush.(float64); ok {
			// Math.min(Math.floor(msg.flush, len)): the queue length is
			// lost in Node-RED's brackets, so the count is not capped.
			count = math.Floor(f)
		}
		for ; count > 0; count-- {
			if len(n.buffer) == 0 {
				return &TypeError{Msg: "Cannot read properties of undefined (reading 'msg')"}
			}
			e := n.buffer[0]
			n.buffer = n.buffer[1:]
			e.m.Delete("flush")
			e.m.Delete("reset")
			n.sendEntry(e, 2)
		}
		c.Status(node.Status{})
	}
	if m.Has("reset") {
		for _, e := range n.buffer {
			c.Done(e.done, nil)
		}
		n.buffer = nil
		n.rate = n.fixedRate
		c.Status(node.Status{Text: "reset"})
	}
	return nil
}

// tickTopics is the per-topic interval: the oldest topic's message, or
// every queued message in "timed" mode.
func (n *delayNode) tickTopics() {
	if n.c == nil {
		return
	}
	if n.mode == "queue" {
		if len(n.buffer) > 0 {
			e := n.buffer[0]
			n.buffer = n.buffer[1:]
			n.c.Send(e.m)
			n.c.Done(e.done, nil)
		}
	} else {
		for len(n.buffer) > 0 {
			e := n.buffer[0]
			n.buffer = n.buffer[1:]
			n.c.Send(e.m)
			n.c.Done(e.done, nil)
		}
	}
	n.reportDepth()
}

// Close drops what is held: their sources learn that they were not sent.
func (n *delayNode) Close(ctx context.Context, removed bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = true
	n.clock.Close()
	for _, h := range n.pending {
		h.m.Track.Done(errDelayStopped)
	}
	for _, e := range n.buffer {
		e.done.Track.Done(errDelayStopped)
	}
	n.pending, n.buffer, n.burstTimers = nil, nil, nil
	n.interval, n.busy = nil, nil
	if n.c != nil {
		n.c.Status(node.Status{})
	}
	return nil
}
