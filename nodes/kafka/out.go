package kafka

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "kafka out", Category: "network", Color: "#c0c0c0", Icon: "bridge.svg",
		Inputs: 1, Outputs: 0,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "broker", Kind: node.KindString, ConfigType: "kafka-broker", Required: true, Label: "Broker"},
			{Name: "topic", Kind: node.KindString, Default: "", Label: "Topic"},
			{Name: "key", Kind: node.KindString, Default: "", Label: "Key"},
			{Name: "partition", Kind: node.KindNumber, Default: "", Label: "Partition"},
			{Name: "acks", Kind: node.KindString, Default: "all", Options: []string{"all", "leader", "none"}, Label: "Acks"},
			{Name: "idempotent", Kind: node.KindBool, Default: true, Label: "Idempotent", Check: checkIdempotent},
			{Name: "compression", Kind: node.KindString, Default: "none", Options: []string{"none", "gzip", "snappy", "lz4", "zstd"}, Label: "Compression"},
		},
		Help: outHelp,
		New:  newOut,
	})
}

const outHelp = "Writes `msg.payload` as a record to a Kafka topic.\n\n" +
	"`topic` empty takes `msg.topic`; `key` empty takes `msg.key`; `partition` empty or -1 lets the partitioner choose " +
	"(the key's hash), and `msg.partition` overrides it. `msg.headers` (an object of strings) become record headers. " +
	"A Buffer is written as it is, a string as UTF-8, anything else as JSON.\n\n" +
	"The message is finished (complete and catch nodes fire, an MQTT source acknowledges) only when the broker has " +
	"acknowledged the record with the chosen `acks` (`all` by default). `idempotent` (default on, needs acks all) " +
	"keeps retries from writing duplicates. A record the broker refuses is an error naming its topic, partition and the broker's reason."

type outNode struct {
	brokerID    string
	topic, key  string
	partition   int32
	acks        sarama.RequiredAcks
	idempotent  bool
	compression sarama.CompressionCodec
	ckey        string

	c        node.Ctx
	b        *broker
	sc       *sharedClient
	degraded atomic.Bool // status shows a retry; the next ack clears it
	ctx      context.Context
	cancel   context.CancelFunc

	// An outage makes sarama give records back one by one while later
	// ones may already succeed; resending each on its own would reorder a
	// key's records. So the first record given back holds the node: new
	// records wait in Input, and once sarama has settled everything it
	// had, the records given back are sent again in the order they came.
	hmu       sync.Mutex
	seq       uint64
	inflight  int       // records handed to sarama and not yet settled
	back      []*record // records given back for an outage, to send again
	holding   bool
	resending bool
	// roundFailed: a record was given back since the last resend began.
	roundFailed bool
	open        chan struct{} // closed when waitOpen's waiters may go on
	waiting     bool          // someone waits on open
}

// record travels with a produced message as its Metadata and finishes the
// flow message when the producer reports the result.
type record struct {
	n     *outNode
	c     node.Ctx
	m     *msg.Msg
	pm    *sarama.ProducerMessage
	seq   uint64
	tries int
}

func (r *record) finish(err error) {
	if err == nil && r.n.degraded.CompareAndSwap(true, false) {
		r.c.Status(statusConnected)
	}
	r.n.settled(nil)
	r.c.Done(r.m, err)
}

// failed handles a record the producer gave up on: a broker outage holds
// it for sending again (it stays unfinished, which holds the flow back); a
// refusal, or an outage longer than resendLimit rounds, is an error.
func (r *record) failed(pe *sarama.ProducerError) {
	err := fmt.Errorf("kafka: record for topic %q partition %d not written: %v", pe.Msg.Topic, pe.Msg.Partition, pe.Err)
	if !retriable(pe.Err) || r.tries >= resendLimit || r.n.ctx.Err() != nil {
		r.finish(err)
		return
	}
	if r.n.degraded.CompareAndSwap(false, true) {
		r.c.Status(statusError("retrying: " + pe.Err.Error()))
	}
	r.tries++
	r.pm = &sarama.ProducerMessage{Topic: pe.Msg.Topic, Key: pe.Msg.Key, Value: pe.Msg.Value, Headers: pe.Msg.Headers,
		Partition: r.n.partitionOf(pe.Msg), Metadata: r}
	r.n.settled(r)
}

