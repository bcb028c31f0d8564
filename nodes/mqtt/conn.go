package mqtt

import (
	"context"
	"crypto/tls"
	"errors"
	"time"
)

// userProp is one MQTT 5 user property; a key may repeat.
type userProp struct{ key, value string }

// inPub is a PUBLISH received from the broker.
type inPub struct {
	topic   string
	payload []byte
	qos     byte
	retain  bool
	v5      *pubProps // nil for MQTT 3
	// ack acknowledges a QoS 1 or 2 message; nil for QoS 0.
	ack func()
}

// pubProps are the MQTT 5 properties of a PUBLISH, either way.
type pubProps struct {
	responseTopic string
	correlation   []byte // nil when absent
	contentType   string
	expiry        *uint32
	payloadFormat *bool
	user          []userProp
	subID         int // 0 when absent (inbound only)
	topicAlias    uint16
	willDelay     *uint32 // will messages only
}

// outPub is a message to publish.
type outPub struct {
	topic   string
	payload []byte
	qos     byte
	retain  bool
	v5      *pubProps
	// aliased is the topic when it goes as an empty topic and its alias
	// (MQTT 5): sent again on a new connection, it must go in full.
	aliased string
}

// subReq is one subscription as sent to the broker.
type subReq struct {
	topic string
	qos   byte
	// MQTT 5 subscription options.
	noLocal, retainAsPublished bool
	retainHandling             byte
	subID                      int
}

// connInfo is what the broker said when the connection came up.
type connInfo struct {
	sessionPresent bool
	topicAliasMax  uint16
	subIDs         bool   // subscription identifiers available
	maxPacket      uint32 // the broker's Maximum Packet Size (MQTT 5); 0 when not given
}

// pending is a publish on its way: wait returns once the broker has
// acknowledged it (QoS 1 and 2) or it was written (QoS 0). errLost means
// the connection ended first and the publish may not have arrived.
type pending interface {
	wait(ctx context.Context) error
}

var (
	errLost         = errors.New("the connection to the broker was lost before the publish was acknowledged")
	errNotConnected = errors.New("not connected to the broker")
)

// transport is one protocol version's client. The broker node drives it:
// connect makes one attempt, lost reports the end of that connection, and
// the node decides about reconnecting, so both versions behave alike.
type transport interface {
	connect(ctx context.Context) (connInfo, error)
	// lost is closed when the connection made by the last successful
	// connect ends; why tells the reason.
	lost() <-chan struct{}
	why() error
	// disconnect sends DISCONNECT and closes the connection.
	disconnect(timeout time.Duration)
	// publish submits p; submissions reach the wire in the order made.
	publish(ctx context.Context, p *outPub) (pending, error)
	subscribe(ctx context.Context, subs []subReq) error
	unsubscribe(ctx context.Context, topics []string) error
}

// handlers is what a transport calls back into.
type handlers struct {
	// message gets every PUBLISH received; it may block only briefly.
	message func(p *inPub)
	// busy brackets calls that may wait for the broker's acks (an MQTT 5
	// publish waits for send quota), so the reader keeps reading meanwhile.
	busy func(bool)
}

// transportConfig is what both transports need to connect.
type transportConfig struct {
	url          string
	tls          *tls.Config
	clientID     string
	username     string
	password     string
	hasUser      bool
	hasPassword  bool
	keepalive    time.Duration
	clean        bool
	protocol     int // 3, 4 or 5
	will         *outPub
	connectProps []userProp
	sessionExp   *uint32
	// receiveMax is the MQTT 5 receive maximum we announce: how many QoS 1
	// and 2 messages the broker may have unacknowledged with us.
	receiveMax uint16
}
