package web

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// needEditorTools skips (outside CI) or fails (in CI) when what the editor
// tests run on is missing.
func needEditorTools(t *testing.T, paths ...string) {
	t.Helper()
	missing := ""
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node"
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil && missing == "" {
			missing = p + " (apt-get install chromium; npm ci)"
		}
	}
	if missing != "" {
		if os.Getenv("CI") == "" {
			t.Skip("editor test needs " + missing + "; skipped because CI is unset")
		}
		t.Fatal("editor test needs " + missing)
	}
}

// TestEditorUnitTests runs the editor's Vitest suite (its state logic).
func TestEditorUnitTests(t *testing.T) {
	needEditorTools(t, "../node_modules/vitest")
	cmd := exec.Command("node", "../node_modules/vitest/vitest.mjs", "run")
	cmd.Dir = "../editor"
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "CI=true")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("vitest: %v\n%s", err, out)
	}
}

// TestEditorInChromium runs editor/tests/e2e.mjs (playwright-core driving
// Debian's chromium) against the real sluice binary serving the example
// flow: the flow's nodes show, a palette drag adds a node, a port drag
// wires it, deploy reaches the server, an inject press shows in the debug
// sidebar. Screenshots land in the test's temp dir, or in E2E_OUT.
func TestEditorInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	needEditorTools(t, chromium, "../node_modules/playwright-core")
	dir := t.TempDir()
	bin := filepath.Join(dir, "sluice")
	build := exec.Command("go", "build", "-o", bin, "../cmd/sluice")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	flows, err := os.ReadFile("../flows/hello.json")
	if err != nil {
		t.Fatal(err)
	}
	flowFile := filepath.Join(dir, "flows.json")
	if err := os.WriteFile(flowFile, flows, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := exec.CommandContext(ctx, bin, "run", "-u", filepath.Join(dir, "user"), "-p", "0", flowFile)
	logs, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = srv.Process.Signal(os.Interrupt)
		_ = srv.Wait()
	}()
	urlRe := regexp.MustCompile(`url=(http://\S+)`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(logs)
		for sc.Scan() {
			line := sc.Text()
			if m := urlRe.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	var url string
	select {
	case url = <-found:
	case <-time.After(20 * time.Second):
		t.Fatal("sluice did not report its address")
	}
	out := os.Getenv("E2E_OUT")
	if out == "" {
		out = filepath.Join(dir, "screenshots")
	}
	e2e := exec.CommandContext(ctx, "node", "../editor/tests/e2e.mjs")
	e2e.Env = append(os.Environ(), "SLUICE_URL="+url, "E2E_OUT="+out, "CHROMIUM="+chromium)
	res, err := e2e.CombinedOutput()
	t.Logf("e2e output:\n%s", res)
	if err != nil {
		t.Fatalf("browser test failed: %v (screenshots in %s)", err, out)
	}
}
