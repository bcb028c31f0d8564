package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/sluicehq/sluice/runtime/flowfile"
)

// cmdFmt prints flow files in canonical form, rewrites them (-w) or lists
// the ones that are not (--check, exit 1), as gofmt does for Go.
func cmdFmt(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fmt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	write := fs.Bool("w", false, "write the canonical form back to each file")
	check := fs.Bool("check", false, "only report files that are not canonical (exit 1 if any)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) == 0 {
		if *write || *check {
			fmt.Fprintln(stderr, "usage: sluice fmt [-w] [--check] FILE...")
			return 2
		}
		data, err := io.ReadAll(stdin)
		if err != nil {
			fmt.Fprintln(stderr, "sluice fmt:", err)
			return 2
		}
		out, err := flowfile.Format(data)
		if err != nil {
			fmt.Fprintln(stderr, "sluice fmt: <stdin>:", err)
			return 2
		}
		stdout.Write(out)
		return 0
	}
	code := 0
	for _, path := range pos {
		data, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(stderr, "sluice fmt:", err)
			code = 2
			continue
		}
		out, err := flowfile.Format(data)
		if err != nil {
			fmt.Fprintf(stderr, "sluice fmt: %s: %v\n", path, err)
			code = 2
			continue
		}
		same := bytes.Equal(out, data)
		switch {
		case *check:
			if !same {
				fmt.Fprintf(stdout, "%s: not in canonical form (run sluice fmt -w %s)\n", path, path)
				if code == 0 {
					code = 1
				}
			}
		case *write:
			if !same {
				if err := writeAtomic(path, out); err != nil {
					fmt.Fprintf(stderr, "sluice fmt: %s: %v\n", path, err)
					code = 2
				}
			}
		default:
			stdout.Write(out)
		}
	}
	return code
}
