package opcua

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/ua"
	"github.com/sluicehq/sluice/runtime/msg"
)

// monitorBatch bounds the items per CreateMonitoredItems call: servers
// limit the operations per request (node-opcua: 1000 by default).
const monitorBatch = 500

// monItem is one monitored node of a subscription.
type monItem struct {
	key      string // what the package keys its monitored items by
	id       *ua.NodeID
	topic    string
	interval float64 // sampling interval, ms
	queue    uint32
	filter   *ua.ExtensionObject
	event    bool
	fields   []string    // event fields, in the order of the select clauses
	base     *msg.Object // the subscribing message, copied on every change
	multiple bool        // topic "multiple": the payload is the whole DataValue

	handle uint32
	status ua.StatusCode // result of the last create
}

// subscription is one OPC UA subscription of a client node; it survives
// reconnects by re-creating itself and its items on every new session.
type subscription struct {
	ep       *Endpoint
	interval time.Duration
	data     func(it *monItem, dv *ua.DataValue)
	events   func(it *monItem, fields []*ua.Variant)
	failed   func(err error)      // an item or the subscription could not be created
	created  func(n int, bad int) // items monitored after a (re)create
	acquire  func(context.Context) error

	net sync.Mutex // serialises network operations (attach, add, close)

	mu       sync.Mutex
	items    map[string]*monItem
	byHandle map[uint32]*monItem
	next     uint32
	sub      *opcua.Subscription
	cl       *opcua.Client // the session sub lives in
	cancel   context.CancelFunc
	closed   bool
}

func newSubscription(ep *Endpoint, interval time.Duration) *subscription {
	s := &subscription{ep: ep, interval: interval, items: map[string]*monItem{}, byHandle: map[uint32]*monItem{}}
	return s
}

// start creates the subscription now when a session is up (so the first
// items' errors reach the subscribing message) and again on every new
// session of the endpoint.
func (s *subscription) start(ctx context.Context) {
	s.ep.onReconnect(s, s.attach)
	if cl, err := s.ep.client(ctx); err == nil {
		s.attach(cl)
	}
}

// has reports whether an item is already monitored under key.
func (s *subscription) has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.items[key]
	return ok
}

// add monitors new items now if a session is up, else on the next one.
func (s *subscription) add(ctx context.Context, items []*monItem) error {
	s.net.Lock()
	defer s.net.Unlock()
	s.mu.Lock()
	fresh := items[:0:0]
	for _, it := range items {
		if _, dup := s.items[it.key]; dup {
			continue
		}
		s.next++
		it.handle = s.next
		s.items[it.key] = it
		s.byHandle[it.handle] = it
		fresh = append(fresh, it)
	}
	sub := s.sub
	s.mu.Unlock()
	if len(fresh) == 0 || sub == nil {
		return nil // attach monitors them with the next session
	}
	return s.monitor(ctx, sub, fresh, false)
}

// remove stops monitoring the item under key.
func (s *subscription) remove(ctx context.Context, key string) bool {
	s.mu.Lock()
	it, ok := s.items[key]
	if ok {
		delete(s.items, key)
		delete(s.byHandle, it.handle)
	}
	sub := s.sub
	s.mu.Unlock()
	if !ok {
		return false
	}
	if sub != nil {
		s.net.Lock()
		_, _ = sub.Unmonitor(ctx, it.handle)
		s.net.Unlock()
	}
	return true
}

func (s *subscription) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}

func (s *subscription) attach(cl *opcua.Client) {
	s.net.Lock()
	defer s.net.Unlock()
	s.mu.Lock()
	if s.closed || (s.cl == cl && s.sub != nil) {
		s.mu.Unlock()
		return // closed, or already attached to this session
	}
	if s.cancel != nil {
		s.cancel() // the previous session's reader
	}
	rctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.sub = nil
	s.mu.Unlock()

	ctx, done := context.WithTimeout(rctx, 2*requestTimeout)
	defer done()
	ch := make(chan *opcua.PublishNotificationData, 64)
	ms := float64(s.interval / time.Millisecond)
	sub, err := cl.Subscribe(ctx, &opcua.SubscriptionParameters{
		Interval: s.interval, LifetimeCount: 600, MaxKeepAliveCount: 20,
		MaxNotificationsPerPublish: 10000, Priority: 10,
	}, ch)
	if err != nil {
		if s.failed != nil {
			s.failed(fmt.Errorf("create subscription (%v ms): %v", ms, err))
		}
		return
	}
	go s.read(rctx, ch)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = sub.Cancel(ctx)
		return
	}
	s.sub, s.cl = sub, cl
	all := make([]*monItem, 0, len(s.items))
	for _, it := range s.items {
		all = append(all, it)
	}
	s.mu.Unlock()
	_ = s.monitor(ctx, sub, all, true)
}

