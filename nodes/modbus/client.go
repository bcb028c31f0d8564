package modbus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/goburrow/modbus"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "modbus-client", Category: "config", Config: true,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "clienttype", Kind: node.KindString, Default: "tcp", Required: true, Options: []string{"tcp", "simpleser"}},
			{Name: "bufferCommands", Kind: node.KindBool, Default: true},
			{Name: "stateLogEnabled", Kind: node.KindBool, Default: false},
			{Name: "queueLogEnabled", Kind: node.KindBool, Default: false},
			{Name: "failureLogEnabled", Kind: node.KindBool, Default: true},
			{Name: "tcpHost", Kind: node.KindString, Default: "127.0.0.1", Label: "Host"},
			{Name: "tcpPort", Kind: node.KindNumber, Default: 502, Label: "Port"},
			{Name: "tcpType", Kind: node.KindString, Default: "DEFAULT", Options: []string{"DEFAULT", "TCP-RTU-BUFFERED", "TELNET", "C701", "UDP"}},
			{Name: "serialPort", Kind: node.KindString, Default: "/dev/ttyUSB"},
			{Name: "serialType", Kind: node.KindString, Default: "RTU-BUFFERD", Options: []string{"RTU-BUFFERD", "RTU", "ASCII"}},
			{Name: "serialBaudrate", Kind: node.KindNumber, Default: 9600},
			{Name: "serialDatabits", Kind: node.KindNumber, Default: 8},
			{Name: "serialStopbits", Kind: node.KindNumber, Default: 1},
			{Name: "serialParity", Kind: node.KindString, Default: "none", Options: []string{"none", "even", "odd", "mark", "space"}},
			{Name: "serialConnectionDelay", Kind: node.KindNumber, Default: 100},
			{Name: "serialAsciiResponseStartDelimiter", Kind: node.KindString, Default: "0x3A"},
			{Name: "unit_id", Kind: node.KindNumber, Default: 1, Label: "Unit-Id"},
			{Name: "commandDelay", Kind: node.KindNumber, Default: 1},
			{Name: "clientTimeout", Kind: node.KindNumber, Default: 1000, Label: "Timeout (ms)"},
			{Name: "reconnectOnTimeout", Kind: node.KindBool, Default: true},
			{Name: "reconnectTimeout", Kind: node.KindNumber, Default: 2000, Label: "Reconnect timeout (ms)"},
			{Name: "parallelUnitIdsAllowed", Kind: node.KindBool, Default: true},
			{Name: "showErrors", Kind: node.KindBool, Default: false},
			{Name: "showWarnings", Kind: node.KindBool, Default: true},
			{Name: "showLogs", Kind: node.KindBool, Default: true},
		},
		Help: "One connection to a Modbus device (TCP, RTU over TCP, or RTU / ASCII on a serial line), shared by the " +
			"modbus nodes that use it. Requests are sent one at a time, taking turns between unit ids; a lost connection " +
			"is re-opened after `reconnectTimeout` ms, waiting longer after each failure (up to 30 s).",
		New: newClient,
	})
}

// maxQueued bounds the requests waiting for one connection; beyond it
// requests fail at once rather than memory growing behind a dead device.
const maxQueued = 4096

const maxBackoff = 30 * time.Second

// Client is a modbus-client config node: one connection, one goroutine
// sending requests in turn.
type Client struct {
	id        string
	mk        func() link
	unit      byte
	timeout   time.Duration
	reconnect time.Duration
	onTimeout bool
	gap       time.Duration // commandDelay; serial lines only, where devices need the pause

	mu     sync.Mutex
	queues map[byte][]*request
	units  []byte // units with waiting requests, in turn order
	queued int
	wake   chan struct{}
	users  map[string]func(state string, err error)
	state  string
	err    error

	stop chan struct{}
	done chan struct{}
}

