package mqtt

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "mqtt out", Category: "network", Color: "#d8bfd8", Icon: "bridge.svg",
		Inputs: 1, Outputs: 0,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "topic", Kind: node.KindString, Default: "", Label: "Topic", Check: checkPublishTopic},
			{Name: "qos", Kind: node.KindString, Default: "", Label: "QoS", Options: []string{"", "0", "1", "2"}},
			{Name: "retain", Kind: node.KindAny, Default: "", Label: "Retain"},
			{Name: "respTopic", Kind: node.KindString, Default: "", Label: "Response topic"},
			{Name: "contentType", Kind: node.KindString, Default: "", Label: "Content Type"},
			{Name: "userProps", Kind: node.KindAny, Default: "", Label: "User Properties"},
			{Name: "correl", Kind: node.KindString, Default: "", Label: "Correlation Data"},
			{Name: "expiry", Kind: node.KindString, Default: "", Label: "Expiry (secs)"},
			{Name: "broker", Kind: node.KindString, ConfigType: "mqtt-broker", Required: true, Label: "Server"},
		},
		Help: outHelp,
		New:  newOut,
	})
}

const outHelp = "Publishes `msg.payload` to an MQTT broker.\n\n" +
	"The node's `topic`, `qos` and `retain` win over `msg.topic`, `msg.qos` and `msg.retain`; leave them empty to set them per message. " +
	"A Buffer is sent as it is, an object or array as JSON, a number or boolean as its text, null as an empty payload; " +
	"a message without `msg.payload` is not sent.\n\n" +
	"With MQTT 5, `msg.responseTopic`, `msg.correlationData`, `msg.contentType`, `msg.messageExpiryInterval`, " +
	"`msg.userProperties`, `msg.payloadFormatIndicator` and `msg.topicAlias` go with the message (the node's own settings win).\n\n" +
	"At QoS 1 and 2 the message is finished (complete nodes fire, the source learns it is safe) only when the broker has " +
	"acknowledged it; a publish cut off by a lost connection is sent again after reconnecting. While the broker is " +
	"reconnecting, messages wait. `msg.action` `connect` or `disconnect` controls the connection instead."

// outWindow is how many publishes one node may have waiting for the
// broker's answer before it stops taking messages.
const outWindow = 4096

// overflow is how many QoS 0 messages may wait when the reader cannot stop
// (our own publishes wait for answers on the same connection); past it QoS
// 0 messages are dropped, which QoS 0 allows, rather than memory growing.
var overflow = 64 * highWater

type outNode struct {
	brokerID    string
	topic       string
	qos, retain any
	respTopic   string
	correl      string
	contentType string
	expiry      any
	userProps   *msg.Object

	c      node.Ctx
	b      *broker
	ctx    context.Context
	cancel context.CancelFunc
	pend   chan *outItem
	wg     sync.WaitGroup
}

type outItem struct {
	m  *msg.Msg
	p  *outPub
	pd pending
}

func newOut(cfg *node.Config) (node.Node, error) {
	n := &outNode{
		brokerID: cfg.Str("broker"), topic: cfg.Str("topic"),
		qos: cfg.Get("qos"), retain: cfg.Get("retain"),
		respTopic: cfg.Str("respTopic"), correl: cfg.Str("correl"), contentType: cfg.Str("contentType"),
		expiry: cfg.Get("expiry"),
	}
	if !msg.Truthy(n.qos) {
		n.qos = nil
	}
	if s, ok := cfg.Get("userProps").(string); ok && jsonObjectText.MatchString(s) {
		if v, err := msg.UnmarshalString(s); err == nil {
			if ups := userProps(v); len(ups) > 0 {
				n.userProps = msg.NewObject(len(ups))
				for _, u := range ups {
					n.userProps.Set(u.key, u.value)
				}
			}
		}
	}
	return n, nil
}

func (n *outNode) DeferDone() {}

func (n *outNode) Start(c node.Ctx) error {
	n.c = c
	n.ctx, n.cancel = context.WithCancel(context.Background())
	bn, _ := c.ConfigNode(n.brokerID)
	b, ok := bn.(*broker)
	if !ok {
		c.Error(errors.New("missing broker configuration"), nil)
		return nil
	}
	n.b = b
	n.pend = make(chan *outItem, outWindow)
	n.wg.Add(1)
	go n.complete()
	c.Status(statusDisconnected)
	b.register(c)
	return nil
}