// settled records that sarama is done with one record; back is the record
// when it is to be sent again.
func (n *outNode) settled(back *record) {
	n.hmu.Lock()
	defer n.hmu.Unlock()
	n.inflight--
	if back != nil {
		n.back = append(n.back, back)
		n.holding = true
		n.roundFailed = true
	}
	if !n.holding {
		// Waiters go on once a quarter of the window is free, not one by
		// one.
		if n.waiting && n.inflight <= maxInflight*3/4 {
			n.wake()
		}
		return
	}
	if n.inflight > 0 || n.resending {
		return
	}
	if len(n.back) == 0 {
		n.holding = false
		n.wake()
		return
	}
	n.resending = true
	go n.resend(n.roundFailed)
}

// wake lets the records waiting in waitOpen go on. Called with hmu.
func (n *outNode) wake() {
	n.waiting = false
	close(n.open)
	n.open = make(chan struct{})
}

// maxInflight bounds the records of one node waiting for the broker's
// acknowledgement: enough to keep batches full, few enough that a fast
// source does not fill memory with them (the source is held back instead).
var maxInflight = 2000

// resend sends the records given back again, oldest first. After a round
// in which something failed, the oldest goes alone, after a pause that
// grows with each round, as a probe: only once the broker took it do the
// others follow, so that they are not written while it fails again.
func (n *outNode) resend(probe bool) {
	n.hmu.Lock()
	batch := n.back
	sort.Slice(batch, func(i, j int) bool { return batch[i].seq < batch[j].seq })
	n.back = nil
	if probe {
		n.back = append(n.back, batch[1:]...)
		batch = batch[:1]
	}
	n.roundFailed = false
	n.hmu.Unlock()
	var err error
	var sc *sharedClient
	if n.ctx.Err() != nil {
		err = errStopped
	} else if probe {
		select {
		case <-time.After(resendDelay(batch[0].tries)):
		case <-n.ctx.Done():
			err = errStopped
		}
	}
	if err == nil {
		sc, err = n.producer()
	}
	n.hmu.Lock()
	n.resending = false
	n.inflight += len(batch)
	n.hmu.Unlock()
	for i, r := range batch {
		if err == nil {
			select {
			case sc.prod.Input() <- r.pm:
				continue
			case <-n.ctx.Done():
				err = errStopped
			}
		}
		for _, r := range batch[i:] {
			r.finish(fmt.Errorf("kafka: record for topic %q not written: %w", r.pm.Topic, err))
		}
		return
	}
}

// waitOpen waits while the node is held by an outage or has maxInflight
// records waiting for the broker, then counts a record in flight and gives
// it its place in the order.
func (n *outNode) waitOpen() (uint64, error) {
	n.hmu.Lock()
	for n.holding || n.inflight >= maxInflight {
		n.waiting = true
		ch := n.open
		n.hmu.Unlock()
		select {
		case <-ch:
		case <-n.ctx.Done():
			return 0, errors.New("kafka out: node stopped before the record was sent")
		}
		n.hmu.Lock()
	}
	n.seq++
	n.inflight++
	seq := n.seq
	n.hmu.Unlock()
	return seq, nil
}

func checkIdempotent(v any, cfg *node.Config) error {
	if cfg.Bool("idempotent", true) && cfg.StrOr("acks", "all") != "all" {
		return errors.New("an idempotent producer needs acks all: set idempotent false for acks leader or none")
	}
	return nil
}

// resendLimit bounds how often one record is sent again after an outage:
// with 2 s pauses, about ten minutes.
var resendLimit = 300

func newOut(cfg *node.Config) (node.Node, error) {
	n := &outNode{brokerID: cfg.Str("broker"), topic: cfg.Str("topic"), key: cfg.Str("key"), partition: -1,
		idempotent: cfg.Bool("idempotent", true)}
	p, err := cfg.Num("partition", -1)
	if err != nil {
		return nil, err
	}
	if p != math.Trunc(p) || p < -1 || p > math.MaxInt32 {
		return nil, node.BadProp("partition", cfg.Get("partition"), "must be a partition number or -1")
	}
	n.partition = int32(p)
	switch a := cfg.StrOr("acks", "all"); a {
	case "all":
		n.acks = sarama.WaitForAll
	case "leader":
		n.acks = sarama.WaitForLocal
	case "none":
		n.acks = sarama.NoResponse
	default:
		return nil, node.BadProp("acks", a, "must be all, leader or none")
	}
	if n.idempotent && n.acks != sarama.WaitForAll {
		return nil, node.BadProp("idempotent", true, "an idempotent producer needs acks all")
	}
	switch cc := cfg.StrOr("compression", "none"); cc {
	case "none":
		n.compression = sarama.CompressionNone
	case "gzip":
		n.compression = sarama.CompressionGZIP
	case "snappy":
		n.compression = sarama.CompressionSnappy
	case "lz4":
		n.compression = sarama.CompressionLZ4
	case "zstd":
		n.compression = sarama.CompressionZSTD
	default:
		return nil, node.BadProp("compression", cc, "must be none, gzip, snappy, lz4 or zstd")
	}
	n.ckey = fmt.Sprintf("out/%d/%t/%d", n.acks, n.idempotent, n.compression)
	return n, nil
}

