package mqtt

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"
	"github.com/eclipse/paho.golang/paho/session"
	"github.com/eclipse/paho.golang/paho/session/state"
)

// v5conn speaks MQTT 5 through paho.golang. It drives paho.Client itself
// rather than through autopaho: autopaho offers only a publish that blocks
// until the broker's answer, so publishes in flight together could not keep
// their order on the wire. Here a publish is handed to the session and
// written in order, and its answer is waited for separately.
type v5conn struct {
	cfg  transportConfig
	h    handlers
	sess *trackSession

	mu      sync.Mutex
	cli     *paho.Client
	up      bool
	lostCh  chan struct{}
	lostErr error

	pubMu sync.Mutex
}

func newV5(cfg transportConfig, h handlers) *v5conn {
	return &v5conn{
		cfg: cfg, h: h, lostCh: make(chan struct{}),
		// One session for every connection the transport makes, so a
		// persistent session's in-flight messages are resent.
		sess: &trackSession{SessionManager: state.NewInMemory()},
	}
}

// trackSession lets a publish be written without waiting for its answer
// while still learning of it: the answer goes to the channel set with next
// instead of the one paho made for a blocking publish.
type trackSession struct {
	session.SessionManager
	mu   sync.Mutex
	next chan<- packets.ControlPacket
}

func (s *trackSession) setNext(ch chan<- packets.ControlPacket) {
	s.mu.Lock()
	s.next = ch
	s.mu.Unlock()
}

func (s *trackSession) AddToSession(ctx context.Context, p session.Packet, resp chan<- packets.ControlPacket) error {
	if p.Type() == packets.PUBLISH {
		s.mu.Lock()
		if s.next != nil {
			resp = s.next
		}
		s.mu.Unlock()
	}
	return s.SessionManager.AddToSession(ctx, p, resp)
}

func (t *v5conn) connect(ctx context.Context) (connInfo, error) {
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
	conn := newBatchConn(raw)
	lostCh := make(chan struct{})
	reason := make(chan error, 1)
	note := func(err error) {
		select {
		case reason <- err:
		default:
		}
	}
	cli := paho.NewClient(paho.ClientConfig{
		ClientID:          t.cfg.clientID,
		Conn:              conn,
		Session:           t.sess,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){t.onPublish},
		OnClientError:     note,
		OnServerDisconnect: func(d *paho.Disconnect) {
			pd := d.Packet()
			text := fmt.Sprintf("the broker disconnected: %s (reason code %d)", pd.Reason(), d.ReasonCode)
			if d.Properties != nil && d.Properties.ReasonString != "" {
				text += ": " + d.Properties.ReasonString
			}
			note(errors.New(text))
		},
		EnableManualAcknowledgment: true,
		// Acks leave in the order the messages came, batched this often;
		// with a receive maximum of a few hundred, 5 ms keeps the window
		// from running dry.
		SendAcksInterval: 5 * time.Millisecond,
		PacketTimeout:    30 * time.Second,
	})
	cp := &paho.Connect{
		KeepAlive:  uint16(t.cfg.keepalive / time.Second),
		ClientID:   t.cfg.clientID,
		CleanStart: t.cfg.clean,
		Properties: &paho.ConnectProperties{
			RequestResponseInfo:   true,
			RequestProblemInfo:    true,
			SessionExpiryInterval: t.cfg.sessionExp,
		},
	}
	if t.cfg.receiveMax > 0 {
		rm := t.cfg.receiveMax
		cp.Properties.ReceiveMaximum = &rm
	}
	for _, up := range t.cfg.connectProps {
		cp.Properties.User = append(cp.Properties.User, paho.UserProperty{Key: up.key, Value: up.value})
	}
	if t.cfg.hasUser {
		cp.UsernameFlag, cp.Username = true, t.cfg.username
	}
	if t.cfg.hasPassword {
		cp.PasswordFlag, cp.Password = true, []byte(t.cfg.password)
	}
	if w := t.cfg.will; w != nil {
		cp.WillMessage = &paho.WillMessage{Retain: w.retain, QoS: w.qos, Topic: w.topic, Payload: w.payload}
		cp.WillProperties = &paho.WillProperties{}
		if v := w.v5; v != nil {
			cp.WillProperties = &paho.WillProperties{
				WillDelayInterval: v.willDelay, MessageExpiry: v.expiry, ContentType: v.contentType,
				ResponseTopic: v.responseTopic, CorrelationData: v.correlation, User: pahoUser(v.user),
			}
		}
	}
	ca, err := cli.Connect(dctx, cp)
	if err != nil {
		if ca != nil {
			pc := packets.Connack{ReasonCode: ca.ReasonCode}
			text := fmt.Sprintf("connection refused: %s (reason code %d)", pc.Reason(), ca.ReasonCode)
			if ca.Properties != nil && ca.Properties.ReasonString != "" {
				text += ": " + ca.Properties.ReasonString
			}
			return connInfo{}, errors.New(text)
		}
		return connInfo{}, err
	}
	info := connInfo{sessionPresent: ca.SessionPresent, subIDs: true}
	if ca.Properties != nil {
		info.subIDs = ca.Properties.SubIDAvailable
		if ca.Properties.TopicAliasMaximum != nil {
			info.topicAliasMax = *ca.Properties.TopicAliasMaximum
		}
		if ca.Properties.MaximumPacketSize != nil {
			info.maxPacket = *ca.Properties.MaximumPacketSize
		}
	}
	t.mu.Lock()
	t.cli, t.up, t.lostCh, t.lostErr = cli, true, lostCh, nil
	t.mu.Unlock()
	go func() {
		<-cli.Done()
		// paho reports why only after it has shut down; give it a moment.
		var why error = errLost
		select {
		case why = <-reason:
		case <-time.After(200 * time.Millisecond):
		}
		t.mu.Lock()
		if t.lostCh == lostCh {
			t.up = false
			t.lostErr = why
		}
		t.mu.Unlock()
		close(lostCh)
	}()
	return info, nil
}

