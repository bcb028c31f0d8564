package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/runtime/flowfile"
)

const messyFlow = `[{"type":"debug","id":"b","z":"t","wires":[],"name":"out"},{"id":"t","type":"tab","label":"T"},
{"id":"a","type":"change","z":"t","name":"f","rules":[{"t":"set","p":"payload","pt":"msg","to":"1","tot":"num"}],"info":"let x = 1;\nlet y = 2;\nlet z = 3;\nreturn msg;","wires":[["b"]]}]`

func TestFmtCheckWriteAndStdin(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "flows.json", messyFlow)
	var out, errb bytes.Buffer
	if code := cmdFmt([]string{"--check", f}, nil, &out, &errb); code != 1 || !strings.Contains(out.String(), f+": not in canonical form") {
		t.Fatalf("--check: exit %d\n%s%s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := cmdFmt([]string{"-w", f}, nil, &out, &errb); code != 0 || out.Len() != 0 {
		t.Fatalf("-w: exit %d\n%s%s", code, out.String(), errb.String())
	}
	data, _ := os.ReadFile(f)
	if ok, _ := flowfile.IsCanonical(data); !ok || !strings.HasPrefix(string(data), "[\n    {\n        \"id\": \"t\",") {
		t.Fatalf("not rewritten:\n%s", data)
	}
	if code := cmdFmt([]string{"--check", f}, nil, &out, &errb); code != 0 {
		t.Fatalf("--check after -w: exit %d\n%s", code, out.String())
	}
	out.Reset()
	if code := cmdFmt(nil, strings.NewReader(messyFlow), &out, &errb); code != 0 || out.String() != string(data) {
		t.Fatalf("stdin: exit %d\n%s", code, out.String())
	}
	bad := writeFile(t, dir, "bad.json", `{"x":1}`)
	errb.Reset()
	if code := cmdFmt([]string{"--check", bad}, nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), bad+": not a flow file") {
		t.Fatalf("bad file: exit %d %s", code, errb.String())
	}
}

