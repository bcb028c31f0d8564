package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/sluicehq/sluice/runtime/flowfile"
)

// cmdDiff prints the semantic difference of two flow files. It also works as
// git's external diff (diff.sluice.command), which passes seven arguments:
// path old-file old-hex old-mode new-file new-hex new-mode (nine on renames).
func cmdDiff(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("diff", flag.ContinueOnError)
	fl.SetOutput(stderr)
	asJSON := fl.Bool("json", false, "print the differences as JSON")
	exitCode := fl.Bool("exit-code", false, "exit 1 when the files differ")
	pos, err := parseInterleaved(fl, args)
	if err != nil {
		return 2
	}
	var label, oldPath, newPath string
	switch len(pos) {
	case 2:
		oldPath, newPath = pos[0], pos[1]
	case 7, 9:
		label, oldPath, newPath = pos[0], pos[1], pos[4]
	default:
		fmt.Fprintln(stderr, "usage: sluice diff [--json] [--exit-code] OLD NEW")
		return 2
	}
	read := func(p string) ([]byte, error) {
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) && label != "" {
			return nil, nil // git passes a missing side for added and deleted files
		}
		return b, err
	}
	a, err := read(oldPath)
	if err != nil {
		fmt.Fprintln(stderr, "sluice diff:", err)
		return 2
	}
	b, err := read(newPath)
	if err != nil {
		fmt.Fprintln(stderr, "sluice diff:", err)
		return 2
	}
	if label != "" && !*asJSON {
		fmt.Fprintf(stdout, "sluice diff a/%s b/%s\n", label, label)
	}
	rep, err := flowfile.Diff(a, b)
	if err != nil {
		if label == "" {
			fmt.Fprintln(stderr, "sluice diff:", err)
			return 2
		}
		// Under git a file that is not a flow set still gets a diff: a plain
		// line diff, and exit 0 (git stops on an external diff's failure).
		fmt.Fprintf(stdout, "(not compared as flows: %v)\n", err)
		stdout.Write([]byte(flowfile.UnifiedDiff(string(a), string(b), 3)))
		return 0
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintln(stderr, "sluice diff:", err)
			return 2
		}
	} else {
		rep.WriteText(stdout)
	}
	if *exitCode && !rep.Empty() {
		return 1
	}
	return 0
}
