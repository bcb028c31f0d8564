package msg

import (
	"crypto/rand"
	"encoding/hex"
	"sync/atomic"
)

// Msg is a message: its JSON-like body and hidden delivery state that is
// never serialised. The body's methods are promoted, so m.Get("payload")
// reads msg.payload.
type Msg struct {
	*Object
	// Track follows the message and every copy it fanned out into, so a
	// source can learn when all of them are done (end-to-end acks).
	Track *Tracker
}

// New returns an empty message with a fresh _msgid.
func New() *Msg {
	o := NewObject(4)
	o.Set("_msgid", NewID())
	return &Msg{Object: o}
}

// Wrap makes a message of an existing body.
func Wrap(o *Object) *Msg { return &Msg{Object: o} }

// Clone deep-copies the body; the copy shares the tracker, as copies of one
// message are parts of one delivery.
func (m *Msg) Clone() *Msg {
	return &Msg{Object: m.Object.Clone(), Track: m.Track}
}

// Payload is msg.payload.
func (m *Msg) Payload() any { return m.Value("payload") }

// NewID returns a Node-RED style message id: 16 hex digits.
func NewID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Tracker counts the live copies of a message. When the count returns to
// zero every copy has been handled and OnDone runs once, with the first
// error reported by any copy.
type Tracker struct {
	n      atomic.Int64
	failed atomic.Pointer[error]
	OnDone func(err error)
}

// NewTracker returns a tracker for one copy of a message.
func NewTracker(onDone func(error)) *Tracker {
	t := &Tracker{OnDone: onDone}
	t.n.Store(1)
	return t
}

// Add records n more live copies.
func (t *Tracker) Add(n int) {
	if t != nil {
		t.n.Add(int64(n))
	}
}

// Done records that one copy finished, with err when it failed.
func (t *Tracker) Done(err error) {
	if t == nil {
		return
	}
	if err != nil {
		t.failed.CompareAndSwap(nil, &err)
	}
	if t.n.Add(-1) == 0 && t.OnDone != nil {
		var e error
		if p := t.failed.Load(); p != nil {
			e = *p
		}
		t.OnDone(e)
	}
}
