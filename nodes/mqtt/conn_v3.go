package mqtt

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"
)

// v3conn speaks MQTT 3.1 and 3.1.1 through paho.mqtt.golang. Paho's own
// reconnect stays off: it silently drops QoS 0 publishes while reconnecting,
// and the broker node's loop gives both protocol versions one behaviour.
// One paho client lives as long as the transport, so a persistent session's
// in-flight publishes are resent when it connects again.
type v3conn struct {
	cfg transportConfig
	h   handlers
	cli pahomqtt.Client

	mu      sync.Mutex
	lostCh  chan struct{}
	lostErr error
	up      bool
	// dialCtx ends the attempt in progress: paho's own connect cannot be
	// cancelled, so its dial and the connection it waits on are ours.
	dialCtx context.Context
	dialed  net.Conn
}

func newV3(cfg transportConfig, h handlers) *v3conn {
	t := &v3conn{cfg: cfg, h: h, lostCh: make(chan struct{})}
	o := pahomqtt.NewClientOptions()
	o.AddBroker(cfg.url)
	o.SetClientID(cfg.clientID)
	if cfg.hasUser {
		o.SetUsername(cfg.username)
	}
	if cfg.hasPassword {
		o.SetPassword(cfg.password)
	}
	o.SetKeepAlive(cfg.keepalive)
	o.SetCleanSession(cfg.clean)
	if cfg.protocol == 3 {
		o.SetProtocolVersion(3)
	} else {
		o.SetProtocolVersion(4)
	}
	o.SetAutoReconnect(false)
	o.SetConnectRetry(false)
	o.SetResumeSubs(false)
	// Handlers run in order on paho's goroutine; ours only queues, so paho
	// keeps reading (and so keeps seeing the acks of our own publishes).
	o.SetOrderMatters(true)
	o.SetAutoAckDisabled(true)
	o.SetConnectTimeout(30 * time.Second)
	o.SetTLSConfig(cfg.tls)
	if cfg.will != nil {
		o.SetBinaryWill(cfg.will.topic, cfg.will.payload, cfg.will.qos, cfg.will.retain)
	}
	o.SetCustomOpenConnectionFn(func(u *url.URL, _ pahomqtt.ClientOptions) (net.Conn, error) {
		t.mu.Lock()
		parent := t.dialCtx
		t.mu.Unlock()
		if parent == nil {
			parent = context.Background()
		}
		ctx, cancel := context.WithTimeout(parent, 30*time.Second)
		defer cancel()
		c, err := dialBroker(ctx, u, cfg.tls)
		if err != nil {
			return nil, err
		}
		// paho writes every packet whole, so packets may share a write.
		bc := newBatchConn(c)
		t.mu.Lock()
		t.dialed = bc
		t.mu.Unlock()
		return bc, nil
	})
	o.SetDefaultPublishHandler(t.onMessage)
	o.SetConnectionLostHandler(func(_ pahomqtt.Client, err error) { t.markLost(err) })
	t.cli = pahomqtt.NewClient(o)
	return t
}

func (t *v3conn) onMessage(_ pahomqtt.Client, m pahomqtt.Message) {
	p := &inPub{topic: m.Topic(), payload: m.Payload(), qos: m.Qos(), retain: m.Retained()}
	if p.qos > 0 {
		// Straight from whichever goroutine finished the message: paho
		// hands the ack to its writer, which never waits for the reader.
		p.ack = m.Ack
	}
	t.h.message(p)
}

func (t *v3conn) markLost(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.up {
		return
	}
	t.up = false
	t.lostErr = err
	close(t.lostCh)
}

