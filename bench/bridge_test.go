package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	pahomqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/testpeer"
	"github.com/sluicehq/sluice/runtime/msg"
)

// The MQTT ⇄ Kafka bridge benchmarks: flows/mqtt-to-kafka.json and
// flows/kafka-to-mqtt.json run by the built binary against one mosquitto
// and an in-process Kafka-protocol broker (kfake), next to the two
// ceilings a bridge cannot beat — kcat alone producing into (or consuming
// from) the same broker, and a hand-written paho QoS 1 pass-through
// (mosquitto → Go → mosquitto) doing the flow's work — and Node-RED 5 with
// node-red-contrib-kafkajs running the same flows.
//
//	go test -run '^$' -bench Bridge -benchtime 1x ./bench/
//
// SLUICE_BENCH_BRIDGE_MSGS (default 100000) messages of about 100 bytes of
// JSON from ten devices, QoS 1, acks=all; the MQTT message is acknowledged
// only once Kafka acknowledged its record. Per contestant: msgs/s, what was
// lost and duplicated (counted by kcat or a subscriber, per device and
// sequence number), CPU seconds per 100k messages (utime+stime of the
// contestant's process) and peak RSS (VmHWM). NODE_RED_DIR (default
// ../../nr) is Node-RED 5; node-red-contrib-kafkajs is installed with npm
// into NODE_RED_KAFKA_DIR (default $TMPDIR/sluice-nr-kafkajs) when it is
// not there yet. Node-RED is skipped when it is missing or the package
// does not install, and in CI.

const bridgeDevices = 10

// bridgeMosquitto: drop nothing, and no in-flight window towards the
// bridge (mosquitto 2.0.11 reorders a QoS 1 stream to a client whose
// window is full and whose acks come late, as the bridge's do).
// SLUICE_BENCH_BRIDGE_MOSQUITTO replaces these lines.
var bridgeMosquitto = benchEnv("SLUICE_BENCH_BRIDGE_MOSQUITTO", "max_queued_messages 0\nmax_inflight_messages 0")

func bridgeMsgs() int {
	n, err := strconv.Atoi(benchEnv("SLUICE_BENCH_BRIDGE_MSGS", "100000"))
	if err != nil || n < bridgeDevices {
		return 100000
	}
	return n - n%bridgeDevices
}

// bridgeReading is a ~100-byte reading of device d.
func bridgeReading(d, seq int) []byte {
	s := fmt.Sprintf(`{"device":"dev%d","seq":%d,"temp":21.5,"humidity":48.2,"ok":true,"pad":"`, d, seq)
	return []byte(s + strings.Repeat("x", max(100-len(s)-2, 1)) + `"}`)
}

type bridgeResult struct {
	name    string
	n       int
	rate    float64 // msgs/s
	lost    int
	dups    int
	cpu     float64 // CPU seconds per 100k messages
	hwmMB   float64
	note    string
	skipped string
}

func printBridgeTable(w io.Writer, title string, rs []bridgeResult) {
	fmt.Fprintf(w, "\n%s\n", title)
	fmt.Fprintf(w, "%-22s %10s %8s %7s %7s %14s %12s  %s\n", "contestant", "messages", "msgs/s", "lost", "dups", "CPU s/100k", "peak RSS MB", "")
	var lower float64
	var hand float64
	for _, r := range rs {
		if strings.HasPrefix(r.name, "ceiling") && r.skipped == "" && (lower == 0 || r.rate < lower) {
			lower = r.rate
		}
		if r.name == "handwritten-go" && r.skipped == "" {
			hand = r.rate
		}
	}
	for _, r := range rs {
		if r.skipped != "" {
			fmt.Fprintf(w, "%-22s skipped: %s\n", r.name, r.skipped)
			continue
		}
		cpu, hwm := "-", "-"
		if r.cpu > 0 {
			cpu = fmt.Sprintf("%.2f", r.cpu)
		}
		if r.hwmMB > 0 {
			hwm = fmt.Sprintf("%.1f", r.hwmMB)
		}
		note := r.note
		if lower > 0 && !strings.HasPrefix(r.name, "ceiling") {
			share := fmt.Sprintf("%.0f%% of the lower ceiling", 100*r.rate/lower)
			if hand > 0 && r.name != "handwritten-go" {
				share += fmt.Sprintf(", %.0f%% of hand-written", 100*r.rate/hand)
			}
			note = strings.TrimSpace(share + "; " + note)
			note = strings.TrimSuffix(note, ";")
		}
		fmt.Fprintf(w, "%-22s %10d %8.0f %7d %7d %14s %12s  %s\n", r.name, r.n, r.rate, r.lost, r.dups, cpu, hwm, note)
	}
}

