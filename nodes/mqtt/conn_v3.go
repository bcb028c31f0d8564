package mqtt

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// v3codec is MQTT 3.1 and 3.1.1 on paho.mqtt.golang's packets, but for
// the PUBLISH on every message's path, encoded here without paho's
// intermediate buffers.
type v3codec struct{}

func newV3(cfg transportConfig, h handlers) *session { return newSession(cfg, h, v3codec{}) }

func (v3codec) handshake(c net.Conn, cfg *transportConfig) (connAck, error) {
	cp := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	cp.ProtocolName, cp.ProtocolVersion = "MQTT", 4
	if cfg.protocol == 3 {
		cp.ProtocolName, cp.ProtocolVersion = "MQIsdp", 3
	}
	cp.CleanSession = cfg.clean
	cp.Keepalive = uint16(min(cfg.keepalive/time.Second, 65535))
	cp.ClientIdentifier = cfg.clientID
	if w := cfg.will; w != nil {
		cp.WillFlag, cp.WillTopic, cp.WillMessage, cp.WillQos, cp.WillRetain = true, w.topic, w.payload, w.qos, w.retain
	}
	if cfg.hasUser {
		cp.UsernameFlag, cp.Username = true, cfg.username
	}
	if cfg.hasPassword {
		cp.PasswordFlag, cp.Password = true, []byte(cfg.password)
	}
	if err := cp.Write(c); err != nil {
		return connAck{}, err
	}
	pkt, err := packets.ReadPacket(c)
	if err != nil {
		return connAck{}, fmt.Errorf("no CONNACK from the broker: %w", err)
	}
	ack, ok := pkt.(*packets.ConnackPacket)
	if !ok {
		return connAck{}, fmt.Errorf("the broker answered CONNECT with %v", pkt)
	}
	if ack.ReturnCode != packets.Accepted {
		why := packets.ConnErrors[ack.ReturnCode]
		if why == nil {
			why = errors.New("unknown reason")
		}
		return connAck{}, fmt.Errorf("connection refused: %w (return code %d)", why, ack.ReturnCode)
	}
	return connAck{
		info:   connInfo{sessionPresent: ack.SessionPresent},
		limits: brokerLimits{keepalive: cfg.keepalive},
	}, nil
}

func (v3codec) read(r io.Reader) (wireEvent, error) {
	pkt, err := packets.ReadPacket(r)
	if err != nil {
		return wireEvent{}, err
	}
	switch p := pkt.(type) {
	case *packets.PublishPacket:
		return wireEvent{kind: pktPublish, id: p.MessageID,
			pub: &inPub{topic: p.TopicName, payload: p.Payload, qos: p.Qos, retain: p.Retain}}, nil
	case *packets.PubackPacket:
		return wireEvent{kind: pktPuback, id: p.MessageID}, nil
	case *packets.PubrecPacket:
		return wireEvent{kind: pktPubrec, id: p.MessageID}, nil
	case *packets.PubrelPacket:
		return wireEvent{kind: pktPubrel, id: p.MessageID}, nil
	case *packets.PubcompPacket:
		return wireEvent{kind: pktPubcomp, id: p.MessageID}, nil
	case *packets.SubackPacket:
		return wireEvent{kind: pktSuback, id: p.MessageID, codes: p.ReturnCodes}, nil
	case *packets.UnsubackPacket:
		return wireEvent{kind: pktUnsuback, id: p.MessageID}, nil
	case *packets.PingrespPacket:
		return wireEvent{kind: pktPingresp}, nil
	}
	return wireEvent{}, fmt.Errorf("unexpected packet from the broker: %v", pkt)
}

func (v3codec) appendPublish(b []byte, p *outPub, id uint16, dup bool) []byte {
	return appendPublishPacket(b, p, id, dup, nil)
}

// appendPublishPacket encodes a PUBLISH; props is MQTT 5's property
// section (its length included), nil for MQTT 3.
func appendPublishPacket(b []byte, p *outPub, id uint16, dup bool, props []byte) []byte {
	h := byte(0x30) | p.qos<<1
	if dup {
		h |= 0x08
	}
	if p.retain {
		h |= 0x01
	}
	n := 2 + len(p.topic) + len(props) + len(p.payload)
	if p.qos > 0 {
		n += 2
	}
	b = appendVarint(append(b, h), n)
	b = append(b, byte(len(p.topic)>>8), byte(len(p.topic)))
	b = append(b, p.topic...)
	if p.qos > 0 {
		b = append(b, byte(id>>8), byte(id))
	}
	b = append(b, props...)
	return append(b, p.payload...)
}

func (v3codec) subscribeGroups(subs []subReq) [][]subReq { return [][]subReq{subs} }

func (v3codec) appendSubscribe(b []byte, id uint16, subs []subReq) []byte {
	sp := packets.NewControlPacket(packets.Subscribe).(*packets.SubscribePacket)
	sp.MessageID = id
	for _, s := range subs {
		sp.Topics = append(sp.Topics, s.topic)
		sp.Qoss = append(sp.Qoss, s.qos)
	}
	w := sliceWriter(b)
	_ = sp.Write(&w)
	return w
}

func (v3codec) appendUnsubscribe(b []byte, id uint16, topics []string) []byte {
	up := packets.NewControlPacket(packets.Unsubscribe).(*packets.UnsubscribePacket)
	up.MessageID, up.Topics = id, topics
	w := sliceWriter(b)
	_ = up.Write(&w)
	return w
}

func (v3codec) appendDisconnect(b []byte) []byte { return append(b, 0xe0, 0) }

func (v3codec) refusedPublish(wireEvent) error { return nil }

func (v3codec) refusedSubscribe(topic string, _ wireEvent, _ int) error {
	return fmt.Errorf("the broker refused the subscription to %q", topic)
}
