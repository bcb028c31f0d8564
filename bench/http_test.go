package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/engine"
)

// The HTTP load benchmark: flows/http-bench.json (http in → change →
// switch → change → function → template → http response) served by the
// built binary, by Node-RED 5 on the same machine, and a hand-written Go
// handler doing the same work as the ceiling, each driven by wrk.
//
//	go test -run '^$' -bench HTTPLoad ./bench/
//
// SLUICE_BENCH_DURATION (default 10s) and SLUICE_BENCH_CONNECTIONS (64)
// shape the wrk runs; NODE_RED_DIR (default ../../nr) is where Node-RED 5
// is installed. The Node-RED run is skipped in CI or when it is missing.

const benchPath = "/bench?user=alice&n=42"

// benchAnswer is what Node-RED 5 answers for benchPath.
const benchAnswer = `{"user":"alice","n":42,"size":"small","score":84}`

// TestHTTPBenchFlowAnswers checks the benchmark's flow gives Node-RED's
// answers, so the load runs measure the right work.
func TestHTTPBenchFlowAnswers(t *testing.T) {
	flow, err := os.ReadFile("../flows/http-bench.json")
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Options{UserDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	if err := e.Deploy(flow); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.HTTP().(http.Handler))
	defer srv.Close()
	for path, want := range map[string]string{
		benchPath:              benchAnswer,
		"/bench?user=bob&n=77": `{"user":"bob","n":77,"size":"large","score":154}`,
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != want || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("%s: %d %s %v, want %s", path, resp.StatusCode, b, resp.Header, want)
		}
	}
	// The ceiling handler does the same work.
	rec := httptest.NewRecorder()
	ceiling(rec, httptest.NewRequest("GET", benchPath, nil))
	if rec.Body.String() != benchAnswer {
		t.Errorf("ceiling handler: %s", rec.Body.String())
	}
}

// ceiling is the flow's work written by hand: read the query, classify,
// score, answer JSON.
func ceiling(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n, _ := strconv.ParseFloat(q.Get("n"), 64)
	size := "large"
	if n < 50 {
		size = "small"
	}
	body, _ := json.Marshal(struct {
		User  string  `json:"user"`
		N     float64 `json:"n"`
		Size  string  `json:"size"`
		Score float64 `json:"score"`
	}{q.Get("user"), n, size, n * 2})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// wrkResult is what one wrk run measured.
type wrkResult struct {
	rps      float64
	p50, p99 time.Duration
	errors   string
}

var (
	rpsLine     = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	latencyLine = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$`)
	errLine     = regexp.MustCompile(`(?m)^\s*(Non-2xx or 3xx responses|Socket errors):.*$`)
)

func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	m := rpsLine.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no Requests/sec in wrk output:\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	for _, l := range latencyLine.FindAllStringSubmatch(out, -1) {
		f, _ := strconv.ParseFloat(l[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[l[3]]
		d := time.Duration(f * float64(unit))
		if l[1] == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	r.errors = strings.Join(errLine.FindAllString(out, -1), "; ")
	return r, nil
}

func benchEnv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// runWrk loads url and reports req/s, p50 and p99 on b.
func runWrk(b *testing.B, url string) wrkResult {
	b.Helper()
	dur := benchEnv("SLUICE_BENCH_DURATION", "10s")
	conns := benchEnv("SLUICE_BENCH_CONNECTIONS", "64")
	// A short warm-up first: JIT for Node, connection pools for everyone.
	_ = exec.Command("wrk", "-t2", "-c"+conns, "-d2s", url).Run()
	out, err := exec.Command("wrk", "-t2", "-c"+conns, "-d"+dur, "--latency", url).CombinedOutput()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	r, err := parseWrk(string(out))
	if err != nil {
		b.Fatal(err)
	}
	if r.errors != "" {
		b.Errorf("wrk saw errors: %s", r.errors)
	}
	b.ReportMetric(r.rps, "req/s")
	b.ReportMetric(float64(r.p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(r.p99.Microseconds())/1000, "p99-ms")
	b.Logf("%s: %.0f req/s, p50 %v, p99 %v", url, r.rps, r.p50, r.p99)
	return r
}

func needWrk(b *testing.B) {
	if _, err := exec.LookPath("wrk"); err != nil {
		if os.Getenv("CI") == "" {
			b.Skip("wrk is not installed (Debian: apt-get install wrk)")
		}
		b.Fatal("wrk is not installed")
	}
}

// waitAnswer polls url until it answers 200 with want.
func waitAnswer(b *testing.B, url, want string, within time.Duration) {
	b.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(within)
	for {
		resp, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && string(body) == want {
				return
			}
			if resp.StatusCode == 200 {
				b.Fatalf("%s answered %s, want %s", url, body, want)
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s never answered: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stopProcess ends a process we started, by its pid.
func stopProcess(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func BenchmarkHTTPLoad(b *testing.B) {
	needWrk(b)
	flow, err := filepath.Abs("../flows/http-bench.json")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("sluice", func(b *testing.B) {
		bin := buildBinary(b)
		port := freePort(b)
		cmd := exec.Command(bin, "run", "--headless", "-u", b.TempDir(), "-p", strconv.Itoa(port), flow)
		logs, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		go drain(logs)
		defer stopProcess(cmd)
		url := fmt.Sprintf("http://127.0.0.1:%d%s", port, benchPath)
		waitAnswer(b, url, benchAnswer, 15*time.Second)
		b.ResetTimer()
		runWrk(b, url)
		b.StopTimer()
		b.ReportMetric(float64(rssKB(cmd.Process.Pid))/1024, "RSS-MB")
	})
	b.Run("node-red", func(b *testing.B) {
		if os.Getenv("CI") != "" {
			b.Skip("Node-RED is not run in CI")
		}
		dir, _ := filepath.Abs(benchEnv("NODE_RED_DIR", "../../nr"))
		nodeBin := filepath.Join(dir, "node_modules/node/bin/node")
		redJS := filepath.Join(dir, "node_modules/node-red/red.js")
		if _, err := os.Stat(redJS); err != nil {
			b.Skipf("Node-RED 5 is not installed at %s", dir)
		}
		port := freePort(b)
		cmd := exec.Command(nodeBin, redJS, "-u", b.TempDir(), "-p", strconv.Itoa(port), flow)
		logs, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		go drain(logs)
		defer stopProcess(cmd)
		url := fmt.Sprintf("http://127.0.0.1:%d%s", port, benchPath)
		waitAnswer(b, url, benchAnswer, 60*time.Second)
		b.ResetTimer()
		runWrk(b, url)
		b.StopTimer()
		b.ReportMetric(float64(rssKB(cmd.Process.Pid))/1024, "RSS-MB")
	})
	b.Run("go-ceiling", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(ceiling))
		defer srv.Close()
		url := srv.URL + benchPath
		waitAnswer(b, url, benchAnswer, 5*time.Second)
		b.ResetTimer()
		runWrk(b, url)
	})
}

func drain(r io.Reader) {
	s := bufio.NewScanner(r)
	for s.Scan() {
	}
}