func (n *outNode) DeferDone() {}

func (n *outNode) tweak(conf *sarama.Config) {
	conf.Producer.RequiredAcks = n.acks
	conf.Producer.Idempotent = n.idempotent
	conf.Producer.Compression = n.compression
	conf.Producer.Return.Successes = true
	conf.Producer.Return.Errors = true
	conf.Producer.Partitioner = newPartitioner
	// Batching for throughput: a short linger lets records going to one
	// partition share a request.
	conf.Producer.Flush.Frequency = 2 * time.Millisecond
	conf.Producer.Flush.Messages = 500
	conf.Producer.Flush.MaxMessages = 10000
	// Sarama's own retries cover short hiccups; longer outages are ridden
	// out by record.failed sending the record again.
	conf.Producer.Retry.Max = 5
	conf.Producer.Retry.Backoff = 200 * time.Millisecond
	// Sarama pauses after every record it gives back. A record given back
	// at its first try is one that found no leader (the broker is away):
	// no pause then, so that everything queued behind it is given back
	// while the broker is still away, before any of it can be written
	// ahead of what is resent (see outNode.back).
	conf.Producer.Retry.BackoffFunc = func(retries, _ int) time.Duration {
		if retries == 0 {
			return 0
		}
		return 200 * time.Millisecond
	}
	conf.ChannelBufferSize = 4096
	if n.idempotent {
		// Sarama's idempotent producer keeps order only with one request
		// in flight per broker.
		conf.Net.MaxOpenRequests = 1
	}
}

func (n *outNode) Start(c node.Ctx) error {
	n.c = c
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.open = make(chan struct{})
	bn, _ := c.ConfigNode(n.brokerID)
	b, ok := bn.(*broker)
	if !ok {
		c.Status(statusError("missing broker"))
		c.Error(fmt.Errorf("kafka out %s: property \"broker\": kafka-broker node %q is not deployed", c.ID(), n.brokerID), nil)
		return nil
	}
	n.b = b
	c.Status(statusConnecting)
	go func() {
		if _, err := n.producer(); err != nil && !errors.Is(err, errStopped) {
			c.Error(err, nil)
		}
	}()
	return nil
}

// producer connects on first use and keeps retrying on later messages
// after a failure, so an outage at start does not need a redeploy.
func (n *outNode) producer() (*sharedClient, error) {
	n.b.mu.Lock()
	sc := n.sc
	n.b.mu.Unlock()
	if sc != nil {
		return sc, nil
	}
	if n.ctx.Err() != nil {
		return nil, errStopped
	}
	sc, err := n.b.acquire(n.c, n.ckey, n.tweak, true)
	if err != nil {
		n.c.Status(statusError(err.Error()))
		return nil, err
	}
	n.b.mu.Lock()
	if n.ctx.Err() != nil {
		n.b.mu.Unlock()
		n.b.release(sc)
		return nil, errStopped
	}
	if n.sc != nil {
		// Another caller connected meanwhile: use its client.
		n.b.mu.Unlock()
		n.b.release(sc)
		return n.producer()
	}
	n.sc = sc
	n.b.mu.Unlock()
	n.c.Status(statusConnected)
	return sc, nil
}

func (n *outNode) Input(c node.Ctx, m *msg.Msg) error {
	if n.b == nil {
		c.Done(m, fmt.Errorf("kafka out %s: no kafka-broker", c.ID()))
		return nil
	}
	pm, err := n.prepare(m)
	if err != nil {
		c.Done(m, err)
		return nil
	}
	sc, err := n.connected()
	if err != nil {
		c.Done(m, err)
		return nil
	}
	seq, err := n.waitOpen()
	if err != nil {
		c.Done(m, err)
		return nil
	}
	r := &record{n: n, c: c, m: m, pm: pm, seq: seq}
	pm.Metadata = r
	select {
	case sc.prod.Input() <- pm:
	case <-n.ctx.Done():
		r.finish(errors.New("kafka out: node stopped before the record was sent"))
	}
	return nil
}

var errStopped = errors.New("kafka out: node stopped before the record was written")

// connectWait is how long a message waits for a broker that cannot be
// reached (down, a wrong address, a refused login) before it fails.
var connectWait = 10 * time.Minute