func (n *outNode) Input(c node.Ctx, m *msg.Msg) error {
	if n.b == nil {
		c.Done(m, nil)
		return nil
	}
	if a := m.Value("action"); msg.Truthy(a) {
		switch a {
		case "connect":
			c.Done(m, n.b.handleConnect(n.ctx, m))
		case "disconnect":
			n.b.disconnect(n.ctx)
			c.Done(m, nil)
		default:
			c.Done(m, errInvalidAction)
		}
		return nil
	}
	p, ok, err := n.prepare(m)
	switch {
	case err != nil:
		c.Done(m, err)
		return nil
	case !ok:
		// Node-RED warns and never finishes the message: no complete.
		c.Warn("Invalid topic specified")
		m.Track.Done(nil)
		return nil
	case p == nil:
		c.Done(m, nil)
		return nil
	}
	it := &outItem{m: m, p: p}
	pd, err := n.b.submit(n.ctx, p)
	if err != nil {
		n.finish(it, err)
		return nil
	}
	it.pd = pd
	select {
	case n.pend <- it:
		return nil
	default:
	}
	// The window is full: only the broker's acks free it, so the reader
	// must keep reading while we wait.
	n.b.awaitStart()
	defer n.b.awaitEnd()
	select {
	case n.pend <- it:
	case <-n.ctx.Done():
		n.finish(it, n.ctx.Err())
	}
	return nil
}

// complete finishes publishes in the order made, as the broker answers.
func (n *outNode) complete() {
	defer n.wg.Done()
	for {
		select {
		case it := <-n.pend:
			err := it.pd.wait(n.ctx)
			for lost := 1; errors.Is(err, errLost) && n.ctx.Err() == nil; lost++ {
				if lost >= maxLost {
					// A broker that drops the connection on this message
					// (too large for it, or not allowed) would otherwise
					// be sent it for ever, and nothing else would pass.
					err = gaveUp(it.p.topic)
					break
				}
				// At least once: the broker may or may not have it.
				var pd pending
				pd, err = n.b.submit(n.ctx, it.p)
				if err == nil {
					err = pd.wait(n.ctx)
				}
			}
			n.finish(it, err)
		case <-n.ctx.Done():
			for {
				select {
				case it := <-n.pend:
					n.finish(it, n.ctx.Err())
				default:
					return
				}
			}
		}
	}
}

func (n *outNode) finish(it *outItem, err error) {
	if n.ctx.Err() != nil {
		// Stopping: the source learns the message was not delivered, no
		// catch node needs to hear of it.
		it.m.Track.Done(errStopping)
		return
	}
	if errors.Is(err, errNotConnected) {
		err = fmt.Errorf("not connected to the broker; message on %q not sent", it.p.topic)
	}
	n.c.Done(it.m, err)
}

// maxLost is how many connections a publish may see end before its
// acknowledgement before it is given up as an error.
const maxLost = 3

// gaveUp is the error of a publish given up after maxLost connections.
func gaveUp(topic string) error {
	return fmt.Errorf("message on %q not sent: the connection to the broker ended each of the %d times it was sent (too large for the broker, or refused?)", topic, maxLost)
}

var errStopping = errors.New("the mqtt out node stopped before the broker acknowledged the message")