func newClient(cfg *node.Config) (node.Node, error) {
	cl := &Client{id: cfg.ID(), queues: map[byte][]*request{}, wake: make(chan struct{}, 1),
		users: map[string]func(string, error){}, state: "initialized"}
	num := func(name string, def float64) (float64, error) { return cfg.Num(name, def) }
	unit, err := num("unit_id", 1)
	if err != nil {
		return nil, err
	}
	if unit < 0 || unit > 255 {
		return nil, node.BadProp("unit_id", cfg.Get("unit_id"), "unit id must be 0..255")
	}
	cl.unit = byte(unit)
	to, err := num("clientTimeout", 1000)
	if err != nil {
		return nil, err
	}
	rc, err := num("reconnectTimeout", 2000)
	if err != nil {
		return nil, err
	}
	cl.timeout = time.Duration(to) * time.Millisecond
	cl.reconnect = max(time.Duration(rc)*time.Millisecond, 10*time.Millisecond)
	cl.onTimeout = cfg.Bool("reconnectOnTimeout", true)
	switch ct := cfg.StrOr("clienttype", "tcp"); ct {
	case "tcp":
		port, err := num("tcpPort", 502)
		if err != nil {
			return nil, err
		}
		addr := hostPort(cfg.StrOr("tcpHost", "127.0.0.1"), int(port))
		switch tt := cfg.StrOr("tcpType", "DEFAULT"); tt {
		case "DEFAULT", "C701":
			cl.mk = func() link { return newTCPLink(addr, cl.timeout) }
		case "TELNET", "TCP-RTU-BUFFERED":
			cl.mk = func() link { return newRTUTCPLink(addr, cl.timeout) }
		default:
			return nil, node.BadProp("tcpType", tt, "tcpType %q is not supported (DEFAULT, TELNET, TCP-RTU-BUFFERED, C701)", tt)
		}
	case "simpleser", "serial":
		baud, err := num("serialBaudrate", 9600)
		if err != nil {
			return nil, err
		}
		bits, _ := num("serialDatabits", 8)
		stop, _ := num("serialStopbits", 1)
		port := cfg.StrOr("serialPort", "/dev/ttyUSB")
		gap, err := num("commandDelay", 1)
		if err != nil {
			return nil, err
		}
		cl.gap = time.Duration(gap * float64(time.Millisecond))
		parity := serialParity(cfg.Str("serialParity"))
		switch st := cfg.StrOr("serialType", "RTU-BUFFERD"); st {
		case "RTU-BUFFERD", "RTU":
			cl.mk = func() link {
				h := modbus.NewRTUClientHandler(port)
				h.BaudRate, h.DataBits, h.StopBits, h.Parity, h.Timeout = int(baud), int(bits), int(stop), parity, cl.timeout
				h.IdleTimeout = 0
				return &rtuLink{h: h, c: modbus.NewClient(h)}
			}
		case "ASCII":
			cl.mk = func() link {
				h := modbus.NewASCIIClientHandler(port)
				h.BaudRate, h.DataBits, h.StopBits, h.Parity, h.Timeout = int(baud), int(bits), int(stop), parity, cl.timeout
				h.IdleTimeout = 0
				return &asciiLink{h: h, c: modbus.NewClient(h)}
			}
		default:
			return nil, node.BadProp("serialType", st, "serialType %q is not supported (RTU-BUFFERD, RTU, ASCII)", st)
		}
	default:
		return nil, node.BadProp("clienttype", ct, "clienttype %q is not supported (tcp, simpleser)", ct)
	}
	return cl, nil
}

// Start opens the connection in the background.
func (cl *Client) Start(c node.Ctx) error {
	cl.stop, cl.done = make(chan struct{}), make(chan struct{})
	go cl.run()
	return nil
}

// Close drops the connection and fails what is still queued.
func (cl *Client) Close(ctx context.Context, removed bool) error {
	if cl.stop == nil {
		return nil
	}
	close(cl.stop)
	select {
	case <-cl.done:
	case <-ctx.Done():
	}
	return nil
}

// DefaultUnit is the unit id requests use when their node names none.
func (cl *Client) DefaultUnit() byte { return cl.unit }

// watch registers a node for connection state changes and reports the
// current state at once.
func (cl *Client) watch(id string, f func(state string, err error)) {
	cl.mu.Lock()
	cl.users[id] = f
	st, err := cl.state, cl.err
	cl.mu.Unlock()
	f(st, err)
}

