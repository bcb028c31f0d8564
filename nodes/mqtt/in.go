package mqtt

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "mqtt in", Category: "network", Color: "#d8bfd8", Icon: "bridge.svg",
		Inputs: 0, Outputs: 1,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "topic", Kind: node.KindString, Default: "", Label: "Topic", Check: checkSubscribeTopic},
			{Name: "qos", Kind: node.KindString, Default: "2", Label: "QoS"},
			{Name: "datatype", Kind: node.KindString, Default: "auto-detect", Label: "Output",
				Options: []string{"auto-detect", "auto", "buffer", "utf8", "json", "base64"}},
			{Name: "broker", Kind: node.KindString, ConfigType: "mqtt-broker", Required: true, Label: "Server"},
			{Name: "nl", Kind: node.KindBool, Default: false, Label: "Do not receive messages published by this client"},
			{Name: "rap", Kind: node.KindBool, Default: true, Label: "Keep retain flag of original publish"},
			{Name: "rh", Kind: node.KindNumber, Default: 0, Label: "Retained message handling"},
			{Name: "inputs", Kind: node.KindNumber, Default: 0, Label: "Dynamic subscription (1)"},
		},
		Help: inHelp,
		New:  newIn,
	})
}

const inHelp = "Subscribes to a topic on an MQTT broker and sends each message it receives.\n\n" +
	"**Output**: `msg.topic`, `msg.payload`, `msg.qos`, `msg.retain`; with MQTT 5 also `msg.responseTopic`, " +
	"`msg.correlationData`, `msg.contentType`, `msg.messageExpiryInterval`, `msg.payloadFormatIndicator` and " +
	"`msg.userProperties` when the message has them.\n\n" +
	"`datatype` decides `msg.payload`: `auto-detect` gives parsed JSON, a string, or a Buffer for binary data " +
	"(MQTT 5's content type and payload format are taken into account); `auto` a string or a Buffer; `utf8` a string; " +
	"`json` parsed JSON (anything else is an error); `buffer` a Buffer; `base64` a base64 string.\n\n" +
	"The topic may use `+` and `#` wildcards and `$share/group/` shared subscriptions. With MQTT 5, `nl` (no local), " +
	"`rap` (retain as published) and `rh` (retained message handling 0, 1 or 2) are sent with the subscription.\n\n" +
	"**Dynamic subscription** (`inputs` 1): the node takes messages whose `msg.action` is `subscribe` or `unsubscribe` " +
	"(`msg.topic` a topic, a `{topic, qos, datatype, nl, rap, rh}` object or an array of them; `unsubscribe` with `msg.topic` " +
	"`true` drops all), `getSubscriptions` (the list is sent as `msg.payload`), `connect` (`msg.broker` may change the broker's " +
	"settings) or `disconnect`.\n\n" +
	"At QoS 1 and 2 the broker's acknowledgement waits until the message, and every copy the flow made of it, is done, " +
	"so a message lost to a crash or a stop is sent again by a broker that keeps the session. A flow that cannot keep up " +
	"makes the node stop reading instead of queueing without end."

func checkSubscribeTopic(v any, cfg *node.Config) error {
	s, _ := v.(string)
	if looseEq(cfg.Get("inputs"), 1) || validSubscription(s) {
		return nil
	}
	return fmt.Errorf("invalid topic %q: a wildcard must be a whole level and # the last one", s)
}

type inNode struct {
	brokerID string
	topic    string
	qos      byte
	datatype string
	dynamic  bool
	nl, rap  any
	rh       any

	c      node.Ctx
	b      *broker
	ctx    context.Context
	cancel context.CancelFunc
	host   string
	// dynamic subscriptions by topic, in the order made.
	mu       sync.Mutex
	dyn      map[string]*msg.Object
	dynOrder []string
}

func newIn(cfg *node.Config) (node.Node, error) {
	n := &inNode{
		brokerID: cfg.Str("broker"), topic: cfg.Str("topic"),
		dynamic: looseEq(cfg.Get("inputs"), 1),
		nl:      cfg.Get("nl"), rap: cfg.Get("rap"), rh: cfg.Get("rh"),
		datatype: cfg.StrOr("datatype", "utf8"), dyn: map[string]*msg.Object{},
	}
	n.qos = 2
	if q, ok := parseIntJS(cfg.Get("qos")); ok && q >= 0 && q <= 2 {
		n.qos = byte(q)
	}
	return n, nil
}

