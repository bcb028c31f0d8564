package mqtt

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// session is our MQTT client session over one protocol version's codec
// (codec_v3.go: paho.mqtt.golang's packets; codec_v5.go: paho.golang's).
// paho's clients passed every message through several goroutines each
// (reader, inbound and outbound comms, router, writer, token completion,
// an ack ticker) and stores keyed by fmt.Sprintf; at QoS 1 that was most of
// the process's CPU per message. Here one goroutine reads and handles every
// packet, and packets are written by whoever sends them, straight into the
// batching conn: a QoS 1 message costs the read, the handler and two small
// writes.
//
// The broker node drives reconnecting, so one session lives as long as the
// broker node's connection loop: a persistent session's unacknowledged
// publishes are sent again (DUP) when it connects again, a clean session's
// are failed with errLost for the mqtt out node to send again.
type session struct {
	cfg   transportConfig
	h     handlers
	codec codec

	wmu     sync.Mutex // guards scratch; each packet is one Write
	scratch []byte

	mu      sync.Mutex
	conn    net.Conn // the current connection; nil while down
	gen     uint64   // counts connections, so that a late ack is not sent on the next
	up      bool
	lostCh  chan struct{}
	lostErr error
	closed  bool // disconnect was called: the session is done
	limits  brokerLimits
	room    chan struct{} // closed when a publish finishes, for publishes waiting for send quota

	nextID uint16
	seq    uint64
	out    map[uint16]*outFlight  // our QoS 1 and 2 publishes awaiting the broker
	reqs   map[uint16]*pendingReq // SUBSCRIBE and UNSUBSCRIBE awaiting theirs
	inRel  map[uint16]struct{}    // QoS 2 messages received and PUBRECed, awaiting PUBREL
	sent   atomic.Uint64          // packets written, for the keepalive
	recv   atomic.Uint64          // packets read
	pingAt atomic.Int64           // when the unanswered PINGREQ went; 0 when none
	held   atomic.Bool            // the reader waits for the flows to take a message
	done   map[uint64]chan bool   // per connection: closed when its goroutines must end
}

// codec is what differs between MQTT 3.1.1 and 5 on the wire.
type codec interface {
	// handshake sends CONNECT and reads the CONNACK; a refusal is an
	// error naming the broker's reason.
	handshake(c net.Conn, cfg *transportConfig) (connAck, error)
	read(r io.Reader) (wireEvent, error)
	appendPublish(b []byte, p *outPub, id uint16, dup bool) []byte
	// subscribeGroups splits subscriptions into SUBSCRIBE packets.
	subscribeGroups(subs []subReq) [][]subReq
	appendSubscribe(b []byte, id uint16, subs []subReq) []byte
	appendUnsubscribe(b []byte, id uint16, topics []string) []byte
	appendDisconnect(b []byte) []byte
	// refusedPublish is the error of a PUBACK or PUBREC with a failure
	// reason code, nil otherwise.
	refusedPublish(ev wireEvent) error
	// refusedSubscribe is the error for the i-th subscription of a SUBACK.
	refusedSubscribe(topic string, ev wireEvent, i int) error
}

// Packet types, as both protocol versions number them.
const (
	pktPublish    = 3
	pktPuback     = 4
	pktPubrec     = 5
	pktPubrel     = 6
	pktPubcomp    = 7
	pktSuback     = 9
	pktUnsuback   = 11
	pktPingresp   = 13
	pktDisconnect = 14
)

// wireEvent is a packet from the broker, decoded by the codec.
type wireEvent struct {
	kind   byte
	id     uint16
	pub    *inPub // PUBLISH
	code   byte   // an ack's reason code (MQTT 5)
	codes  []byte // SUBACK return or reason codes
	reason string // MQTT 5 reason string
	err    error  // DISCONNECT: why the broker ended the connection
}

// connAck is what the CONNACK told.
type connAck struct {
	info   connInfo
	limits brokerLimits
}

// brokerLimits are what the broker allows on this connection.
type brokerLimits struct {
	keepalive time.Duration
	sendQuota uint16 // its Receive Maximum (MQTT 5); 0 for no limit
	maxQoS    byte
	hasMaxQoS bool
	noRetain  bool
}

