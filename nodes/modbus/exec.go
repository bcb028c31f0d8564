package modbus

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// inputNode is what the message-driven nodes share: a client, and requests
// running on their own goroutines so a slow device does not block the flow.
type inputNode struct {
	serverID string
	keep     bool
	emptyOn  bool
	delay    time.Duration // delayOnStart: inputs before it are dropped
	readyAt  time.Time

	bad    atomic.Bool // the status shows a failed request
	c      node.Ctx
	cl     *Client
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (n *inputNode) init(cfg *node.Config) {
	n.serverID = cfg.Str("server")
	n.keep = cfg.Bool("keepMsgProperties", false)
	n.emptyOn = cfg.Bool("emptyMsgOnFail", false)
	if cfg.Bool("delayOnStart", false) {
		d, err := cfg.Num("startDelayTime", 10)
		if err != nil || d <= 0 {
			d = 10
		}
		n.delay = time.Duration(d * float64(time.Second))
	}
}

func (n *inputNode) DeferDone() {}

func (n *inputNode) Concurrent() bool { return true }

func (n *inputNode) Start(c node.Ctx) error {
	n.c = c
	n.readyAt = time.Now().Add(n.delay)
	n.ctx, n.cancel = context.WithCancel(context.Background())
	cl, err := attach(c, n.serverID, "")
	if err != nil {
		c.Error(err, nil)
		return nil
	}
	n.cl = cl
	return nil
}

func (n *inputNode) Close(ctx context.Context, removed bool) error {
	if n.cancel != nil {
		n.cancel()
	}
	n.wg.Wait()
	if n.cl != nil {
		n.cl.unwatch(n.c.ID())
	}
	return nil
}

// exec sends r and answers m with the package's two output messages;
// value is the written data (writes) and is echoed in msg.input.
func (n *inputNode) exec(m *msg.Msg, r *request, value any, hasValue bool) error {
	if n.cl == nil {
		return fmt.Errorf("node %s: property \"server\": no modbus-client", n.c.ID())
	}
	if n.delay > 0 && time.Now().Before(n.readyAt) {
		// As the package does: the device gets its start-up time.
		n.c.Warn(fmt.Sprintf("input dropped: delayOnStart, ready in %v", time.Until(n.readyAt).Round(time.Millisecond)))
		n.c.Done(m, nil)
		return nil
	}
	topic := m.Value("topic")
	if topic == nil || topic == "" {
		topic = n.c.ID()
	}
	req := requestObject(topic, r, value, hasValue)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		pdu, err := n.cl.Do(n.ctx, r)
		if err != nil {
			err = wrap(err, "node %s: fc %d unit %d address %d quantity %d", n.c.ID(), r.fc, r.unit, r.address, r.quantity)
			n.bad.Store(true)
			failed(n.c, m, n.emptyOn, err)
			n.c.Done(m, err)
			return
		}
		if n.bad.Swap(false) {
			n.c.Status(stateStatus("connected", nil))
		}
		if r.fc <= 4 {
			values, resp := readResult(r.fc, pdu)
			n.c.SendPorts(outputs(m, n.keep, req, values, resp))
		} else {
			n.c.SendPorts(outputs(m, n.keep, req, msg.Clone(value), writeResult(r, pdu)))
		}
		n.c.Done(m, nil)
	}()
	return nil
}