// Start registers with the broker and records the subscription; the
// broker sends it when it connects.
func (n *inNode) Start(c node.Ctx) error {
	n.c = c
	n.ctx, n.cancel = context.WithCancel(context.Background())
	bn, _ := c.ConfigNode(n.brokerID)
	b, ok := bn.(*broker)
	if !ok {
		c.Error(errors.New("missing broker configuration"), nil)
		return nil
	}
	if !n.dynamic && !validSubscription(n.topic) {
		c.Warn("Invalid topic specified")
		return nil
	}
	n.b = b
	n.host = b.brokerHost()
	c.Status(statusDisconnected)
	if n.topic == "" && !n.dynamic {
		c.Error(errors.New("topic not defined"), nil)
		return nil
	}
	if !n.dynamic {
		s := &subscription{topic: n.topic, ref: c.ID(), datatype: n.datatype, target: n,
			req: subReq{topic: n.topic, qos: n.qos}}
		if b.v5() {
			if rh, ok := parseIntJS(n.rh); ok && rh >= 0 && rh <= 2 {
				s.req.retainHandling = byte(rh)
			}
			s.req.noLocal = n.nl == true || n.nl == "true"
			s.req.retainAsPublished = n.rap == true || n.rap == "true"
		}
		// Recorded before register connects the broker, so the
		// connection's first SUBSCRIBE has it and "connected" means its
		// messages flow. With the broker up already, it is sent here and
		// the node shows the connection once the broker answered.
		if p := b.record(s); p.l != nil {
			b.registerQuiet(c)
			go func() {
				if err := b.send(n.ctx, p); err != nil && n.ctx.Err() == nil {
					c.Warn(err.Error())
				}
				if n.ctx.Err() == nil {
					b.showStatus(c)
				}
			}()
			return nil
		}
	}
	b.register(c)
	return nil
}

// build makes the message for a received PUBLISH, or reports the payload
// the datatype refuses and returns nil.
func (n *inNode) build(p *inPub, datatype string) *msg.Msg {
	o := msg.NewObject(8)
	o.Set("topic", p.topic)
	o.Set("payload", nil)
	o.Set("qos", float64(p.qos))
	o.Set("retain", p.retain)
	v5 := p.v5 != nil
	ct, utf8Flag := "", false
	if pp := p.v5; pp != nil {
		if pp.responseTopic != "" {
			o.Set("responseTopic", pp.responseTopic)
		}
		if pp.correlation != nil {
			o.Set("correlationData", pp.correlation)
		}
		if pp.contentType != "" {
			ct = pp.contentType
			o.Set("contentType", ct)
		}
		if pp.expiry != nil {
			o.Set("messageExpiryInterval", float64(*pp.expiry))
		}
		if pp.payloadFormat != nil {
			utf8Flag = *pp.payloadFormat
			o.Set("payloadFormatIndicator", utf8Flag)
		}
		if up := userPropsObject(pp.user); up != nil {
			o.Set("userProperties", up)
		}
	}
	payload, err := decodePayload(datatype, p.payload, v5, ct, utf8Flag)
	if err != nil {
		var de *decodeError
		errors.As(err, &de)
		em := msg.ObjectOf("payload", de.payload, "topic", p.topic, "qos", float64(p.qos), "retain", p.retain)
		n.c.Error(errors.New(de.text), msg.Wrap(em))
		return nil
	}
	o.Set("payload", payload)
	if n.host == "localhost" || n.host == "127.0.0.1" {
		o.Set("_topic", p.topic)
	}
	return &msg.Msg{Object: o}
}

// userPropsObject is msg.userProperties as MQTT.js gives them: a key that
// repeats becomes a JSON array of its values.
func userPropsObject(ups []userProp) *msg.Object {
	if len(ups) == 0 {
		return nil
	}
	o := msg.NewObject(len(ups))
	var repeated map[string][]any
	for _, u := range ups {
		prev, seen := o.Get(u.key)
		if !seen {
			o.Set(u.key, u.value)
			continue
		}
		if repeated == nil {
			repeated = map[string][]any{}
		}
		if repeated[u.key] == nil {
			repeated[u.key] = []any{prev}
		}
		repeated[u.key] = append(repeated[u.key], u.value)
		o.Set(u.key, string(msg.Marshal(repeated[u.key])))
	}
	return o
}

var (
	errInvalidAction   = &node.JSError{Name: "Error", Message: "Invalid action specified"}
	errInvalidTopic    = &node.JSError{Name: "Error", Message: "Invalid topic specified"}
	errBadSubscription = &node.JSError{Name: "Error", Message: "msg.topic is missing or invalid"}
	errAlreadyUp       = &node.JSError{Name: "Error", Message: "Disconnect from broker before connecting"}
)

// Input handles the actions of a dynamic subscription.
func (n *inNode) Input(c node.Ctx, m *msg.Msg) error {
	if n.b == nil {
		return nil
	}
	action, _ := m.Value("action").(string)
	switch action {
	case "connect":
		return n.b.handleConnect(n.ctx, m)
	case "disconnect":
		n.b.disconnect(n.ctx)
		return nil
	case "subscribe", "unsubscribe":
		return n.subscribeAction(action, m)
	case "getSubscriptions":
		m.Set("topic", "subscriptions")
		m.Set("payload", n.subscriptionList())
		c.Send(m)
		return nil
	}
	return errInvalidAction
}

func (n *inNode) subscriptionList() []any {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]any, 0, len(n.dynOrder))
	for _, t := range n.dynOrder {
		out = append(out, n.dyn[t].Clone())
	}
	return out
}

