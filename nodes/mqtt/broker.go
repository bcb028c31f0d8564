package mqtt

import (
	"context"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "mqtt-broker", Category: "config", Config: true,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "broker", Kind: node.KindString, Default: "", Required: true, Label: "Server"},
			{Name: "port", Kind: node.KindNumber, Default: 1883, Label: "Port"},
			{Name: "tls", Kind: node.KindString, ConfigType: "tls-config", Label: "TLS Configuration"},
			{Name: "clientid", Kind: node.KindString, Default: "", Label: "Client ID"},
			{Name: "autoConnect", Kind: node.KindBool, Default: true, Label: "Connect automatically"},
			{Name: "usetls", Kind: node.KindBool, Default: false, Label: "Use TLS"},
			{Name: "verifyservercert", Kind: node.KindBool, Default: false, Label: "Verify server certificate"},
			{Name: "compatmode", Kind: node.KindBool, Default: false, Label: "Use legacy MQTT 3.1 support"},
			{Name: "protocolVersion", Kind: node.KindNumber, Default: 4, Options: []string{"3", "4", "5"}, Label: "Protocol"},
			{Name: "keepalive", Kind: node.KindNumber, Default: 60, Label: "Keep Alive"},
			{Name: "cleansession", Kind: node.KindBool, Default: true, Label: "Use clean session"},
			{Name: "autoUnsubscribe", Kind: node.KindBool, Default: true, Label: "Automatically unsubscribe when disconnecting"},
			{Name: "birthTopic", Kind: node.KindString, Default: "", Check: checkPublishTopic},
			{Name: "birthQos", Kind: node.KindString, Default: "0", Options: []string{"0", "1", "2"}},
			{Name: "birthRetain", Kind: node.KindString, Default: "false"},
			{Name: "birthPayload", Kind: node.KindString, Default: ""},
			{Name: "birthMsg", Kind: node.KindObject, Default: map[string]any{}},
			{Name: "closeTopic", Kind: node.KindString, Default: "", Check: checkPublishTopic},
			{Name: "closeQos", Kind: node.KindString, Default: "0", Options: []string{"0", "1", "2"}},
			{Name: "closeRetain", Kind: node.KindString, Default: "false"},
			{Name: "closePayload", Kind: node.KindString, Default: ""},
			{Name: "closeMsg", Kind: node.KindObject, Default: map[string]any{}},
			{Name: "willTopic", Kind: node.KindString, Default: "", Check: checkPublishTopic},
			{Name: "willQos", Kind: node.KindString, Default: "0", Options: []string{"0", "1", "2"}},
			{Name: "willRetain", Kind: node.KindString, Default: "false"},
			{Name: "willPayload", Kind: node.KindString, Default: ""},
			{Name: "willMsg", Kind: node.KindObject, Default: map[string]any{}},
			{Name: "userProps", Kind: node.KindString, Default: ""},
			{Name: "sessionExpiry", Kind: node.KindNumber, Default: 0, Label: "Session Expiry (secs)"},
		},
		Credentials: []node.Cred{{Name: "user"}, {Name: "password", Password: true}},
		Help:        brokerHelp,
		New:         newBroker,
	})
}

const brokerHelp = "A connection to an MQTT broker, shared by every `mqtt in` and `mqtt out` node that uses it.\n\n" +
	"`broker` is a host name (with `port`, and `usetls` for TLS) or a URL: `mqtt://`, `mqtts://`, `ws://` or `wss://`. " +
	"`protocolVersion` 4 is MQTT 3.1.1, 5 is MQTT 5, 3 (or `compatmode`) the old MQTT 3.1. " +
	"An empty `clientid` gets a generated one; a non-clean session needs a client id. " +
	"`user` and `password` are credentials; `tls` names a `tls-config` node.\n\n" +
	"The connection opens when the first node using it starts (unless `autoConnect` is false) and comes back by itself after a loss, " +
	"retrying with a growing pause up to `mqttReconnectTime` (5 s by default); every subscription is renewed. " +
	"Each node using the broker shows connecting, connected or disconnected, and why a connection attempt failed.\n\n" +
	"Birth, close and will messages (`birthTopic`, `closeTopic`, `willTopic` with their payload, QoS and retain) are sent on connect, " +
	"before a deliberate disconnect, and by the broker on an unexpected loss."

// Tunables; variables so that tests can shorten them.
var (
	// closeWait bounds the close message and DISCONNECT on the way out, as
	// Node-RED's 2 s.
	closeWait = 2 * time.Second
	// highWater is how many QoS 0 messages may wait for the flows before
	// the broker connection stops reading.
	highWater = 1024
	// receiveMax is the MQTT 5 receive maximum: QoS 1 and 2 messages the
	// broker may send before we acknowledge.
	receiveMax uint16 = 1000
)

