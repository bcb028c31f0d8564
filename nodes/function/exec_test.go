//go:build unix

package function

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// The exec node's peer is the operating system: these tests run real
// commands (sh, echo, sleep, head), which every Unix has.

func execJSON(extra string) string {
	return `{"id":"x","type":"exec","command":"","addpay":"payload","append":"","useSpawn":"false","timer":"",
	"winHide":false,"oldrc":false,"wires":[["sink1"],["sink2"],["sink3"]]` + extra + `}`
}

var execSinks = []string{`{"id":"sink1","type":"fnrig-sink","wires":[]}`, `{"id":"sink2","type":"fnrig-sink","wires":[]}`, `{"id":"sink3","type":"fnrig-sink","wires":[]}`}

func execRig(t *testing.T, settings rigSettings, extra string) *rig {
	t.Helper()
	for _, tool := range []string{"sh", "sleep", "head", "tr", "echo"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing (CI needs it)", tool)
			}
			t.Skipf("%s is missing; CI requires it", tool)
		}
	}
	return newRig(t, settings, append([]string{execJSON(extra)}, execSinks...)...)
}

// Spawn mode sends output as the command writes it, then the code; the
// message is in flight until the command has ended.
func TestExecSpawnStreams(t *testing.T) {
	r := execRig(t, nil, `,"command":"sh -c \"echo a; sleep 0.3; echo b\"","addpay":false,"useSpawn":"true"`)
	done := r.sendTracked("x", `{"payload":0}`)
	got := r.wait("sink1", 2, 3*time.Second)
	if got[0].o.Value("payload") != "a\n" || got[1].o.Value("payload") != "b\n" {
		t.Fatalf("chunks %s", rigJSON(got))
	}
	if gap := got[1].at.Sub(got[0].at); gap < 200*time.Millisecond {
		t.Fatalf("second chunk %s after the first: not streamed", gap)
	}
	rc := r.wait("sink3", 1, 3*time.Second)
	if s := string(msg.Marshal(rc[0].o.Value("payload"))); s != `{"code":0}` {
		t.Fatalf("rc %s", s)
	}
	if err, ok := finished(done, 2*time.Second); !ok || err != nil {
		t.Fatalf("done %v %v", ok, err)
	}
	// Sinks run on their own goroutines, so arrival times at two different
	// sinks are ordered only up to scheduling; a code sent before the second
	// chunk would arrive a whole sleep (300 ms) ahead of it.
	if !got[1].at.After(got[0].at) || got[1].at.Sub(rc[0].at) > 150*time.Millisecond {
		t.Fatal("the code came before the output")
	}
}

func TestExecTrackerWaitsForCommand(t *testing.T) {
	r := execRig(t, nil, `,"command":"sleep 0.3","addpay":false`)
	done := r.sendTracked("x", `{"payload":0}`)
	if _, ok := finished(done, 100*time.Millisecond); ok {
		t.Fatal("done before the command ended")
	}
	if err, ok := finished(done, 3*time.Second); !ok || err != nil {
		t.Fatalf("done %v %v", ok, err)
	}
	r.wait("sink3", 1, time.Second)
}