// check refuses a publish the broker said it would refuse (and would close
// the connection over).
func (l brokerLimits) check(p *outPub) error {
	if l.hasMaxQoS && p.qos > l.maxQoS {
		return fmt.Errorf("the broker accepts QoS %d at most; message on %q has QoS %d", l.maxQoS, p.topic, p.qos)
	}
	if l.noRetain && p.retain {
		return fmt.Errorf("the broker does not accept retained messages; message on %q has retain set", p.topic)
	}
	return nil
}

// outFlight is one of our publishes at QoS 1 or 2.
type outFlight struct {
	id       uint16
	seq      uint64 // submission order, for sending again in order
	p        *outPub
	released bool // QoS 2: PUBREC came, PUBREL sent
	resent   int  // connections it was sent again on as the oldest
	done     chan struct{}
	err      error
	finished bool
}

// pendingReq is a SUBSCRIBE or UNSUBSCRIBE awaiting its answer.
type pendingReq struct {
	done chan struct{}
	ev   wireEvent // the SUBACK or UNSUBACK
}

// pingTimeout bounds how long a PINGREQ may go unanswered before the
// connection is taken for dead (paho's default).
const pingTimeout = 10 * time.Second

func newSession(cfg transportConfig, h handlers, c codec) *session {
	return &session{
		cfg: cfg, h: h, codec: c, lostCh: make(chan struct{}),
		out: map[uint16]*outFlight{}, reqs: map[uint16]*pendingReq{}, inRel: map[uint16]struct{}{},
		done: map[uint64]chan bool{},
	}
}

func (t *session) connect(ctx context.Context) (connInfo, error) {
	u, err := url.Parse(t.cfg.url)
	if err != nil {
		return connInfo{}, err
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	raw, err := dialBroker(dctx, u, t.cfg.tls)
	if err != nil {
		return connInfo{}, err
	}
	// Cancelling the attempt closes the connection under the handshake.
	stop := context.AfterFunc(dctx, func() { _ = raw.Close() })
	ack, err := t.codec.handshake(raw, &t.cfg)
	if !stop() && err == nil {
		err = dctx.Err()
	}
	if err != nil {
		_ = raw.Close()
		if ctx.Err() != nil {
			return connInfo{}, ctx.Err()
		}
		return connInfo{}, err
	}

	// paho writes every packet whole, so packets may share a write.
	c := newBatchConn(raw)
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		_ = c.Close()
		return connInfo{}, errNotConnected
	}
	t.gen++
	gen := t.gen
	t.conn, t.up, t.lostErr, t.limits = c, true, nil, ack.limits
	t.lostCh = make(chan struct{})
	quit := make(chan bool)
	t.done[gen] = quit
	var resend []*outFlight
	if t.cfg.clean || !ack.info.sessionPresent {
		// No session to resume (the broker lost or never kept it): what
		// awaited an answer fails, for the mqtt out node to send anew.
		t.failAllLocked(errLost)
		clear(t.inRel)
	} else {
		for _, o := range t.out {
			if o.p.aliased != "" {
				// The alias belonged to the last connection.
				full := *o.p
				props := *full.v5
				full.topic, full.aliased, props.topicAlias, full.v5 = o.p.aliased, "", 0, &props
				o.p = &full
			}
			resend = append(resend, o)
		}
		slices.SortFunc(resend, func(a, b *outFlight) int { return cmp.Compare(a.seq, b.seq) })
		// The broker handles packets in order, so the oldest unanswered
		// one is what it dropped the connection on, if any did: one it
		// refuses that way (too large, not allowed) would be sent for
		// ever, and nothing after it would pass.
		if len(resend) > 0 {
			o := resend[0]
			if o.resent++; o.resent >= maxLost {
				delete(t.out, o.id)
				o.finishLocked(gaveUp(o.p.topic))
				resend = resend[1:]
			}
		}
	}
	t.pingAt.Store(0)
	t.mu.Unlock()

	// A persistent session's unfinished publishes go first, in the order
	// they were made, before anything new is submitted.
	for _, o := range resend {
		if o.released {
			_ = t.write(c, func(b []byte) []byte { return appendAck(b, 0x62, o.id) })
		} else {
			_ = t.write(c, func(b []byte) []byte { return t.codec.appendPublish(b, o.p, o.id, true) })
		}
	}
	go t.reader(c, gen)
	if ka := ack.limits.keepalive; ka > 0 {
		go t.keepalive(c, gen, ka, quit)
	}
	return ack.info, nil
}