func (t *v3conn) connect(ctx context.Context) (connInfo, error) {
	t.mu.Lock()
	t.lostCh = make(chan struct{})
	t.lostErr = nil
	t.dialCtx, t.dialed = ctx, nil
	t.mu.Unlock()
	tok := t.cli.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		// The dial sees the cancelled context; a connection waiting for
		// its CONNACK is closed under paho.
		t.mu.Lock()
		if t.dialed != nil {
			_ = t.dialed.Close()
		}
		t.mu.Unlock()
		select {
		case <-tok.Done():
		case <-time.After(closeWait):
		}
		return connInfo{}, ctx.Err()
	}
	if err := tok.Error(); err != nil {
		if ct, ok := tok.(*pahomqtt.ConnectToken); ok && ct.ReturnCode() > 0 && ct.ReturnCode() < 0x80 {
			return connInfo{}, fmt.Errorf("connection refused: %w (return code %d)", err, ct.ReturnCode())
		}
		return connInfo{}, err
	}
	t.mu.Lock()
	t.up = true
	t.mu.Unlock()
	if !t.cli.IsConnectionOpen() {
		// Lost between CONNACK and now: paho called our handler while up
		// was still false.
		t.markLost(errLost)
	}
	info := connInfo{}
	if ct, ok := tok.(*pahomqtt.ConnectToken); ok {
		info.sessionPresent = ct.SessionPresent()
	}
	return info, nil
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

func (t *v3conn) disconnect(timeout time.Duration) {
	t.mu.Lock()
	t.up = false
	t.mu.Unlock()
	t.cli.Disconnect(uint(timeout / time.Millisecond))
}

type v3pending struct {
	tok        pahomqtt.Token
	lost       <-chan struct{}
	persistent bool
}

func (p *v3pending) wait(ctx context.Context) error {
	lost := p.lost
	if p.persistent {
		// paho resends it from its store when the session resumes.
		lost = nil
	}
	select {
	case <-p.tok.Done():
		err := p.tok.Error()
		if err == nil {
			return nil
		}
		select {
		case <-p.lost:
			// Failed because the connection went: try again on the next.
			return errLost
		default:
		}
		if strings.Contains(err.Error(), "broken by timeout") || strings.HasPrefix(err.Error(), "connection lost before") {
			// paho gave up handing it to a connection that never came, or
			// failed it on a loss before telling us of the loss.
			return errLost
		}
		return err
	case <-lost:
		select {
		case <-p.tok.Done():
			if p.tok.Error() == nil {
				return nil
			}
		default:
		}
		return errLost
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (t *v3conn) publish(ctx context.Context, p *outPub) (pending, error) {
	lost := t.lost()
	select {
	case <-lost:
		return nil, errNotConnected
	default:
	}
	if !t.cli.IsConnectionOpen() {
		return nil, errNotConnected
	}
	tok := t.cli.Publish(p.topic, p.qos, p.retain, p.payload)
	if tok.Error() == pahomqtt.ErrNotConnected {
		return nil, errNotConnected
	}
	return &v3pending{tok: tok, lost: lost, persistent: !t.cfg.clean && p.qos > 0}, nil
}

func (t *v3conn) subscribe(ctx context.Context, subs []subReq) error {
	filters := make(map[string]byte, len(subs))
	for _, s := range subs {
		filters[s.topic] = s.qos
	}
	tok := t.cli.SubscribeMultiple(filters, nil)
	if err := waitToken(ctx, tok, t.lost()); err != nil {
		return err
	}
	st, ok := tok.(*pahomqtt.SubscribeToken)
	if !ok {
		return nil
	}
	for topic, code := range st.Result() {
		if code >= 0x80 {
			return fmt.Errorf("the broker refused the subscription to %q", topic)
		}
	}
	return nil
}

func (t *v3conn) unsubscribe(ctx context.Context, topics []string) error {
	return waitToken(ctx, t.cli.Unsubscribe(topics...), t.lost())
}

func waitToken(ctx context.Context, tok pahomqtt.Token, lost <-chan struct{}) error {
	select {
	case <-tok.Done():
		return tok.Error()
	case <-lost:
		return errLost
	case <-ctx.Done():
		return ctx.Err()
	}
}
