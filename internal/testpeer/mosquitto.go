package testpeer

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Mosquitto is a broker of the test's own.
type Mosquitto struct {
	Port int
	tb   testing.TB
	bin  string
	dir  string
	conf string

	mu  sync.Mutex
	cmd *exec.Cmd
	log *Buffer
}

// StartMosquitto runs mosquitto on a free port; extra is appended to the
// config (lines such as "max_queued_messages 0"). It is stopped when the
// test ends.
func StartMosquitto(tb testing.TB, extra string) *Mosquitto {
	tb.Helper()
	m := &Mosquitto{tb: tb, bin: Tool(tb, "mosquitto", "mosquitto"), Port: FreePort(tb), dir: tb.TempDir()}
	m.conf = filepath.Join(m.dir, "mosquitto.conf")
	// user root: when run as root (as CI is) mosquitto would otherwise switch
	// to its own user and not read the test's files.
	cfg := fmt.Sprintf("user root\nlistener %d 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\npersistence_location %s/\n%s\n", m.Port, m.dir, extra)
	if err := os.WriteFile(m.conf, []byte(cfg), 0o600); err != nil {
		tb.Fatal(err)
	}
	m.Start()
	tb.Cleanup(m.Stop)
	return m
}

// Start starts the broker again after Stop, on the same port.
func (m *Mosquitto) Start() {
	m.tb.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.log = &Buffer{}
	cmd := exec.Command(m.bin, "-c", m.conf)
	cmd.Stdout, cmd.Stderr = m.log, m.log
	if err := cmd.Start(); err != nil {
		m.tb.Fatal(err)
	}
	m.cmd = cmd
	if !WaitDial(m.Addr(), 5*time.Second) {
		m.tb.Fatalf("mosquitto did not start:\n%s", m.log.String())
	}
}

// Stop stops the broker (SIGTERM, as an operator would).
func (m *Mosquitto) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	Stop(m.cmd, 5*time.Second)
	m.cmd = nil
}

// Signal sends sig to the running broker: SIGSTOP freezes it (the
// connections stay open and nothing is answered), SIGCONT thaws it.
func (m *Mosquitto) Signal(sig os.Signal) {
	m.tb.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		m.tb.Fatal("mosquitto is not running")
	}
	if err := m.cmd.Process.Signal(sig); err != nil {
		m.tb.Fatal(err)
	}
}

// Restart stops and starts the broker.
func (m *Mosquitto) Restart() {
	m.Stop()
	m.Start()
}

// Addr is host:port; URL the mqtt:// form.
func (m *Mosquitto) Addr() string { return "127.0.0.1:" + strconv.Itoa(m.Port) }
func (m *Mosquitto) URL() string  { return "mqtt://" + m.Addr() }

// Log is what the broker has printed since it last started.
func (m *Mosquitto) Log() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.log.String()
}

// Pub runs mosquitto_pub against the broker.
func (m *Mosquitto) Pub(args ...string) {
	m.tb.Helper()
	all := append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(m.Port)}, args...)
	out, err := exec.Command(Tool(m.tb, "mosquitto_pub", "mosquitto-clients"), all...).CombinedOutput()
	if err != nil {
		m.tb.Fatalf("mosquitto_pub %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Subscriber is a mosquitto_sub whose output lines arrive on Lines.
type Subscriber struct {
	Lines  chan string
	tb     testing.TB
	probes chan string
}

// Sub starts mosquitto_sub with args and returns once it is subscribed (a
// message it receives on a probe topic proves it).
func (m *Mosquitto) Sub(args ...string) *Subscriber {
	m.tb.Helper()
	probe := "probe/" + strconv.FormatInt(time.Now().UnixNano(), 36)
	all := append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(m.Port), "-t", probe}, args...)
	cmd := exec.Command(Tool(m.tb, "mosquitto_sub", "mosquitto-clients"), all...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		m.tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		m.tb.Fatal(err)
	}
	s := &Subscriber{tb: m.tb, Lines: make(chan string, 100000), probes: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			if l := sc.Text(); strings.Contains(l, "probe") {
				select {
				case s.probes <- l:
				default:
				}
			} else {
				s.Lines <- l
			}
		}
		close(s.Lines)
	}()
	m.tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		m.Pub("-t", probe, "-m", "probe")
		select {
		case <-s.probes:
			return s
		case <-time.After(200 * time.Millisecond):
		}
	}
	m.tb.Fatal("mosquitto_sub never subscribed")
	return nil
}

// Next returns the next line that is not from the probe.
func (s *Subscriber) Next(within time.Duration) string {
	s.tb.Helper()
	select {
	case l, ok := <-s.Lines:
		if !ok {
			s.tb.Fatal("mosquitto_sub ended")
		}
		return l
	case <-time.After(within):
		s.tb.Fatal("mosquitto_sub received nothing")
	}
	return ""
}

// None checks that nothing but probes arrives for a while.
func (s *Subscriber) None(d time.Duration) {
	s.tb.Helper()
	deadline := time.After(d)
	for {
		select {
		case l, ok := <-s.Lines:
			if ok {
				s.tb.Fatalf("unexpected message %q", l)
			}
		case <-deadline:
			return
		}
	}
}