// write encodes one packet and queues it on c.
func (t *session) write(c net.Conn, enc func([]byte) []byte) error {
	t.wmu.Lock()
	t.scratch = enc(t.scratch[:0])
	_, err := c.Write(t.scratch)
	if cap(t.scratch) > 64<<10 {
		t.scratch = nil
	}
	t.wmu.Unlock()
	t.sent.Add(1)
	return err
}

// current is the live connection and its generation.
func (t *session) current() (net.Conn, uint64, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.conn, t.gen, t.up
}

// sendOn writes a small packet on connection gen only: an ack meant for a
// connection that has gone must not land on the next, where the packet id
// may mean another message.
func (t *session) sendOn(gen uint64, typ byte, id uint16) {
	c, g, up := t.current()
	if !up || g != gen {
		return
	}
	_ = t.write(c, func(b []byte) []byte { return appendAck(b, typ, id) })
}

func (t *session) reader(c net.Conn, gen uint64) {
	for {
		ev, err := t.codec.read(c)
		if err != nil {
			t.markLost(gen, err)
			_ = c.Close()
			return
		}
		t.recv.Add(1)
		switch ev.kind {
		case pktPublish:
			t.onPublish(ev, gen)
		case pktPuback:
			t.finish(ev.id, 1, t.codec.refusedPublish(ev))
		case pktPubrec:
			if err := t.codec.refusedPublish(ev); err != nil {
				// Refused: the exchange ends here, no PUBREL.
				t.finish(ev.id, 2, err)
				continue
			}
			t.mu.Lock()
			o := t.out[ev.id]
			if o != nil && o.p.qos == 2 {
				o.released = true
			}
			t.mu.Unlock()
			t.sendOn(gen, 0x62, ev.id)
		case pktPubcomp:
			t.finish(ev.id, 2, nil)
		case pktPubrel:
			t.mu.Lock()
			delete(t.inRel, ev.id)
			t.mu.Unlock()
			t.sendOn(gen, 0x70, ev.id)
		case pktSuback, pktUnsuback:
			t.answer(ev)
		case pktPingresp:
			t.pingAt.Store(0)
		case pktDisconnect:
			t.markLost(gen, ev.err)
			_ = c.Close()
			return
		}
	}
}

func (t *session) onPublish(ev wireEvent, gen uint64) {
	ip, id := ev.pub, ev.id
	switch ip.qos {
	case 1:
		ip.ack = func() { t.sendOn(gen, 0x40, id) }
	case 2:
		t.mu.Lock()
		_, seen := t.inRel[id]
		t.mu.Unlock()
		if seen {
			// Sent again because our PUBREC was lost: it went to the flows
			// already; acknowledge it again and nothing more.
			t.sendOn(gen, 0x50, id)
			return
		}
		ip.ack = func() {
			t.mu.Lock()
			if t.gen == gen {
				t.inRel[id] = struct{}{}
			}
			t.mu.Unlock()
			t.sendOn(gen, 0x50, id)
		}
	}
	t.held.Store(true)
	t.h.message(ip)
	t.held.Store(false)
}

// finish ends our publish id when its last answer (PUBACK for QoS 1,
// PUBCOMP for QoS 2) arrives.
func (t *session) finish(id uint16, qos byte, err error) {
	t.mu.Lock()
	o := t.out[id]
	if o != nil && o.p.qos == qos {
		delete(t.out, id)
		o.finishLocked(err)
		t.freeLocked()
	}
	t.mu.Unlock()
}

// freeLocked wakes publishes waiting for send quota.
func (t *session) freeLocked() {
	if t.room != nil {
		close(t.room)
		t.room = nil
	}
}

func (o *outFlight) finishLocked(err error) {
	if !o.finished {
		o.finished, o.err = true, err
		close(o.done)
	}
}

