package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const badFlow = `[
 {"id":"t1","type":"tab","label":"x"},
 {"id":"a","type":"no-such-node","z":"t1","wires":[]},
 {"id":"b","type":"no-such-node","z":"t1","wires":[]},
 {"id":"c","type":"change","z":"t1","rules":[{"t":"set","p":"payload","pt":"msg","to":"$$$(","tot":"jsonata"}],"wires":[]},
 {"id":"c","type":"debug","z":"t1"},
 {"type":"debug","z":"t1"},
 {"id":"d","type":"inject","z":"t1","repeat":"soon","wires":[["gone"]]},
 {"id":"e","type":"debug","z":"elsewhere"}
]`

func TestValidateJSONListsEveryProblem(t *testing.T) {
	f := writeFile(t, t.TempDir(), "flows.json", badFlow)
	var out, errb bytes.Buffer
	code := cmdValidate([]string{"--json", f}, &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %s", code, errb.String())
	}
	var ps []map[string]string
	if err := json.Unmarshal(out.Bytes(), &ps); err != nil {
		t.Fatalf("not a JSON array: %v\n%s", err, out.String())
	}
	want := map[string]bool{
		"error unknown-type a":    false,
		"error unknown-type b":    false,
		"error duplicate-id c":    false,
		"error missing-id ":       false,
		"error bad-property d":    false, // repeat is not a number
		"warning dangling-wire d": false,
		"warning missing-tab e":   false,
	}
	for _, p := range ps {
		k := p["severity"] + " " + p["code"] + " " + p["id"]
		if _, ok := want[k]; ok {
			want[k] = true
		}
		if p["message"] == "" {
			t.Errorf("problem without a message: %v", p)
		}
	}
	for k, seen := range want {
		if !seen {
			t.Errorf("missing problem %q in\n%s", k, out.String())
		}
	}
}

func TestValidateReportsBadExpressionWithProperty(t *testing.T) {
	f := writeFile(t, t.TempDir(), "flows.json", `[{"id":"t1","type":"tab"},{"id":"c","type":"change","z":"t1","rules":[{"t":"set","p":"payload","pt":"msg","to":"$$$(","tot":"jsonata"}],"wires":[]}]`)
	var out, errb bytes.Buffer
	if code := cmdValidate([]string{"--json", f}, &out, &errb); code != 1 {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	var ps []map[string]string
	_ = json.Unmarshal(out.Bytes(), &ps)
	if len(ps) != 1 || ps[0]["id"] != "c" || ps[0]["type"] != "change" || !strings.Contains(ps[0]["property"], "rules[0]") {
		t.Fatalf("want one problem on c's rules[0], got %s", out.String())
	}
}

func TestValidateCleanFlowAndMalformedJSON(t *testing.T) {
	var out, errb bytes.Buffer
	if code := cmdValidate([]string{"../../flows/hello.json"}, &out, &errb); code != 0 {
		t.Fatalf("example flow: exit %d\n%s", code, out.String())
	}
	f := writeFile(t, t.TempDir(), "flows.json", "[{\"id\":\"a\",\n\"type\": }]")
	out.Reset()
	if code := cmdValidate([]string{f}, &out, &errb); code != 1 || !strings.Contains(out.String(), "line 2, column 9") {
		t.Fatalf("exit %d: %s", code, out.String())
	}
}

func TestRunRefusesABadFlowWithExit1(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "flows.json", badFlow)
	cmd := exec.Command(binary, "run", "-u", filepath.Join(dir, "u"), "-p", fmt.Sprint(freePort(t)), f)
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("want exit 1, got %v\n%s", err, out)
	}
	for _, want := range []string{`unknown node type \"no-such-node\"`, "node=a", "node=b", "duplicate-id"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// startBinary runs sluice and waits for /healthz to answer.
func startBinary(t *testing.T, args ...string) (port int, stop func() (int, string)) {
	t.Helper()
	port = freePort(t)
	dir := t.TempDir()
	full := append([]string{"run", "-u", filepath.Join(dir, "u"), "-p", fmt.Sprint(port)}, args...)
	cmd := exec.Command(binary, full...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port))
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never served:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return port, func() (int, string) {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		err := cmd.Wait()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return code, logs.String()
	}
}

func TestRunServesHealthAndMetricsAndStopsOnSIGTERM(t *testing.T) {
	port, stop := startBinary(t, "../../flows/hello.json")
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port))
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		State string
		Flows []struct{ ID, State string }
	}
	_ = json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if h.State != "started" || len(h.Flows) != 1 || h.Flows[0].ID != "hello-tab" {
		t.Fatalf("healthz %+v", h)
	}
	time.Sleep(300 * time.Millisecond) // the inject fires once after 0.1 s
	resp, err = http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `sluice_node_messages_in_total{flow="hello-tab",name="shape",node="shape",type="change"} 1`) {
		t.Fatalf("metrics lack the change node's count:\n%s", body)
	}
	code, logs := stop()
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, logs)
	}
	if !strings.Contains(logs, "node=log-even") && !strings.Contains(logs, "node=log-odd") {
		t.Fatalf("debug output with node id missing from the log:\n%s", logs)
	}
}

func TestSafeModeStartsNoFlow(t *testing.T) {
	port, stop := startBinary(t, "--safe", "../../flows/hello.json")
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("safe mode healthz status %d, want 503 (no flows started)", resp.StatusCode)
	}
	if code, logs := stop(); code != 0 || strings.Contains(logs, "node=log-even") {
		t.Fatalf("exit %d, logs:\n%s", code, logs)
	}
}

func TestSettingsDenyListRefusesExcludedTypes(t *testing.T) {
	dir := t.TempDir()
	user := filepath.Join(dir, "u")
	if err := os.MkdirAll(user, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, user, "settings.yaml", "nodesExcludes: [inject]\n")
	cmd := exec.Command(binary, "run", "-u", user, "-p", fmt.Sprint(freePort(t)), "../../flows/hello.json")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("want exit 1, got %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "node=tick type=inject") || !strings.Contains(string(out), "excluded-type") {
		t.Fatalf("refusal does not name the node and the deny list:\n%s", out)
	}
}

func TestBadSettingIsAClearErrorAtStart(t *testing.T) {
	dir := t.TempDir()
	user := filepath.Join(dir, "u")
	_ = os.MkdirAll(user, 0o700)
	writeFile(t, user, "settings.yaml", "uiPrt: 1881\n")
	out, err := exec.Command(binary, "run", "-u", user, "../../flows/hello.json").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "uiPrt") || !strings.Contains(string(out), "uiPort") {
		t.Fatalf("want exit 1 naming uiPrt and suggesting uiPort, got %v\n%s", err, out)
	}
}

// A fresh user directory starts with the starter flow on the built-in MQTT
// broker: MQTT messages flow with nothing installed.
func TestFreshUserDirRunsTheStarterFlowOnTheBuiltInBroker(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "u")
	port := freePort(t)
	cmd := exec.Command(binary, "run", "-u", dir, "-p", fmt.Sprint(port))
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(logs.String(), "node=show type=debug name=received") {
		if time.Now().After(deadline) {
			t.Fatalf("no MQTT message reached the starter flow's debug node:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "temperature:") {
		t.Fatalf("unexpected starter output:\n%s", logs.String())
	}
	for _, f := range []string{"flows.json", "settings.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("%s not written: %v", f, err)
		}
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
}

// syncBuffer is a bytes.Buffer safe for a process writing while the test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