func pahoUser(ups []userProp) paho.UserProperties {
	var out paho.UserProperties
	for _, u := range ups {
		out = append(out, paho.UserProperty{Key: u.key, Value: u.value})
	}
	return out
}

func (t *v5conn) onPublish(pr paho.PublishReceived) (bool, error) {
	pk := pr.Packet
	p := &inPub{topic: pk.Topic, payload: pk.Payload, qos: pk.QoS, retain: pk.Retain, v5: &pubProps{}}
	if pp := pk.Properties; pp != nil {
		p.v5.responseTopic = pp.ResponseTopic
		p.v5.correlation = pp.CorrelationData
		p.v5.contentType = pp.ContentType
		p.v5.expiry = pp.MessageExpiry
		if pp.PayloadFormat != nil {
			b := *pp.PayloadFormat == 1
			p.v5.payloadFormat = &b
		}
		if pp.SubscriptionIdentifier != nil {
			p.v5.subID = *pp.SubscriptionIdentifier
		}
		for _, u := range pp.User {
			p.v5.user = append(p.v5.user, userProp{u.Key, u.Value})
		}
	}
	if p.qos > 0 {
		cli := pr.Client
		p.ack = func() { _ = cli.Ack(pk) }
	}
	t.h.message(p)
	return true, nil
}

func (t *v5conn) lost() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lostCh
}

func (t *v5conn) why() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lostErr
}

func (t *v5conn) current() (*paho.Client, <-chan struct{}, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cli, t.lostCh, t.up
}

func (t *v5conn) disconnect(timeout time.Duration) {
	cli, _, up := t.current()
	if cli == nil || !up {
		return
	}
	done := make(chan struct{})
	go func() {
		_ = cli.Disconnect(&paho.Disconnect{ReasonCode: 0})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(timeout):
	}
}

// v5pending waits for the answer the session passes on.
type v5pending struct {
	ch <-chan packets.ControlPacket
}