func (t *session) answer(ev wireEvent) {
	t.mu.Lock()
	r := t.reqs[ev.id]
	delete(t.reqs, ev.id)
	t.mu.Unlock()
	if r != nil {
		r.ev = ev
		close(r.done)
	}
}

// failAllLocked ends every publish awaiting an answer with err.
func (t *session) failAllLocked(err error) {
	for id, o := range t.out {
		o.finishLocked(err)
		delete(t.out, id)
	}
	t.freeLocked()
}

// keepalive sends PINGREQ when nothing went either way for most of the
// keepalive interval, and gives the connection up when the broker does not
// answer one.
func (t *session) keepalive(c net.Conn, gen uint64, ka time.Duration, quit chan bool) {
	tick := time.NewTicker(max(ka/4, 50*time.Millisecond))
	defer tick.Stop()
	lastSent, lastRecv := t.sent.Load(), t.recv.Load()
	sentAt, recvAt := time.Now(), time.Now()
	for {
		select {
		case <-quit:
			return
		case now := <-tick.C:
			if n := t.sent.Load(); n != lastSent {
				lastSent, sentAt = n, now
			}
			if n := t.recv.Load(); n != lastRecv {
				lastRecv, recvAt = n, now
			}
			if t.held.Load() {
				// The flows are saturated and the reader waits for them:
				// the PINGRESP is behind the messages it has not read, so
				// time the next ping instead (pings still go out, so the
				// broker keeps the connection).
				t.pingAt.Store(0)
			}
			if at := t.pingAt.Load(); at != 0 {
				if now.Sub(time.Unix(0, at)) > min(max(ka, time.Second), pingTimeout) {
					t.markLost(gen, errors.New("pingresp not received, disconnecting"))
					_ = c.Close()
					return
				}
				continue
			}
			if now.Sub(sentAt) >= ka*3/4 || now.Sub(recvAt) >= ka*3/4 {
				t.pingAt.Store(now.UnixNano())
				_ = t.write(c, func(b []byte) []byte { return append(b, 0xc0, 0) })
			}
		}
	}
}

func (t *session) markLost(gen uint64, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if q, ok := t.done[gen]; ok {
		close(q)
		delete(t.done, gen)
	}
	if !t.up || t.gen != gen {
		return
	}
	t.up, t.conn = false, nil
	t.lostErr = err
	close(t.lostCh)
}

func (t *session) lost() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lostCh
}

func (t *session) why() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lostErr
}

// disconnect sends DISCONNECT (after what is queued) and closes; publishes
// still awaiting an answer end with errLost.
func (t *session) disconnect(time.Duration) {
	t.mu.Lock()
	c, gen, up := t.conn, t.gen, t.up
	t.closed = true
	t.failAllLocked(errLost)
	for id, r := range t.reqs {
		close(r.done)
		delete(t.reqs, id)
	}
	t.mu.Unlock()
	if !up {
		return
	}
	_ = t.write(c, t.codec.appendDisconnect)
	t.markLost(gen, nil)
	_ = c.Close() // sends what is queued first
}

// allocIDLocked takes a free packet id.
func (t *session) allocIDLocked() (uint16, error) {
	for range 65535 {
		t.nextID++
		if t.nextID == 0 {
			t.nextID = 1
		}
		if _, busy := t.out[t.nextID]; busy {
			continue
		}
		if _, busy := t.reqs[t.nextID]; busy {
			continue
		}
		return t.nextID, nil
	}
	return 0, errors.New("65535 packets await the broker's answer: no packet identifier is free")
}

type sessionPending struct {
	o          *outFlight
	lost       <-chan struct{}
	persistent bool
}

