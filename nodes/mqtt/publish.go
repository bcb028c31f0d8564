package mqtt

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
)

// publishOn submits p on a given connection run (birth and close
// messages), waiting for the connection.
func (b *broker) publishOn(ctx context.Context, l *connLoop, p *outPub) (pending, error) {
	for {
		b.pubMu.Lock()
		wire := b.aliased(p)
		pd, err := l.t.publish(ctx, wire)
		b.pubMu.Unlock()
		if !errors.Is(err, errNotConnected) {
			return pd, err
		}
		select {
		case <-l.t.lost():
			return nil, errLost
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// submit publishes p once the broker is connected, in the order callers
// submit; it returns errNotConnected at once when no connection is being
// attempted (disconnected on purpose, or never connected).
func (b *broker) submit(ctx context.Context, p *outPub) (pending, error) {
	for {
		l, err := b.waitUp(ctx)
		if err != nil {
			return nil, err
		}
		if err := b.checkSize(p); err != nil {
			return nil, err
		}
		b.pubMu.Lock()
		wire := b.aliased(p)
		pd, err := l.t.publish(ctx, wire)
		b.pubMu.Unlock()
		if !errors.Is(err, errNotConnected) {
			return pd, err
		}
		// The connection went while we looked; wait for the next one.
		select {
		case <-l.t.lost():
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// maxRemaining is the largest remaining length an MQTT packet can encode.
const maxRemaining = 268435455

// checkSize refuses a publish the broker is sure to refuse: one larger than
// MQTT can encode, or than the Maximum Packet Size an MQTT 5 broker
// announced (it would close the connection, and at least once would send
// it again for ever). Properties are not counted, so this is a lower bound.
func (b *broker) checkSize(p *outPub) error {
	n := 2 + len(p.topic) + len(p.payload)
	if p.qos > 0 {
		n += 2
	}
	b.mu.Lock()
	limit := b.info.maxPacket
	b.mu.Unlock()
	switch {
	case n > maxRemaining:
		return fmt.Errorf("message on %q too large: %d bytes, MQTT allows %d", p.topic, n, maxRemaining)
	case limit > 0 && n+2 > int(limit):
		return fmt.Errorf("message on %q too large: %d bytes, the broker accepts at most %d", p.topic, n+2, limit)
	}
	return nil
}

// aliased applies Node-RED's MQTT 5 topic alias rules for the current
// connection: an alias outside the broker's maximum is dropped, and a topic
// already sent under its alias goes as an empty topic. Called with pubMu.
func (b *broker) aliased(p *outPub) *outPub {
	if p.v5 == nil || p.v5.topicAlias == 0 {
		return p
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	q := *p
	props := *p.v5
	q.v5 = &props
	if int(props.topicAlias) > int(b.info.topicAliasMax) {
		props.topicAlias = 0
		return &q
	}
	if b.aliases == nil {
		b.aliases = map[uint16]string{}
	}
	if b.aliases[props.topicAlias] == p.topic {
		q.topic, q.aliased = "", p.topic
	} else {
		b.aliases[props.topicAlias] = p.topic
	}
	return &q
}

// handleConnect is the connect action of mqtt in and out nodes: connect
// (with msg.broker's settings when given) and finish once connected; an
// open connection is only cycled when msg.broker.force says so.
func (b *broker) handleConnect(ctx context.Context, m *msg.Msg) error {
	data, _ := m.Value("broker").(*msg.Object)
	b.mu.Lock()
	idle := b.state == stateIdle
	b.mu.Unlock()
	if !idle {
		if data == nil {
			return nil
		}
		if !msg.Truthy(data.Value("force")) {
			return errAlreadyUp
		}
		b.disconnect(ctx)
	}
	if data != nil {
		b.mu.Lock()
		b.opts.setOptions(data, false, nil)
		b.mu.Unlock()
	}
	b.connect()
	_, err := b.waitUp(ctx)
	if errors.Is(err, errNotConnected) {
		b.mu.Lock()
		text := b.status.Text
		b.mu.Unlock()
		return errors.New("cannot connect to the broker: " + text)
	}
	return err
}
