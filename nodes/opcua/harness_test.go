//go:build unix

package opcua

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/flowrig"
	"github.com/sluicehq/sluice/internal/testpeer"
	_ "github.com/sluicehq/sluice/nodes/core" // catch
	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/flow"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{Type: "opctest-sink", Inputs: 1, New: func(*node.Config) (node.Node, error) { return struct{}{}, nil }})
}

var (
	peerDir  string // testpeers/opcua
	runDir   string // per test run: PKI folders of the servers and of the client
	shared   *server
	sharedMu sync.Mutex
)

func TestMain(m *testing.M) {
	reconnectMin, reconnectMax = 200*time.Millisecond, time.Second
	keepAlive = 500 * time.Millisecond
	peerDir, _ = filepath.Abs("../../testpeers/opcua")
	var err error
	runDir, err = os.MkdirTemp("", "sluice-opcua-")
	if err != nil {
		panic(err)
	}
	code := m.Run()
	sharedMu.Lock()
	if shared != nil {
		shared.stop()
	}
	sharedMu.Unlock()
	os.RemoveAll(runDir)
	os.Exit(code)
}

func nodeBin() string { return filepath.Join(peerDir, "node_modules", "node", "bin", "node") }

// needPeer skips without the node-opcua test peer unless CI demands it.
func needPeer(t testing.TB) {
	t.Helper()
	_, err1 := os.Stat(nodeBin())
	_, err2 := os.Stat(filepath.Join(peerDir, "node_modules", "node-opcua"))
	if err1 == nil && err2 == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("missing test peer: testpeers/opcua/node_modules (scripts/check-tools.sh runs npm ci --prefix testpeers/opcua)")
	}
	t.Skip("missing test peer node-opcua: run `npm ci --prefix testpeers/opcua`; CI unset")
}

var freePort = testpeer.FreePort

// server is a node-opcua server process (testpeers/opcua/server.js).
type server struct {
	t    testing.TB
	port int
	args []string
	cmd  *exec.Cmd
	url  string
}

func startServer(t testing.TB, port int, args ...string) *server {
	t.Helper()
	s := &server{t: t, port: port, args: args}
	s.start()
	return s
}

func (s *server) start() {
	s.t.Helper()
	args := append([]string{filepath.Join(peerDir, "server.js"), fmt.Sprint(s.port), "--pki", filepath.Join(runDir, "server-pki")}, s.args...)
	s.cmd = exec.Command(nodeBin(), args...)
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s.cmd.Stderr = os.Stderr
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "READY ") {
				ready <- strings.TrimPrefix(sc.Text(), "READY ")
			}
		}
	}()
	select {
	case s.url = <-ready:
	case <-time.After(60 * time.Second):
		s.stop()
		s.t.Fatalf("node-opcua server on port %d did not start", s.port)
	}
}

func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	_ = s.cmd.Wait()
	s.cmd = nil
}

// sharedServer is one server for the tests that do not stop it.
func sharedServer(t testing.TB) *server {
	t.Helper()
	needPeer(t)
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil {
		shared = startServer(t, freePort(t))
		shared.t = &keepT{} // outlives the test that started it
	}
	return shared
}

// keepT lets the shared server report failures after its first test ended.
type keepT struct{ testing.TB }

func (keepT) Helper()                   {}
func (keepT) Fatal(args ...any)         { panic(fmt.Sprint(args...)) }
func (keepT) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }

type settings map[string]any

func (s settings) Get(name string) (any, bool) { v, ok := s[name]; return v, ok }

type harness struct{ *flowrig.Rig }

func (h *harness) sink(id string) chan *msg.Object { return h.Sink(id) }

// endpointJSON is an OpcUa-Endpoint "ep" for url with extra properties.
func endpointJSON(url, extra string) string {
	return fmt.Sprintf(`{"id":"ep","type":"OpcUa-Endpoint","endpoint":%q,"secpol":"None","secmode":"None","none":true,"login":false,"usercert":false,"usercertificate":"","userprivatekey":""%s}`, url, extra)
}

// run deploys nodes next to the endpoint; messages reaching ids starting
// "sink" are kept, errors reach "sinkErr" through a catch node.
func run(t testing.TB, endpoint string, nodes ...string) *harness {
	t.Helper()
	return runCreds(t, nil, endpoint, nodes...)
}

// runCreds is run with credentials per node id.
func runCreds(t testing.TB, creds map[string]map[string]string, endpoint string, nodes ...string) *harness {
	t.Helper()
	h := &harness{flowrig.New(t, engine.Options{UserDir: runDir, CloseTimeout: 5 * time.Second,
		Settings: settings{"userDir": filepath.Join(runDir, "user")}})}
	all := []string{`{"id":"t1","type":"tab"}`, endpoint,
		`{"id":"sink1","type":"opctest-sink","z":"t1"}`, `{"id":"sink2","type":"opctest-sink","z":"t1"}`,
		`{"id":"sink3","type":"opctest-sink","z":"t1"}`, `{"id":"sinkR","type":"opctest-sink","z":"t1"}`, `{"id":"sinkErr","type":"opctest-sink","z":"t1"}`,
		`{"id":"catch","type":"catch","z":"t1","scope":null,"wires":[["sinkErr"]]}`}
	all = append(all, nodes...)
	set, err := flow.Parse([]byte("[" + strings.Join(all, ",") + "]"))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.E.DeploySet(set, creds); err != nil {
		t.Fatal(err)
	}
	return h
}

// clientJSON is an OpcUa-Client "c" with the given action and extra props
// wired to sink1, sink2, sink3.
func clientJSON(action, extra string) string {
	return fmt.Sprintf(`{"id":"c","type":"OpcUa-Client","z":"t1","endpoint":"ep","action":%q,"deadbandtype":"a","deadbandvalue":1,"time":"100","timeUnit":"ms","certificate":"n","localfile":"","localkeyfile":"","securitymode":"None","securitypolicy":"None","folderName4PKI":"","name":""%s,"wires":[["sink1"],["sink2"],["sink3"]]}`, action, extra)
}

func (h *harness) next(id string, within time.Duration) *msg.Object {
	h.T.Helper()
	return h.Next(id, within)
}

func (h *harness) none(id string, within time.Duration) {
	h.T.Helper()
	h.None(id, within)
}

// waitStatus waits for a status of id whose "fill/shape/text" starts with
// prefix, and returns it in that form.
func (h *harness) waitStatus(id, prefix string, within time.Duration) string {
	h.T.Helper()
	return flowrig.String(h.WaitStatus(id, fmt.Sprintf("%q", prefix), within, func(s node.Status) bool {
		return strings.HasPrefix(flowrig.String(s), prefix)
	}))
}

func (h *harness) inject(id, body string) {
	h.T.Helper()
	h.Inject(id, body)
}

// errText is msg.error.message of a message caught by the catch node.
func errText(m *msg.Object) string {
	if e, ok := m.Value("error").(*msg.Object); ok {
		return msg.ToString(e.Value("message"))
	}
	return js(m)
}

func js(v any) string { return string(msg.Marshal(v)) }
