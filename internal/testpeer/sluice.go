package testpeer

import (
	"fmt"
	"net/http"
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

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// SluiceBinary builds cmd/sluice once per test process, as a user builds it
// (static, without -race), and returns its path. The file lives in the
// system temp folder under a name unique to this process; RemoveBinary
// deletes it (call it from TestMain).
func SluiceBinary(tb testing.TB) string {
	tb.Helper()
	binOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			binErr = err
			return
		}
		dir, err := os.MkdirTemp("", "sluice-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "sluice")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", binPath, "./cmd/sluice")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build ./cmd/sluice: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		tb.Fatal(binErr)
	}
	return binPath
}

// RemoveBinary deletes what SluiceBinary built.
func RemoveBinary() {
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the sluice module")
	}
	return filepath.Dir(mod), nil
}

// Sluice is a running sluice binary.
type Sluice struct {
	Cmd     *exec.Cmd
	Port    int
	UserDir string
	Logs    *Buffer
	exited  chan struct{}
}

// RunSluice starts `sluice run --headless` on a free port with flow written
// to flows.json in a fresh user dir, waits for /healthz and stops the
// process when the test ends. extra are more arguments for `run`; env more
// environment variables (NAME=value).
func RunSluice(tb testing.TB, flow []byte, env []string, extra ...string) *Sluice {
	tb.Helper()
	s := &Sluice{Port: FreePort(tb), UserDir: tb.TempDir(), Logs: &Buffer{}}
	file := filepath.Join(s.UserDir, "flows.json")
	if err := os.WriteFile(file, flow, 0o600); err != nil {
		tb.Fatal(err)
	}
	args := append([]string{"run", "--headless", "-u", s.UserDir, "-p", strconv.Itoa(s.Port)}, extra...)
	s.Cmd = exec.Command(SluiceBinary(tb), append(args, file)...)
	s.Cmd.Env = append(os.Environ(), env...)
	s.Cmd.Stdout, s.Cmd.Stderr = s.Logs, s.Logs
	if err := s.Cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	s.exited = make(chan struct{})
	go func() { _ = s.Cmd.Wait(); close(s.exited) }()
	tb.Cleanup(s.Stop)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := http.Get(s.URL() + "/healthz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-s.exited:
			tb.Fatalf("sluice exited before it was healthy:\n%s", s.Logs.Tail(4000))
		case <-time.After(20 * time.Millisecond):
		}
	}
	tb.Fatalf("sluice did not become healthy:\n%s", s.Logs.Tail(4000))
	return nil
}

// URL is the base URL of its HTTP server.
func (s *Sluice) URL() string { return "http://127.0.0.1:" + strconv.Itoa(s.Port) }

// Usage is what the process has used so far.
func (s *Sluice) Usage() Usage { return ProcUsage(s.Cmd.Process.Pid) }

// Stop stops the process with SIGTERM as an operator would, and kills it
// if it has not exited within 10 s.
func (s *Sluice) Stop() {
	_ = s.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.Cmd.Process.Kill()
		<-s.exited
	}
}

// Exited is closed when the process has ended.
func (s *Sluice) Exited() <-chan struct{} { return s.exited }
