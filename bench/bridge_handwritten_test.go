package bench

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"
	pahomqtt "github.com/eclipse/paho.mqtt.golang"
)

// The hand-written bridges: what a Go programmer would write for the two
// flows with the same libraries and the same guarantees (paho with manual
// acks, sarama with acks=all and an idempotent producer; an MQTT reading is
// acknowledged once Kafka acknowledged its record, a Kafka offset is
// committed once its MQTT publish was acknowledged). Each runs as a
// process of its own (this test binary again), so its CPU and memory are
// its own.

func startHandwritten(tb testing.TB, mode, mqttAddr, kafkaAddr string) *bridgeProcess {
	tb.Helper()
	return startBridgeProcess(tb, os.Args[0], []string{"-test.run=^TestBridgeHandwrittenProcess$"},
		[]string{"SLUICE_BRIDGE_HAND=" + mode, "SLUICE_BRIDGE_MQTT=tcp://" + mqttAddr, "SLUICE_BRIDGE_KAFKA=" + kafkaAddr})
}

func TestBridgeHandwrittenProcess(t *testing.T) {
	mode := os.Getenv("SLUICE_BRIDGE_HAND")
	if mode == "" {
		t.Skip("run by the bridge benchmarks only")
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	switch mode {
	case "m2k":
		handMQTTToKafka(t, stop)
	case "k2m":
		handKafkaToMQTT(t, stop)
	}
}

func handSarama() *sarama.Config {
	c := sarama.NewConfig()
	c.Version = sarama.V2_1_0_0
	c.ClientID = "handwritten"
	c.ChannelBufferSize = 4096
	return c
}

func handMQTTToKafka(t *testing.T, stop chan os.Signal) {
	conf := handSarama()
	conf.Producer.RequiredAcks = sarama.WaitForAll
	conf.Producer.Idempotent = true
	conf.Net.MaxOpenRequests = 1
	conf.Producer.Return.Successes = true
	conf.Producer.Return.Errors = true
	conf.Producer.Flush.Frequency = 2 * time.Millisecond
	conf.Producer.Flush.Messages = 500
	conf.Producer.Flush.MaxMessages = 10000
	prod, err := sarama.NewAsyncProducer([]string{os.Getenv("SLUICE_BRIDGE_KAFKA")}, conf)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for s := range prod.Successes() {
			s.Metadata.(pahomqtt.Message).Ack()
		}
	}()
	go func() {
		for e := range prod.Errors() {
			// Not acknowledged: the broker sends it again next session.
			t.Logf("not written: %v", e.Err)
		}
	}()
	o := pahomqtt.NewClientOptions().AddBroker(os.Getenv("SLUICE_BRIDGE_MQTT")).SetClientID("hand-bridge").
		SetCleanSession(false).SetAutoAckDisabled(true).SetWriteTimeout(60 * time.Second)
	c := pahomqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	err = subscribeQueued(c, "factory/+/telemetry", func(m pahomqtt.Message) {
		key, out, ok := enrichReading(m)
		if !ok {
			m.Ack()
			return
		}
		prod.Input() <- &sarama.ProducerMessage{Topic: "factory-telemetry", Key: sarama.StringEncoder(key),
			Value: sarama.ByteEncoder(out), Metadata: m}
	})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	<-stop
	c.Disconnect(100)
	_ = prod.Close()
}

func handKafkaToMQTT(t *testing.T, stop chan os.Signal) {
	o := pahomqtt.NewClientOptions().AddBroker(os.Getenv("SLUICE_BRIDGE_MQTT")).SetClientID("hand-commands").SetWriteTimeout(60 * time.Second)
	c := pahomqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	conf := handSarama()
	conf.Consumer.Offsets.Initial = sarama.OffsetOldest
	conf.Consumer.Offsets.AutoCommit.Interval = 500 * time.Millisecond
	g, err := sarama.NewConsumerGroup([]string{os.Getenv("SLUICE_BRIDGE_KAFKA")}, "hand-commands", conf)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if err := g.Consume(ctx, []string{"device-commands"}, handClaims{c}); err != nil && ctx.Err() == nil {
				t.Logf("consume: %v", err)
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	<-stop
	cancel()
	<-done
	_ = g.Close()
	c.Disconnect(100)
}

type handClaims struct{ c pahomqtt.Client }

func (handClaims) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (handClaims) Cleanup(sarama.ConsumerGroupSession) error { return nil }

// ConsumeClaim publishes each command and marks its offset once the
// publish is acknowledged, in order.
func (h handClaims) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	type pend struct {
		tok pahomqtt.Token
		rec *sarama.ConsumerMessage
	}
	pends := make(chan pend, 4096)
	marked := make(chan struct{})
	go func() {
		defer close(marked)
		for p := range pends {
			p.tok.Wait()
			if p.tok.Error() == nil {
				sess.MarkMessage(p.rec, "")
			}
		}
	}()
	defer func() { close(pends); <-marked }()
	for {
		select {
		case rec, ok := <-claim.Messages():
			if !ok {
				return nil
			}
			pends <- pend{h.c.Publish("factory/"+string(rec.Key)+"/commands", 1, false, rec.Value), rec}
		case <-sess.Context().Done():
			return nil
		}
	}
}

// subscribeQueued subscribes at QoS 1 and hands each message to handle on
// one goroutine of its own. paho's router only queues, without bound: the
// acks of our own publishes arrive behind the readings on the same
// connection, so a handler that blocked (on a full channel, or waiting for
// a publish) would stall the client, and with no in-flight window the
// broker sends as fast as it can.
func subscribeQueued(c pahomqtt.Client, topic string, handle func(pahomqtt.Message)) error {
	var mu sync.Mutex
	var queue []pahomqtt.Message
	wake := make(chan struct{}, 1)
	go func() {
		for range wake {
			mu.Lock()
			batch := queue
			queue = nil
			mu.Unlock()
			for _, m := range batch {
				handle(m)
			}
		}
	}()
	tok := c.Subscribe(topic, 1, func(_ pahomqtt.Client, m pahomqtt.Message) {
		mu.Lock()
		queue = append(queue, m)
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	if !tok.WaitTimeout(10 * time.Second) {
		return errors.New("no SUBACK within 10s")
	}
	return tok.Error()
}

// enrichReading is the bridge flow's work on one reading: parse it, add
// site and timestamp, and take the device from the topic as the key. ok is
// false for a reading that is not JSON (the flow reports and drops it).
func enrichReading(m pahomqtt.Message) (key string, out []byte, ok bool) {
	var v map[string]any
	if err := json.Unmarshal(m.Payload(), &v); err != nil {
		return "", nil, false
	}
	v["site"] = "plant-1"
	v["timestamp"] = time.Now().UnixMilli()
	if parts := strings.Split(m.Topic(), "/"); len(parts) > 1 {
		key = parts[1]
	}
	out, _ = json.Marshal(v)
	return key, out, true
}