// reconnectMin is the first pause after a lost connection or a failed
// attempt; each failure doubles it up to mqttReconnectTime. Atomic so that
// tests can change it while connections run.
var reconnectMin atomic.Int64

func init() { setReconnectMin(500 * time.Millisecond) }

func setReconnectMin(d time.Duration) { reconnectMin.Store(int64(d)) }

type connState int

const (
	stateIdle       connState = iota // not connecting: never asked, or disconnected on purpose
	stateConnecting                  // trying, or waiting to try again
	stateConnected
)

var (
	statusDisconnected = node.Status{Fill: "red", Shape: "ring", Text: "node-red:common.status.disconnected"}
	statusConnecting   = node.Status{Fill: "yellow", Shape: "ring", Text: "node-red:common.status.connecting"}
	statusConnected    = node.Status{Fill: "green", Shape: "dot", Text: "node-red:common.status.connected"}
)

// broker is an mqtt-broker config node: one connection shared by its users.
type broker struct {
	id    string
	tlsID string
	creds map[string]string

	c node.Ctx

	mu      sync.Mutex
	opts    brokerOpts
	users   map[string]node.Ctx
	state   connState
	status  node.Status
	changed chan struct{} // closed and replaced at every state change
	loop    *connLoop     // the running connection, nil when idle
	linkUp  bool          // the loop's connection is up (subscriptions can go)
	info    connInfo
	aliases map[uint16]string
	subs    map[string]*topicSubs
	topics  []string // subscription order, for resubscribing
	subIDs  map[string]int
	nextID  int
	closing atomic.Bool

	statusMu sync.Mutex // keeps status updates in the order of the states
	pubMu    sync.Mutex // keeps publishes in the order submitted

	q        *inbox
	awaiting atomic.Int64 // requests waiting for the broker's answer
	stopped  chan struct{}
}

// connLoop is one run of the connection: from connect to disconnect.
type connLoop struct {
	t      transport
	d      derived
	cancel context.CancelFunc
	done   chan struct{}
}

func newBroker(cfg *node.Config) (node.Node, error) {
	b := &broker{
		id: cfg.ID(), tlsID: cfg.Str("tls"), creds: cfg.Creds,
		users: map[string]node.Ctx{}, status: statusDisconnected, changed: make(chan struct{}),
		subs: map[string]*topicSubs{}, subIDs: map[string]int{}, nextID: 1, stopped: make(chan struct{}),
	}
	// A broker URL that cannot work is reported when connecting, not at
	// deploy: Node-RED deploys such flows, and a ${VAR} may be unset only
	// where the flow is checked.
	b.opts.setOptions(cfg.Raw, true, cfg.Creds)
	b.q = newInbox(b)
	return b, nil
}

// running lists the broker nodes started and not closed, so that tests can
// look inside them.
var running sync.Map

func checkPublishTopic(v any, _ *node.Config) error {
	s, _ := v.(string)
	if s == "" || validPublish(s) {
		return nil
	}
	return fmt.Errorf("invalid topic %q: no wildcards or control characters", s)
}

// Start keeps the node's context; the connection waits for a user.
func (b *broker) Start(c node.Ctx) error {
	b.mu.Lock()
	b.c = c
	b.mu.Unlock()
	go b.q.run()
	running.Store(b, struct{}{})
	return nil
}

func (b *broker) v5() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.loop != nil && b.loop.d.protocol == 5 || b.loop == nil && looseEq(b.opts.protocolVersion, 5)
}

// brokerHost is the broker property as written, for Node-RED's _topic rule.
func (b *broker) brokerHost() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return str(b.opts.broker)
}

func (b *broker) autoUnsubscribe() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	au, isBool := b.opts.autoUnsubscribe.(bool)
	return !isBool || au
}

// register adds a node that uses the broker; the first one opens the
// connection unless autoConnect is off.
func (b *broker) register(c node.Ctx) {
	b.mu.Lock()
	b.users[c.ID()] = c
	first := len(b.users) == 1
	auto := b.opts.autoConnect == true
	b.mu.Unlock()
	if first && auto {
		// connect shows its state on every user, this one included.
		b.connect()
		return
	}
	b.showStatus(c)
}

// registerQuiet adds a user whose status stays as it is (an mqtt in node
// whose SUBSCRIBE is on its way shows connected only once it is answered,
// through showStatus).
func (b *broker) registerQuiet(c node.Ctx) {
	b.mu.Lock()
	b.users[c.ID()] = c
	b.mu.Unlock()
}

// showStatus shows the connection's state on one user.
func (b *broker) showStatus(c node.Ctx) {
	b.statusMu.Lock()
	b.mu.Lock()
	st := b.status
	b.mu.Unlock()
	if st != statusDisconnected {
		// The node showed disconnected itself on starting.
		c.Status(st)
	}
	b.statusMu.Unlock()
}

