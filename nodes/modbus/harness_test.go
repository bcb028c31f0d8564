//go:build unix

package modbus

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/flowrig"
	_ "github.com/sluicehq/sluice/nodes/core" // catch
	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{Type: "mbtest-sink", Inputs: 1, New: func(*node.Config) (node.Node, error) { return struct{}{}, nil }})
}

const python = "/usr/bin/python3"

// needPeer skips without pymodbus unless CI demands the peer.
func needPeer(t *testing.T, tools ...string) {
	t.Helper()
	missing := ""
	if err := exec.Command(python, "-c", "import pymodbus").Run(); err != nil {
		missing = "python3-pymodbus"
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing += " " + tool
		}
	}
	if missing == "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("missing test peer: %s (scripts/check-tools.sh installs it)", missing)
	}
	t.Skipf("missing test peer %s (apt-get install python3-pymodbus mbpoll); CI unset", missing)
}

func pythonPeer() error {
	if err := exec.Command(python, "-c", "import pymodbus").Run(); err != nil {
		return fmt.Errorf("python3-pymodbus missing: %v", err)
	}
	return nil
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

// device is a pymodbus server process (testdata/server.py).
type device struct {
	t     testing.TB
	port  int
	slow  int
	rtu   bool   // RTU frames over TCP
	units string // unit ids that answer ("" all)
	cmd   *exec.Cmd
}

func startDevice(t testing.TB, port, slowMS int) *device {
	t.Helper()
	d := &device{t: t, port: port, slow: slowMS}
	d.start()
	t.Cleanup(d.stop)
	return d
}

func (d *device) start() {
	d.t.Helper()
	script, _ := filepath.Abs("testdata/server.py")
	args := []string{script, fmt.Sprint(d.port)}
	args = append(args, "--slow", fmt.Sprint(d.slow))
	if d.rtu {
		args = append(args, "--rtu")
	}
	if d.units != "" {
		args = append(args, "--units", d.units)
	}
	d.cmd = exec.Command(python, args...)
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", d.port))
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.stop()
	d.t.Fatalf("pymodbus server on port %d did not start", d.port)
}

func (d *device) stop() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
	_ = d.cmd.Wait()
	d.cmd = nil
}

type harness struct{ *flowrig.Rig }

// run deploys nodes (JSON objects without the tab) next to a modbus-client
// "mb" for the device's port; messages reaching ids starting "sink" are kept.
func run(t testing.TB, port int, clientExtra string, nodes ...string) *harness {
	t.Helper()
	h := &harness{flowrig.New(t, engine.Options{CloseTimeout: 5 * time.Second})}
	all := []string{`{"id":"t1","type":"tab"}`,
		fmt.Sprintf(`{"id":"mb","type":"modbus-client","clienttype":"tcp","tcpHost":"127.0.0.1","tcpPort":"%d","unit_id":1,"clientTimeout":1000,"reconnectTimeout":200%s}`, port, clientExtra),
		`{"id":"sink1","type":"mbtest-sink","z":"t1"}`, `{"id":"sink2","type":"mbtest-sink","z":"t1"}`,
		`{"id":"sinkErr","type":"mbtest-sink","z":"t1"}`,
		`{"id":"catch","type":"catch","z":"t1","scope":null,"wires":[["sinkErr"]]}`}
	all = append(all, nodes...)
	h.Deploy("[" + strings.Join(all, ",") + "]")
	return h
}

func (h *harness) sink(id string) chan *msg.Object { return h.Sink(id) }

func (h *harness) next(id string, within time.Duration) *msg.Object {
	h.T.Helper()
	return h.Next(id, within)
}

// waitStatus waits for a status of id whose "fill/shape/text" starts with
// prefix.
func (h *harness) waitStatus(id, prefix string, within time.Duration) {
	h.T.Helper()
	h.WaitStatus(id, prefix, within, func(s node.Status) bool { return strings.HasPrefix(flowrig.String(s), prefix) })
}

func (h *harness) inject(id, body string) {
	h.T.Helper()
	h.Inject(id, body)
}

func js(v any) string { return string(msg.Marshal(v)) }
