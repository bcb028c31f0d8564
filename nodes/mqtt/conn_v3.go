package mqtt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// v3conn speaks MQTT 3.1 and 3.1.1. The packets are paho.mqtt.golang's
// (github.com/eclipse/paho.mqtt.golang/packets); the session is ours. Paho's
// client passed every message through about eight goroutines (reader,
// inbound and outbound comms, router, writer, token completion) and a store
// keyed by fmt.Sprintf; at QoS 1 that was most of the process's CPU per
// message. Here one goroutine reads and handles every packet, and packets
// are written by whoever sends them, straight into the batching conn: a
// QoS 1 message costs the read, the handler and two small writes.
//
// The broker node drives reconnecting, so one v3conn lives as long as the
// broker node's connection loop: a persistent session's unacknowledged
// publishes are sent again (DUP) when it connects again, a clean session's
// are failed with errLost for the mqtt out node to send again.
type v3conn struct {
	cfg transportConfig
	h   handlers

	wmu     sync.Mutex // guards scratch; each packet is one Write
	scratch []byte

	mu      sync.Mutex
	conn    net.Conn // the current connection; nil while down
	gen     uint64   // counts connections, so that a late ack is not sent on the next
	up      bool
	lostCh  chan struct{}
	lostErr error
	closed  bool // disconnect was called: the transport is done

	nextID uint16
	seq    uint64
	out    map[uint16]*v3out    // our QoS 1 and 2 publishes awaiting the broker
	reqs   map[uint16]*v3req    // SUBSCRIBE and UNSUBSCRIBE awaiting theirs
	inRel  map[uint16]struct{}  // QoS 2 messages received and PUBRECed, awaiting PUBREL
	sent   atomic.Uint64        // packets written, for the keepalive
	recv   atomic.Uint64        // packets read
	pingAt atomic.Int64         // when the unanswered PINGREQ went; 0 when none
	held   atomic.Bool          // the reader waits for the flows to take a message
	done   map[uint64]chan bool // per connection: closed when its goroutines must end
}

// v3out is one of our publishes at QoS 1 or 2.
type v3out struct {
	id       uint16
	seq      uint64 // submission order, for sending again in order
	p        *outPub
	released bool // QoS 2: PUBREC came, PUBREL sent
	done     chan struct{}
	err      error
	finished bool
}

// v3req is a SUBSCRIBE or UNSUBSCRIBE awaiting its answer.
type v3req struct {
	done  chan struct{}
	codes []byte
}

// pingTimeout bounds how long a PINGREQ may go unanswered before the
// connection is taken for dead (paho's default).
const pingTimeout = 10 * time.Second

func newV3(cfg transportConfig, h handlers) *v3conn {
	return &v3conn{
		cfg: cfg, h: h, lostCh: make(chan struct{}),
		out: map[uint16]*v3out{}, reqs: map[uint16]*v3req{}, inRel: map[uint16]struct{}{},
		done: map[uint64]chan bool{},
	}
}

func (t *v3conn) connectPacket() *packets.ConnectPacket {
	cp := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	cp.ProtocolName, cp.ProtocolVersion = "MQTT", 4
	if t.cfg.protocol == 3 {
		cp.ProtocolName, cp.ProtocolVersion = "MQIsdp", 3
	}
	cp.CleanSession = t.cfg.clean
	cp.Keepalive = uint16(min(t.cfg.keepalive/time.Second, 65535))
	cp.ClientIdentifier = t.cfg.clientID
	if w := t.cfg.will; w != nil {
		cp.WillFlag, cp.WillTopic, cp.WillMessage, cp.WillQos, cp.WillRetain = true, w.topic, w.payload, w.qos, w.retain
	}
	if t.cfg.hasUser {
		cp.UsernameFlag, cp.Username = true, t.cfg.username
	}
	if t.cfg.hasPassword {
		cp.PasswordFlag, cp.Password = true, []byte(t.cfg.password)
	}
	return cp
}

