package main

import (
	"fmt"
	"io"
	"os"

	"github.com/sluicehq/sluice/runtime/flowfile"
)

// cmdMergeDriver is git's merge driver for flow files (merge.sluice.driver
// = "sluice merge-driver %O %A %B %P"): it merges BASE and THEIRS into OURS
// in place and exits 0 when clean, 1 with conflicts (recorded in the file
// as a sluice-conflicts node, never as <<<<<<< markers).
func cmdMergeDriver(args []string, stderr io.Writer) int {
	if len(args) < 3 || len(args) > 4 {
		fmt.Fprintln(stderr, "usage: sluice merge-driver BASE OURS THEIRS [PATH]")
		return 2
	}
	name := args[1]
	if len(args) == 4 {
		name = args[3]
	}
	var data [3][]byte
	for i, p := range args[:3] {
		b, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintf(stderr, "sluice merge-driver: %s: %v\n", name, err)
			return 2
		}
		data[i] = b
	}
	res, err := flowfile.Merge(data[0], data[1], data[2])
	if err != nil {
		// Not flow files (a credentials file matched the pattern, or one side
		// is broken): merge as lines when the changes do not overlap, else
		// leave OURS as it is and let git report the conflict.
		if merged, ok := flowfile.MergeLines(string(data[0]), string(data[1]), string(data[2])); ok {
			if werr := os.WriteFile(args[1], []byte(merged), 0o644); werr == nil {
				fmt.Fprintf(stderr, "sluice merge-driver: %s: not flow files (%v); merged as text\n", name, err)
				return 0
			}
		}
		fmt.Fprintf(stderr, "sluice merge-driver: %s: cannot merge as flows: %v\n", name, err)
		return 2
	}
	if err := os.WriteFile(args[1], res.Data, 0o644); err != nil {
		fmt.Fprintf(stderr, "sluice merge-driver: %s: %v\n", name, err)
		return 2
	}
	if len(res.Conflicts) == 0 {
		return 0
	}
	fmt.Fprintf(stderr, "sluice merge-driver: %s: %d conflict(s), recorded in node %q (the file holds ours; `sluice validate` lists them):\n",
		name, len(res.Conflicts), flowfile.ConflictsID)
	for _, c := range res.Conflicts {
		fmt.Fprintf(stderr, "  %s\n", c)
	}
	return 1
}