func (r bridgeResult) report(b *testing.B) {
	b.ReportMetric(r.rate, "msgs/s")
	b.ReportMetric(float64(r.lost), "lost")
	if r.cpu > 0 {
		b.ReportMetric(r.cpu, "cpu-s/100k")
	}
	if r.hwmMB > 0 {
		b.ReportMetric(r.hwmMB, "peak-RSS-MB")
	}
}

// usageOf is a finished process's CPU time and peak RSS.
func usageOf(ps *os.ProcessState) (time.Duration, float64) {
	if ps == nil {
		return 0, 0
	}
	var hwm float64
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		hwm = float64(ru.Maxrss) / 1024
	}
	return ps.UserTime() + ps.SystemTime(), hwm
}

// kafkaPeer is an in-process Kafka-protocol broker and a client that
// reads its end offsets.
type kafkaPeer struct {
	addr  string
	cl    *kgo.Client
	topic string
	parts int32
}

func startKafka(tb testing.TB, topic string, parts int32) *kafkaPeer {
	tb.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(parts, topic))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	addr := c.ListenAddrs()[0]
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(cl.Close)
	return &kafkaPeer{addr: addr, cl: cl, topic: topic, parts: parts}
}

// records is the sum of the topic's end offsets: how many records it holds.
func (k *kafkaPeer) records(tb testing.TB) int64 {
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = k.topic
	for p := range k.parts {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition = p
		rp.Timestamp = -1
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, k.cl)
	if err != nil {
		tb.Fatalf("list offsets: %v", err)
	}
	var n int64
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			n += p.Offset
		}
	}
	return n
}