func (p *sessionPending) wait(ctx context.Context) error {
	lost := p.lost
	if p.persistent {
		// Sent again when the session resumes.
		lost = nil
	}
	select {
	case <-p.o.done:
		return p.o.err
	case <-lost:
		select {
		case <-p.o.done:
			return p.o.err
		default:
		}
		return errLost
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (t *session) publish(ctx context.Context, p *outPub) (pending, error) {
	t.mu.Lock()
	if !t.up {
		t.mu.Unlock()
		return nil, errNotConnected
	}
	if err := t.limits.check(p); err != nil {
		t.mu.Unlock()
		return nil, err
	}
	c, lost := t.conn, t.lostCh
	if p.qos == 0 {
		t.mu.Unlock()
		if err := t.write(c, func(b []byte) []byte { return t.codec.appendPublish(b, p, 0, false) }); err != nil {
			return donePending{errLost}, nil
		}
		return donePending{}, nil
	}
	for t.limits.sendQuota > 0 && len(t.out) >= int(t.limits.sendQuota) {
		// The broker's Receive Maximum: only its answers make room, so
		// the reader must keep reading meanwhile.
		if t.room == nil {
			t.room = make(chan struct{})
		}
		room := t.room
		t.mu.Unlock()
		if t.h.busy != nil {
			t.h.busy(true)
		}
		var err error
		select {
		case <-room:
		case <-lost:
			err = errNotConnected
		case <-ctx.Done():
			err = ctx.Err()
		}
		if t.h.busy != nil {
			t.h.busy(false)
		}
		if err != nil {
			return nil, err
		}
		t.mu.Lock()
		if !t.up || t.lostCh != lost {
			t.mu.Unlock()
			return nil, errNotConnected
		}
	}
	id, err := t.allocIDLocked()
	if err != nil {
		t.mu.Unlock()
		return nil, err
	}
	t.seq++
	o := &outFlight{id: id, seq: t.seq, p: p, done: make(chan struct{})}
	t.out[id] = o
	t.mu.Unlock()
	// A failed write means the connection is going: the reader reports
	// the loss, and the publish is sent again or failed from there.
	_ = t.write(c, func(b []byte) []byte { return t.codec.appendPublish(b, p, id, false) })
	return &sessionPending{o: o, lost: lost, persistent: !t.cfg.clean}, nil
}

// request sends a SUBSCRIBE or UNSUBSCRIBE encoded for id and waits for
// its answer.
func (t *session) request(ctx context.Context, enc func(b []byte, id uint16) []byte) (wireEvent, error) {
	t.mu.Lock()
	if !t.up {
		t.mu.Unlock()
		return wireEvent{}, errNotConnected
	}
	c, lost := t.conn, t.lostCh
	id, err := t.allocIDLocked()
	if err != nil {
		t.mu.Unlock()
		return wireEvent{}, err
	}
	r := &pendingReq{done: make(chan struct{})}
	t.reqs[id] = r
	t.mu.Unlock()
	err = t.write(c, func(b []byte) []byte { return enc(b, id) })
	if err == nil {
		select {
		case <-r.done:
			if r.ev.kind == 0 {
				return wireEvent{}, errLost // disconnected
			}
			return r.ev, nil
		case <-lost:
			err = errLost
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	t.mu.Lock()
	delete(t.reqs, id)
	t.mu.Unlock()
	return wireEvent{}, err
}

func (t *session) subscribe(ctx context.Context, subs []subReq) error {
	for _, group := range t.codec.subscribeGroups(subs) {
		ev, err := t.request(ctx, func(b []byte, id uint16) []byte { return t.codec.appendSubscribe(b, id, group) })
		if err != nil {
			return err
		}
		for i, code := range ev.codes {
			if code >= 0x80 && i < len(group) {
				return t.codec.refusedSubscribe(group[i].topic, ev, i)
			}
		}
	}
	return nil
}

func (t *session) unsubscribe(ctx context.Context, topics []string) error {
	_, err := t.request(ctx, func(b []byte, id uint16) []byte { return t.codec.appendUnsubscribe(b, id, topics) })
	return err
}

// sliceWriter lets a paho packet encode itself onto a byte slice.
type sliceWriter []byte

func (w *sliceWriter) Write(p []byte) (int, error) {
	*w = append(*w, p...)
	return len(p), nil
}

// appendAck encodes PUBACK (0x40), PUBREC (0x50), PUBREL (0x62) or
// PUBCOMP (0x70); in MQTT 5 the short form means success.
func appendAck(b []byte, typ byte, id uint16) []byte {
	return append(b, typ, 2, byte(id>>8), byte(id))
}

// appendVarint encodes an MQTT variable byte integer.
func appendVarint(b []byte, n int) []byte {
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			return b
		}
	}
}
