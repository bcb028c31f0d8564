package kafka

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "kafka in", Category: "network", Color: "#c0c0c0", Icon: "bridge.svg",
		Inputs: 0, Outputs: 1,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "broker", Kind: node.KindString, ConfigType: "kafka-broker", Required: true, Label: "Broker"},
			{Name: "topics", Kind: node.KindString, Default: "", Required: true, Label: "Topics"},
			{Name: "topicRegex", Kind: node.KindBool, Default: false, Label: "Topics is a regular expression", Check: checkTopicRegex},
			{Name: "group", Kind: node.KindString, Default: "", Label: "Consumer group"},
			{Name: "start", Kind: node.KindString, Default: "latest", Options: []string{"latest", "earliest"}, Label: "Start"},
			{Name: "datatype", Kind: node.KindString, Default: "auto", Options: []string{"auto", "utf8", "buffer", "json"}, Label: "Output"},
		},
		Help: inHelp,
		New:  newIn,
	})
}

const inHelp = "Reads records from Kafka topics.\n\n" +
	"`topics` is a comma-separated list, or a regular expression matched against the cluster's topics when `topicRegex` is set. " +
	"With a consumer `group` the partitions are shared among the group's members and offsets are committed; without one the " +
	"node reads every partition and commits nothing. `start` (`latest` or `earliest`) applies when there is no committed offset.\n\n" +
	"Each message has `payload`, `topic`, `key`, `partition`, `offset`, `timestamp` (ms) and `headers`. `datatype` `auto` gives " +
	"a string for UTF-8 data and a Buffer otherwise; `utf8`, `buffer` and `json` force one form.\n\n" +
	"An offset is committed only once its message, and every message it fanned out into, is done without error, and only in " +
	"order: a message whose flow fails holds its partition's commits back, so it is read again after a restart (at least once). " +
	"The node reads no faster than the flows can take messages."

func checkTopicRegex(v any, cfg *node.Config) error {
	if cfg.Bool("topicRegex", false) {
		if _, err := regexp.Compile(cfg.Str("topics")); err != nil {
			return fmt.Errorf("topics is not a regular expression: %v", err)
		}
	}
	return nil
}

// regexRefresh is how often a regex subscription looks for new topics.
var regexRefresh = 10 * time.Second

type inNode struct {
	brokerID string
	topics   []string
	re       *regexp.Regexp
	group    string
	initial  int64
	datatype string

	c      node.Ctx
	b      *broker
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// unfinished holds a token per message out in the flows.
	unfinished chan struct{}
}

func newIn(cfg *node.Config) (node.Node, error) {
	n := &inNode{brokerID: cfg.Str("broker"), group: strings.TrimSpace(cfg.Str("group")), datatype: cfg.StrOr("datatype", "auto")}
	if cfg.Bool("topicRegex", false) {
		re, err := regexp.Compile(cfg.Str("topics"))
		if err != nil {
			return nil, node.BadProp("topics", cfg.Get("topics"), "not a regular expression: %v", err)
		}
		n.re = re
	} else {
		for _, t := range strings.Split(cfg.Str("topics"), ",") {
			if t = strings.TrimSpace(t); t != "" {
				n.topics = append(n.topics, t)
			}
		}
		if len(n.topics) == 0 {
			return nil, node.BadProp("topics", cfg.Get("topics"), "no topic given")
		}
	}
	switch s := cfg.StrOr("start", "latest"); s {
	case "latest":
		n.initial = sarama.OffsetNewest
	case "earliest":
		n.initial = sarama.OffsetOldest
	default:
		return nil, node.BadProp("start", s, "must be latest or earliest")
	}
	switch n.datatype {
	case "auto", "utf8", "buffer", "json":
	default:
		return nil, node.BadProp("datatype", n.datatype, "must be auto, utf8, buffer or json")
	}
	return n, nil
}

func (n *inNode) Start(c node.Ctx) error {
	n.c = c
	n.unfinished = make(chan struct{}, maxUnfinished)
	n.ctx, n.cancel = context.WithCancel(context.Background())
	bn, _ := c.ConfigNode(n.brokerID)
	b, ok := bn.(*broker)
	if !ok {
		c.Status(statusError("missing broker"))
		c.Error(fmt.Errorf("kafka in %s: property \"broker\": kafka-broker node %q is not deployed", c.ID(), n.brokerID), nil)
		return nil
	}
	n.b = b
	c.Status(statusConnecting)
	n.wg.Add(1)
	go n.run()
	return nil
}

