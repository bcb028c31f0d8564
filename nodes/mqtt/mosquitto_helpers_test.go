package mqtt

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/testpeer"
)

// A real mosquitto for the tests (internal/testpeer): each test starts its
// own on a free 127.0.0.1 port with a generated config and stops it by PID.
// These wrappers keep the tests' short names.

type mosquitto struct {
	*testpeer.Mosquitto
	port int
}

// startMosquitto runs a broker; extra is appended to its config (lines such
// as "max_queued_messages 0").
func startMosquitto(t testing.TB, extra string) *mosquitto {
	t.Helper()
	m := testpeer.StartMosquitto(t, extra)
	return &mosquitto{m, m.Port}
}

func (m *mosquitto) addr() string                  { return m.Addr() }
func (m *mosquitto) pub(args ...string)            { m.Pub(args...) }
func (m *mosquitto) sub(args ...string) subscriber { return subscriber{m.Sub(args...)} }
func (m *mosquitto) start()                        { m.Start() }
func (m *mosquitto) stop()                         { m.Stop() }

type subscriber struct{ *testpeer.Subscriber }

func (s subscriber) next(within time.Duration) string { return s.Next(within) }
func (s subscriber) none(d time.Duration)             { s.None(d) }

func tool(t testing.TB, name string) string {
	return testpeer.Tool(t, name, "mosquitto mosquitto-clients")
}

var (
	freePort = testpeer.FreePort
	waitFor  = testpeer.WaitFor
)
