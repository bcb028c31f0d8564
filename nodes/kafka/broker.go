package kafka

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "kafka-broker", Category: "config", Config: true,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "brokers", Kind: node.KindString, Default: "", Required: true, Label: "Brokers", Check: checkBrokers},
			{Name: "clientid", Kind: node.KindString, Default: "", Label: "Client ID"},
			{Name: "version", Kind: node.KindString, Default: "", Label: "Kafka version", Check: checkVersion},
			{Name: "tls", Kind: node.KindString, ConfigType: "tls-config", Label: "TLS Configuration"},
			{Name: "sasl", Kind: node.KindString, Default: "none", Options: []string{"none", "plain", "scram-sha-256", "scram-sha-512"}, Label: "SASL"},
		},
		Credentials: []node.Cred{{Name: "user"}, {Name: "password", Password: true}},
		Help:        brokerHelp,
		New:         newBroker,
	})
}

const brokerHelp = "A connection to a Kafka cluster, shared by the `kafka in` and `kafka out` nodes that use it.\n\n" +
	"`brokers` lists bootstrap servers as `host:port,host:port`. `version` is the Kafka protocol version to speak " +
	"(for example `2.8.0`); empty means " + defaultVersionText + ", which every broker from Kafka 2.1 on accepts. " +
	"`tls` names a `tls-config` node; `sasl` is `none`, `plain`, `scram-sha-256` or `scram-sha-512` with the " +
	"`user` and `password` credentials."

const defaultVersionText = "2.1.0"

var defaultVersion = sarama.V2_1_0_0

func checkBrokers(v any, _ *node.Config) error {
	s, _ := v.(string)
	if _, err := splitBrokers(s); err != nil {
		return err
	}
	return nil
}

func checkVersion(v any, _ *node.Config) error {
	s, _ := v.(string)
	_, err := parseVersion(s)
	return err
}

func parseVersion(s string) (sarama.KafkaVersion, error) {
	if strings.TrimSpace(s) == "" {
		return defaultVersion, nil
	}
	v, err := sarama.ParseKafkaVersion(strings.TrimSpace(s))
	if err != nil {
		return v, fmt.Errorf("not a Kafka version such as 2.8.0")
	}
	return v, nil
}

func splitBrokers(s string) ([]string, error) {
	var out []string
	for _, b := range strings.Split(s, ",") {
		b = strings.TrimSpace(b)
		if b == "" {
			continue
		}
		if i := strings.LastIndexByte(b, ':'); i <= 0 || i == len(b)-1 {
			return nil, fmt.Errorf("broker %q is not host:port", b)
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, errors.New("no broker address (host:port,host:port)")
	}
	return out, nil
}

// broker is a kafka-broker config node. Sarama fixes producer and consumer
// settings per client, so nodes with the same settings share one client
// (and producer); the key names those settings.
type broker struct {
	id      string
	addrs   []string
	addrErr error
	tlsID   string
	base    *sarama.Config
	baseErr error

	mu      sync.Mutex
	clients map[string]*sharedClient
	closed  bool
}

// sharedClient is one sarama client and, for producers, its producer with
// the goroutine that hands acknowledgements back to the nodes.
type sharedClient struct {
	key    string
	client sarama.Client
	prod   sarama.AsyncProducer
	users  int
	done   chan struct{}
}

func newBroker(cfg *node.Config) (node.Node, error) {
	b := &broker{id: cfg.ID(), tlsID: cfg.Str("tls"), clients: map[string]*sharedClient{}}
	b.addrs, b.addrErr = splitBrokers(cfg.Str("brokers"))
	if b.addrErr != nil {
		b.addrErr = node.BadProp("brokers", cfg.Get("brokers"), "%v", b.addrErr)
	}
	sc := sarama.NewConfig()
	sc.ClientID = cfg.StrOr("clientid", "sluice")
	if v, err := parseVersion(cfg.Str("version")); err != nil {
		b.baseErr = node.BadProp("version", cfg.Get("version"), "%v", err)
	} else {
		sc.Version = v
	}
	sc.Net.DialTimeout = 5 * time.Second
	sc.Metadata.Retry.Max = 2
	sc.Metadata.Retry.Backoff = 200 * time.Millisecond
	switch mech := cfg.StrOr("sasl", "none"); mech {
	case "none":
	case "plain", "scram-sha-256", "scram-sha-512":
		sc.Net.SASL.Enable = true
		sc.Net.SASL.User = cfg.Creds["user"]
		sc.Net.SASL.Password = cfg.Creds["password"]
		sc.Net.SASL.Handshake = true
		switch mech {
		case "plain":
			sc.Net.SASL.Mechanism = sarama.SASLTypePlaintext
		case "scram-sha-256":
			sc.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA256
			sc.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: sha256.New} }
		default:
			sc.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA512
			sc.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: sha512.New} }
		}
	default:
		b.baseErr = node.BadProp("sasl", mech, "must be none, plain, scram-sha-256 or scram-sha-512")
	}
	b.base = sc
	return b, nil
}