// waitRecords waits until the topic holds want records; it returns when
// they were first seen.
func (k *kafkaPeer) waitRecords(tb testing.TB, want int64, limit time.Duration) (time.Time, bool) {
	deadline := time.Now().Add(limit)
	for {
		if k.records(tb) >= want {
			return time.Now(), true
		}
		if time.Now().After(deadline) {
			return time.Now(), false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deviceSeqs counts readings by device and sequence number.
type deviceSeqs struct {
	mu    sync.Mutex
	seen  map[string]map[int]int
	total int
	first time.Time
	last  time.Time
}

func newDeviceSeqs() *deviceSeqs { return &deviceSeqs{seen: map[string]map[int]int{}} }

func (s *deviceSeqs) add(dev string, seq int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.total == 0 {
		s.first = now
	}
	s.last = now
	s.total++
	if s.seen[dev] == nil {
		s.seen[dev] = map[int]int{}
	}
	s.seen[dev][seq]++
}

func (s *deviceSeqs) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// tally is how many of n readings (perDevice from each of the devices)
// are missing and how many came more than once.
func (s *deviceSeqs) tally(perDevice int) (lost, dups int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for d := range bridgeDevices {
		m := s.seen["dev"+strconv.Itoa(d)]
		for seq := range perDevice {
			switch c := m[seq]; {
			case c == 0:
				lost++
			case c > 1:
				dups += c - 1
			}
		}
	}
	return lost, dups
}

func bridgeSeq(p []byte) (int, bool) {
	i := bytes.Index(p, []byte(`"seq":`))
	if i < 0 {
		return 0, false
	}
	j := i + len(`"seq":`)
	k := j
	for k < len(p) && p[k] >= '0' && p[k] <= '9' {
		k++
	}
	n, err := strconv.Atoi(string(p[j:k]))
	return n, err == nil
}

// kafkaTally reads the whole topic with kcat and counts readings by key.
func kafkaTally(tb testing.TB, k *kafkaPeer) *deviceSeqs {
	tb.Helper()
	cmd := exec.Command(testpeer.Tool(tb, "kcat", "kcat"), "-b", k.addr, "-C", "-t", k.topic, "-o", "beginning", "-e", "-q", "-f", "%k\t%s\n")
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	var stderr testpeer.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	s := newDeviceSeqs()
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		key, v, _ := strings.Cut(sc.Text(), "\t")
		if seq, ok := bridgeSeq([]byte(v)); ok {
			s.add(key, seq)
		}
	}
	if err := cmd.Wait(); err != nil {
		tb.Fatalf("kcat: %v\n%s", err, stderr.String())
	}
	return s
}

func bridgeClient(tb testing.TB, addr, id string) pahomqtt.Client {
	tb.Helper()
	o := pahomqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(id).SetWriteTimeout(60 * time.Second)
	c := pahomqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		tb.Fatalf("mqtt connect %s: %v", id, tok.Error())
	}
	tb.Cleanup(func() { c.Disconnect(100) })
	return c
}

// publishDevices sends perDevice readings from each device at QoS 1 on
// factory/<dev>/telemetry, one client per device keeping up to 500
// publishes unanswered.
func publishDevices(tb testing.TB, addr, prefix string, perDevice int) {
	tb.Helper()
	var wg sync.WaitGroup
	var failed atomic.Value
	for d := range bridgeDevices {
		c := bridgeClient(tb, addr, fmt.Sprintf("%s-dev%d", prefix, d))
		wg.Add(1)
		go func() {
			defer wg.Done()
			topic := fmt.Sprintf("factory/dev%d/telemetry", d)
			var last pahomqtt.Token
			for seq := range perDevice {
				last = c.Publish(topic, 1, false, bridgeReading(d, seq))
				if seq%500 == 499 && (!last.WaitTimeout(120*time.Second) || last.Error() != nil) {
					failed.Store(fmt.Sprintf("publish %s: %v", topic, last.Error()))
					return
				}
			}
			if !last.WaitTimeout(120*time.Second) || last.Error() != nil {
				failed.Store(fmt.Sprintf("publish %s: %v", topic, last.Error()))
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f != nil {
		tb.Fatal(f)
	}
}

// bridgeFlow is a flow file from flows/ with its brokers pointed at the
// peers; edit changes properties by node id.
func bridgeFlow(tb testing.TB, file, mqttAddr, kafkaAddr string, edit map[string]map[string]any) []byte {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "flows", file))
	if err != nil {
		tb.Fatal(err)
	}
	v, err := msg.Unmarshal(raw)
	if err != nil {
		tb.Fatal(err)
	}
	host, port, _ := strings.Cut(mqttAddr, ":")
	for _, n := range v.([]any) {
		o := n.(*msg.Object)
		switch o.Value("type") {
		case "mqtt-broker":
			o.Set("broker", host)
			o.Set("port", port)
		case "kafka-broker":
			o.Set("brokers", kafkaAddr)
		}
		for k, val := range edit[msg.ToString(o.Value("id"))] {
			o.Set(k, val)
		}
	}
	return []byte(msg.Marshal(v))
}

// bridgeProcess is a contestant's process: the binary, Node-RED or the
// ceiling.
type bridgeProcess struct {
	cmd  *exec.Cmd
	logs *testpeer.Buffer
}

func startBridgeProcess(tb testing.TB, name string, args, env []string) *bridgeProcess {
	tb.Helper()
	p := &bridgeProcess{cmd: exec.Command(name, args...), logs: &testpeer.Buffer{}}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { testpeer.Stop(p.cmd, 10*time.Second) })
	return p
}

func (p *bridgeProcess) usage() testpeer.Usage { return testpeer.ProcUsage(p.cmd.Process.Pid) }

func runSluiceBridge(tb testing.TB, bin string, flow []byte) *bridgeProcess {
	tb.Helper()
	user := tb.TempDir()
	file := filepath.Join(user, "flows.json")
	if err := os.WriteFile(file, flow, 0o600); err != nil {
		tb.Fatal(err)
	}
	return startBridgeProcess(tb, bin, []string{"run", "--headless", "-u", user, "-p", strconv.Itoa(freePort(tb)), file}, nil)
}

// nodeRedKafka finds Node-RED 5 and node-red-contrib-kafkajs, or says why
// not.
func nodeRedKafka() (nrDir, kafkaDir, why string) {
	if os.Getenv("CI") != "" {
		return "", "", "Node-RED is not run in CI"
	}
	nrDir, _ = filepath.Abs(benchEnv("NODE_RED_DIR", "../../nr"))
	if _, err := os.Stat(filepath.Join(nrDir, "node_modules/node-red/red.js")); err != nil {
		return "", "", "Node-RED 5 is not installed at " + nrDir + " (NODE_RED_DIR)"
	}
	kafkaDir = benchEnv("NODE_RED_KAFKA_DIR", filepath.Join(os.TempDir(), "sluice-nr-kafkajs"))
	pkg := filepath.Join(kafkaDir, "node_modules/node-red-contrib-kafkajs/package.json")
	if _, err := os.Stat(pkg); err != nil {
		// A scratch folder outside the repository, as a user would.
		_ = os.MkdirAll(kafkaDir, 0o755)
		cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--prefix", kafkaDir, "node-red-contrib-kafkajs@"+nrKafkajsVersion)
		out, err := cmd.CombinedOutput()
		if _, serr := os.Stat(pkg); err != nil || serr != nil {
			return "", "", fmt.Sprintf("node-red-contrib-kafkajs did not install in %s (NODE_RED_KAFKA_DIR): %v %s", kafkaDir, err, tailString(string(out), 300))
		}
	}
	return nrDir, kafkaDir, ""
}

// nrKafkajsVersion is the node-red-contrib-kafkajs measured (kafkajs 1.x
// underneath); it installs from npm alone.
const nrKafkajsVersion = "0.0.7"

func tailString(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// runNodeRed starts Node-RED 5 on flow with the kafkajs nodes loaded.
func runNodeRed(tb testing.TB, nrDir, kafkaDir, flow string) *bridgeProcess {
	tb.Helper()
	user := tb.TempDir()
	file := filepath.Join(user, "flows.json")
	if err := os.WriteFile(file, []byte(flow), 0o600); err != nil {
		tb.Fatal(err)
	}
	settings := fmt.Sprintf(`module.exports = {uiHost: "127.0.0.1", nodesDir: [%q], logging: {console: {level: "warn"}}}`, kafkaDir)
	if err := os.WriteFile(filepath.Join(user, "settings.js"), []byte(settings), 0o600); err != nil {
		tb.Fatal(err)
	}
	return startBridgeProcess(tb, filepath.Join(nrDir, "node_modules/node/bin/node"),
		[]string{filepath.Join(nrDir, "node_modules/node-red/red.js"), "-u", user, "-p", strconv.Itoa(freePort(tb)), file}, nil)
}

// nrMQTTToKafka is flows/mqtt-to-kafka.json for Node-RED with
// node-red-contrib-kafkajs: the same mqtt in and change node, a json node
// (kafkajs takes a string or a Buffer, not an object) and its producer
// with acks all.
func nrMQTTToKafka(mqttAddr, kafkaAddr string) string {
	host, port, _ := strings.Cut(mqttAddr, ":")
	return fmt.Sprintf(`[
{"id":"t","type":"tab","label":"m2k"},
{"id":"in","type":"mqtt in","z":"t","x":100,"y":100,"topic":"factory/+/telemetry","qos":"1","datatype":"json","broker":"mb","nl":false,"rap":true,"rh":0,"inputs":0,"wires":[["stamp"]]},
{"id":"stamp","type":"change","z":"t","x":100,"y":100,"rules":[{"t":"set","p":"payload.site","pt":"msg","to":"plant-1","tot":"str"},{"t":"set","p":"payload.timestamp","pt":"msg","to":"","tot":"date"},{"t":"set","p":"key","pt":"msg","to":"$split(topic, \"/\")[1]","tot":"jsonata"}],"wires":[["str"]]},
{"id":"str","type":"json","z":"t","x":100,"y":100,"property":"payload","action":"str","pretty":false,"wires":[["out"]]},
{"id":"out","type":"kafkajs-producer","z":"t","x":100,"y":100,"client":"kc","topic":"factory-telemetry","advancedoptions":false,"acknowledge":"all","partition":"","headeritems":{},"key":"","responsetimeout":30000,"transactiontimeout":60000,"metadatamaxage":300000,"allowautotopiccreation":false,"wires":[]},
{"id":"kc","type":"kafkajs-client","name":"","brokers":%q,"clientid":"nr-bridge","connectiontimeout":"3000","requesttimeout":"25000","advancedretry":false,"auth":"none","loglevel":"error"},
{"id":"mb","type":"mqtt-broker","broker":%q,"port":%q,"clientid":"nr-telemetry-bridge","autoConnect":true,"usetls":false,"protocolVersion":"4","keepalive":"60","cleansession":false,"autoUnsubscribe":true}
]`, kafkaAddr, host, port)
}

// nrKafkaToMQTT is flows/kafka-to-mqtt.json for Node-RED with
// node-red-contrib-kafkajs (whose message carries key and value in
// msg.payload).
func nrKafkaToMQTT(mqttAddr, kafkaAddr string) string {
	host, port, _ := strings.Cut(mqttAddr, ":")
	return fmt.Sprintf(`[
{"id":"t","type":"tab","label":"k2m"},
{"id":"in","type":"kafkajs-consumer","z":"t","x":100,"y":100,"client":"kc","groupid":"nr-commands","topic":"device-commands","advancedoptions":true,"autocommitinterval":5000,"autocommitthreshold":100,"sessiontimeout":30000,"rebalancetimeout":60000,"heartbeatinterval":3000,"metadatamaxage":300000,"maxbytesperpartition":1048576,"minbytes":1,"maxbytes":10485760,"maxwaittimeinms":500,"frombeginning":true,"clearoffsets":false,"allowautotopiccreation":false,"wires":[["address"]]},
{"id":"address","type":"change","z":"t","x":100,"y":100,"rules":[{"t":"set","p":"topic","pt":"msg","to":"\"factory/\" & payload.key & \"/commands\"","tot":"jsonata"},{"t":"set","p":"payload","pt":"msg","to":"payload.value","tot":"msg"}],"wires":[["out"]]},
{"id":"out","type":"mqtt out","z":"t","x":100,"y":100,"topic":"","qos":"1","retain":"false","broker":"mb","wires":[]},
{"id":"kc","type":"kafkajs-client","name":"","brokers":%q,"clientid":"nr-commands","connectiontimeout":"3000","requesttimeout":"25000","advancedretry":false,"auth":"none","loglevel":"error"},
{"id":"mb","type":"mqtt-broker","broker":%q,"port":%q,"clientid":"","autoConnect":true,"usetls":false,"protocolVersion":"4","keepalive":"60","cleansession":true,"autoUnsubscribe":true}
]`, kafkaAddr, host, port)
}

// probeBridge publishes probe readings until one reaches Kafka, and
// returns how many records the topic then holds.
func probeBridge(tb testing.TB, mqttAddr string, k *kafkaPeer, p *bridgeProcess, within time.Duration) int64 {
	tb.Helper()
	c := bridgeClient(tb, mqttAddr, "probe-"+strconv.Itoa(int(time.Now().UnixNano()%1e6)))
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		c.Publish("factory/probe/telemetry", 1, false, `{"probe":true}`).Wait()
		if k.records(tb) > 0 {
			time.Sleep(500 * time.Millisecond) // probes still in flight land
			return k.records(tb)
		}
		time.Sleep(200 * time.Millisecond)
	}
	tb.Fatalf("nothing reached Kafka through the bridge:\n%s", p.logs.Tail(4000))
	return 0
}

// measureMQTTToKafka publishes n readings through a running bridge and
// waits for them in Kafka.
func measureMQTTToKafka(b *testing.B, name string, mq string, k *kafkaPeer, p *bridgeProcess, n int) bridgeResult {
	base := probeBridge(b, mq, k, p, 60*time.Second)
	u0 := p.usage()
	start := time.Now()
	publishDevices(b, mq, name, n/bridgeDevices)
	end, ok := k.waitRecords(b, base+int64(n), 180*time.Second)
	u1 := p.usage()
	r := bridgeResult{name: name, n: n, rate: float64(n) / end.Sub(start).Seconds(),
		cpu: (u1.CPU - u0.CPU).Seconds() * 100000 / float64(n), hwmMB: float64(u1.HWMKB) / 1024}
	if !ok {
		// Give stragglers a moment, then count what is there.
		time.Sleep(2 * time.Second)
		r.note = fmt.Sprintf("gave up waiting at %d of %d records", k.records(b)-base, n)
	}
	s := kafkaTally(b, k)
	r.lost, r.dups = s.tally(n / bridgeDevices)
	return r
}

func BenchmarkBridgeMQTTToKafka(b *testing.B) {
	n := bridgeMsgs()
	testpeer.Tool(b, "kcat", "kcat")
	bin := benchEnv("SLUICE_BENCH_BIN", "")
	if bin == "" {
		bin = buildBinary(b)
	}
	var rs []bridgeResult
	b.Run("sluice", func(b *testing.B) {
		mq := testpeer.StartMosquitto(b, bridgeMosquitto).Addr()
		k := startKafka(b, "factory-telemetry", 3)
		p := runSluiceBridge(b, bin, bridgeFlow(b, "mqtt-to-kafka.json", mq, k.addr, nil))
		r := measureMQTTToKafka(b, "sluice", mq, k, p, n)
		r.report(b)
		rs = append(rs, r)
	})
	b.Run("ceiling-kcat-produce", func(b *testing.B) {
		k := startKafka(b, "factory-telemetry", 3)
		var in bytes.Buffer
		ts := time.Now().UnixMilli()
		for seq := range n / bridgeDevices {
			for d := range bridgeDevices {
				// What the flow writes: the reading with site and timestamp.
				rd := bridgeReading(d, seq)
				fmt.Fprintf(&in, "dev%d|%s,\"site\":\"plant-1\",\"timestamp\":%d}\n", d, rd[:len(rd)-1], ts)
			}
		}
		cmd := exec.Command(testpeer.Tool(b, "kcat", "kcat"), "-b", k.addr, "-P", "-t", k.topic, "-K", "|",
			"-X", "acks=all", "-X", "enable.idempotence=true", "-X", "linger.ms=2")
		cmd.Stdin = &in
		var errb bytes.Buffer
		cmd.Stderr = &errb
		start := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("kcat: %v\n%s", err, errb.String())
		}
		el := time.Since(start)
		cpu, hwm := usageOf(cmd.ProcessState)
		r := bridgeResult{name: "ceiling-kcat-produce", n: n, rate: float64(n) / el.Seconds(),
			cpu: cpu.Seconds() * 100000 / float64(n), hwmMB: hwm}
		s := kafkaTally(b, k)
		r.lost, r.dups = s.tally(n / bridgeDevices)
		r.report(b)
		rs = append(rs, r)
	})
	b.Run("ceiling-go-paho", func(b *testing.B) {
		r := runPahoCeiling(b, n)
		r.report(b)
		rs = append(rs, r)
	})
	b.Run("handwritten-go", func(b *testing.B) {
		mq := testpeer.StartMosquitto(b, bridgeMosquitto).Addr()
		k := startKafka(b, "factory-telemetry", 3)
		p := startHandwritten(b, "m2k", mq, k.addr)
		r := measureMQTTToKafka(b, "handwritten-go", mq, k, p, n)
		r.note = "paho + sarama, same guarantees"
		r.report(b)
		rs = append(rs, r)
	})
	b.Run("node-red-kafkajs", func(b *testing.B) {
		nrDir, kafkaDir, why := nodeRedKafka()
		if why != "" {
			rs = append(rs, bridgeResult{name: "node-red-kafkajs", skipped: why})
			b.Skip(why)
		}
		mq := testpeer.StartMosquitto(b, bridgeMosquitto).Addr()
		k := startKafka(b, "factory-telemetry", 3)
		p := runNodeRed(b, nrDir, kafkaDir, nrMQTTToKafka(mq, k.addr))
		r := measureMQTTToKafka(b, "node-red-kafkajs", mq, k, p, n)
		r.note = strings.TrimSpace(r.note + " (acks on receipt, before Kafka)")
		r.report(b)
		rs = append(rs, r)
	})
	printBridgeTable(os.Stdout, fmt.Sprintf("MQTT → Kafka bridge, %d QoS 1 readings from %d devices, acks=all", n, bridgeDevices), rs)
}

