package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/sluicehq/sluice/runtime/flow"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// delivery is one message on its way into a node.
type delivery struct {
	m *msg.Msg
}

// instance is a running node: its config, its node value, its wires and its
// inbox, served by one goroutine.
type instance struct {
	d     *deployment
	def   *flow.Def
	id    string // runtime id
	alias string // id in the flow file
	typ   string
	name  string
	flow  *flowScope
	group *groupScope
	spec  *node.Spec
	creds map[string]string
	path  string

	node     node.Node
	input    node.Inputter
	deferred bool
	// watched: complete nodes watch this node; its sends are all copies so
	// that the message it finishes with stays its own.
	watched bool
	wires   [][]*instance
	// passthrough instances (junctions, subflow ports) forward without a node.
	passthrough func(m *msg.Msg)
	// outPorts are a subflow instance's output ports (its in-port is the
	// instance itself).
	outPorts []*instance

	mu       sync.Mutex
	queue    []delivery
	spare    []delivery
	wake     chan struct{}
	stopping chan struct{}
	stopped  chan struct{}
	// h is what the node sees as its context; kept across deploys that
	// keep the node.
	h *handle
	// prev is the instance of the previous deployment this one takes over
	// from (same node value, same stop channel); nil for a fresh node.
	prev *instance
	// handover asks the loop to pass its queue to next and exit (a deploy
	// kept the node); next and closed are guarded by mu.
	handover chan struct{}
	next     *instance
	closed   bool
	// succ is the instance that takes over, set before handover closes.
	succ *instance

	nodeCtx node.Scope

	in, out, errs atomic.Int64
	status        atomic.Pointer[node.Status]
	log           *slog.Logger
}

// prepare makes the channels before the instance is reachable: a kept
// node may push to it before its loop starts.
func (in *instance) prepare() {
	in.wake = make(chan struct{}, 1)
	in.stopped = make(chan struct{})
	in.handover = make(chan struct{})
	if in.stopping == nil {
		in.stopping = make(chan struct{})
	}
	if in.h == nil {
		in.h = newHandle(in)
	}
}

func (in *instance) start() {
	go in.loop()
}

// push queues m for this node. It never blocks. An instance that handed
// over forwards; one that stopped drops the message.
func (in *instance) push(m *msg.Msg) {
	in.mu.Lock()
	if in.next != nil || in.closed {
		nx := in.next
		in.mu.Unlock()
		if nx != nil {
			nx.push(m)
		} else {
			m.Track.Done(errStopped)
		}
		return
	}
	in.d.pressure.add()
	in.queue = append(in.queue, delivery{m: m})
	first := len(in.queue) == 1
	in.mu.Unlock()
	if first {
		select {
		case in.wake <- struct{}{}:
		default:
		}
	}
}

func (in *instance) loop() {
	defer close(in.stopped)
	for {
		in.mu.Lock()
		if len(in.queue) == 0 {
			in.mu.Unlock()
			select {
			case <-in.wake:
				continue
			case <-in.stopping:
				in.drop()
				return
			case <-in.handover:
				in.handoff(nil)
				return
			}
		}
		// Swap buffers: senders fill the spare while this batch is handled.
		batch := in.queue
		in.queue = in.spare[:0]
		in.spare = nil
		in.mu.Unlock()
		for i := range batch {
			select {
			case <-in.stopping:
				for _, d := range batch[i:] {
					d.m.Track.Done(errStopped)
					in.d.pressure.sub()
				}
				in.drop()
				return
			case <-in.handover:
				in.handoff(batch[i:])
				return
			default:
			}
			in.receive(batch[i].m)
			in.d.pressure.sub()
			batch[i] = delivery{}
		}
		in.mu.Lock()
		in.spare = batch[:0]
		in.mu.Unlock()
	}
}

