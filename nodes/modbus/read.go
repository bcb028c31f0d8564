package modbus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "modbus-read", Category: "modbus", Color: "#E9967A", Icon: "modbus.png",
		Inputs: 0, Outputs: 2,
		Props: props(
			node.Prop{Name: "topic", Kind: node.KindString, Default: ""},
			node.Prop{Name: "logIOActivities", Kind: node.KindBool, Default: false},
			node.Prop{Name: "unitid", Kind: node.KindAny, Default: ""},
			node.Prop{Name: "dataType", Kind: node.KindString, Required: true, Options: []string{"Coil", "Input", "HoldingRegister", "InputRegister"}},
			node.Prop{Name: "adr", Kind: node.KindNumber, Required: true, Label: "Address"},
			node.Prop{Name: "quantity", Kind: node.KindNumber, Required: true, Label: "Quantity"},
			node.Prop{Name: "rate", Kind: node.KindNumber, Required: true, Label: "Poll rate"},
			node.Prop{Name: "rateUnit", Kind: node.KindString, Required: true, Options: []string{"ms", "s", "m", "h"}},
			node.Prop{Name: "enableDeformedMessages", Kind: node.KindBool, Default: false},
			node.Prop{Name: "useIOFile", Kind: node.KindBool, Default: false},
			node.Prop{Name: "ioFile", Kind: node.KindString, Default: ""},
			node.Prop{Name: "useIOForPayload", Kind: node.KindBool, Default: false},
			node.Prop{Name: "decode", Kind: node.KindString, Default: "", Options: decodeKinds, Label: "Decode registers as (Sluice)"},
			node.Prop{Name: "byteOrder", Kind: node.KindString, Default: "BE", Options: []string{"BE", "LE"}},
			node.Prop{Name: "wordOrder", Kind: node.KindString, Default: "BE", Options: []string{"BE", "LE"}},
			node.Prop{Name: "scale", Kind: node.KindNumber, Default: 1},
			node.Prop{Name: "offset", Kind: node.KindNumber, Default: 0},
		),
		Help: "Polls coils, inputs or registers every `rate` `rateUnit`. Output 1: `msg.payload` is the values, " +
			"`msg.responseBuffer` `{data, buffer}`; output 2: `msg.payload` is `{data, buffer}`, `msg.values` the values. " +
			"A poll is skipped while the previous one is still waiting for the device.\n\n" +
			"Sluice extension: `decode` (int16, uint16, int32, uint32, float32, float64, string) with `byteOrder` / " +
			"`wordOrder` (BE or LE) and `scale` / `offset` (value × scale + offset) puts decoded values in output 1's " +
			"`msg.payload` (the raw registers stay in `msg.responseBuffer.data`).",
		New: newRead,
	})
}

type readNode struct {
	serverID string
	topic    string
	unitid   any
	fc       int
	adr, qty uint16
	every    time.Duration
	startIn  time.Duration
	emptyOn  bool
	dec      *decoder

	c       node.Ctx
	cl      *Client
	busy    atomic.Bool
	down    atomic.Bool // the last poll found the device unreachable
	bad     atomic.Bool // the status shows a failed poll
	skipped atomic.Int64
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func newRead(cfg *node.Config) (node.Node, error) {
	n := &readNode{serverID: cfg.Str("server"), topic: cfg.Str("topic"), unitid: cfg.Get("unitid"),
		emptyOn: cfg.Bool("emptyMsgOnFail", false)}
	var err error
	if n.fc, n.adr, n.qty, err = readTarget(cfg); err != nil {
		return nil, err
	}
	rate, err := cfg.Num("rate", 0)
	if err != nil {
		return nil, err
	}
	unit := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour}[cfg.Str("rateUnit")]
	if unit == 0 {
		return nil, node.BadProp("rateUnit", cfg.Get("rateUnit"), "rateUnit must be ms, s, m or h")
	}
	n.every = time.Duration(rate * float64(unit))
	if n.every <= 0 {
		return nil, node.BadProp("rate", cfg.Get("rate"), "rate must be greater than zero")
	}
	if cfg.Bool("delayOnStart", false) {
		d, err := cfg.Num("startDelayTime", 10)
		if err != nil || d <= 0 {
			d = 10
		}
		n.startIn = time.Duration(d * float64(time.Second))
	}
	if n.dec, err = newDecoder(cfg); err != nil {
		return nil, err
	}
	if n.dec != nil && n.fc <= 2 {
		return nil, node.BadProp("decode", cfg.Get("decode"), "decoding needs registers, not %s", cfg.Str("dataType"))
	}
	return n, nil
}