// connected returns the producer, waiting while the cluster cannot be
// reached: a Kafka that is down when the flows start holds messages back
// as an outage later does, instead of failing them. Settings that cannot
// work fail at once.
func (n *outNode) connected() (*sharedClient, error) {
	sc, err := n.producer()
	if err == nil || errors.Is(err, errSettings) {
		return sc, err
	}
	deadline := time.Now().Add(connectWait)
	for try := 1; ; try++ {
		wait := resendDelay(try)
		if time.Now().Add(wait).After(deadline) {
			return nil, err
		}
		select {
		case <-time.After(wait):
		case <-n.ctx.Done():
			return nil, err
		}
		if sc, err = n.producer(); err == nil || errors.Is(err, errSettings) {
			return sc, err
		}
	}
}

// prepare builds the record from the node's settings and the message.
func (n *outNode) prepare(m *msg.Msg) (*sarama.ProducerMessage, error) {
	topic := n.topic
	if topic == "" {
		topic = msg.ToString(m.Value("topic"))
		if m.Value("topic") == nil {
			topic = ""
		}
	}
	if topic == "" {
		return nil, errors.New("kafka out: no topic (set the node's topic or msg.topic)")
	}
	pm := &sarama.ProducerMessage{Topic: topic, Partition: n.partition}
	switch {
	case n.key != "":
		pm.Key = sarama.StringEncoder(n.key)
	case m.Value("key") != nil:
		kb, err := encodeValue(m.Value("key"))
		if err != nil {
			return nil, fmt.Errorf("kafka out: msg.key: %w", err)
		}
		pm.Key = sarama.ByteEncoder(kb)
	}
	if pv, ok := m.Get("partition"); ok && pv != nil && pv != "" {
		f := msg.ToNumber(pv)
		if f != math.Trunc(f) || f < -1 || f > math.MaxInt32 {
			return nil, fmt.Errorf("kafka out: msg.partition %s is not a partition number", msg.Marshal(pv))
		}
		pm.Partition = int32(f)
	}
	if h, ok := m.Value("headers").(*msg.Object); ok {
		for _, k := range h.Keys() {
			v := h.Value(k)
			if v == nil {
				continue
			}
			vb, err := encodeValue(v)
			if err != nil {
				return nil, fmt.Errorf("kafka out: msg.headers.%s: %w", k, err)
			}
			pm.Headers = append(pm.Headers, sarama.RecordHeader{Key: []byte(k), Value: vb})
		}
	}
	pb, err := encodeValue(m.Value("payload"))
	if err != nil {
		return nil, fmt.Errorf("kafka out: msg.payload: %w", err)
	}
	pm.Value = sarama.ByteEncoder(pb)
	return pm, nil
}

// encodeValue writes a Buffer as it is, a string as UTF-8, anything else
// as JSON. What JSON.stringify has no text for (undefined, a function, an
// opaque value) is an error rather than a record saying null.
func encodeValue(v any) (b []byte, err error) {
	switch t := v.(type) {
	case []byte:
		return t, nil
	case string:
		return []byte(t), nil
	}
	if !msg.Serialisable(v) {
		what := msg.TypeOf(v)
		if what == "object" {
			what = fmt.Sprintf("a %T value", v)
		}
		return nil, fmt.Errorf("%s cannot be written as JSON", what)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot be written as JSON: %v", r)
		}
	}()
	return []byte(msg.Marshal(v)), nil
}

func (n *outNode) Close(ctx context.Context, removed bool) error {
	if n.cancel != nil {
		n.cancel()
	}
	if n.b == nil {
		return nil
	}
	n.b.mu.Lock()
	sc := n.sc
	n.sc = nil
	n.b.mu.Unlock()
	if sc != nil {
		done := make(chan struct{})
		go func() { n.b.release(sc); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// partitioner writes to the record's partition when one is set (the node's
// or msg.partition) and hashes the key otherwise.
type partitioner struct{ hash sarama.Partitioner }

func newPartitioner(topic string) sarama.Partitioner {
	return partitioner{hash: sarama.NewHashPartitioner(topic)}
}

func (p partitioner) Partition(m *sarama.ProducerMessage, n int32) (int32, error) {
	if m.Partition >= 0 {
		if m.Partition >= n {
			return -1, fmt.Errorf("partition %d does not exist (topic %q has %d)", m.Partition, m.Topic, n)
		}
		return m.Partition, nil
	}
	return p.hash.Partition(m, n)
}

func (p partitioner) RequiresConsistency() bool { return true }

// partitionOf is where a record is sent again: the partition it asked
// for, or the one the partitioner chose (a keyed record hashes there anyway).
func (n *outNode) partitionOf(pm *sarama.ProducerMessage) int32 {
	if pm.Partition >= 0 {
		return pm.Partition
	}
	return n.partition
}