// prepare is Node-RED's doPublish and publish up to the network: it sets
// msg.topic, qos, retain and the MQTT 5 properties on the message (as
// Node-RED does, complete and catch nodes see them) and returns what to
// send. ok is false for an invalid topic; p is nil without a payload.
func (n *outNode) prepare(m *msg.Msg) (p *outPub, ok bool, err error) {
	if q := m.Value("qos"); msg.Truthy(q) {
		if v, isNum := parseIntJS(q); isNum && (v == 0 || v == 1 || v == 2) {
			m.Set("qos", v)
		} else {
			m.Set("qos", nil)
		}
	}
	if n.topic != "" {
		m.Set("topic", n.topic)
	}
	qv := n.qos
	if !msg.Truthy(qv) {
		qv = m.Value("qos")
	}
	if !msg.Truthy(qv) {
		qv = 0.0
	}
	qos := msg.ToNumber(qv)
	m.Set("qos", qos)
	rv := n.retain
	if !msg.Truthy(rv) {
		rv = m.Value("retain")
	}
	retain := rv == true || rv == "true"
	m.Set("retain", retain)
	v5 := n.b.v5()
	if v5 {
		if n.userProps != nil {
			m.Set("userProperties", n.userProps.Clone())
		}
		if n.respTopic != "" {
			m.Set("responseTopic", n.respTopic)
		}
		if n.correl != "" {
			m.Set("correlationData", n.correl)
		}
		if n.contentType != "" {
			m.Set("contentType", n.contentType)
		}
		if msg.Truthy(n.expiry) {
			m.Set("messageExpiryInterval", n.expiry)
		}
	}
	if !m.Has("payload") {
		return nil, true, nil
	}
	payload := m.Value("payload")
	switch payload.(type) {
	case []byte, string:
	default:
		s := string(toPayload(payload))
		payload = s
		m.Set("payload", s)
	}
	p = &outPub{qos: byte(qos), retain: retain}
	if qos != 0 && qos != 1 && qos != 2 {
		return nil, true, &node.JSError{Name: "Error", Message: fmt.Sprintf("Invalid QoS %s", msg.ToString(qos))}
	}
	switch t := payload.(type) {
	case []byte:
		p.payload = t
	case string:
		p.payload = []byte(t)
	}
	topic, isStr := m.Value("topic").(string)
	topicOK := isStr && validPublish(topic)
	if v5 {
		pp := &pubProps{}
		if up := m.Value("userProperties"); up != nil {
			if _, isObj := up.(*msg.Object); !isObj && msg.Truthy(up) {
				m.Delete("userProperties")
			}
		}
		var alias float64
		if ta, has := m.Get("topicAlias"); has && !math.IsNaN(msg.ToNumber(ta)) {
			alias, _ = parseIntJS(ta)
			m.Set("topicAlias", alias)
		} else {
			m.Delete("topicAlias")
		}
		if s, ok := m.Value("responseTopic").(string); ok && s != "" {
			pp.responseTopic = s
		}
		if cd := m.Value("correlationData"); msg.Truthy(cd) {
			b, err := bufferFrom(cd)
			if err != nil {
				return nil, true, err
			}
			pp.correlation = b
		}
		if s, ok := m.Value("contentType").(string); ok && s != "" {
			pp.contentType = s
		}
		if e, ok := parseIntJS(m.Value("messageExpiryInterval")); ok && m.Has("messageExpiryInterval") && e >= 0 && e <= math.MaxUint32 {
			u := uint32(e)
			pp.expiry = &u
		}
		pp.user = userProps(m.Value("userProperties"))
		if alias >= 1 && alias <= math.MaxUint16 {
			pp.topicAlias = uint16(alias)
		}
		switch pf := m.Value("payloadFormatIndicator"); pf {
		case true, "true":
			t := true
			pp.payloadFormat = &t
		case false, "false":
			f := false
			pp.payloadFormat = &f
		}
		if !(topicOK && pp.topicAlias > 0) && topic == "" && pp.responseTopic != "" {
			// Node-RED replies on the response topic when no topic is set.
			topic = pp.responseTopic
			m.Set("topic", topic)
			topicOK = validPublish(topic)
			m.Delete("responseTopic")
		}
		if !topicOK {
			pp.topicAlias = 0
		}
		p.v5 = pp
	}
	if !topicOK {
		return nil, false, nil
	}
	p.topic = topic
	return p, true, nil
}

// bufferFrom is Buffer.from(v), with its TypeError for what it refuses.
func bufferFrom(v any) ([]byte, error) {
	switch t := v.(type) {
	case string, []byte, []any:
		return toBuffer(t), nil
	case *msg.Object:
		if t.Value("type") == "Buffer" {
			if data, ok := t.Value("data").([]any); ok {
				return toBuffer(data), nil
			}
		}
		return nil, &node.JSError{Name: "TypeError", Message: "The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object. Received an instance of Object"}
	}
	return nil, &node.JSError{Name: "TypeError", Message: fmt.Sprintf("The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object. Received type %s (%s)", msg.TypeOf(v), msg.ToString(v))}
}

func (n *outNode) Close(ctx context.Context, removed bool) error {
	if n.cancel == nil {
		return nil
	}
	n.cancel()
	n.wg.Wait()
	if n.b != nil {
		n.b.deregister(n.c, removed)
	}
	return nil
}