func (cl *Client) unwatch(id string) {
	cl.mu.Lock()
	delete(cl.users, id)
	cl.mu.Unlock()
}

func (cl *Client) setState(st string, err error) {
	cl.mu.Lock()
	if cl.state == st && (err == nil) == (cl.err == nil) {
		cl.mu.Unlock()
		return
	}
	cl.state, cl.err = st, err
	fs := make([]func(string, error), 0, len(cl.users))
	for _, f := range cl.users {
		fs = append(fs, f)
	}
	cl.mu.Unlock()
	for _, f := range fs {
		f(st, err)
	}
}

var errClosed = errors.New("modbus client closed")

// Do queues r behind the requests of its unit id and waits for its answer.
func (cl *Client) Do(ctx context.Context, r *request) ([]byte, error) {
	r.done = make(chan result, 1)
	cl.mu.Lock()
	if cl.queued >= maxQueued {
		cl.mu.Unlock()
		return nil, fmt.Errorf("modbus client %s: %d requests already waiting", cl.id, maxQueued)
	}
	if len(cl.queues[r.unit]) == 0 {
		cl.units = append(cl.units, r.unit)
	}
	cl.queues[r.unit] = append(cl.queues[r.unit], r)
	cl.queued++
	cl.mu.Unlock()
	select {
	case cl.wake <- struct{}{}:
	default:
	}
	select {
	case res := <-r.done:
		return res.pdu, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// next takes the oldest request of the unit whose turn it is, so one slow
// unit behind a gateway does not starve the others.
func (cl *Client) next() *request {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if len(cl.units) == 0 {
		return nil
	}
	u := cl.units[0]
	cl.units = cl.units[1:]
	q := cl.queues[u]
	r := q[0]
	if len(q) == 1 {
		delete(cl.queues, u)
	} else {
		cl.queues[u] = q[1:]
		cl.units = append(cl.units, u)
	}
	cl.queued--
	return r
}

func (cl *Client) failAll(err error) {
	for r := cl.next(); r != nil; r = cl.next() {
		r.done <- result{err: err}
	}
}

func (cl *Client) run() {
	defer close(cl.done)
	var l link
	backoff := cl.reconnect
	defer func() {
		if l != nil {
			l.Close()
		}
		cl.failAll(errClosed)
	}()
	for {
		if l == nil {
			cl.setState("connecting", nil)
			nl := cl.mk()
			if err := nl.Connect(); err != nil {
				nl.Close()
				cl.setState("error", fmt.Errorf("modbus client %s: %w", cl.id, err))
				if !cl.wait(backoff, err) {
					return
				}
				backoff = min(backoff*2, max(maxBackoff, cl.reconnect))
				continue
			}
			l, backoff = nl, cl.reconnect
			cl.setState("connected", nil)
		}
		r := cl.next()
		if r == nil {
			select {
			case <-cl.stop:
				return
			case <-cl.wake:
			}
			continue
		}
		l.setUnit(r.unit)
		pdu, err := r.run(l.client())
		var ee *ExceptionError
		if err != nil && !errors.As(err, &ee) && (cl.onTimeout || !isTimeout(err)) {
			// The stream may hold a late answer now; only a new connection
			// keeps later requests from reading it.
			l.Close()
			l = nil
			cl.setState("error", err)
			r.done <- result{err: fmt.Errorf("modbus client %s: %w", cl.id, err)}
			if !cl.wait(cl.reconnect, err) {
				return
			}
			continue
		}
		r.done <- result{pdu: pdu, err: err}
		if cl.gap > 0 {
			time.Sleep(cl.gap)
		}
	}
}

// wait sleeps d before the next connection attempt; requests arriving
// meanwhile fail at once with why the device is unreachable.
func (cl *Client) wait(d time.Duration, why error) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-cl.stop:
			return false
		case <-t.C:
			return true
		case <-cl.wake:
			cl.failAll(&notConnected{client: cl.id, why: why})
		}
	}
}

// notConnected fails requests made while the device is unreachable; pollers
// report it once per outage rather than on every poll.
type notConnected struct {
	client string
	why    error
}

func (e *notConnected) Error() string {
	return fmt.Sprintf("modbus client %s: not connected: %v", e.client, e.why)
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}
