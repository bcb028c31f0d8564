package mqtt

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A real mosquitto for the tests: each test starts its own on a free
// 127.0.0.1 port with a generated config and stops it by PID.

func tool(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "" {
		t.Skipf("%s is not installed (Debian: apt-get install mosquitto mosquitto-clients); CI requires it", name)
	}
	t.Fatalf("%s is not installed (Debian: apt-get install mosquitto mosquitto-clients)", name)
	return ""
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type mosquitto struct {
	t    testing.TB
	bin  string
	port int
	dir  string
	conf string

	mu  sync.Mutex
	cmd *exec.Cmd
	log *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startMosquitto runs a broker; extra is appended to the listener's config
// (lines such as "max_queued_messages 0").
func startMosquitto(t testing.TB, extra string) *mosquitto {
	t.Helper()
	m := &mosquitto{t: t, bin: tool(t, "mosquitto"), port: freePort(t), dir: t.TempDir()}
	m.conf = filepath.Join(m.dir, "mosquitto.conf")
	// user root: run as root (as CI does), mosquitto would otherwise switch
	// to its own user and not read the test's files.
	cfg := fmt.Sprintf("user root\nlistener %d 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\npersistence_location %s/\n%s\n", m.port, m.dir, extra)
	if err := os.WriteFile(m.conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	m.start()
	t.Cleanup(m.stop)
	return m
}

func (m *mosquitto) start() {
	m.t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.log = &lockedBuffer{}
	cmd := exec.Command(m.bin, "-c", m.conf)
	cmd.Stdout, cmd.Stderr = m.log, m.log
	if err := cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	m.cmd = cmd
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", m.addr(), 100*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	m.t.Fatalf("mosquitto did not start:\n%s", m.log.String())
}

func (m *mosquitto) stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = m.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = m.cmd.Process.Kill()
		<-done
	}
	m.cmd = nil
}

func (m *mosquitto) restart() {
	m.stop()
	m.start()
}

func (m *mosquitto) addr() string { return "127.0.0.1:" + strconv.Itoa(m.port) }

// pub runs mosquitto_pub against the broker.
func (m *mosquitto) pub(args ...string) {
	m.t.Helper()
	all := append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(m.port)}, args...)
	out, err := exec.Command(tool(m.t, "mosquitto_pub"), all...).CombinedOutput()
	if err != nil {
		m.t.Fatalf("mosquitto_pub %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// subscriber is a mosquitto_sub whose output lines arrive on a channel.
type subscriber struct {
	t      testing.TB
	cmd    *exec.Cmd
	lines  chan string
	probes chan string
}

// sub starts mosquitto_sub and waits until it is subscribed (a message it
// receives on a probe topic proves it).
func (m *mosquitto) sub(args ...string) *subscriber {
	m.t.Helper()
	probe := "probe/" + strconv.FormatInt(time.Now().UnixNano(), 36)
	all := append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(m.port), "-t", probe}, args...)
	cmd := exec.Command(tool(m.t, "mosquitto_sub"), all...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		m.t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	s := &subscriber{t: m.t, cmd: cmd, lines: make(chan string, 100000), probes: make(chan string, 100)}
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
				s.lines <- l
			}
		}
		close(s.lines)
	}()
	m.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		m.pub("-t", probe, "-m", "probe")
		select {
		case <-s.probes:
			return s
		case <-time.After(200 * time.Millisecond):
		}
	}
	m.t.Fatal("mosquitto_sub never subscribed")
	return nil
}

// next returns the next line that is not from the probe.
func (s *subscriber) next(within time.Duration) string {
	s.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				s.t.Fatal("mosquitto_sub ended")
			}
			return l
		case <-deadline:
			s.t.Fatal("mosquitto_sub received nothing")
		}
	}
}

// none checks that nothing but probes arrives for a while.
func (s *subscriber) none(d time.Duration) {
	s.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case l, ok := <-s.lines:
			if ok {
				s.t.Fatalf("unexpected message %q", l)
			}
		case <-deadline:
			return
		}
	}
}

func waitFor(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

var _ = context.Background
