package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sluicehq/sluice/runtime/flow"
	"github.com/sluicehq/sluice/runtime/node"
)

// adopt returns the running instance that in takes over from, when the
// deploy keeps it: same runtime id and type, its root not restarted. The
// new instance gets the old one's node value, context handle and stop
// channel, so the node never notices the deploy.
func (d *deployment) adopt(in *instance, root string) *instance {
	if d.prev == nil || d.restart == nil || d.restart[root] {
		return nil
	}
	o := d.prev.nodes[in.id]
	if o == nil || o.typ != in.typ || (o.node == nil) != (in.passthrough != nil || in.spec == nil) {
		return nil
	}
	in.prev = o
	in.h = o.h
	in.stopping = o.stopping
	in.status.Store(o.status.Load())
	return in.prev
}

// prepareAll readies every instance; ports (which have no node) take over
// from their old selves here.
func (d *deployment) prepareAll() {
	for _, in := range d.order {
		if in.prev == nil && in.node == nil {
			d.adopt(in, rootOf(in.alias, in.flow))
		}
		in.prepare()
	}
}

// Redeploy validates set and replaces what runs, by Node-RED's deployment
// type: DeployFull restarts every node; DeployNodes restarts the nodes that
// changed (config, wires of their own are updated in place); DeployFlows
// also restarts the nodes wired to a change. Kept nodes go on running with
// their timers, queues and context. An invalid set changes nothing.
func (e *Engine) Redeploy(set *flow.Set, creds map[string]map[string]string, typ string) error {
	switch typ {
	case "", DeployFull, DeployNodes, DeployFlows:
	default:
		return fmt.Errorf("unknown deployment type %q (full, flows or nodes)", typ)
	}
	ps := set.Validate(flow.ValidateOptions{Exclude: e.excludes()})
	if len(flow.Errors(ps)) > 0 {
		flow.SortProblems(ps, set)
		return &flow.LoadError{Problems: ps}
	}
	for _, p := range ps {
		e.log.Warn(p.Message, "node", p.ID, "type", p.Type, "property", p.Property, "code", p.Code)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	prev := e.cur
	d := e.newDeployment(set, creds)
	if prev != nil && (typ == DeployNodes || typ == DeployFlows) {
		df := DiffSets(prev.set, set, prev.creds, creds)
		if d.restart = df.restart(set, typ); d.restart != nil {
			d.prev = prev
			e.log.Debug("incremental deploy", "type", typ, "diff", df.String())
		}
	}
	d.build()
	if len(flow.Errors(d.problems)) > 0 {
		ps = append(ps, d.problems...)
		flow.SortProblems(ps, set)
		return &flow.LoadError{Problems: ps}
	}
	d.prepareAll()
	var kept []*instance
	adopted := map[*instance]bool{}
	for _, in := range d.order {
		if in.prev != nil {
			kept = append(kept, in)
			adopted[in.prev] = true
		}
	}
	// Kept nodes send along the new wires from now on; what reaches their
	// old instances moves over once the message in hand is done.
	for _, in := range kept {
		in.h.cur.Store(in)
		in.prev.succ = in
		close(in.prev.handover)
	}
	var stopErr error
	if prev != nil {
		var stop []*instance
		for _, o := range prev.order {
			if !adopted[o] {
				stop = append(stop, o)
			}
		}
		removed := func(o *instance) bool { _, still := d.nodes[o.id]; return !still }
		stopErr = e.stopInstances(context.Background(), stop, removed)
	}
	e.cur = d
	e.last, e.lastCreds = set, creds
	e.deploys.Add(1)
	e.state = "starting"
	keptSet := make(map[*instance]bool, len(kept))
	for _, in := range kept {
		keptSet[in] = true
	}
	var startErr []error
	startNodes := func() {
		for _, in := range d.order {
			if keptSet[in] || in.node == nil {
				continue
			}
			if s, ok := in.node.(node.Starter); ok {
				if err := s.Start(in.h); err != nil {
					in.log.Error("node failed to start", "err", err)
					startErr = append(startErr, fmt.Errorf("node %s (%s): %w", in.alias, in.typ, err))
				}
			}
		}
	}
	// Kept nodes may be sending already: a restarted node must be started
	// before its first message reaches it. A full deploy keeps the order
	// nodes have always seen (inboxes running before Start).
	if len(kept) > 0 {
		startNodes()
	}
	for _, in := range d.order {
		if !keptSet[in] {
			in.start()
		}
	}
	var wg sync.WaitGroup
	for _, in := range kept {
		wg.Add(1)
		go func(in, o *instance) {
			defer wg.Done()
			<-o.stopped
			in.in.Add(o.in.Load())
			in.out.Add(o.out.Load())
			in.errs.Add(o.errs.Load())
			in.start()
		}(in, in.prev)
		in.prev = nil // let the old deployment go
	}
	if !waitTimeout(&wg, e.opts.CloseTimeout) {
		e.log.Warn("kept nodes still busy with a message; they take over when done", "timeout", e.opts.CloseTimeout)
	}
	if len(kept) == 0 {
		startNodes()
	}
	active := make([]string, 0, len(d.order)+len(d.flows))
	for id := range d.flows {
		active = append(active, id)
	}
	for _, in := range d.order {
		// Clean keeps a node's context when its owner id is listed.
		active = append(active, in.alias, in.id)
	}
	if err := e.opts.Contexts.Clean(active); err != nil {
		e.log.Warn("context clean-up failed", "err", err)
	}
	e.state = "started"
	e.started = time.Now()
	e.events.publish(Event{Kind: "deploy"})
	e.log.Info("flows started", "type", typOr(typ), "nodes", len(d.order), "kept", len(kept), "flows", len(d.flows)-1)
	if stopErr != nil {
		e.log.Warn("some nodes did not stop cleanly", "err", stopErr)
	}
	return errors.Join(startErr...)
}

func typOr(t string) string {
	if t == "" {
		return DeployFull
	}
	return t
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// stopInstances signals the instances to stop, closes their nodes within
// the close timeout (removed tells a node it is gone for good, as
// Node-RED's close(removed) does) and waits for their loops.
func (e *Engine) stopInstances(ctx context.Context, list []*instance, removed func(*instance) bool) error {
	for _, in := range list {
		select {
		case <-in.stopping:
		default:
			close(in.stopping)
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, in := range list {
		c, ok := in.node.(node.Closer)
		if !ok {
			continue
		}
		wg.Add(1)
		go func(in *instance, c node.Closer) {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, e.opts.CloseTimeout)
			defer cancel()
			done := make(chan error, 1)
			go func() {
				defer func() {
					if r := recover(); r != nil {
						done <- fmt.Errorf("panic while closing: %v", r)
					}
				}()
				done <- c.Close(cctx, removed != nil && removed(in))
			}()
			select {
			case err := <-done:
				if err != nil {
					in.log.Error("node close failed", "err", err)
					mu.Lock()
					errs = append(errs, fmt.Errorf("node %s (%s): %w", in.alias, in.typ, err))
					mu.Unlock()
				}
			case <-cctx.Done():
				in.log.Error("node did not close in time; abandoned", "timeout", e.opts.CloseTimeout)
				mu.Lock()
				errs = append(errs, fmt.Errorf("node %s (%s) did not close within %s", in.alias, in.typ, e.opts.CloseTimeout))
				mu.Unlock()
			}
		}(in, c)
	}
	wg.Wait()
	for _, in := range list {
		if in.stopped != nil {
			<-in.stopped
		}
	}
	return errors.Join(errs...)
}

// Restart starts the last deployed flows again after Stop (Node-RED's
// POST /flows/state {"state":"start"}).
func (e *Engine) Restart() error {
	e.mu.Lock()
	set, creds, running := e.last, e.lastCreds, e.cur != nil
	e.mu.Unlock()
	if running {
		return nil
	}
	if set == nil {
		return errors.New("no flows have been deployed")
	}
	return e.Redeploy(set, creds, DeployFull)
}