func (n *inNode) dropDynamic(topic string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.dyn[topic]; !ok {
		return
	}
	delete(n.dyn, topic)
	for i, t := range n.dynOrder {
		if t == topic {
			n.dynOrder = append(n.dynOrder[:i:i], n.dynOrder[i+1:]...)
			break
		}
	}
}

func (n *inNode) subscribeAction(action string, m *msg.Msg) error {
	var items []any
	switch t := m.Value("topic").(type) {
	case bool:
		if action != "unsubscribe" || !t {
			return errBadSubscription
		}
		for _, s := range n.subscriptionList() {
			items = append(items, s)
		}
	case []any:
		items = t
	case string, *msg.Object:
		items = []any{t}
	case nil:
		if !m.Has("topic") {
			return errBadSubscription
		}
		items = []any{nil}
	default:
		return errBadSubscription
	}
	subs := make([]*msg.Object, 0, len(items))
	for _, it := range items {
		var so *msg.Object
		switch t := it.(type) {
		case string:
			so = msg.ObjectOf("topic", t)
		case *msg.Object:
			so = t
		case nil:
			return &node.JSError{Name: "TypeError", Message: "Cannot read properties of null (reading 'topic')"}
		default:
			return errInvalidTopic
		}
		tv := so.Value("topic")
		if !msg.Truthy(tv) || !validSubscription(str(tv)) {
			return errInvalidTopic
		}
		subs = append(subs, so)
	}
	if action == "unsubscribe" {
		for _, so := range subs {
			topic := str(so.Value("topic"))
			if err := n.b.unsubscribe(n.ctx, topic, n.c.ID(), true); err != nil && n.ctx.Err() == nil {
				n.c.Warn(err.Error())
			}
			n.dropDynamic(topic)
		}
		m.Set("subscriptions", n.subscriptionList())
		return nil
	}
	v5 := n.b.v5()
	for _, so := range subs {
		topic := str(so.Value("topic"))
		n.mu.Lock()
		_, had := n.dyn[topic]
		n.mu.Unlock()
		if had {
			_ = n.b.unsubscribe(n.ctx, topic, n.c.ID(), true)
			n.dropDynamic(topic)
		}
		req := subReq{topic: topic, qos: 2}
		if so.Has("qos") {
			if q, ok := parseIntJS(so.Value("qos")); ok && q >= 0 && q <= 2 {
				req.qos = byte(q)
				so.Set("qos", q)
			} else {
				// Node-RED leaves qos undefined and MQTT.js then asks for 0.
				req.qos = 0
				so.Set("qos", msg.Undefined{})
			}
		} else {
			so.Set("qos", 2.0)
		}
		if v5 {
			req.retainHandling = 0
			if so.Has("rh") {
				if rh, ok := parseIntJS(so.Value("rh")); ok && rh >= 0 && rh <= 2 {
					req.retainHandling = byte(rh)
					so.Set("rh", rh)
				} else {
					so.Set("rh", msg.Undefined{})
				}
			} else {
				so.Set("rh", 0.0)
			}
			switch rap := so.Value("rap"); {
			case rap == nil:
				req.retainAsPublished = true
				so.Set("rap", true)
			case rap == true || rap == "true":
				req.retainAsPublished = true
				so.Set("rap", true)
			case rap == false || rap == "false":
				so.Set("rap", false)
			default:
				so.Set("rap", msg.Undefined{})
			}
			switch nl := so.Value("nl"); {
			case nl == true || nl == "true":
				req.noLocal = true
				so.Set("nl", true)
			case nl == false || nl == "false":
				so.Set("nl", false)
			default:
				so.Delete("nl")
			}
		}
		datatype := n.datatype
		if dt, ok := so.Value("datatype").(string); ok && dt != "" {
			datatype = dt
		}
		s := &subscription{topic: topic, ref: n.c.ID(), datatype: datatype, target: n, req: req}
		if err := n.b.subscribe(n.ctx, s); err != nil && n.ctx.Err() == nil {
			n.c.Warn(err.Error())
		}
		n.mu.Lock()
		n.dyn[topic] = so.Clone()
		n.dynOrder = append(n.dynOrder, topic)
		n.mu.Unlock()
	}
	m.Set("subscriptions", n.subscriptionList())
	return nil
}

// Close drops the node's subscriptions (the broker hears of it as
// autoUnsubscribe says) and lets go of the broker.
func (n *inNode) Close(ctx context.Context, removed bool) error {
	if n.cancel != nil {
		defer n.cancel()
	}
	if n.b == nil {
		return nil
	}
	uctx, cancel := context.WithTimeout(ctx, closeWait)
	defer cancel()
	if n.dynamic {
		n.mu.Lock()
		topics := n.dynOrder
		n.dyn, n.dynOrder = map[string]*msg.Object{}, nil
		n.mu.Unlock()
		for _, t := range topics {
			_ = n.b.unsubscribe(uctx, t, n.c.ID(), removed)
		}
	} else {
		_ = n.b.unsubscribe(uctx, n.topic, n.c.ID(), removed)
	}
	n.b.deregister(n.c, removed)
	return nil
}
