package web

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
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

// e2ePassword is the editor login of the auth-on server; its bcrypt hash
// (cost 8) is in the settings the test writes.
const (
	e2ePassword = "e2e-secret"
	e2eHash     = "$2b$08$Bcj0AZdqe1nUbKEHAh/DqONkSd.7011TcGPnPJOQ60hd0nUb9SBAe"
)

// TestEditorInChromium runs editor/tests/e2e.mjs (playwright-core driving
// Debian's chromium) against the real sluice binary serving the example
// flow: nodes show, palette drag, wiring, edit form, undo, deploy over the
// websocket, inject to the debug sidebar, search, conflicting deploys
// (overwrite and merge), a subflow from a selection, an import with
// unknown types, a 1,000-node flow's pan frame times, and login/logout
// against a second server with adminAuth. Screenshots land in E2E_OUT or
// a temp directory the test prints (kept after the test).
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
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	url := startSluice(ctx, t, bin, filepath.Join(dir, "open"), "")
	settings := "adminAuth:\n  type: credentials\n  users:\n    - username: admin\n      password: \"" + e2eHash + "\"\n      permissions: \"*\"\n"
	authURL := startSluice(ctx, t, bin, filepath.Join(dir, "auth"), settings)

	out := os.Getenv("E2E_OUT")
	if out == "" {
		var err error
		if out, err = os.MkdirTemp("", "sluice-e2e-"); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("browser test screenshots: %s", out)
	e2e := exec.CommandContext(ctx, "node", "../editor/tests/e2e.mjs")
	e2e.Env = append(os.Environ(), "SLUICE_URL="+url, "SLUICE_AUTH_URL="+authURL, "SLUICE_AUTH_PASSWORD="+e2ePassword, "E2E_OUT="+out, "CHROMIUM="+chromium)
	res, err := e2e.CombinedOutput()
	t.Logf("e2e output:\n%s", res)
	if err != nil {
		t.Fatalf("browser test failed: %v (screenshots in %s)", err, out)
	}
}

// startSluice runs the binary on the example flow in its own user
// directory (with settings.yaml when settings is not empty) and returns
// the editor's address once the server logs it.
func startSluice(ctx context.Context, t *testing.T, bin, dir, settings string) string {
	t.Helper()
	flows, err := os.ReadFile("../flows/hello.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	flowFile := filepath.Join(dir, "flows.json")
	if err := os.WriteFile(flowFile, flows, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"run", "-u", filepath.Join(dir, "user"), "-p", "0"}
	if settings != "" {
		sf := filepath.Join(dir, "settings.yaml")
		if err := os.WriteFile(sf, []byte(settings), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-s", sf)
	}
	srv := exec.CommandContext(ctx, bin, append(args, flowFile)...)
	logs, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Process.Signal(os.Interrupt)
		_ = srv.Wait()
	})
	urlRe := regexp.MustCompile(`url=(http://\S+)`)
	found := make(chan string, 1)
	var tail []string
	go func() {
		sc := bufio.NewScanner(logs)
		for sc.Scan() {
			line := sc.Text()
			if len(tail) < 20 {
				tail = append(tail, line)
			}
			if m := urlRe.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		close(found)
	}()
	select {
	case url, ok := <-found:
		if !ok {
			t.Fatalf("sluice (%s) exited without reporting its address:\n%s", dir, strings.Join(tail, "\n"))
		}
		return url
	case <-time.After(20 * time.Second):
		t.Fatalf("sluice (%s) did not report its address", dir)
	}
	return ""
}