func (n *inNode) tweak(conf *sarama.Config) {
	conf.Consumer.Return.Errors = true
	conf.Consumer.Offsets.Initial = n.initial
	conf.Consumer.Offsets.AutoCommit.Enable = true
	conf.Consumer.Offsets.AutoCommit.Interval = 500 * time.Millisecond
	conf.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRange()}
	conf.ChannelBufferSize = 256
}

// run connects (retrying while the node lives) and consumes until stopped.
func (n *inNode) run() {
	defer n.wg.Done()
	backoff := 500 * time.Millisecond
	for n.ctx.Err() == nil {
		// Each node has its own client: a consumer group's session belongs
		// to one client, and start differs per node.
		sc, err := n.b.acquire(n.c, "in/"+n.c.ID(), n.tweak, false)
		if err == nil {
			if n.group != "" {
				err = n.consumeGroup(sc.client)
			} else {
				err = n.consumeAll(sc.client)
			}
			n.b.release(sc)
		}
		if n.ctx.Err() != nil {
			return
		}
		if err != nil {
			n.c.Status(statusError(err.Error()))
			n.c.Error(fmt.Errorf("kafka in %s: %w", n.c.ID(), err), nil)
		}
		select {
		case <-n.ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff < 10*time.Second {
			backoff *= 2
		}
	}
}

// subscribed resolves the topics: the list, or the regex against the
// cluster's topics.
func (n *inNode) subscribed(cl sarama.Client) ([]string, error) {
	if n.re == nil {
		return n.topics, nil
	}
	if err := cl.RefreshMetadata(); err != nil {
		return nil, err
	}
	all, err := cl.Topics()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range all {
		if n.re.MatchString(t) {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (n *inNode) consumeGroup(cl sarama.Client) error {
	g, err := sarama.NewConsumerGroupFromClient(n.group, cl)
	if err != nil {
		return err
	}
	defer g.Close()
	n.c.Status(statusConnected)
	errDone := make(chan struct{})
	go func() {
		defer close(errDone)
		for err := range g.Errors() {
			n.c.Status(statusError(err.Error()))
			n.c.Error(fmt.Errorf("kafka in %s: group %q: %w", n.c.ID(), n.group, err), nil)
		}
	}()
	h := &groupHandler{n: n}
	for n.ctx.Err() == nil {
		topics, err := n.subscribed(cl)
		if err != nil {
			return err
		}
		if len(topics) == 0 {
			select {
			case <-n.ctx.Done():
			case <-time.After(regexRefresh):
			}
			continue
		}
		ctx := n.ctx
		var cancel context.CancelFunc = func() {}
		if n.re != nil {
			// A new matching topic needs a new session to be joined.
			ctx, cancel = context.WithTimeout(n.ctx, regexRefresh)
		}
		err = g.Consume(ctx, topics, h)
		cancel()
		if err != nil && n.ctx.Err() == nil {
			return err
		}
		n.c.Status(statusConnected)
	}
	_ = g.Close()
	<-errDone
	return nil
}

type groupHandler struct{ n *inNode }

func (h *groupHandler) Setup(sarama.ConsumerGroupSession) error {
	h.n.c.Status(statusConnected)
	return nil
}
func (h *groupHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *groupHandler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	w := &window{mark: func(next int64) { sess.MarkOffset(claim.Topic(), claim.Partition(), next, "") }}
	ctx := sess.Context()
	for {
		select {
		case <-ctx.Done():
			return nil
		case rec, ok := <-claim.Messages():
			if !ok {
				return nil
			}
			if err := h.n.deliver(ctx, rec, w); err != nil {
				return nil
			}
		}
	}
}

// consumeAll reads every partition of the topics without a group, from
// start; nothing is committed. A regex subscription picks up topics that
// appear later, from their first record.
func (n *inNode) consumeAll(cl sarama.Client) error {
	cons, err := sarama.NewConsumerFromClient(cl)
	if err != nil {
		return err
	}
	defer cons.Close()
	ctx, cancel := context.WithCancel(n.ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	fail := make(chan error, 1)
	reading := map[string]bool{}
	add := func(offset int64) error {
		topics, err := n.subscribed(cl)
		if err != nil {
			return err
		}
		for _, t := range topics {
			if reading[t] {
				continue
			}
			parts, err := cl.Partitions(t)
			if err != nil {
				return fmt.Errorf("topic %q: %w", t, err)
			}
			for _, p := range parts {
				pc, err := cons.ConsumePartition(t, p, offset)
				if err != nil {
					return fmt.Errorf("topic %q partition %d: %w", t, p, err)
				}
				wg.Add(2)
				go func() {
					defer wg.Done()
					for e := range pc.Errors() {
						select {
						case fail <- e:
						default:
						}
					}
				}()
				go func() {
					defer wg.Done()
					defer pc.AsyncClose()
					for {
						select {
						case <-ctx.Done():
							return
						case rec, ok := <-pc.Messages():
							if !ok {
								return
							}
							if n.deliver(ctx, rec, nil) != nil {
								return
							}
						}
					}
				}()
			}
			reading[t] = true
		}
		return nil
	}
	if err := add(n.initial); err != nil {
		return err
	}
	n.c.Status(statusConnected)
	var tick <-chan time.Time
	if n.re != nil {
		tk := time.NewTicker(regexRefresh)
		defer tk.Stop()
		tick = tk.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-fail:
			return err
		case <-tick:
			if err := add(sarama.OffsetOldest); err != nil {
				return err
			}
		}
	}
}

// maxUnfinished bounds the messages of one node that are out in the flows
// and not yet done. Room in the flows' queues is not enough: a message
// handed to a sink that waits for its own broker's ack (mqtt out at QoS 1,
// kafka out) has left the queues but still holds memory, and without a
// bound the node would read the whole topic into it.
var maxUnfinished = 2000

// deliver waits for room in the flows, then sends rec as a message whose
// tracker reports to w when everything it became is done.
func (n *inNode) deliver(ctx context.Context, rec *sarama.ConsumerMessage, w *window) error {
	select {
	case n.unfinished <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := n.c.Acquire(ctx); err != nil {
		<-n.unfinished
		return err
	}
	var slot *slot
	if w != nil {
		slot = w.add(rec.Offset)
	}
	m, err := n.message(rec)
	if err != nil {
		n.c.Release()
		<-n.unfinished
		// A record the node cannot decode would stop its partition for
		// good; report it and let the offset pass.
		n.c.Error(fmt.Errorf("kafka in %s: topic %q partition %d offset %d: %w", n.c.ID(), rec.Topic, rec.Partition, rec.Offset, err), nil)
		if slot != nil {
			w.done(slot, nil)
		}
		return nil
	}
	if slot != nil {
		m.Track = msg.NewTracker(func(err error) {
			w.done(slot, err)
			<-n.unfinished
		})
	} else {
		m.Track = msg.NewTracker(func(error) { <-n.unfinished })
	}
	n.c.Send(m)
	m.Track.Done(nil)
	return nil
}

func (n *inNode) message(rec *sarama.ConsumerMessage) (*msg.Msg, error) {
	m := msg.New()
	p, err := n.decode(rec.Value)
	if err != nil {
		return nil, err
	}
	m.Set("payload", p)
	m.Set("topic", rec.Topic)
	if rec.Key != nil {
		m.Set("key", string(rec.Key))
	} else {
		m.Set("key", nil)
	}
	m.Set("partition", float64(rec.Partition))
	m.Set("offset", float64(rec.Offset))
	m.Set("timestamp", float64(rec.Timestamp.UnixMilli()))
	h := msg.NewObject(len(rec.Headers))
	for _, rh := range rec.Headers {
		if rh != nil {
			h.Set(string(rh.Key), string(rh.Value))
		}
	}
	m.Set("headers", h)
	return m, nil
}

func (n *inNode) decode(b []byte) (any, error) {
	switch n.datatype {
	case "buffer":
		return append([]byte(nil), b...), nil
	case "utf8":
		return string(b), nil
	case "json":
		v, err := msg.Unmarshal(b)
		if err != nil {
			return nil, fmt.Errorf("payload is not JSON: %v", err)
		}
		return v, nil
	}
	if utf8.Valid(b) {
		return string(b), nil
	}
	return append([]byte(nil), b...), nil
}

func (n *inNode) Close(ctx context.Context, removed bool) error {
	if n.cancel == nil {
		return nil
	}
	n.cancel()
	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
