package mqtt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/eclipse/paho.golang/packets"
)

// v5codec is MQTT 5 on paho.golang's packets. paho.golang's client added,
// on top of its goroutines, an ack tracker that scanned a list per message
// and released acks on a ticker: at QoS 1 MQTT 5 cost twice the CPU of
// 3.1.1. With the session shared, both versions cost the same.
type v5codec struct{}

func newV5(cfg transportConfig, h handlers) *session { return newSession(cfg, h, v5codec{}) }

func (v5codec) handshake(c net.Conn, cfg *transportConfig) (connAck, error) {
	one := byte(1)
	cp := &packets.Connect{
		ProtocolName: "MQTT", ProtocolVersion: 5,
		KeepAlive:  uint16(min(cfg.keepalive/time.Second, 65535)),
		ClientID:   cfg.clientID,
		CleanStart: cfg.clean,
		Properties: &packets.Properties{
			RequestResponseInfo:   &one,
			RequestProblemInfo:    &one,
			SessionExpiryInterval: cfg.sessionExp,
		},
	}
	if cfg.receiveMax > 0 {
		rm := cfg.receiveMax
		cp.Properties.ReceiveMaximum = &rm
	}
	for _, up := range cfg.connectProps {
		cp.Properties.User = append(cp.Properties.User, packets.User{Key: up.key, Value: up.value})
	}
	if cfg.hasUser {
		cp.UsernameFlag, cp.Username = true, cfg.username
	}
	if cfg.hasPassword {
		cp.PasswordFlag, cp.Password = true, []byte(cfg.password)
	}
	if w := cfg.will; w != nil {
		cp.WillFlag, cp.WillTopic, cp.WillMessage, cp.WillQOS, cp.WillRetain = true, w.topic, w.payload, w.qos, w.retain
		cp.WillProperties = &packets.Properties{}
		if v := w.v5; v != nil {
			cp.WillProperties = publishProps(v)
			cp.WillProperties.WillDelayInterval = v.willDelay
		}
	}
	if _, err := cp.WriteTo(c); err != nil {
		return connAck{}, err
	}
	pkt, err := packets.ReadPacket(c)
	if err != nil {
		return connAck{}, fmt.Errorf("no CONNACK from the broker: %w", err)
	}
	ca, ok := pkt.Content.(*packets.Connack)
	if !ok {
		return connAck{}, fmt.Errorf("the broker answered CONNECT with %s", pkt.PacketType())
	}
	if ca.ReasonCode >= 0x80 {
		text := fmt.Sprintf("connection refused: %s (reason code %d)", ca.Reason(), ca.ReasonCode)
		if ca.Properties != nil && ca.Properties.ReasonString != "" {
			text += ": " + ca.Properties.ReasonString
		}
		return connAck{}, errors.New(text)
	}
	ack := connAck{
		info:   connInfo{sessionPresent: ca.SessionPresent, subIDs: true},
		limits: brokerLimits{keepalive: cfg.keepalive, sendQuota: 65535},
	}
	if p := ca.Properties; p != nil {
		if p.SubIDAvailable != nil {
			ack.info.subIDs = *p.SubIDAvailable == 1
		}
		if p.TopicAliasMaximum != nil {
			ack.info.topicAliasMax = *p.TopicAliasMaximum
		}
		if p.MaximumPacketSize != nil {
			ack.info.maxPacket = *p.MaximumPacketSize
		}
		if p.ServerKeepAlive != nil {
			// The broker's keepalive wins over ours.
			ack.limits.keepalive = time.Duration(*p.ServerKeepAlive) * time.Second
		}
		if p.ReceiveMaximum != nil && *p.ReceiveMaximum > 0 {
			ack.limits.sendQuota = *p.ReceiveMaximum
		}
		if p.MaximumQOS != nil {
			ack.limits.maxQoS, ack.limits.hasMaxQoS = *p.MaximumQOS, true
		}
		if p.RetainAvailable != nil && *p.RetainAvailable == 0 {
			ack.limits.noRetain = true
		}
	}
	return ack, nil
}