func (t *v3conn) connect(ctx context.Context) (connInfo, error) {
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
	ack, err := t.handshake(raw)
	if !stop() {
		if err == nil {
			err = dctx.Err()
		}
	}
	if err != nil {
		_ = raw.Close()
		if ctx.Err() != nil {
			return connInfo{}, ctx.Err()
		}
		return connInfo{}, err
	}
	if ack.ReturnCode != packets.Accepted {
		_ = raw.Close()
		why := packets.ConnErrors[ack.ReturnCode]
		if why == nil {
			why = errors.New("unknown reason")
		}
		return connInfo{}, fmt.Errorf("connection refused: %w (return code %d)", why, ack.ReturnCode)
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
	t.conn, t.up, t.lostErr = c, true, nil
	t.lostCh = make(chan struct{})
	quit := make(chan bool)
	t.done[gen] = quit
	var resend []*v3out
	if t.cfg.clean {
		t.failAllLocked(errLost)
		clear(t.inRel)
	} else {
		for _, o := range t.out {
			resend = append(resend, o)
		}
		slices.SortFunc(resend, func(a, b *v3out) int { return int(a.seq - b.seq) })
	}
	t.pingAt.Store(0)
	t.mu.Unlock()

	// A persistent session's unfinished publishes go first, in the order
	// they were made, before anything new is submitted.
	for _, o := range resend {
		if o.released {
			_ = t.write(c, func(b []byte) []byte { return appendAck(b, 0x62, o.id) })
		} else {
			_ = t.write(c, func(b []byte) []byte { return appendPublish(b, o.p, o.id, true) })
		}
	}
	go t.reader(c, gen)
	if t.cfg.keepalive > 0 {
		go t.keepalive(c, gen, quit)
	}
	return connInfo{sessionPresent: ack.SessionPresent}, nil
}

// handshake sends CONNECT and reads the CONNACK.
func (t *v3conn) handshake(c net.Conn) (*packets.ConnackPacket, error) {
	if err := t.connectPacket().Write(c); err != nil {
		return nil, err
	}
	cp, err := packets.ReadPacket(c)
	if err != nil {
		return nil, fmt.Errorf("no CONNACK from the broker: %w", err)
	}
	ack, ok := cp.(*packets.ConnackPacket)
	if !ok {
		return nil, fmt.Errorf("the broker answered CONNECT with %v", cp)
	}
	return ack, nil
}

// write encodes one packet and queues it on c.
func (t *v3conn) write(c net.Conn, enc func([]byte) []byte) error {
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
func (t *v3conn) current() (net.Conn, uint64, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.conn, t.gen, t.up
}

// sendOn writes a small packet on connection gen only: an ack meant for a
// connection that has gone must not land on the next, where the packet id
// may mean another message.
func (t *v3conn) sendOn(gen uint64, typ byte, id uint16) {
	c, g, up := t.current()
	if !up || g != gen {
		return
	}
	_ = t.write(c, func(b []byte) []byte { return appendAck(b, typ, id) })
}

func (t *v3conn) reader(c net.Conn, gen uint64) {
	for {
		cp, err := packets.ReadPacket(c)
		if err != nil {
			t.markLost(gen, err)
			_ = c.Close()
			return
		}
		t.recv.Add(1)
		switch p := cp.(type) {
		case *packets.PublishPacket:
			t.onPublish(p, gen)
		case *packets.PubackPacket:
			t.finish(p.MessageID, 1, nil)
		case *packets.PubrecPacket:
			t.mu.Lock()
			o := t.out[p.MessageID]
			if o != nil && o.p.qos == 2 {
				o.released = true
			}
			t.mu.Unlock()
			t.sendOn(gen, 0x62, p.MessageID)
		case *packets.PubcompPacket:
			t.finish(p.MessageID, 2, nil)
		case *packets.PubrelPacket:
			t.mu.Lock()
			delete(t.inRel, p.MessageID)
			t.mu.Unlock()
			t.sendOn(gen, 0x70, p.MessageID)
		case *packets.SubackPacket:
			t.answer(p.MessageID, p.ReturnCodes)
		case *packets.UnsubackPacket:
			t.answer(p.MessageID, nil)
		case *packets.PingrespPacket:
			t.pingAt.Store(0)
		}
	}
}

func (t *v3conn) onPublish(p *packets.PublishPacket, gen uint64) {
	ip := &inPub{topic: p.TopicName, payload: p.Payload, qos: p.Qos, retain: p.Retain}
	id := p.MessageID
	switch p.Qos {
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
func (t *v3conn) finish(id uint16, qos byte, err error) {
	t.mu.Lock()
	o := t.out[id]
	if o != nil && o.p.qos == qos {
		delete(t.out, id)
		o.finishLocked(err)
	}
	t.mu.Unlock()
}

func (o *v3out) finishLocked(err error) {
	if !o.finished {
		o.finished, o.err = true, err
		close(o.done)
	}
}

func (t *v3conn) answer(id uint16, codes []byte) {
	t.mu.Lock()
	r := t.reqs[id]
	delete(t.reqs, id)
	t.mu.Unlock()
	if r != nil {
		r.codes = codes
		close(r.done)
	}
}

// failAllLocked ends every publish awaiting an answer with err.
func (t *v3conn) failAllLocked(err error) {
	for id, o := range t.out {
		o.finishLocked(err)
		delete(t.out, id)
	}
}

// keepalive sends PINGREQ when nothing went either way for most of the
// keepalive interval, and gives the connection up when the broker does not
// answer one.
func (t *v3conn) keepalive(c net.Conn, gen uint64, quit chan bool) {
	ka := t.cfg.keepalive
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

func (t *v3conn) markLost(gen uint64, err error) {
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

func (t *v3conn) lost() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lostCh
}

func (t *v3conn) why() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lostErr
}

// disconnect sends DISCONNECT (after what is queued) and closes; publishes
// still awaiting an answer end with errLost.
func (t *v3conn) disconnect(time.Duration) {
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
	_ = t.write(c, func(b []byte) []byte { return append(b, 0xe0, 0) })
	t.markLost(gen, nil)
	_ = c.Close() // sends what is queued first
}

// allocIDLocked takes a free packet id.
func (t *v3conn) allocIDLocked() (uint16, error) {
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

type v3pending struct {
	o          *v3out
	lost       <-chan struct{}
	persistent bool
}

func (p *v3pending) wait(ctx context.Context) error {
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

func (t *v3conn) publish(ctx context.Context, p *outPub) (pending, error) {
	t.mu.Lock()
	if !t.up {
		t.mu.Unlock()
		return nil, errNotConnected
	}
	c, lost := t.conn, t.lostCh
	if p.qos == 0 {
		t.mu.Unlock()
		if err := t.write(c, func(b []byte) []byte { return appendPublish(b, p, 0, false) }); err != nil {
			return donePending{errLost}, nil
		}
		return donePending{}, nil
	}
	id, err := t.allocIDLocked()
	if err != nil {
		t.mu.Unlock()
		return nil, err
	}
	t.seq++
	o := &v3out{id: id, seq: t.seq, p: p, done: make(chan struct{})}
	t.out[id] = o
	t.mu.Unlock()
	// A failed write means the connection is going: the reader reports
	// the loss, and the publish is sent again or failed from there.
	_ = t.write(c, func(b []byte) []byte { return appendPublish(b, p, id, false) })
	return &v3pending{o: o, lost: lost, persistent: !t.cfg.clean}, nil
}

// request sends a SUBSCRIBE or UNSUBSCRIBE built for id and waits for its
// answer.
func (t *v3conn) request(ctx context.Context, build func(id uint16) packets.ControlPacket) ([]byte, error) {
	t.mu.Lock()
	if !t.up {
		t.mu.Unlock()
		return nil, errNotConnected
	}
	c, lost := t.conn, t.lostCh
	id, err := t.allocIDLocked()
	if err != nil {
		t.mu.Unlock()
		return nil, err
	}
	r := &v3req{done: make(chan struct{})}
	t.reqs[id] = r
	t.mu.Unlock()
	pkt := build(id)
	err = t.write(c, func(b []byte) []byte {
		buf := sliceWriter(b)
		_ = pkt.Write(&buf)
		return buf
	})
	if err == nil {
		select {
		case <-r.done:
			return r.codes, nil
		case <-lost:
			err = errLost
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	t.mu.Lock()
	delete(t.reqs, id)
	t.mu.Unlock()
	return nil, err
}

func (t *v3conn) subscribe(ctx context.Context, subs []subReq) error {
	codes, err := t.request(ctx, func(id uint16) packets.ControlPacket {
		sp := packets.NewControlPacket(packets.Subscribe).(*packets.SubscribePacket)
		sp.MessageID = id
		for _, s := range subs {
			sp.Topics = append(sp.Topics, s.topic)
			sp.Qoss = append(sp.Qoss, s.qos)
		}
		return sp
	})
	if err != nil {
		return err
	}
	for i, code := range codes {
		if code >= 0x80 && i < len(subs) {
			return fmt.Errorf("the broker refused the subscription to %q", subs[i].topic)
		}
	}
	return nil
}

func (t *v3conn) unsubscribe(ctx context.Context, topics []string) error {
	_, err := t.request(ctx, func(id uint16) packets.ControlPacket {
		up := packets.NewControlPacket(packets.Unsubscribe).(*packets.UnsubscribePacket)
		up.MessageID, up.Topics = id, topics
		return up
	})
	return err
}

// sliceWriter lets a paho packet encode itself onto a byte slice.
type sliceWriter []byte

func (w *sliceWriter) Write(p []byte) (int, error) {
	*w = append(*w, p...)
	return len(p), nil
}

// appendPublish encodes a PUBLISH: the packet on every message's path,
// written without paho's intermediate buffers.
func appendPublish(b []byte, p *outPub, id uint16, dup bool) []byte {
	h := byte(0x30) | p.qos<<1
	if dup {
		h |= 0x08
	}
	if p.retain {
		h |= 0x01
	}
	n := 2 + len(p.topic) + len(p.payload)
	if p.qos > 0 {
		n += 2
	}
	b = append(b, h)
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			break
		}
	}
	b = append(b, byte(len(p.topic)>>8), byte(len(p.topic)))
	b = append(b, p.topic...)
	if p.qos > 0 {
		b = append(b, byte(id>>8), byte(id))
	}
	return append(b, p.payload...)
}

// appendAck encodes PUBACK (0x40), PUBREC (0x50), PUBREL (0x62) or
// PUBCOMP (0x70).
func appendAck(b []byte, typ byte, id uint16) []byte {
	return append(b, typ, 2, byte(id>>8), byte(id))
}
