package bench

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// flow100 is a 100-node flow: 25 chains of inject → change → switch → debug.
func flow100() string {
	var b strings.Builder
	b.WriteString(`[{"id":"t","type":"tab","label":"load"}`)
	for i := 0; i < 25; i++ {
		fmt.Fprintf(&b, `,{"id":"i%d","type":"inject","z":"t","props":[{"p":"payload"}],"payloadType":"date","repeat":"3600","wires":[["c%d"]]}`, i, i)
		fmt.Fprintf(&b, `,{"id":"c%d","type":"change","z":"t","rules":[{"t":"set","p":"topic","pt":"msg","to":"line/%d","tot":"str"}],"wires":[["s%d"]]}`, i, i, i)
		fmt.Fprintf(&b, `,{"id":"s%d","type":"switch","z":"t","property":"payload","propertyType":"msg","rules":[{"t":"gt","v":"0","vt":"num"},{"t":"else"}],"checkall":"false","outputs":2,"wires":[["d%d"],["d%d"]]}`, i, i, i)
		fmt.Fprintf(&b, `,{"id":"d%d","type":"debug","z":"t","active":false,"complete":"payload"}`, i)
	}
	b.WriteString("]")
	return b.String()
}

func buildBinary(b testing.TB) string {
	dir := b.TempDir()
	bin := filepath.Join(dir, "sluice")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "../cmd/sluice")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func freePort(b testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func rssKB(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return -1
}

// BenchmarkStartup100Nodes measures spawn → first 200 from /healthz with a
// 100-node flow (target ≤ 50 ms) and the idle RSS one second later
// (target ≤ 25 MB).
func BenchmarkStartup100Nodes(b *testing.B) {
	bin := buildBinary(b)
	dir := b.TempDir()
	flowFile := filepath.Join(dir, "flows.json")
	if err := os.WriteFile(flowFile, []byte(flow100()), 0o600); err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Timeout: time.Second}
	var total time.Duration
	var rss int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		port := freePort(b)
		cmd := exec.Command(bin, "run", "--headless", "-u", filepath.Join(dir, "u"), "-p", strconv.Itoa(port), flowFile)
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		url := fmt.Sprintf("http://127.0.0.1:%d/healthz", port)
		for {
			resp, err := client.Get(url)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			if time.Since(start) > 10*time.Second {
				_ = cmd.Process.Kill()
				b.Fatal("never served")
			}
			time.Sleep(200 * time.Microsecond)
		}
		total += time.Since(start)
		if i == 0 {
			b.StopTimer()
			time.Sleep(time.Second)
			rss = rssKB(cmd.Process.Pid)
			b.StartTimer()
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/start")
	b.ReportMetric(float64(rss)/1024, "idle-RSS-MB")
}
