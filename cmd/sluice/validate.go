package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	_ "github.com/sluicehq/sluice/nodes/all"
	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/flow"
	"github.com/sluicehq/sluice/runtime/node"
)

func cmdValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print problems as a JSON array")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "usage: sluice validate [--json] FLOWFILE")
		return 2
	}
	ps := validateFile(pos[0], nil)
	if *asJSON {
		if ps == nil {
			ps = []node.Problem{}
		}
		b, _ := json.MarshalIndent(ps, "", "  ")
		fmt.Fprintln(stdout, string(b))
	} else {
		printProblems(stdout, ps)
	}
	if len(flow.Errors(ps)) > 0 {
		return 1
	}
	return 0
}

// validateFile checks a flow file with every node type's own checks.
func validateFile(path string, exclude []string) []node.Problem {
	data, err := os.ReadFile(path)
	if err != nil {
		return []node.Problem{{Severity: "error", Code: "unreadable", Message: err.Error()}}
	}
	set, err := flow.Parse(data)
	if err != nil {
		return []node.Problem{{Severity: "error", Code: "bad-json", Message: err.Error()}}
	}
	e, err := engine.New(engine.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Exclude: exclude, UserDir: os.TempDir()})
	if err != nil {
		return []node.Problem{{Severity: "error", Code: "internal", Message: err.Error()}}
	}
	return e.Validate(set, nil)
}

func printProblems(w io.Writer, ps []node.Problem) {
	nErr, nWarn := 0, 0
	for _, p := range ps {
		if p.Code == "unknown-type" {
			continue
		}
		fmt.Fprintln(w, p.String())
		if p.Severity == "error" {
			nErr++
		} else {
			nWarn++
		}
	}
	// Unknown types are grouped: one line per type with the nodes using it.
	unknown := flow.UnknownTypes(ps)
	types := make([]string, 0, len(unknown))
	for t := range unknown {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		ids := unknown[t]
		nErr += len(ids)
		fmt.Fprintf(w, "error: unknown node type %q used by %d node(s): %s [unknown-type]\n", t, len(ids), strings.Join(ids, ", "))
	}
	if nErr == 0 && nWarn == 0 {
		fmt.Fprintln(w, "ok: no problems")
		return
	}
	fmt.Fprintf(w, "%d error(s), %d warning(s)\n", nErr, nWarn)
}