// runPahoCeiling measures the hand-written pass-through (a process of its
// own: this test binary run as TestBridgeCeilingProcess) between two
// topics of one mosquitto.
func runPahoCeiling(b *testing.B, n int) bridgeResult {
	mq := testpeer.StartMosquitto(b, bridgeMosquitto).Addr()
	s := newDeviceSeqs()
	rx := bridgeClient(b, mq, "ceiling-rx")
	tok := rx.Subscribe("kafka/+", 1, func(_ pahomqtt.Client, m pahomqtt.Message) {
		if seq, ok := bridgeSeq(m.Payload()); ok {
			s.add(strings.TrimPrefix(m.Topic(), "kafka/"), seq)
		}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		b.Fatalf("subscribe: %v", tok.Error())
	}
	args := []string{"-test.run=^TestBridgeCeilingProcess$"}
	if prof := os.Getenv("SLUICE_BENCH_CEILING_PROFILE"); prof != "" {
		args = append(args, "-test.cpuprofile="+prof)
	}
	p := startBridgeProcess(b, os.Args[0], args, []string{"SLUICE_BRIDGE_CEILING=tcp://" + mq})
	// Ready when a probe comes through.
	probe := bridgeClient(b, mq, "ceiling-probe")
	deadline := time.Now().Add(30 * time.Second)
	for s.count() == 0 {
		if time.Now().After(deadline) {
			b.Fatalf("the ceiling never passed a message:\n%s", p.logs.Tail(4000))
		}
		probe.Publish("factory/probe/telemetry", 1, false, `{"seq":0}`).Wait()
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	base := s.count()
	u0 := p.usage()
	start := time.Now()
	publishDevices(b, mq, "ceiling", n/bridgeDevices)
	deadline = time.Now().Add(180 * time.Second)
	for s.count() < base+n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	s.mu.Lock()
	end := s.last
	s.mu.Unlock()
	u1 := p.usage()
	r := bridgeResult{name: "ceiling-go-paho", n: n, rate: float64(n) / end.Sub(start).Seconds(),
		cpu: (u1.CPU - u0.CPU).Seconds() * 100000 / float64(n), hwmMB: float64(u1.HWMKB) / 1024,
		note: "mosquitto → Go → mosquitto"}
	r.lost, r.dups = s.tally(n / bridgeDevices)
	return r
}

// TestBridgeCeilingProcess is the ceiling when run by the benchmarks: the
// flow's work by hand — parse the reading, add site and timestamp, take the
// device from the topic as the key, serialise, publish at QoS 1 to
// kafka/<device>, and acknowledge the reading once that publish is
// acknowledged. It runs until it is sent SIGTERM.
func TestBridgeCeilingProcess(t *testing.T) {
	url := os.Getenv("SLUICE_BRIDGE_CEILING")
	if url == "" {
		t.Skip("run by the bridge benchmarks only")
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	o := pahomqtt.NewClientOptions().AddBroker(url).SetClientID("bridge-ceiling").SetAutoAckDisabled(true).SetWriteTimeout(60 * time.Second)
	c := pahomqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	type pend struct {
		tok pahomqtt.Token
		m   pahomqtt.Message
	}
	pends := make(chan pend, 4096)
	go func() {
		for p := range pends {
			p.tok.Wait()
			p.m.Ack()
		}
	}()
	err := subscribeQueued(c, "factory/+/telemetry", func(m pahomqtt.Message) {
		key, out, ok := enrichReading(m)
		if !ok {
			m.Ack()
			return
		}
		pends <- pend{c.Publish("kafka/"+key, 1, false, out), m}
	})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	<-stop
	c.Disconnect(100)
}

// writeCommands has kcat write n commands keyed by device into the topic.
func writeCommands(tb testing.TB, k *kafkaPeer, n int) {
	tb.Helper()
	var in bytes.Buffer
	for seq := range n / bridgeDevices {
		for d := range bridgeDevices {
			fmt.Fprintf(&in, "dev%d|%s\n", d, bridgeReading(d, seq))
		}
	}
	cmd := exec.Command(testpeer.Tool(tb, "kcat", "kcat"), "-b", k.addr, "-P", "-t", k.topic, "-K", "|")
	cmd.Stdin = &in
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("kcat: %v\n%s", err, out)
	}
	if got := k.records(tb); got != int64(n) {
		tb.Fatalf("kcat wrote %d of %d commands", got, n)
	}
}

// measureKafkaToMQTT starts a bridge on commands already in Kafka and
// counts them on the device topics; the rate runs from the first command
// out to the last, so start-up and the group join are not in it.
func measureKafkaToMQTT(b *testing.B, name string, n int, start func(mq string, k *kafkaPeer) *bridgeProcess) bridgeResult {
	mq := testpeer.StartMosquitto(b, bridgeMosquitto).Addr()
	k := startKafka(b, "device-commands", 3)
	writeCommands(b, k, n)
	s := newDeviceSeqs()
	rx := bridgeClient(b, mq, name+"-devices")
	tok := rx.Subscribe("factory/+/commands", 1, func(_ pahomqtt.Client, m pahomqtt.Message) {
		if seq, ok := bridgeSeq(m.Payload()); ok {
			s.add(strings.TrimSuffix(strings.TrimPrefix(m.Topic(), "factory/"), "/commands"), seq)
		}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		b.Fatalf("subscribe: %v", tok.Error())
	}
	p := start(mq, k)
	deadline := time.Now().Add(60 * time.Second)
	for s.count() == 0 {
		if time.Now().After(deadline) {
			b.Fatalf("no command came out:\n%s", p.logs.Tail(4000))
		}
		time.Sleep(time.Millisecond)
	}
	u0 := p.usage() // start-up and the group join are not counted
	deadline = time.Now().Add(180 * time.Second)
	for s.count() < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	u1 := p.usage()
	s.mu.Lock()
	first, last := s.first, s.last
	s.mu.Unlock()
	r := bridgeResult{name: name, n: n, cpu: (u1.CPU - u0.CPU).Seconds() * 100000 / float64(n), hwmMB: float64(u1.HWMKB) / 1024}
	if el := last.Sub(first); el > 0 {
		r.rate = float64(s.count()-1) / el.Seconds()
	}
	r.lost, r.dups = s.tally(n / bridgeDevices)
	if r.lost > 0 {
		r.note = fmt.Sprintf("gave up after %v", 180*time.Second)
	}
	return r
}

func BenchmarkBridgeKafkaToMQTT(b *testing.B) {
	n := bridgeMsgs()
	testpeer.Tool(b, "kcat", "kcat")
	bin := benchEnv("SLUICE_BENCH_BIN", "")
	if bin == "" {
		bin = buildBinary(b)
	}
	var rs []bridgeResult
	b.Run("sluice", func(b *testing.B) {
		r := measureKafkaToMQTT(b, "sluice", n, func(mq string, k *kafkaPeer) *bridgeProcess {
			return runSluiceBridge(b, bin, bridgeFlow(b, "kafka-to-mqtt.json", mq, k.addr,
				map[string]map[string]any{"commands-in": {"start": "earliest"}}))
		})
		r.report(b)
		rs = append(rs, r)
	})
	b.Run("ceiling-kcat-consume", func(b *testing.B) {
		k := startKafka(b, "device-commands", 3)
		writeCommands(b, k, n)
		cmd := exec.Command(testpeer.Tool(b, "kcat", "kcat"), "-b", k.addr, "-C", "-t", k.topic, "-o", "beginning", "-e", "-q", "-f", "%k\t%s\n")
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		s := newDeviceSeqs()
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			key, v, _ := strings.Cut(sc.Text(), "\t")
			if seq, ok := bridgeSeq([]byte(v)); ok {
				s.add(key, seq)
			}
		}
		if err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
		cpu, hwm := usageOf(cmd.ProcessState)
		r := bridgeResult{name: "ceiling-kcat-consume", n: n, rate: float64(n) / time.Since(start).Seconds(),
			cpu: cpu.Seconds() * 100000 / float64(n), hwmMB: hwm, note: "no group, no commits"}
		r.lost, r.dups = s.tally(n / bridgeDevices)
		r.report(b)
		rs = append(rs, r)
	})
	b.Run("ceiling-go-paho", func(b *testing.B) {
		r := runPahoCeiling(b, n)
		r.report(b)
		rs = append(rs, r)
	})
	b.Run("handwritten-go", func(b *testing.B) {
		r := measureKafkaToMQTT(b, "handwritten-go", n, func(mq string, k *kafkaPeer) *bridgeProcess {
			return startHandwritten(b, "k2m", mq, k.addr)
		})
		r.note = "sarama group + paho, same guarantees"
		r.report(b)
		rs = append(rs, r)
	})
	b.Run("node-red-kafkajs", func(b *testing.B) {
		nrDir, kafkaDir, why := nodeRedKafka()
		if why != "" {
			rs = append(rs, bridgeResult{name: "node-red-kafkajs", skipped: why})
			b.Skip(why)
		}
		r := measureKafkaToMQTT(b, "node-red-kafkajs", n, func(mq string, k *kafkaPeer) *bridgeProcess {
			return runNodeRed(b, nrDir, kafkaDir, nrKafkaToMQTT(mq, k.addr))
		})
		r.report(b)
		rs = append(rs, r)
	})
	printBridgeTable(os.Stdout, fmt.Sprintf("Kafka → MQTT bridge, %d commands for %d devices, QoS 1 out", n, bridgeDevices), rs)
}
