// Package engine runs a flow set: it builds node instances from a parsed
// flow file, wires them, moves messages between their goroutines, routes
// errors, status and completion, and stops them within a deadline.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/runtime/flow"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// Settings is the read side of the runtime settings.
type Settings interface {
	Get(name string) (any, bool)
}

// Contexts gives node, flow and global context scopes.
type Contexts interface {
	Scope(scope string) node.Scope
	// FlowScope is a flow's context whose "$parent." keys reach parent's.
	FlowScope(id, parent string) node.Scope
	// Clean drops the context of nodes and flows that no longer exist.
	Clean(active []string) error
	Delete(scope string) error
	Close() error
}

// Options configure an engine.
type Options struct {
	UserDir  string
	Logger   *slog.Logger
	Settings Settings
	Contexts Contexts
	// Exclude is the deny list of node types.
	Exclude []string
	// MaxInflight bounds the messages queued in inboxes before sources wait.
	MaxInflight int
	// Router serves the routes of http in and websocket nodes; nil gives the
	// engine a router of its own (see Routes).
	Router node.Router
	// CloseTimeout bounds how long a node may take to close.
	CloseTimeout time.Duration
}

// Engine runs one flow set at a time and replaces it on deploy.
type Engine struct {
	opts     Options
	log      *slog.Logger
	pressure *pressure
	events   *events
	hooks    atomic.Pointer[[]func(string, *msg.Msg)]
	router   node.Router

	mu  sync.Mutex
	cur *deployment
	// last is the last set deployed, for Restart after Stop.
	last      *flow.Set
	lastCreds map[string]map[string]string
	deploys   atomic.Int64
	started   time.Time
	state     string
}

// New returns an engine with nothing deployed.
func New(opts Options) (*Engine, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.CloseTimeout == 0 {
		opts.CloseTimeout = 15 * time.Second
	}
	e := &Engine{opts: opts, log: opts.Logger, events: newEvents(), state: "stopped"}
	limit := opts.MaxInflight
	if limit == 0 && opts.Settings != nil {
		if v, ok := opts.Settings.Get("maxInflight"); ok {
			if f, ok := msg.Num(v); ok {
				limit = int(f)
			}
		}
	}
	e.pressure = newPressure(limit)
	if e.opts.Contexts == nil {
		c, err := defaultContexts(opts)
		if err != nil {
			return nil, err
		}
		e.opts.Contexts = c
	}
	e.router = opts.Router
	if e.router == nil {
		e.router = NewRouter()
	}
	return e, nil
}

// OnReceive registers a hook called when a message arrives at a node, before
// the node handles it (Node-RED's onReceive hook). The hook must not modify
// the message.
func (e *Engine) OnReceive(h func(nodeID string, m *msg.Msg)) {
	for {
		old := e.hooks.Load()
		var hs []func(string, *msg.Msg)
		if old != nil {
			hs = append(hs, *old...)
		}
		hs = append(hs, h)
		if e.hooks.CompareAndSwap(old, &hs) {
			return
		}
	}
}

func (e *Engine) setting(name string) (any, bool) {
	if e.opts.Settings == nil {
		return nil, false
	}
	return e.opts.Settings.Get(name)
}

func (e *Engine) global() node.Scope { return e.opts.Contexts.Scope("global") }

func (e *Engine) flowContext(id, parent string) node.Scope {
	return e.opts.Contexts.FlowScope(id, parent)
}

func (e *Engine) nodeContext(id, flowID string) node.Scope {
	return e.opts.Contexts.Scope(id + ":" + flowID)
}

// HTTP is the router of http in and websocket nodes (node.Services).
func (e *Engine) HTTP() node.Router { return e.router }

// Publish sends a runtime event (debug messages, notifications) to
// subscribers such as the editor (node.Services).
func (e *Engine) Publish(kind, nodeID string, data any) {
	e.events.publish(Event{Kind: kind, ID: nodeID, Data: data})
}

// Subscribe receives runtime events until cancel is called.
func (e *Engine) Subscribe(fn func(Event)) (cancel func()) { return e.events.subscribe(fn) }

func (e *Engine) excludes() map[string]bool {
	ex := map[string]bool{}
	for _, t := range e.opts.Exclude {
		ex[t] = true
	}
	if v, ok := e.setting("nodesExcludes"); ok {
		for _, t := range asList(v) {
			if s, ok := t.(string); ok {
				ex[s] = true
			}
		}
	}
	return ex
}