func TestExecKillByPid(t *testing.T) {
	r := execRig(t, nil, `,"command":"sleep","useSpawn":"true"`)
	r.send("x", `{"payload":5}`)
	r.send("x", `{"payload":6}`)
	var pids []int
	deadline := time.Now().Add(2 * time.Second)
	for len(pids) < 2 && time.Now().Before(deadline) {
		r.mu.Lock()
		pids = pids[:0]
		for _, s := range r.status["x"] {
			if p, ok := strings.CutPrefix(s.Text, "pid:"); ok {
				n, _ := strconv.Atoi(p)
				pids = append(pids, n)
			}
		}
		r.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	if len(pids) < 2 {
		t.Fatalf("pids %v", pids)
	}
	// Two commands run: a kill without a pid does nothing.
	r.send("x", `{"kill":"SIGKILL"}`)
	r.send("x", `{"kill":"SIGKILL","pid":"`+strconv.Itoa(pids[1])+`"}`)
	got := r.wait("sink3", 1, 3*time.Second)
	if s := string(msg.Marshal(got[0].o.Value("payload"))); s != `{"code":null,"signal":"SIGKILL"}` {
		t.Fatalf("rc %s", s)
	}
	r.exactly("sink3", 100*time.Millisecond, `{"payload":{"code":null,"signal":"SIGKILL"}}`)
	r.send("x", `{"kill":"SIGINT"}`)
	r.wait("sink3", 2, 3*time.Second)
}

func TestExecUnknownSignal(t *testing.T) {
	r := execRig(t, nil, `,"command":"sleep 2","addpay":false,"useSpawn":"true"`)
	r.send("x", `{}`)
	r.waitStatus("x", 2*time.Second, func(s node.Status) bool { return strings.HasPrefix(s.Text, "pid:") })
	done := r.sendTracked("x", `{"kill":"SIGNOPE"}`)
	err, ok := finished(done, time.Second)
	if !ok || err == nil || !strings.Contains(err.Error(), "Unknown signal: SIGNOPE") {
		t.Fatalf("done %v %v", ok, err)
	}
}

// Stopping the flows ends the command and whatever it started.
func TestExecCloseKillsGroup(t *testing.T) {
	r := execRig(t, nil, `,"command":"sleep 30 & echo $!; wait","addpay":false`)
	done := r.sendTracked("x", `{}`)
	var pid int
	r.waitStatus("x", 2*time.Second, func(s node.Status) bool {
		p, ok := strings.CutPrefix(s.Text, "pid:")
		pid, _ = strconv.Atoi(p)
		return ok
	})
	time.Sleep(100 * time.Millisecond)
	if err := r.e.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	err, ok := finished(done, 3*time.Second)
	if !ok || !errors.Is(err, errExecStopped) {
		t.Fatalf("done %v %v", ok, err)
	}
	// The whole group is gone.
	deadline := time.Now().Add(2 * time.Second)
	for syscall.Kill(-pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatal("the command's process group is still running")
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.exactly("sink1", 0)
}

func TestExecMaxBuffer(t *testing.T) {
	r := execRig(t, rigSettings{"execMaxBufferSize": 100.0}, `,"command":"head -c 100000 /dev/zero | tr '\\0' a","addpay":false`)
	r.send("x", `{}`)
	got := r.wait("sink3", 1, 3*time.Second)
	rc := got[0].o.Value("payload").(*msg.Object)
	if rc.Value("code") != "ERR_CHILD_PROCESS_STDIO_MAXBUFFER" || rc.Value("message") != "stdout maxBuffer length exceeded" {
		t.Fatalf("rc %s", msg.Marshal(rc))
	}
	out := r.wait("sink1", 1, time.Second)
	if s, _ := out[0].o.Value("payload").(string); len(s) != 100 {
		t.Fatalf("stdout kept %d bytes, want 100", len(s))
	}
}

func TestExecEmptySpawn(t *testing.T) {
	r := execRig(t, nil, `,"command":"","useSpawn":"true"`)
	done := r.sendTracked("x", `{"payload":""}`)
	err, ok := finished(done, time.Second)
	if !ok || err == nil || !strings.Contains(err.Error(), "Cannot read properties of null (reading 'map')") {
		t.Fatalf("done %v %v", ok, err)
	}
}

func TestExecBooleanSpawnIsExec(t *testing.T) {
	// Node-RED compares useSpawn with == "true": the boolean true is exec.
	r := execRig(t, nil, `,"command":"echo","useSpawn":true`)
	r.send("x", `{"payload":"hi"}`)
	got := r.wait("sink1", 1, 3*time.Second)
	if got[0].o.Value("rc") == nil {
		t.Fatalf("spawn output has no rc: %s", rigJSON(got))
	}
}

func TestSpawnArgs(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`ls -l  /tmp`, `ls|-l|/tmp`},
		{`echo "a b" c"d e"f "g`, `echo|a b|c"d e"f|g`},
		{`  `, ``},
		{"a\u00a0b", `a|b`},
	} {
		if got := strings.Join(spawnArgs(tc.in), "|"); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestExecBadConfig(t *testing.T) {
	badConfig(t, "exec", `{"command":"ls","timer":"soon"}`, "timer")
	badConfig(t, "exec", `{"command":"ls","addpay":"a..b"}`, "addpay")
}