// handoff moves what is still queued, in order, to the successor; later
// pushes are forwarded there.
func (in *instance) handoff(rest []delivery) {
	nx := in.succ
	in.mu.Lock()
	q := append(append(make([]delivery, 0, len(rest)+len(in.queue)), rest...), in.queue...)
	in.queue = nil
	in.next = nx
	in.mu.Unlock()
	nx.mu.Lock()
	nx.queue = append(q, nx.queue...)
	nx.mu.Unlock()
}

var errStopped = errors.New("flows stopped before the message was handled")

// drop releases whatever is still queued when the node stops: the sources of
// those messages learn that they were not handled.
func (in *instance) drop() {
	in.mu.Lock()
	rest := in.queue
	in.queue = nil
	in.closed = true
	in.mu.Unlock()
	for _, d := range rest {
		d.m.Track.Done(errStopped)
		in.d.pressure.sub()
	}
}

func (in *instance) receive(m *msg.Msg) {
	in.in.Add(1)
	if hooks := in.d.eng.hooks.Load(); hooks != nil {
		for _, h := range *hooks {
			h(in.id, m)
		}
	}
	if in.passthrough != nil {
		in.passthrough(m)
		m.Track.Done(nil)
		return
	}
	if in.input == nil {
		m.Track.Done(nil)
		return
	}
	err := in.safeInput(m)
	if !in.deferred {
		in.Done(m, err)
	} else if err != nil {
		in.Error(err, m)
	}
}