// publishProps are a message's MQTT 5 properties as paho packs them.
func publishProps(v *pubProps) *packets.Properties {
	props := &packets.Properties{
		CorrelationData: v.correlation, ContentType: v.contentType, ResponseTopic: v.responseTopic,
		MessageExpiry: v.expiry,
	}
	for _, u := range v.user {
		props.User = append(props.User, packets.User{Key: u.key, Value: u.value})
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
	return props
}

func reasonOf(p *packets.Properties) string {
	if p == nil {
		return ""
	}
	return p.ReasonString
}

func (v5codec) read(r io.Reader) (wireEvent, error) {
	pkt, err := packets.ReadPacket(r)
	if err != nil {
		return wireEvent{}, err
	}
	switch p := pkt.Content.(type) {
	case *packets.Publish:
		ip := &inPub{topic: p.Topic, payload: p.Payload, qos: p.QoS, retain: p.Retain, v5: &pubProps{}}
		if pp := p.Properties; pp != nil {
			ip.v5.responseTopic = pp.ResponseTopic
			ip.v5.correlation = pp.CorrelationData
			ip.v5.contentType = pp.ContentType
			ip.v5.expiry = pp.MessageExpiry
			if pp.PayloadFormat != nil {
				b := *pp.PayloadFormat == 1
				ip.v5.payloadFormat = &b
			}
			if pp.SubscriptionIdentifier != nil {
				ip.v5.subID = *pp.SubscriptionIdentifier
			}
			for _, u := range pp.User {
				ip.v5.user = append(ip.v5.user, userProp{u.Key, u.Value})
			}
		}
		return wireEvent{kind: pktPublish, id: p.PacketID, pub: ip}, nil
	case *packets.Puback:
		return wireEvent{kind: pktPuback, id: p.PacketID, code: p.ReasonCode, reason: reasonOf(p.Properties)}, nil
	case *packets.Pubrec:
		return wireEvent{kind: pktPubrec, id: p.PacketID, code: p.ReasonCode, reason: reasonOf(p.Properties)}, nil
	case *packets.Pubrel:
		return wireEvent{kind: pktPubrel, id: p.PacketID}, nil
	case *packets.Pubcomp:
		return wireEvent{kind: pktPubcomp, id: p.PacketID}, nil
	case *packets.Suback:
		return wireEvent{kind: pktSuback, id: p.PacketID, codes: p.Reasons, reason: reasonOf(p.Properties)}, nil
	case *packets.Unsuback:
		return wireEvent{kind: pktUnsuback, id: p.PacketID, codes: p.Reasons}, nil
	case *packets.Pingresp:
		return wireEvent{kind: pktPingresp}, nil
	case *packets.Disconnect:
		text := fmt.Sprintf("the broker disconnected: %s (reason code %d)", p.Reason(), p.ReasonCode)
		if s := reasonOf(p.Properties); s != "" {
			text += ": " + s
		}
		return wireEvent{kind: pktDisconnect, err: errors.New(text)}, nil
	}
	return wireEvent{}, fmt.Errorf("unexpected packet from the broker: %s", pkt.PacketType())
}

func (v5codec) appendPublish(b []byte, p *outPub, id uint16, dup bool) []byte {
	var props []byte
	if p.v5 != nil {
		props = publishProps(p.v5).Pack(packets.PUBLISH)
	}
	var buf [64]byte
	section := append(appendVarint(buf[:0], len(props)), props...)
	return appendPublishPacket(b, p, id, dup, section)
}

// subscribeGroups sends one SUBSCRIBE per subscription: a SUBSCRIBE carries
// one subscription identifier.
func (v5codec) subscribeGroups(subs []subReq) [][]subReq {
	out := make([][]subReq, len(subs))
	for i := range subs {
		out[i] = subs[i : i+1]
	}
	return out
}

func (v5codec) appendSubscribe(b []byte, id uint16, subs []subReq) []byte {
	sp := &packets.Subscribe{PacketID: id, Properties: &packets.Properties{}}
	for _, s := range subs {
		sp.Subscriptions = append(sp.Subscriptions, packets.SubOptions{
			Topic: s.topic, QoS: s.qos, RetainHandling: s.retainHandling,
			NoLocal: s.noLocal, RetainAsPublished: s.retainAsPublished,
		})
		if s.subID > 0 {
			sid := s.subID
			sp.Properties.SubscriptionIdentifier = &sid
		}
	}
	w := sliceWriter(b)
	_, _ = sp.WriteTo(&w)
	return w
}

func (v5codec) appendUnsubscribe(b []byte, id uint16, topics []string) []byte {
	up := &packets.Unsubscribe{PacketID: id, Topics: topics, Properties: &packets.Properties{}}
	w := sliceWriter(b)
	_, _ = up.WriteTo(&w)
	return w
}

// appendDisconnect is a normal disconnection (reason 0, the short form).
func (v5codec) appendDisconnect(b []byte) []byte { return append(b, 0xe0, 0) }

func (v5codec) refusedPublish(ev wireEvent) error {
	if ev.code < 0x80 {
		return nil
	}
	var reason string
	if ev.kind == pktPuback {
		reason = (&packets.Puback{ReasonCode: ev.code}).Reason()
	} else {
		reason = (&packets.Pubrec{ReasonCode: ev.code}).Reason()
	}
	text := fmt.Sprintf("the broker refused the publish: %s (reason code %d)", reason, ev.code)
	if ev.reason != "" {
		text += ": " + ev.reason
	}
	return errors.New(text)
}

func (v5codec) refusedSubscribe(topic string, ev wireEvent, i int) error {
	ps := packets.Suback{Reasons: ev.codes}
	text := fmt.Sprintf("the broker refused the subscription to %q: %s (reason code %d)", topic, ps.Reason(i), ev.codes[i])
	if ev.reason != "" {
		text += ": " + ev.reason
	}
	return errors.New(text)
}

// donePending is a publish with nothing to wait for (QoS 0 written, or
// failed before it went).
type donePending struct{ err error }

func (p donePending) wait(context.Context) error { return p.err }
