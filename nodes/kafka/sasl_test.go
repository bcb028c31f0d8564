package kafka

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicehq/sluice/runtime/msg"
)

// Each SASL mechanism authenticates against the broker, and a wrong
// password shows an error status instead of connecting.
func TestSASL(t *testing.T) {
	_, addrs := newCluster(t, kfake.EnableSASL(), kfake.SeedTopics(1, "sec"),
		kfake.Superuser("PLAIN", "plainuser", "pw1"),
		kfake.Superuser("SCRAM-SHA-256", "user256", "pw2"),
		kfake.Superuser("SCRAM-SHA-512", "user512", "pw3"))
	cases := []struct{ mech, user, pass string }{
		{"plain", "plainuser", "pw1"},
		{"scram-sha-256", "user256", "pw2"},
		{"scram-sha-512", "user512", "pw3"},
	}
	for _, tc := range cases {
		t.Run(tc.mech, func(t *testing.T) {
			h := newHarness(t)
			h.deploy(fmt.Sprintf(`{"id":"kb","type":"kafka-broker","brokers":%q,"sasl":%q},
				{"id":"ko","type":"kafka out","z":"tab","broker":"kb","topic":"sec"},
				{"id":"done","type":"complete","z":"tab","scope":["ko"],"wires":[["sink1"]]},
				{"id":"sink1","type":"kt-sink","z":"tab"}`, addrs, tc.mech),
				map[string]map[string]string{"kb": {"user": tc.user, "password": tc.pass}})
			h.waitStatus("ko", "connected", 10*time.Second)
			m := msg.New()
			m.Set("payload", tc.mech)
			h.inject("ko", m.Object)
			h.next("sink1", 10*time.Second)
		})
	}
	// A refused login shows at once in the status; messages wait for a
	// login that works (the password may be fixed on the broker's side)
	// and fail to catch nodes once connectWait is over, never finished.
	t.Run("wrong password", func(t *testing.T) {
		defer func(d time.Duration) { connectWait = d }(connectWait)
		connectWait = 2 * time.Second
		h := newHarness(t)
		h.deploy(fmt.Sprintf(`{"id":"kb","type":"kafka-broker","brokers":%q,"sasl":"scram-sha-256"},
			{"id":"ko","type":"kafka out","z":"tab","broker":"kb","topic":"sec"},
			{"id":"c","type":"catch","z":"tab","scope":["ko"],"wires":[["sinkErr"]]},
			{"id":"done","type":"complete","z":"tab","scope":["ko"],"wires":[["sinkDone"]]},
			{"id":"sinkErr","type":"kt-sink","z":"tab"},
			{"id":"sinkDone","type":"kt-sink","z":"tab"}`, addrs),
			map[string]map[string]string{"kb": {"user": "user256", "password": "wrong"}})
		s := h.waitStatus("ko", "kafka-broker kb", 15*time.Second)
		if s.Fill != "red" || !strings.Contains(s.Text, "SASL") {
			t.Fatalf("status %+v", s)
		}
		m := msg.New()
		m.Set("payload", "secret")
		h.inject("ko", m.Object)
		e := h.next("sinkErr", 20*time.Second)
		if text := msg.ToString(e.Value("error").(*msg.Object).Value("message")); !strings.Contains(text, "SASL") {
			t.Errorf("error %q should say the login was refused", text)
		}
		h.none("sinkDone", 300*time.Millisecond)
	})
}