func TestDiffCommandForms(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.json", messyFlow)
	b := writeFile(t, dir, "b.json", strings.Replace(messyFlow, "let y = 2;", "let y = 20;", 1))
	var out, errb bytes.Buffer
	if code := cmdDiff([]string{a, b}, &out, &errb); code != 0 || !strings.Contains(out.String(), "-let y = 2;\n") {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	if code := cmdDiff([]string{"--exit-code", a, b}, &out, &errb); code != 1 {
		t.Fatalf("--exit-code with differences: exit %d", code)
	}
	if code := cmdDiff([]string{"--exit-code", a, a}, &out, &errb); code != 0 {
		t.Fatalf("--exit-code without differences: exit %d", code)
	}
	// git's seven-argument form, for an added file.
	out.Reset()
	if code := cmdDiff([]string{"flows.json", "/dev/null", ".", ".", b, "abc", "100644"}, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "sluice diff a/flows.json b/flows.json\n") || !strings.Contains(out.String(), `flow "T" (t) added with 2 node(s)`) {
		t.Fatalf("git form: exit %d\n%s%s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := cmdDiff([]string{"--json", a, b}, &out, &errb); code != 0 || !strings.Contains(out.String(), `"property": "info"`) {
		t.Fatalf("--json: exit %d\n%s", code, out.String())
	}
}

func TestMergeDriverCommand(t *testing.T) {
	dir := t.TempDir()
	base := writeFile(t, dir, "base", messyFlow)
	ours := writeFile(t, dir, "ours", strings.Replace(messyFlow, `"name":"out"`, `"name":"ours"`, 1))
	theirs := writeFile(t, dir, "theirs", strings.Replace(messyFlow, `"name":"f"`, `"name":"theirs"`, 1))
	var errb bytes.Buffer
	if code := cmdMergeDriver([]string{base, ours, theirs, "flows.json"}, &errb); code != 0 {
		t.Fatalf("clean merge: exit %d %s", code, errb.String())
	}
	got, _ := os.ReadFile(ours)
	if !strings.Contains(string(got), `"name": "ours"`) || !strings.Contains(string(got), `"name": "theirs"`) {
		t.Fatalf("merged:\n%s", got)
	}
	theirs2 := writeFile(t, dir, "theirs2", strings.Replace(messyFlow, `"name":"out"`, `"name":"other"`, 1))
	if code := cmdMergeDriver([]string{base, ours, theirs2, "flows.json"}, &errb); code != 1 ||
		!strings.Contains(errb.String(), `node b: property "name" changed on both sides: ours "ours", theirs "other"`) {
		t.Fatalf("conflict: exit %d %s", code, errb.String())
	}
	var out bytes.Buffer
	if code := cmdValidate([]string{ours}, &out, &errb); code != 1 || !strings.Contains(out.String(), "[merge-conflict]") {
		t.Fatalf("validate after a conflicted merge: exit %d\n%s", code, out.String())
	}
	broken := writeFile(t, dir, "broken", "[")
	errb.Reset()
	if code := cmdMergeDriver([]string{base, broken, theirs}, &errb); code != 2 || !strings.Contains(errb.String(), "ours: ") {
		t.Fatalf("unparseable ours: exit %d %s", code, errb.String())
	}
	if b, _ := os.ReadFile(broken); string(b) != "[" {
		t.Fatal("an unmergeable OURS must be left as it was")
	}
	// Files that are not flow sets merge as lines when they can.
	cb := writeFile(t, dir, "cb", "{\n\"a\": 1,\n\"b\": 2,\n\"c\": 3\n}")
	co := writeFile(t, dir, "co", "{\n\"a\": 10,\n\"b\": 2,\n\"c\": 3\n}")
	ct := writeFile(t, dir, "ct", "{\n\"a\": 1,\n\"b\": 2,\n\"c\": 30\n}")
	if code := cmdMergeDriver([]string{cb, co, ct, "flows_cred.json"}, &errb); code != 0 {
		t.Fatalf("text merge: exit %d %s", code, errb.String())
	}
	if b, _ := os.ReadFile(co); string(b) != "{\n\"a\": 10,\n\"b\": 2,\n\"c\": 30\n}" {
		t.Fatalf("text merge gave %q", b)
	}
}

func gitAvailable(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("git is required in CI")
		}
		t.Skip("git not installed (required when CI is set)")
	}
}

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// A real `git merge` of two branches that edit different nodes, and
// different lines of one node's description, with the driver that `sluice git-setup`
// installed; then a merge that conflicts; and `git diff` through sluice.
func TestGitMergeWithDriver(t *testing.T) {
	gitAvailable(t)
	repo := t.TempDir()
	gitIn(t, repo, "init", "-q", "-b", "main")
	flows := filepath.Join(repo, "flows.json")
	base, _ := flowfile.Format([]byte(messyFlow))
	if err := os.WriteFile(flows, base, 0o644); err != nil {
		t.Fatal(err)
	}
	setup := func() {
		t.Helper()
		cmd := exec.Command(binary, "git-setup")
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git-setup: %v\n%s", err, out)
		}
	}
	setup()
	setup() // idempotent
	attrs, _ := os.ReadFile(filepath.Join(repo, ".gitattributes"))
	if string(attrs) != "flows*.json merge=sluice diff=sluice\nflows*_cred.json !merge !diff\n" {
		t.Fatalf(".gitattributes after two runs: %q", attrs)
	}
	if drv := gitIn(t, repo, "config", "merge.sluice.driver"); !strings.Contains(drv, " merge-driver %O %A %B %P") {
		t.Fatalf("merge.sluice.driver = %q", drv)
	}
	gitIn(t, repo, "add", ".")
	gitIn(t, repo, "commit", "-q", "-m", "base")

	edit := func(from, to string) {
		t.Helper()
		data, _ := os.ReadFile(flows)
		if !strings.Contains(string(data), from) {
			t.Fatalf("%q not in\n%s", from, data)
		}
		if err := os.WriteFile(flows, []byte(strings.Replace(string(data), from, to, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitIn(t, repo, "checkout", "-q", "-b", "feature")
	edit(`"name": "out"`, `"name": "feature output"`)
	edit(`let x = 1;`, `let x = 100;`)
	gitIn(t, repo, "commit", "-q", "-am", "feature")
	gitIn(t, repo, "checkout", "-q", "main")
	edit(`"name": "f"`, `"name": "main function"`)
	edit(`let z = 3;`, `let z = 300;`)
	gitIn(t, repo, "commit", "-q", "-am", "main")

	diff := gitIn(t, repo, "diff", "HEAD~1", "--", "flows.json")
	if !strings.Contains(diff, "sluice diff a/flows.json b/flows.json") || !strings.Contains(diff, `~ change "main function" (a)`) ||
		!strings.Contains(diff, "+let z = 300;") {
		t.Fatalf("git diff did not go through sluice diff:\n%s", diff)
	}

	gitIn(t, repo, "merge", "-q", "--no-edit", "feature")
	merged, _ := os.ReadFile(flows)
	for _, want := range []string{`"name": "feature output"`, `"name": "main function"`, `let x = 100;`, `let z = 300;`} {
		if !strings.Contains(string(merged), want) {
			t.Errorf("merge lost %s:\n%s", want, merged)
		}
	}

	// Both branches rename the same node: git reports the conflict and
	// the file records it for validate.
	gitIn(t, repo, "checkout", "-q", "-b", "other")
	edit(`"name": "feature output"`, `"name": "other name"`)
	gitIn(t, repo, "commit", "-q", "-am", "other")
	gitIn(t, repo, "checkout", "-q", "main")
	edit(`"name": "feature output"`, `"name": "main name"`)
	gitIn(t, repo, "commit", "-q", "-am", "main 2")
	cmd := exec.Command("git", "merge", "--no-edit", "other")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("conflicting merge succeeded:\n%s", out)
	}
	conflicted, _ := os.ReadFile(flows)
	if strings.Contains(string(conflicted), "<<<<<<<") || !strings.Contains(string(conflicted), `"type": "sluice-conflicts"`) {
		t.Fatalf("conflicted file:\n%s\ngit said:\n%s", conflicted, out)
	}
	v, _ := exec.Command(binary, "validate", flows).CombinedOutput()
	if !strings.Contains(string(v), `error: node b (debug) property "name": merge conflict: ours "main name", theirs "other name"`) {
		t.Fatalf("validate:\n%s", v)
	}
}

// Every example flow in flows/ is tested by `sluice test flows/`.
func TestFlowsDirectory(t *testing.T) {
	dir := "../../flows"
	junit := filepath.Join(t.TempDir(), "junit.xml")
	out, err := exec.Command(binary, "test", dir, "--junit", junit).CombinedOutput()
	if err != nil {
		t.Fatalf("sluice test %s: %v\n%s", dir, err, out)
	}
	t.Logf("%s", out)
	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil || doc.Tests == 0 || doc.Failures != 0 {
		t.Fatalf("junit: %v %+v\n%s", err, doc, data)
	}
	flows, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, f := range flows {
		name := strings.TrimSuffix(f, ".json")
		if _, err := os.Stat(name + ".test.yaml"); err != nil {
			t.Logf("%s has no %s", f, filepath.Base(name)+".test.yaml")
		}
	}
}

func TestTestCommandFailsWithExit1(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "f.json", messyFlow)
	writeFile(t, dir, "f.test.yaml", "timeout: 200ms\ntests:\n  - name: never\n    expect: [{node: out, messages: [{payload: 1}]}]\n")
	cmd := exec.Command(binary, "test", dir)
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "--- FAIL: ") || !strings.Contains(string(out), "timed out after 200ms") {
		t.Fatalf("want exit 1 with a timeout failure: %v\n%s", err, out)
	}
}

// A deploy writes the flow file in canonical form.
func TestDeployWritesCanonicalForm(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "flows.json", "[]")
	port, stop := startBinary(t, f)
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/flows", port), "application/json", strings.NewReader(messyFlow))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("deploy: %s", resp.Status)
	}
	data, _ := os.ReadFile(f)
	if ok, _ := flowfile.IsCanonical(data); !ok || !strings.Contains(string(data), `"info": "let x = 1;\nlet y = 2;`) {
		t.Fatalf("flow file after deploy:\n%s", data)
	}
	// The file as it was before the deploy is kept, as Node-RED keeps it.
	if backup, err := os.ReadFile(filepath.Join(dir, ".flows.json.backup")); err != nil || string(backup) != "[]" {
		t.Fatalf("backup: %v %q", err, backup)
	}
	if code, logs := stop(); code != 0 {
		t.Fatalf("exit %d\n%s", code, logs)
	}
}
