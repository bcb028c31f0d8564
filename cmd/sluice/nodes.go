package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/sluicehq/sluice/runtime/node"
)

func cmdNodes(args []string, stdout io.Writer) int {
	fs := flag.NewFlagSet("nodes", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the node specs as JSON")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	specs := node.Types()
	if *asJSON {
		b, err := json.MarshalIndent(specs, "", "  ")
		if err != nil {
			fmt.Fprintln(stdout, err)
			return 1
		}
		fmt.Fprintln(stdout, string(b))
		return 0
	}
	for _, s := range specs {
		kind := ""
		if s.Config {
			kind = " (config)"
		}
		fmt.Fprintf(stdout, "%s%s  [%s] inputs=%d outputs=%d\n", s.Type, kind, s.Category, s.Inputs, s.Outputs)
		for _, p := range s.Props {
			def := ""
			if p.Default != nil {
				b, _ := json.Marshal(p.Default)
				def = " = " + string(b)
			}
			extra := ""
			if len(p.Options) > 0 {
				extra = " one of " + strings.Join(p.Options, "|")
			}
			k := string(p.Kind)
			if k == "" {
				k = "any"
			}
			fmt.Fprintf(stdout, "    %s: %s%s%s\n", p.Name, k, def, extra)
		}
		for _, c := range s.Credentials {
			fmt.Fprintf(stdout, "    credential %s\n", c.Name)
		}
	}
	return 0
}