// Validate checks a flow set without running it: spec checks and a trial
// construction of every node. It returns every problem found.
func (e *Engine) Validate(set *flow.Set, creds map[string]map[string]string) []node.Problem {
	ps := set.Validate(flow.ValidateOptions{Exclude: e.excludes()})
	if len(flow.Errors(ps)) > 0 {
		flow.SortProblems(ps, set)
		return ps
	}
	d := e.newDeployment(set, creds)
	d.build()
	ps = append(ps, d.problems...)
	flow.SortProblems(ps, set)
	return ps
}

// Deploy parses, validates and starts a flow file, replacing what runs. An
// invalid flow set is refused with every problem and the running flows are
// left untouched.
func (e *Engine) Deploy(flowJSON []byte) error {
	set, err := flow.Parse(flowJSON)
	if err != nil {
		return err
	}
	return e.DeploySet(set, nil)
}

// DeploySet is Deploy for a parsed set with its credentials: a full
// deploy (see Redeploy).
func (e *Engine) DeploySet(set *flow.Set, creds map[string]map[string]string) error {
	return e.Redeploy(set, creds, DeployFull)
}

// Inject delivers m to a node's input as if a wire brought it.
func (e *Engine) Inject(nodeID string, m *msg.Msg) error {
	e.mu.Lock()
	d := e.cur
	e.mu.Unlock()
	if d == nil {
		return errors.New("no flows are running")
	}
	in, ok := d.nodes[nodeID]
	if !ok {
		return fmt.Errorf("no node %q is running", nodeID)
	}
	// Node-RED's receive() gives a message its id on arrival.
	ensureID(m)
	in.Inject(m)
	return nil
}

// Stop closes every node within the close timeout.
func (e *Engine) Stop(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var err error
	if e.cur != nil {
		e.state = "stopping"
		err = e.stopInstances(ctx, e.cur.order, nil)
		e.log.Info("flows stopped")
		e.cur = nil
	}
	e.state = "stopped"
	return err
}

// Close stops the flows and closes the context stores.
func (e *Engine) Close(ctx context.Context) error {
	err := e.Stop(ctx)
	return errors.Join(err, e.opts.Contexts.Close())
}

// NodeStats are a node's message counters.
type NodeStats struct {
	ID, Type, Name, Flow string
	In, Out, Errors      int64
	Queued               int
}

// Stats returns the counters of every running node, in id order.
func (e *Engine) Stats() []NodeStats {
	e.mu.Lock()
	d := e.cur
	e.mu.Unlock()
	if d == nil {
		return nil
	}
	out := make([]NodeStats, 0, len(d.order))
	for _, in := range d.order {
		if in.node == nil {
			continue
		}
		in.mu.Lock()
		q := len(in.queue)
		in.mu.Unlock()
		out = append(out, NodeStats{ID: in.id, Type: in.typ, Name: in.name, Flow: in.flow.id, In: in.in.Load(), Out: in.out.Load(), Errors: in.errs.Load(), Queued: q})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Health describes the running flows.
type Health struct {
	State   string       `json:"state"`
	Deploys int64        `json:"deploys"`
	Nodes   int          `json:"nodes"`
	Flows   []FlowHealth `json:"flows"`
	Since   string       `json:"since,omitempty"`
}

// FlowHealth is one tab's state.
type FlowHealth struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	State string `json:"state"`
	Nodes int    `json:"nodes"`
}

// Health reports the state of the flows (GET /healthz).
func (e *Engine) Health() Health {
	e.mu.Lock()
	defer e.mu.Unlock()
	h := Health{State: e.state, Deploys: e.deploys.Load(), Flows: []FlowHealth{}}
	if e.cur == nil {
		return h
	}
	h.Since = e.started.UTC().Format(time.RFC3339)
	count := map[string]int{}
	for _, in := range e.cur.order {
		if in.node == nil {
			continue
		}
		h.Nodes++
		f := in.flow
		for f.parent != nil {
			f = f.parent
		}
		count[f.id]++
	}
	for _, def := range e.cur.set.Defs {
		if def.Type != "tab" {
			continue
		}
		st := "started"
		if def.Disabled {
			st = "disabled"
		}
		h.Flows = append(h.Flows, FlowHealth{ID: def.ID, Name: def.Name, State: st, Nodes: count[def.ID]})
	}
	return h
}

// Inflight is the number of messages queued in node inboxes.
func (e *Engine) Inflight() int64 { return e.pressure.n.Load() }

// Acquire waits until the flows have room for another message, as sources
// do; drivers that push with Inject (tests, benchmarks, the admin API) use
// it to get the same backpressure.
func (e *Engine) Acquire(ctx context.Context) error { return e.pressure.wait(ctx) }
