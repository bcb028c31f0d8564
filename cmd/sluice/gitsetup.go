package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// cmdGitSetup installs the merge driver and the diff command for flow files
// in the current git repository: .gitattributes gets the pattern lines and
// the repository's config the driver definitions.
func cmdGitSetup(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("git-setup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	patterns := pos
	if len(patterns) == 0 {
		patterns = []string{"flows*.json"}
	}
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		fmt.Fprintln(stderr, "sluice git-setup: not inside a git repository (git rev-parse failed)")
		return 1
	}
	root := strings.TrimSpace(string(top))
	self := selfCommand()

	attrPath := filepath.Join(root, ".gitattributes")
	old, err := os.ReadFile(attrPath)
	if err != nil && !os.IsNotExist(err) {
		fmt.Fprintln(stderr, "sluice git-setup:", err)
		return 1
	}
	have := map[string]bool{}
	for _, l := range strings.Split(string(old), "\n") {
		have[strings.Join(strings.Fields(l), " ")] = true
	}
	var add bytes.Buffer
	for _, p := range patterns {
		lines := []string{p + " merge=sluice diff=sluice"}
		if strings.HasSuffix(p, ".json") {
			// flows*.json also matches the credentials file beside each
			// flow file (flows_cred.json), which is not a flow set.
			lines = append(lines, strings.TrimSuffix(p, ".json")+"_cred.json !merge !diff")
		}
		for _, line := range lines {
			if !have[line] {
				add.WriteString(line + "\n")
			}
		}
	}
	if add.Len() > 0 {
		body := old
		if len(body) > 0 && !bytes.HasSuffix(body, []byte("\n")) {
			body = append(body, '\n')
		}
		body = append(body, add.Bytes()...)
		if err := os.WriteFile(attrPath, body, 0o644); err != nil {
			fmt.Fprintln(stderr, "sluice git-setup:", err)
			return 1
		}
	}
	for _, kv := range [][2]string{
		{"merge.sluice.name", "Sluice flow file merge"},
		{"merge.sluice.driver", self + " merge-driver %O %A %B %P"},
		{"diff.sluice.command", self + " diff"},
	} {
		cmd := exec.Command("git", "config", kv[0], kv[1])
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(stderr, "sluice git-setup: git config %s: %v %s\n", kv[0], err, out)
			return 1
		}
	}
	fmt.Fprintf(stdout, "%s: %s use the sluice merge driver and diff\n", attrPath, strings.Join(patterns, ", "))
	fmt.Fprintf(stdout, "git config: merge.sluice.driver and diff.sluice.command run %s\n", self)
	return 0
}

// selfCommand is how git should call this binary: "sluice" when that is what
// PATH finds, the absolute path otherwise, quoted for git's shell.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "sluice"
	}
	exe, _ = filepath.EvalSymlinks(exe)
	if p, err := exec.LookPath("sluice"); err == nil {
		if q, err := filepath.EvalSymlinks(p); err == nil && q == exe {
			return "sluice"
		}
	}
	return "'" + strings.ReplaceAll(exe, "'", `'\''`) + "'"
}