// startHook lets tests reach the running node (its skip counter).
var startHook func(*readNode)

func (n *readNode) Start(c node.Ctx) error {
	n.c = c
	if startHook != nil {
		startHook(n)
	}
	cl, err := attach(c, n.serverID, n.pollingText())
	if err != nil {
		c.Error(err, nil)
		return nil
	}
	n.cl = cl
	if _, err := unitOf(n.unitid, cl, "unitid"); err != nil {
		c.Error(fmt.Errorf("node %s: %w", c.ID(), err), nil)
		return nil
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.wg.Add(1)
	go n.loop()
	return nil
}

func (n *readNode) Close(ctx context.Context, removed bool) error {
	if n.cancel != nil {
		n.cancel()
		n.wg.Wait()
	}
	if n.cl != nil {
		n.cl.unwatch(n.c.ID())
	}
	return nil
}

func (n *readNode) pollingText() string { return fmt.Sprintf("polling (every %v)", n.every) }

// Skipped is how many polls found the previous one still running.
func (n *readNode) Skipped() int64 { return n.skipped.Load() }

func (n *readNode) loop() {
	defer n.wg.Done()
	if n.startIn > 0 {
		select {
		case <-n.ctx.Done():
			return
		case <-time.After(n.startIn):
		}
	}
	t := time.NewTicker(n.every)
	defer t.Stop()
	for {
		n.poll()
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// poll starts one read unless the last is still out: a slow device loses
// polls instead of collecting a queue of stale ones.
func (n *readNode) poll() {
	if !n.busy.CompareAndSwap(false, true) {
		n.skipped.Add(1)
		return
	}
	unit, _ := unitOf(n.unitid, n.cl, "unitid")
	r := &request{unit: unit, fc: n.fc, address: n.adr, quantity: n.qty}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer n.busy.Store(false)
		topic := n.topic
		if topic == "" {
			topic = "polling"
		}
		in := msg.NewObject(3)
		in.Set("topic", topic)
		in.Set("from", n.c.Name())
		p := requestObject(topic, r, nil, false).Value("payload").(*msg.Object)
		in.Set("payload", p)
		pdu, err := n.cl.Do(n.ctx, r)
		if n.ctx.Err() != nil {
			return
		}
		var nc *notConnected
		if errors.As(err, &nc) && n.down.Swap(true) {
			return
		}
		if err != nil {
			n.bad.Store(true)
			m := msg.Wrap(in.Clone())
			m.Set("_msgid", msg.NewID())
			n.c.Error(wrap(err, "node %s: read fc %d address %d quantity %d", n.c.ID(), n.fc, n.adr, n.qty), m)
			failed(n.c, m, n.emptyOn, err)
			return
		}
		n.down.Store(false)
		if n.bad.Swap(false) {
			n.c.Status(node.Status{Fill: "green", Shape: "dot", Text: n.pollingText()})
		}
		values, resp := readResult(n.fc, pdu)
		var payload any = values
		if n.dec != nil {
			dv, derr := n.dec.decode(pdu)
			if derr != nil {
				n.c.Error(fmt.Errorf("node %s: property \"decode\": %w", n.c.ID(), derr), msg.Wrap(in))
				return
			}
			payload = dv
		}
		o1 := msg.New()
		o1.Set("topic", topic)
		o1.Set("payload", payload)
		o1.Set("responseBuffer", resp)
		o1.Set("input", in)
		o1.Set("sendingNodeId", n.c.ID())
		o2 := msg.New()
		o2.Set("topic", topic)
		o2.Set("payload", msg.Clone(resp))
		o2.Set("values", msg.Clone(values))
		o2.Set("input", in.Clone())
		o2.Set("sendingNodeId", n.c.ID())
		n.c.SendPorts([][]*msg.Msg{{o1}, {o2}})
	}()
}