// config returns a copy of the connection settings for one client, with
// TLS resolved through c (the tls-config node runs in the same flows).
func (b *broker) config(c node.Ctx) (*sarama.Config, error) {
	if b.addrErr != nil {
		return nil, fmt.Errorf("kafka-broker %s: %w", b.id, b.addrErr)
	}
	if b.baseErr != nil {
		return nil, fmt.Errorf("kafka-broker %s: %w", b.id, b.baseErr)
	}
	cp := *b.base
	if b.tlsID != "" {
		tc, err := b.tlsConfig(c)
		if err != nil {
			return nil, fmt.Errorf("kafka-broker %s: %w", b.id, err)
		}
		cp.Net.TLS.Enable = true
		cp.Net.TLS.Config = tc
	}
	return &cp, nil
}

func (b *broker) tlsConfig(c node.Ctx) (*tls.Config, error) {
	return node.TLSConfigOf(c, b.tlsID)
}

// errSettings marks a failure that no retry mends: settings that cannot
// work, or a broker node that is closed.
var errSettings = errors.New("kafka settings")

type settingsError struct{ error }

func (e settingsError) Is(target error) bool { return target == errSettings }
func (e settingsError) Unwrap() error        { return e.error }

// acquire returns the shared client for key, connecting it with tweak
// applied to the settings when it does not exist yet; release gives it back.
func (b *broker) acquire(c node.Ctx, key string, tweak func(*sarama.Config), producer bool) (*sharedClient, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, settingsError{fmt.Errorf("kafka-broker %s: closed", b.id)}
	}
	if sc := b.clients[key]; sc != nil {
		sc.users++
		return sc, nil
	}
	conf, err := b.config(c)
	if err != nil {
		return nil, settingsError{err}
	}
	if tweak != nil {
		tweak(conf)
	}
	if err := conf.Validate(); err != nil {
		return nil, settingsError{fmt.Errorf("kafka-broker %s: %w", b.id, err)}
	}
	cl, err := sarama.NewClient(b.addrs, conf)
	if err != nil {
		if conf.Net.SASL.Enable && strings.Contains(err.Error(), "EOF") {
			// Brokers drop the connection on a failed login without a reason.
			return nil, fmt.Errorf("kafka-broker %s (%s): SASL login refused? check the mechanism, user and password: %w", b.id, strings.Join(b.addrs, ","), err)
		}
		return nil, fmt.Errorf("kafka-broker %s (%s): %w", b.id, strings.Join(b.addrs, ","), err)
	}
	sc := &sharedClient{key: key, client: cl, users: 1}
	if producer {
		p, err := sarama.NewAsyncProducerFromClient(cl)
		if err != nil {
			_ = cl.Close()
			return nil, fmt.Errorf("kafka-broker %s: producer: %w", b.id, err)
		}
		sc.prod = p
		sc.done = make(chan struct{})
		go sc.acks()
	}
	b.clients[key] = sc
	return sc, nil
}

func (b *broker) release(sc *sharedClient) {
	b.mu.Lock()
	sc.users--
	last := sc.users == 0
	if last {
		delete(b.clients, sc.key)
	}
	b.mu.Unlock()
	if !last {
		return
	}
	if sc.prod != nil {
		// AsyncClose flushes what is buffered; acks() ends when both
		// result channels are drained.
		sc.prod.AsyncClose()
		<-sc.done
	}
	_ = sc.client.Close()
}

// acks hands every result of the producer to the record's node.
func (sc *sharedClient) acks() {
	defer close(sc.done)
	succ, errs := sc.prod.Successes(), sc.prod.Errors()
	for succ != nil || errs != nil {
		select {
		case m, ok := <-succ:
			if !ok {
				succ = nil
				continue
			}
			if r, ok := m.Metadata.(*record); ok {
				r.finish(nil)
			}
		case pe, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			if r, ok := pe.Msg.Metadata.(*record); ok {
				r.failed(pe)
			}
		}
	}
}

func (b *broker) Close(ctx context.Context, removed bool) error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}