func (in *instance) safeInput(m *msg.Msg) (err error) {
	defer func() {
		if r := recover(); r != nil {
			in.log.Error("node panicked", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("%v", r)
		}
	}()
	return in.input.Input(in.h, m)
}

// sendAll delivers per output; the first delivery of one send call gets the
// message itself and every other delivery a deep clone, as Node-RED does.
// Every clone is made before anything is queued: once queued, the receiver
// may change the original on its own goroutine.
func (in *instance) sendAll(ports [][]*msg.Msg) {
	type hop struct {
		t *instance
		m *msg.Msg
	}
	var buf [8]hop
	hops := buf[:0]
	sent := false
	for p, ms := range ports {
		if p >= len(in.wires) {
			break
		}
		targets := in.wires[p]
		if len(targets) == 0 {
			continue
		}
		for _, m := range ms {
			if m == nil {
				continue
			}
			ensureID(m)
			for _, t := range targets {
				mm := m
				if sent || in.watched {
					mm = m.Clone()
				}
				sent = true
				hops = append(hops, hop{t, mm})
			}
		}
	}
	for _, h := range hops {
		h.m.Track.Add(1)
		in.out.Add(1)
		h.t.push(h.m)
	}
}

// ensureID gives a message without one a _msgid, as Node-RED's send does.
func ensureID(m *msg.Msg) {
	if !m.Has("_msgid") {
		m.Set("_msgid", msg.NewID())
	}
}

// --- node.Ctx ---

func (in *instance) ID() string    { return in.id }
func (in *instance) Alias() string { return in.alias }
func (in *instance) Type() string  { return in.typ }
func (in *instance) Name() string  { return in.name }
func (in *instance) Z() string     { return in.flow.id }
func (in *instance) Path() string  { return in.path }

func (in *instance) Send(m *msg.Msg) {
	if m == nil || len(in.wires) == 0 {
		return
	}
	targets := in.wires[0]
	ensureID(m)
	if len(targets) == 1 && !in.watched {
		// The common case: no clone, no allocation.
		m.Track.Add(1)
		in.out.Add(1)
		targets[0].push(m)
		return
	}
	in.sendAll([][]*msg.Msg{{m}})
}

func (in *instance) SendTo(port int, m *msg.Msg) {
	if port == 0 {
		in.Send(m)
		return
	}
	ports := make([][]*msg.Msg, port+1)
	ports[port] = []*msg.Msg{m}
	in.sendAll(ports)
}

func (in *instance) SendPorts(ports [][]*msg.Msg) { in.sendAll(ports) }

func (in *instance) Done(m *msg.Msg, err error) {
	if err != nil {
		in.Error(err, m)
	} else if m != nil {
		in.flow.handleComplete(in, m)
	}
	if m != nil {
		m.Track.Done(err)
	}
}

func (in *instance) Error(err error, m *msg.Msg) {
	in.errs.Add(1)
	in.log.Error(err.Error())
	in.sidebar(20, err.Error(), m)
	if m == nil {
		return
	}
	in.flow.handleError(in, err, m, in)
}

func (in *instance) Warn(text string) {
	in.log.Warn(text)
	in.sidebar(30, text, nil)
}

// sidebar shows a node's warning or error in the editor's debug sidebar,
// as Node-RED does (level 20 error, 30 warn).
func (in *instance) sidebar(level int, text string, m *msg.Msg) {
	ev := msg.ObjectOf("id", in.id, "z", in.flow.id, "_alias", in.alias, "path", in.path, "name", in.name, "level", float64(level), "msg", text, "format", "string")
	if m != nil {
		if t, ok := m.Get("topic"); ok {
			ev.Set("topic", t)
		}
	}
	in.d.eng.events.publish(Event{Kind: "debug", ID: in.id, Data: ev})
}

func (in *instance) Status(s node.Status) {
	st := s
	in.status.Store(&st)
	in.d.eng.events.publish(Event{Kind: "status", ID: in.id, Status: &st})
	in.flow.handleStatus(in, s, in)
}

func (in *instance) Log() *slog.Logger { return in.log }

func (in *instance) NodeContext() node.Scope   { return in.nodeCtx }
func (in *instance) FlowContext() node.Scope   { return in.flow.context() }
func (in *instance) GlobalContext() node.Scope { return in.d.eng.global() }

func (in *instance) Env(name string) (any, bool) { return in.d.env(in, name) }

func (in *instance) Credentials() map[string]string { return in.creds }

func (in *instance) ConfigNode(id string) (node.Node, bool) {
	t := in.flow.lookup(id)
	if t == nil || t.node == nil {
		return nil, false
	}
	return t.node, true
}

func (in *instance) NodeByID(id string) (node.Node, bool) { return in.ConfigNode(id) }

func (in *instance) Acquire(ctx context.Context) error {
	select {
	case <-in.stopping:
		return errStopped
	default:
	}
	if in.d.pressure.n.Load() < in.d.pressure.limit {
		return nil // room: the common case costs one atomic load
	}
	c, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-in.stopping:
			cancel()
		case <-c.Done():
		}
	}()
	return in.d.pressure.wait(c)
}

func (in *instance) Release() {}

func (in *instance) Inject(m *msg.Msg) {
	m.Track.Add(1)
	in.push(m)
}

func (in *instance) Stopping() <-chan struct{} { return in.stopping }

func (in *instance) Setting(name string) (any, bool) { return in.d.eng.setting(name) }

func (in *instance) Services() node.Services { return in.d.eng }

// DeliverTo sends m straight to another node's input (link nodes): a node
// of this flow scope first, then any flow.
func (in *instance) DeliverTo(id string, m *msg.Msg) bool {
	t := in.flow.lookup(id)
	if t == nil {
		return false
	}
	m.Track.Add(1)
	in.out.Add(1)
	t.push(m)
	return true
}

// FindNodes returns the runtime ids of nodes of a type whose id or name
// matches target (dynamic link call).
func (in *instance) FindNodes(typ, target string) []string {
	var out []string
	for _, t := range in.d.order {
		if t.typ == typ && (t.alias == target || t.id == target || t.name == target) {
			out = append(out, t.id)
		}
	}
	return out
}

// FlowOf returns the flow scope id of a node (link nodes check it).
func (in *instance) FlowOf(id string) (string, bool) {
	t := in.flow.lookup(id)
	if t == nil {
		return "", false
	}
	return t.flow.id, true
}
