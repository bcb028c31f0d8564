package mqtt

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"
)

// BenchmarkNodeRedPipeline runs flows/mqtt-pipeline.json in Node-RED 5
// instead, the same way, for the comparison DESIGN.md asks for. It needs
// Node-RED installed as PEERS.md describes (NODE_RED_DIR, default /work/nr)
// and is skipped otherwise.
//
//	go test -run '^$' -bench NodeRed -benchtime 20000x ./nodes/mqtt/
func BenchmarkNodeRedPipelineQoS0(b *testing.B) { benchNodeRed(b, 0) }
func BenchmarkNodeRedPipelineQoS1(b *testing.B) { benchNodeRed(b, 1) }

func benchNodeRed(b *testing.B, qos byte) {
	dir := os.Getenv("NODE_RED_DIR")
	if dir == "" {
		dir = "/work/nr"
	}
	nodeBin := filepath.Join(dir, "node_modules/node/bin/node")
	redJS := filepath.Join(dir, "node_modules/node-red/red.js")
	if _, err := os.Stat(redJS); err != nil {
		b.Skip("Node-RED 5 not installed (NODE_RED_DIR)")
	}
	m := startMosquitto(b, "max_queued_messages 0")
	user := b.TempDir()
	data, err := os.ReadFile("../../flows/mqtt-pipeline.json")
	if err != nil {
		b.Fatal(err)
	}
	flow := strings.Replace(string(data), `"port": "1883"`, `"port": "`+strconv.Itoa(m.port)+`"`, 1)
	flow = strings.ReplaceAll(flow, `"qos": "1"`, `"qos": "`+strconv.Itoa(int(qos))+`"`)
	flowFile := filepath.Join(user, "flows.json")
	if err := os.WriteFile(flowFile, []byte(flow), 0o600); err != nil {
		b.Fatal(err)
	}
	settings := `module.exports = {uiHost: "127.0.0.1", logging: {console: {level: "warn"}}}`
	if err := os.WriteFile(filepath.Join(user, "settings.js"), []byte(settings), 0o600); err != nil {
		b.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(nodeBin, redJS, "-u", user, "-p", strconv.Itoa(freePort(b)), flowFile)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	client := func(id string) pahomqtt.Client {
		c := pahomqtt.NewClient(pahomqtt.NewClientOptions().AddBroker("tcp://" + m.addr()).SetClientID(id))
		if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			b.Fatalf("connect %s: %v", id, tok.Error())
		}
		return c
	}
	var got atomic.Int64
	want := int64(b.N)
	done := make(chan struct{})
	rx := client("nr-rx")
	defer rx.Disconnect(100)
	rx.Subscribe("plant-1/#", qos, func(pahomqtt.Client, pahomqtt.Message) {
		if got.Add(1) == want {
			close(done)
		}
	}).Wait()
	tx := client("nr-tx")
	defer tx.Disconnect(100)
	// Node-RED is ready when a reading comes through.
	deadline := time.Now().Add(30 * time.Second)
	for got.Load() == 0 {
		if time.Now().After(deadline) {
			b.Fatalf("Node-RED never passed a message:\n%s", logs.String())
		}
		tx.Publish("sensors/probe/reading", 1, false, `{"value":1}`).Wait()
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	got.Store(0)
	payloads := [2]string{`{"id":"s1","value":42,"unit":"C"}`, `{"id":"s2","value":73.5,"unit":"C"}`}
	b.ResetTimer()
	start, cpu0 := time.Now(), procCPU(b, cmd.Process.Pid)
	var last pahomqtt.Token
	for i := 0; i < b.N; i++ {
		last = tx.Publish("sensors/s"+strconv.Itoa(i%8)+"/reading", qos, false, payloads[i%2])
		if qos > 0 && i%500 == 499 {
			last.Wait()
		}
	}
	last.Wait()
	select {
	case <-done:
	case <-time.After(120 * time.Second):
		b.Fatalf("%d of %d messages came out", got.Load(), b.N)
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
	b.ReportMetric((procCPU(b, cmd.Process.Pid)-cpu0).Seconds()*100000/float64(b.N), "nr-cpu-s/100k")
}

// procCPU is a process's CPU time from /proc.
func procCPU(b *testing.B, pid int) time.Duration {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100)
}