// deregister removes a node; when it was being deleted and was the last
// user, the connection closes.
func (b *broker) deregister(c node.Ctx, removed bool) {
	c.Status(statusDisconnected)
	b.mu.Lock()
	delete(b.users, c.ID())
	last := len(b.users) == 0 && b.state == stateConnected && !b.closing.Load()
	b.mu.Unlock()
	if removed && last {
		ctx, cancel := context.WithTimeout(context.Background(), 2*closeWait)
		defer cancel()
		b.disconnect(ctx)
	}
}

// setState records a state and shows it on every user.
func (b *broker) setState(l *connLoop, st connState, status node.Status) bool {
	b.statusMu.Lock()
	defer b.statusMu.Unlock()
	b.mu.Lock()
	if l != nil && b.loop != l {
		b.mu.Unlock()
		return false
	}
	b.state = st
	b.status = status
	close(b.changed)
	b.changed = make(chan struct{})
	users := make([]node.Ctx, 0, len(b.users))
	for _, u := range b.users {
		users = append(users, u)
	}
	b.mu.Unlock()
	for _, u := range users {
		u.Status(status)
	}
	return true
}

func (b *broker) logger() (log func(string, ...any), warn func(string, ...any)) {
	b.mu.Lock()
	c := b.c
	b.mu.Unlock()
	if c == nil {
		return func(string, ...any) {}, func(string, ...any) {}
	}
	return c.Log().Info, c.Log().Warn
}

