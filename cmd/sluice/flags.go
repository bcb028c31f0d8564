package main

import (
	"flag"
	"strings"
)

// parseInterleaved lets flags come after positional arguments
// (`sluice run flows.json -p 1881`), as Node-RED's command line allows.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
		if rest[0] == "--" {
			pos = append(pos[:len(pos)-1], args...)
			return pos, nil
		}
		_ = strings.TrimSpace
	}
}
