package kafka

import (
	"bytes"
	"strings"
	"testing"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func cfgOf(t *testing.T, js string) *node.Config {
	t.Helper()
	v, err := msg.UnmarshalString(js)
	if err != nil {
		t.Fatal(err)
	}
	return &node.Config{Raw: v.(*msg.Object)}
}

func encoded(t *testing.T, e sarama.Encoder) string {
	t.Helper()
	if e == nil {
		return "<nil>"
	}
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestOutPrepare(t *testing.T) {
	nn, err := newOut(cfgOf(t, `{"id":"o","type":"kafka out","topic":"","key":"","partition":""}`))
	if err != nil {
		t.Fatal(err)
	}
	n := nn.(*outNode)
	m := msg.New()
	m.Set("topic", "t1")
	m.Set("key", 42.0)
	m.Set("partition", "3")
	obj := msg.NewObject(2)
	obj.Set("b", 1.0)
	obj.Set("a", "x")
	m.Set("payload", obj)
	hd := msg.NewObject(2)
	hd.Set("s", "v")
	hd.Set("n", 7.0)
	m.Set("headers", hd)
	pm, err := n.prepare(m)
	if err != nil {
		t.Fatal(err)
	}
	if pm.Topic != "t1" || pm.Partition != 3 || encoded(t, pm.Key) != "42" || encoded(t, pm.Value) != `{"b":1,"a":"x"}` {
		t.Fatalf("record %s/%d key %s value %s", pm.Topic, pm.Partition, encoded(t, pm.Key), encoded(t, pm.Value))
	}
	if len(pm.Headers) != 2 || string(pm.Headers[0].Key) != "s" || string(pm.Headers[1].Value) != "7" {
		t.Fatalf("headers %+v", pm.Headers)
	}

	nn, _ = newOut(cfgOf(t, `{"id":"o","type":"kafka out","topic":"fixed","key":"k","partition":"-1"}`))
	n = nn.(*outNode)
	m = msg.New()
	m.Set("topic", "ignored")
	m.Set("key", "ignored")
	m.Set("payload", []byte{0, 1})
	pm, err = n.prepare(m)
	if err != nil {
		t.Fatal(err)
	}
	if pm.Topic != "fixed" || pm.Partition != -1 || encoded(t, pm.Key) != "k" || !bytes.Equal([]byte(encoded(t, pm.Value)), []byte{0, 1}) {
		t.Fatalf("node settings should win: %+v", pm)
	}
	m.Set("partition", 1.5)
	if _, err := n.prepare(m); err == nil || !strings.Contains(err.Error(), "msg.partition") {
		t.Fatalf("fractional msg.partition: %v", err)
	}
}

func TestOutBadConfig(t *testing.T) {
	for _, js := range []string{
		`{"acks":"some"}`,
		`{"compression":"brotli"}`,
		`{"partition":"x"}`,
		`{"acks":"leader"}`, // idempotent (default) needs acks all
	} {
		if _, err := newOut(cfgOf(t, js)); err == nil {
			t.Errorf("%s: accepted", js)
		}
	}
	if _, err := newOut(cfgOf(t, `{"acks":"leader","idempotent":false,"compression":"zstd"}`)); err != nil {
		t.Error(err)
	}
}

func TestInDecode(t *testing.T) {
	for _, tc := range []struct {
		datatype string
		in       []byte
		want     string
	}{
		{"auto", []byte("héllo"), `"héllo"`},
		{"auto", []byte{0xff, 0x00}, `{"type":"Buffer","data":[255,0]}`},
		{"utf8", []byte("x"), `"x"`},
		{"buffer", []byte("x"), `{"type":"Buffer","data":[120]}`},
		{"json", []byte(`{"a":[1]}`), `{"a":[1]}`},
	} {
		n := &inNode{datatype: tc.datatype}
		v, err := n.decode(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(msg.Marshal(v)); got != tc.want {
			t.Errorf("%s %q: %s, want %s", tc.datatype, tc.in, got, tc.want)
		}
	}
	if _, err := (&inNode{datatype: "json"}).decode([]byte("{")); err == nil {
		t.Error("bad JSON accepted")
	}
}

func TestBrokerConfig(t *testing.T) {
	for _, bad := range []string{`{"brokers":""}`, `{"brokers":"nohost"}`, `{"brokers":"h:1","version":"x.y"}`, `{"brokers":"h:1","sasl":"kerberos"}`} {
		b, _ := newBroker(cfgOf(t, bad))
		if _, err := b.(*broker).config(nil); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	b, _ := newBroker(cfgOf(t, `{"brokers":" a:1, b:2 ","version":"3.6.0"}`))
	conf, err := b.(*broker).config(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.(*broker).addrs; len(got) != 2 || got[1] != "b:2" || conf.Version != sarama.V3_6_0_0 {
		t.Fatalf("addrs %v version %v", got, conf.Version)
	}
}
