//go:build unix

package modbus

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startSerialDevice runs the pymodbus device on one end of a pseudo-terminal
// pair and returns the other end's path.
func startSerialDevice(t *testing.T, framer string) string {
	t.Helper()
	script, _ := filepath.Abs("testdata/server.py")
	cmd := exec.Command(python, script, "0", "--serial", framer)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- s
	}()
	select {
	case s := <-line:
		path, ok := strings.CutPrefix(strings.TrimSpace(s), "serial ")
		if !ok {
			t.Fatalf("serial device said %q", s)
		}
		time.Sleep(300 * time.Millisecond) // the server opens its end after printing
		return path
	case <-time.After(10 * time.Second):
		t.Fatal("serial device did not start")
	}
	return ""
}

// RTU and ASCII on a serial line (pseudo-terminals), pymodbus' serial
// server at the other end.
func TestSerial(t *testing.T) {
	needPeer(t)
	for _, tc := range []struct{ framer, serialType string }{{"rtu", "RTU"}, {"ascii", "ASCII"}} {
		t.Run(tc.serialType, func(t *testing.T) {
			path := startSerialDevice(t, tc.framer)
			h := run(t, 0, `,"clienttype":"simpleser","serialPort":"`+path+`","serialType":"`+tc.serialType+`","serialBaudrate":"19200","serialParity":"none"`,
				`{"id":"fg","z":"t1","type":"modbus-flex-getter","server":"mb","wires":[["sink1"],["sink2"]]}`,
				`{"id":"w","z":"t1","type":"modbus-flex-write","server":"mb","wires":[["sink1"],["sink2"]]}`)
			h.waitStatus("fg", "green/dot/connected", 5*time.Second)
			h.inject("fg", `{"payload":{"fc":4,"address":0,"quantity":2}}`)
			if got := js(h.next("sink1", 5*time.Second).Value("payload")); got != `[1000,1001]` {
				t.Errorf("serial read = %s", got)
			}
			h.next("sink2", time.Second)
			h.inject("w", `{"payload":{"value":321,"fc":6,"address":90}}`)
			h.next("sink1", 5*time.Second)
			h.next("sink2", time.Second)
			h.inject("fg", `{"payload":{"fc":3,"address":90,"quantity":1}}`)
			if got := js(h.next("sink1", 5*time.Second).Value("payload")); got != `[321]` {
				t.Errorf("read back after serial write = %s", got)
			}
			h.next("sink2", time.Second)
		})
	}
}
