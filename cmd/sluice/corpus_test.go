package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/flow"
)

// corpusDir finds ../shared/corpus: Node-RED's example flows and real-world
// flow files, kept beside the project rather than in it.
func corpusDir(t *testing.T) string {
	cands := []string{os.Getenv("SLUICE_CORPUS")}
	if wd, err := os.Getwd(); err == nil {
		cands = append(cands, filepath.Join(wd, "..", "..", "..", "shared", "corpus"))
	}
	cands = append(cands, "/work/shared/corpus")
	for _, c := range cands {
		if c == "" {
			continue
		}
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return c
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("flow corpus not found (set SLUICE_CORPUS)")
	}
	t.Skip("flow corpus not found (set SLUICE_CORPUS); CI requires it")
	return ""
}

func corpusFiles(t *testing.T, dir string) []string {
	var files []string
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !info.IsDir() && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// TestCorpus validates every corpus file: nothing but node types not built
// yet may be reported as errors. Files whose types are all built are then
// started with the real binary: they must answer /healthz and stop cleanly
// on SIGTERM, even though the brokers and devices they name are unreachable.
func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	files := corpusFiles(t, dir)
	if len(files) == 0 {
		t.Fatal("empty corpus")
	}
	var runnable []string
	unknown := map[string]int{}
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f)
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := flow.Parse(data); err != nil {
			// A file that is not a flow at all (the corpus keeps some
			// package.json-like files) is reported, not failed.
			t.Logf("%s: not a flow file: %v", rel, err)
			continue
		}
		ps := validateFile(f, nil)
		hasUnknown := false
		for _, p := range ps {
			if p.Severity != "error" {
				continue
			}
			if p.Code == "unknown-type" {
				hasUnknown = true
				unknown[p.Type]++
				continue
			}
			t.Errorf("%s: %s", rel, p)
		}
		if !hasUnknown && !bytes.Contains(data, []byte(`"type":"exec"`)) && !bytes.Contains(data, []byte(`"type": "exec"`)) {
			runnable = append(runnable, f)
		}
	}
	t.Logf("validated %d files; %d use only built node types", len(files), len(runnable))
	var types []string
	for ty := range unknown {
		types = append(types, ty)
	}
	sort.Slice(types, func(i, j int) bool { return unknown[types[i]] > unknown[types[j]] })
	if len(types) > 15 {
		types = types[:15]
	}
	for _, ty := range types {
		t.Logf("  not built yet: %-28s used by %d nodes", ty, unknown[ty])
	}
	started := 0
	for _, f := range runnable {
		rel, _ := filepath.Rel(dir, f)
		if err := runCorpusFile(t, f); err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		started++
	}
	t.Logf("started, answered /healthz and stopped cleanly: %d of %d runnable files", started, len(runnable))
	fmt.Printf("corpus: %d files validated, %d started and stopped cleanly\n", len(files), started)
}

func runCorpusFile(t *testing.T, file string) error {
	work := t.TempDir()
	port := freePort(t)
	cmd := exec.Command(binary, "run", "-u", filepath.Join(work, "user"), "-p", fmt.Sprint(port), "--host", "127.0.0.1", file)
	cmd.Dir = work
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.Env = append(os.Environ(), "SLUICE_UI_HOST=127.0.0.1")
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	}()
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz", port)
	deadline := time.Now().Add(15 * time.Second)
	ok := false
	for time.Now().Before(deadline) && !ok {
		select {
		case err := <-exited:
			return fmt.Errorf("exited before serving (%v):\n%s", err, tail(logs.String()))
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			ok = resp.StatusCode == 200
			resp.Body.Close()
		}
		if !ok {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if !ok {
		_ = cmd.Process.Kill()
		return fmt.Errorf("/healthz never answered 200:\n%s", tail(logs.String()))
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	select {
	case err := <-exited:
		if err != nil {
			return fmt.Errorf("did not exit cleanly: %v\n%s", err, tail(logs.String()))
		}
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		return fmt.Errorf("did not stop within 20 s of SIGTERM:\n%s", tail(logs.String()))
	}
	return nil
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}