// monitor creates items in batches; items the server refuses are reported
// once each and stay registered (a later session may know them).
func (s *subscription) monitor(ctx context.Context, sub *opcua.Subscription, items []*monItem, report bool) error {
	bad := 0
	var first error
	for i := 0; i < len(items); i += monitorBatch {
		batch := items[i:min(i+monitorBatch, len(items))]
		reqs := make([]*ua.MonitoredItemCreateRequest, len(batch))
		for j, it := range batch {
			attr := ua.AttributeIDValue
			if it.event {
				attr = ua.AttributeIDEventNotifier
			}
			reqs[j] = &ua.MonitoredItemCreateRequest{
				ItemToMonitor:  &ua.ReadValueID{NodeID: it.id, AttributeID: attr, DataEncoding: &ua.QualifiedName{}},
				MonitoringMode: ua.MonitoringModeReporting,
				RequestedParameters: &ua.MonitoringParameters{
					ClientHandle: it.handle, SamplingInterval: it.interval, QueueSize: it.queue,
					DiscardOldest: true, Filter: it.filter,
				},
			}
			if reqs[j].RequestedParameters.Filter == nil {
				reqs[j].RequestedParameters.Filter = ua.NewExtensionObject(nil)
			}
		}
		res, err := sub.Monitor(ctx, ua.TimestampsToReturnBoth, reqs...)
		if err != nil {
			err = fmt.Errorf("monitor %d items: %v", len(batch), err)
			if report && s.failed != nil {
				s.failed(err)
			}
			return err
		}
		for j, r := range res.Results {
			if j >= len(batch) {
				break
			}
			batch[j].status = r.StatusCode
			if !isGood(r.StatusCode) {
				bad++
				err := fmt.Errorf("monitor %s: %s", nodeIDString(batch[j].id), statusText(r.StatusCode))
				if first == nil {
					first = err
				}
				if report && s.failed != nil {
					s.failed(err)
				}
			}
		}
	}
	if s.created != nil {
		s.created(len(items), bad)
	}
	return first
}

func (s *subscription) read(ctx context.Context, ch <-chan *opcua.PublishNotificationData) {
	// gopcua's publish loop, shared by every subscription of the session,
	// blocks on a full channel: keep draining it after we stop listening.
	defer drain(ch)
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-ch:
			if n == nil || n.Error != nil {
				continue
			}
			switch v := n.Value.(type) {
			case *ua.DataChangeNotification:
				for _, mi := range v.MonitoredItems {
					s.mu.Lock()
					it := s.byHandle[mi.ClientHandle]
					s.mu.Unlock()
					if it == nil || s.data == nil {
						continue
					}
					if s.acquire != nil && s.acquire(ctx) != nil {
						return
					}
					s.data(it, mi.Value)
				}
			case *ua.EventNotificationList:
				for _, ev := range v.Events {
					s.mu.Lock()
					it := s.byHandle[ev.ClientHandle]
					s.mu.Unlock()
					if it == nil || s.events == nil {
						continue
					}
					if s.acquire != nil && s.acquire(ctx) != nil {
						return
					}
					s.events(it, ev.EventFields)
				}
			}
		}
	}
}

func drain(ch <-chan *opcua.PublishNotificationData) {
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ch:
			t.Reset(10 * time.Second)
		case <-t.C:
			return
		}
	}
}

// close deletes the subscription on the server, if the session is up.
func (s *subscription) close(ctx context.Context) {
	s.ep.offConnect(s)
	s.mu.Lock()
	s.closed = true
	sub, cancel := s.sub, s.cancel
	s.sub, s.cl = nil, nil
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	if sub != nil {
		s.net.Lock()
		_ = sub.Cancel(ctx)
		s.net.Unlock()
	}
}