// connect starts the connection loop unless one runs.
func (b *broker) connect() {
	b.mu.Lock()
	if b.loop != nil || b.closing.Load() {
		b.mu.Unlock()
		return
	}
	d := b.opts.derive(func() string { return "nodered" + msg.NewID() })
	opts := b.opts
	c := b.c
	b.mu.Unlock()
	_, warn := b.logger()
	for _, w := range d.warnings {
		warn(w)
	}
	_, err := parseBrokerURL(d.url)
	var tlsConf *tls.Config
	if err == nil {
		tlsConf, err = b.tlsConfig(c, d)
	}
	if err != nil {
		warn("cannot connect", "err", err)
		b.setState(nil, stateIdle, node.Status{Fill: "red", Shape: "ring", Text: err.Error()})
		return
	}
	cfg := transportConfig{
		url: d.url, tls: tlsConf, clientID: d.clientID,
		username: opts.username, password: opts.password, hasUser: opts.hasUser, hasPassword: opts.hasPassword,
		keepalive: d.keepalive, clean: d.clean, protocol: d.protocol, will: opts.will,
		connectProps: d.connectProps, sessionExp: d.sessionExp, receiveMax: receiveMax,
	}
	h := handlers{message: b.q.put, busy: func(on bool) {
		if on {
			b.awaitStart()
		} else {
			b.awaitEnd()
		}
	}}
	var t transport
	if d.protocol == 5 {
		t = newV5(cfg, h)
	} else {
		t = newV3(cfg, h)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &connLoop{t: t, d: d, cancel: cancel, done: make(chan struct{})}
	b.mu.Lock()
	if b.loop != nil || b.closing.Load() {
		b.mu.Unlock()
		cancel()
		return
	}
	b.loop = l
	b.mu.Unlock()
	b.setState(l, stateConnecting, statusConnecting)
	go b.run(ctx, l)
}

// tlsConfig is the TLS setup for a TLS URL: the tls-config node's when
// usetls names one, otherwise the broker node's verifyservercert.
func (b *broker) tlsConfig(c node.Ctx, d derived) (*tls.Config, error) {
	if !isTLSURL(d.url) {
		return nil, nil
	}
	if d.usetls && b.tlsID != "" && c != nil {
		return node.TLSConfigOf(c, b.tlsID)
	}
	return &tls.Config{InsecureSkipVerify: !d.verify}, nil //nolint:gosec // Node-RED's verifyservercert defaults to off
}

// backoff is the pause before attempt n (n ≥ 1 after failures): doubling
// from reconnectMin up to the mqttReconnectTime setting, with some jitter
// so that many clients do not all come back at once.
func (b *broker) backoff(n int) time.Duration {
	limit := 5 * time.Second
	if b.c != nil {
		if v, ok := b.c.Setting("mqttReconnectTime"); ok {
			if f, ok := msg.Num(v); ok && f > 0 {
				limit = time.Duration(f * float64(time.Millisecond))
			}
		}
	}
	d := time.Duration(reconnectMin.Load())
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	if d > limit {
		d = limit
	}
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// run connects, waits for the connection to end and connects again, until
// the loop is cancelled.
func (b *broker) run(ctx context.Context, l *connLoop) {
	defer close(l.done)
	info, warn := b.logger()
	where := l.d.url
	if !l.d.generatedID {
		where = l.d.clientID + "@" + where
	}
	failures := 0
	lastErr := ""
	for ctx.Err() == nil {
		ci, err := l.t.connect(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			failures++
			if text := err.Error(); text != lastErr {
				warn("Connection failed to broker: "+where, "err", text)
				lastErr = text
				b.setState(l, stateConnecting, node.Status{Fill: "red", Shape: "ring", Text: text})
			}
			if !sleepCtx(ctx, b.backoff(failures)) {
				return
			}
			continue
		}
		failures, lastErr = 0, ""
		info("Connected to broker: " + where)
		b.mu.Lock()
		if b.loop == l {
			b.info = ci
			b.aliases = map[uint16]string{}
			b.linkUp = true
		}
		b.mu.Unlock()
		// Subscriptions first, so that "connected" means messages flow.
		b.resubscribe(ctx, l)
		if !b.setState(l, stateConnected, statusConnected) {
			return
		}
		go b.sendBirth(ctx, l)
		select {
		case <-l.t.lost():
			why := l.t.why()
			if ctx.Err() != nil {
				return
			}
			if why != nil && why != errLost {
				info("Disconnected from broker: "+where, "reason", why.Error())
			} else {
				info("Disconnected from broker: " + where)
			}
			b.mu.Lock()
			if b.loop == l {
				b.linkUp = false
			}
			b.mu.Unlock()
			b.setState(l, stateConnecting, statusDisconnected)
			if !sleepCtx(ctx, b.backoff(1)) {
				return
			}
			b.setState(l, stateConnecting, statusConnecting)
		case <-ctx.Done():
			return
		}
	}
}

// resubscribe renews every subscription on a new connection.
func (b *broker) resubscribe(ctx context.Context, l *connLoop) {
	b.mu.Lock()
	reqs := b.subReqsLocked(nil)
	b.mu.Unlock()
	if len(reqs) == 0 {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b.awaitStart()
	err := l.t.subscribe(sctx, reqs)
	b.awaitEnd()
	if err != nil && ctx.Err() == nil {
		_, warn := b.logger()
		warn("subscribing failed", "err", err)
	}
}

// sendBirth publishes the birth message of a new connection.
func (b *broker) sendBirth(ctx context.Context, l *connLoop) {
	b.mu.Lock()
	birth := b.opts.birth
	b.mu.Unlock()
	if birth == nil {
		return
	}
	if _, err := b.publishOn(ctx, l, birth); err != nil && ctx.Err() == nil {
		_, warn := b.logger()
		warn("birth message not sent", "err", err)
	}
}

// disconnect closes the connection on purpose: the close message first,
// then DISCONNECT. Subscriptions stay recorded for the next connect.
func (b *broker) disconnect(ctx context.Context) {
	b.mu.Lock()
	l := b.loop
	connected := b.state == stateConnected
	closeMsg := b.opts.closeMsg
	b.mu.Unlock()
	if l == nil {
		return
	}
	if connected && closeMsg != nil {
		cctx, cancel := context.WithTimeout(ctx, closeWait)
		if p, err := b.publishOn(cctx, l, closeMsg); err == nil {
			b.awaitStart()
			_ = p.wait(cctx)
			b.awaitEnd()
		}
		cancel()
	}
	b.mu.Lock()
	if b.loop == l {
		b.loop = nil
		b.linkUp = false
	}
	b.mu.Unlock()
	l.cancel()
	select {
	case <-l.done:
	case <-ctx.Done():
	}
	l.t.disconnect(closeWait)
	b.setState(nil, stateIdle, statusDisconnected)
}

// waitUp returns the transport once connected; errNotConnected when no
// connection is being attempted.
func (b *broker) waitUp(ctx context.Context) (*connLoop, error) {
	for {
		b.mu.Lock()
		st, ch, l := b.state, b.changed, b.loop
		b.mu.Unlock()
		switch {
		case st == stateIdle || l == nil:
			return nil, errNotConnected
		case st == stateConnected:
			select {
			case <-l.t.lost():
				// Lost, and the loop has not caught up yet.
			default:
				return l, nil
			}
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-b.stopped:
			return nil, errNotConnected
		}
	}
}

// Close disconnects once the nodes using the broker have let go (their
// unsubscribes go first), within the deadline.
func (b *broker) Close(ctx context.Context, removed bool) error {
	b.closing.Store(true)
	deadline := time.Now().Add(closeWait)
	for time.Now().Before(deadline) {
		b.mu.Lock()
		n := len(b.users)
		b.mu.Unlock()
		if n == 0 || ctx.Err() != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.disconnect(ctx)
	close(b.stopped)
	b.q.close()
	running.Delete(b)
	return nil
}

func (b *broker) awaitStart() {
	if b.awaiting.Add(1) == 1 {
		b.q.nudge()
	}
}

func (b *broker) awaitEnd() { b.awaiting.Add(-1) }