func (p *v5pending) wait(ctx context.Context) error {
	select {
	case resp := <-p.ch:
		switch c := resp.Content.(type) {
		case nil:
			// The session dropped the message (the connection ended and the
			// session with it).
			return errLost
		case *packets.Puback:
			if c.ReasonCode >= 0x80 {
				return refused(c.Reason(), c.ReasonCode, c.Properties)
			}
		case *packets.Pubrec:
			if c.ReasonCode >= 0x80 {
				return refused(c.Reason(), c.ReasonCode, c.Properties)
			}
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func refused(reason string, code byte, props *packets.Properties) error {
	text := fmt.Sprintf("the broker refused the publish: %s (reason code %d)", reason, code)
	if props != nil && props.ReasonString != "" {
		text += ": " + props.ReasonString
	}
	return errors.New(text)
}

type donePending struct{ err error }

func (p donePending) wait(context.Context) error { return p.err }

func (t *v5conn) publish(ctx context.Context, p *outPub) (pending, error) {
	cli, lost, up := t.current()
	if !up {
		return nil, errNotConnected
	}
	pp := &paho.Publish{QoS: p.qos, Retain: p.retain, Topic: p.topic, Payload: p.payload}
	if v := p.v5; v != nil {
		props := &paho.PublishProperties{
			CorrelationData: v.correlation, ContentType: v.contentType, ResponseTopic: v.responseTopic,
			MessageExpiry: v.expiry, User: pahoUser(v.user),
		}
		if v.payloadFormat != nil {
			var b byte
			if *v.payloadFormat {
				b = 1
			}
			props.PayloadFormat = &b
		}
		if v.topicAlias > 0 {
			a := v.topicAlias
			props.TopicAlias = &a
		}
		pp.Properties = props
	}
	if p.qos == 0 {
		_, err := cli.PublishWithOptions(ctx, pp, paho.PublishOptions{})
		if err != nil {
			if errors.Is(err, paho.ErrInvalidArguments) {
				return nil, err
			}
			return donePending{errLost}, nil
		}
		return donePending{}, nil
	}
	ch := make(chan packets.ControlPacket, 1)
	if t.h.busy != nil {
		t.h.busy(true)
		defer t.h.busy(false)
	}
	t.pubMu.Lock()
	t.sess.setNext(ch)
	_, err := cli.PublishWithOptions(ctx, pp, paho.PublishOptions{Method: paho.PublishMethod_AsyncSend})
	t.sess.setNext(nil)
	t.pubMu.Unlock()
	switch {
	case err == nil, errors.Is(err, paho.ErrNetworkErrorAfterStored):
		// In the session: the answer, or its removal, will come.
		return &v5pending{ch: ch}, nil
	case errors.Is(err, paho.ErrInvalidArguments):
		return nil, err
	}
	select {
	case <-lost:
		return nil, errNotConnected
	default:
	}
	return nil, fmt.Errorf("%w: %v", errNotConnected, err)
}

func (t *v5conn) subscribe(ctx context.Context, subs []subReq) error {
	cli, _, up := t.current()
	if !up {
		return errNotConnected
	}
	// A SUBSCRIBE carries one subscription identifier, so one each.
	for _, s := range subs {
		req := &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{
			Topic: s.topic, QoS: s.qos, RetainHandling: s.retainHandling,
			NoLocal: s.noLocal, RetainAsPublished: s.retainAsPublished,
		}}}
		if s.subID > 0 {
			id := s.subID
			req.Properties = &paho.SubscribeProperties{SubscriptionIdentifier: &id}
		}
		sa, err := cli.Subscribe(ctx, req)
		if sa != nil && len(sa.Reasons) > 0 && sa.Reasons[0] >= 0x80 {
			ps := packets.Suback{Reasons: sa.Reasons}
			text := fmt.Sprintf("the broker refused the subscription to %q: %s (reason code %d)", s.topic, ps.Reason(0), sa.Reasons[0])
			if sa.Properties != nil && sa.Properties.ReasonString != "" {
				text += ": " + sa.Properties.ReasonString
			}
			return errors.New(text)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (t *v5conn) unsubscribe(ctx context.Context, topics []string) error {
	cli, _, up := t.current()
	if !up {
		return errNotConnected
	}
	_, err := cli.Unsubscribe(ctx, &paho.Unsubscribe{Topics: topics})
	return err
}
