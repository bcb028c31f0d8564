package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sluicehq/sluice/runtime/flowtest"
)

// cmdTest runs flow tests (*.test.yaml) and prints go test style results.
func cmdTest(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	junit := fs.String("junit", "", "also write a JUnit XML report to this file")
	verbose := fs.Bool("v", false, "verbose: print every test as it starts, and flow logs of passing tests")
	timeout := fs.Duration("timeout", 0, "default timeout per test (default 5s; test files may set their own)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) == 0 {
		pos = []string{"."}
	}
	res, err := flowtest.Run(pos, flowtest.Options{Timeout: *timeout, Verbose: *verbose, Out: stdout})
	if err != nil {
		fmt.Fprintln(stderr, "sluice test:", err)
		return 2
	}
	if *junit != "" {
		f, err := os.Create(*junit)
		if err == nil {
			err = res.WriteJUnit(f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(stderr, "sluice test: junit:", err)
			return 2
		}
	}
	for _, s := range res.Suites {
		status := "ok  "
		for _, c := range s.Cases {
			if !c.Passed() {
				status = "FAIL"
			}
		}
		fmt.Fprintf(stdout, "%s\t%s\t%.3fs\n", status, s.File, s.Elapsed.Seconds())
	}
	if n := res.Failed(); n > 0 {
		fmt.Fprintf(stdout, "FAIL: %d of %d test(s) failed (%s)\n", n, res.Total(), res.Elapsed.Round(time.Millisecond))
		return 1
	}
	fmt.Fprintf(stdout, "PASS: %d test(s) (%s)\n", res.Total(), res.Elapsed.Round(time.Millisecond))
	return 0
}
