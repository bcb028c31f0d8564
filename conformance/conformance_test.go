// Package conformance runs flows recorded from real Node-RED 5 through
// Sluice and compares what arrives at the output nodes. A case is a folder
// under cases/ (see README.md); adding one needs no Go code.
package conformance

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/sluicehq/sluice/nodes/all"
	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

const (
	casesDir       = "cases"
	defaultWaitMs  = 300
	maxCaseTime    = 5 * time.Second
	outPrefix      = "out"
	ignoredValue   = "<ignored>"
	differencesDoc = "DIFFERENCES.md"
)

// structural types are handled by the engine itself rather than by a
// registered node type.
var structural = map[string]bool{"tab": true, "subflow": true, "group": true, "junction": true}

type caseOptions struct {
	Description string
	WaitMs      int
	Ignore      []string
	Needs       []string
	// Unordered are output nodes fed by several branches: Sluice runs each
	// node on its own goroutine, so how messages from different branches
	// interleave may differ from Node-RED's single event loop (README,
	// deliberate differences); their messages are compared as a set.
	Unordered []string
}

type record struct {
	node string
	msg  *msg.Object
}

func TestConformance(t *testing.T) {
	entries, err := os.ReadDir(casesDir)
	if err != nil {
		t.Fatal(err)
	}
	differ, err := readDifferences(differencesDoc)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		seen[name] = true
		dir := filepath.Join(casesDir, name)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			problems := runCase(t, dir)
			switch {
			case differ[name] && len(problems) == 0:
				t.Errorf("listed in %s as differing from Node-RED, but now matches: remove it from the list", differencesDoc)
			case differ[name]:
				t.Logf("differs from Node-RED as documented in %s:\n%s", differencesDoc, strings.Join(problems, "\n"))
			case len(problems) > 0:
				t.Error(strings.Join(problems, "\n"))
			}
		})
	}
	for name := range differ {
		if !seen[name] {
			t.Errorf("%s lists %q, which is not a case folder", differencesDoc, name)
		}
	}
}

// readDifferences returns the case names listed in DIFFERENCES.md: list
// items whose first word is the case name in backquotes.
func readDifferences(file string) (map[string]bool, error) {
	out := map[string]bool{}
	f, err := os.Open(file)
	if os.IsNotExist(err) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// Only unindented items count, so examples in code blocks do not.
		line := strings.TrimRight(sc.Text(), " \t\r")
		if !strings.HasPrefix(line, "- `") {
			continue
		}
		rest := line[3:]
		if i := strings.IndexByte(rest, '`'); i > 0 {
			out[rest[:i]] = true
		}
	}
	return out, sc.Err()
}

// runCase returns the differences from Node-RED as readable lines; setup
// errors end the test directly.
func runCase(t *testing.T, dir string) []string {
	flowJSON, err := os.ReadFile(filepath.Join(dir, "flow.json"))
	if err != nil {
		t.Fatal(err)
	}
	opts, err := readOptions(filepath.Join(dir, "case.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, need := range opts.Needs {
		switch need {
		case "tz":
			if _, off := time.Now().Zone(); off != 0 {
				t.Skipf("needs a UTC local time zone (run with TZ=UTC)")
			}
		default:
			t.Fatalf("case.json: unknown need %q", need)
		}
	}

	logs := &syncBuffer{}
	e, err := engine.New(engine.Options{
		UserDir: t.TempDir(),
		Logger:  slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("engine.New: %v", err)
	}

	if wantErr, err := os.ReadFile(filepath.Join(dir, "load-error.txt")); err == nil {
		deployErr := e.Deploy(flowJSON)
		if deployErr == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			e.Stop(ctx)
		}
		return checkLoadError(deployErr, string(wantErr))
	}
	if err := checkTypes(flowJSON); err != nil {
		t.Fatal(err)
	}
	expected, err := readRecords(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatalf("expected.json: %v (record it with conformance/record.js)", err)
	}
	var inputs []any
	if b, err := os.ReadFile(filepath.Join(dir, "input.json")); err == nil {
		v, err := msg.Unmarshal(b)
		if err != nil {
			t.Fatalf("input.json: %v", err)
		}
		arr, ok := v.([]any)
		if !ok {
			t.Fatalf("input.json: want an array of messages")
		}
		inputs = arr
	}

	var (
		mu      sync.Mutex
		actual  []record
		arrived = make(chan struct{}, 1)
	)
	e.OnReceive(func(nodeID string, m *msg.Msg) {
		if !strings.HasPrefix(nodeID, outPrefix) {
			return
		}
		// Marshal at once: the receiving node may change the message next.
		text := msg.Marshal(m.Object)
		v, err := msg.Unmarshal(text)
		o, _ := v.(*msg.Object)
		if err != nil || o == nil {
			o = msg.ObjectOf("unmarshal error", fmt.Sprint(err), "text", string(text))
		}
		mu.Lock()
		actual = append(actual, record{node: nodeID, msg: o})
		mu.Unlock()
		select {
		case arrived <- struct{}{}:
		default:
		}
	})

	if err := e.Deploy(flowJSON); err != nil {
		// A refusal is a difference like any other (DIFFERENCES.md may list
		// it as deliberate).
		return []string{fmt.Sprintf("deploy refused: %v", err)}
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.Stop(ctx)
	}()
	for i, in := range inputs {
		o, ok := in.(*msg.Object)
		if !ok {
			t.Fatalf("input.json[%d]: not an object", i)
		}
		if err := e.Inject("in", msg.Wrap(o)); err != nil {
			t.Fatalf("inject input.json[%d]: %v", i, err)
		}
	}

	deadline := time.After(maxCaseTime)
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(actual) }
wait:
	for count() < len(expected) {
		select {
		case <-arrived:
		case <-deadline:
			break wait
		}
	}
	// Extra messages after the expected ones are differences too.
	time.Sleep(time.Duration(opts.WaitMs) * time.Millisecond)

	mu.Lock()
	got := append([]record(nil), actual...)
	mu.Unlock()
	for _, r := range got {
		applyIgnore(r.msg, opts.Ignore)
	}
	normaliseMsgIDs(got)
	normaliseMsgIDs(expected)
	problems := compare(expected, got, opts.Unordered...)
	if len(problems) > 0 {
		problems = append(problems, "engine log:\n"+logs.tail())
	}
	return problems
}

func readOptions(file string) (caseOptions, error) {
	opts := caseOptions{WaitMs: defaultWaitMs}
	b, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return opts, nil
	}
	if err != nil {
		return opts, err
	}
	v, err := msg.Unmarshal(b)
	if err != nil {
		return opts, fmt.Errorf("case.json: %w", err)
	}
	o, ok := v.(*msg.Object)
	if !ok {
		return opts, fmt.Errorf("case.json: want an object")
	}
	if s, ok := o.Value("description").(string); ok {
		opts.Description = s
	}
	if n, ok := o.Value("waitMs").(float64); ok && n > 0 {
		opts.WaitMs = int(n)
	}
	for _, key := range []string{"ignore", "needs", "unordered"} {
		arr, _ := o.Value(key).([]any)
		for _, x := range arr {
			s, ok := x.(string)
			if !ok {
				return opts, fmt.Errorf("case.json: %s must hold strings, got %s", key, msg.Marshal(x))
			}
			switch key {
			case "ignore":
				opts.Ignore = append(opts.Ignore, s)
			case "needs":
				opts.Needs = append(opts.Needs, s)
			default:
				opts.Unordered = append(opts.Unordered, s)
			}
		}
	}
	return opts, nil
}

// checkTypes fails a case whose flow needs a node type Sluice lacks, naming
// every such type, so a missing node shows as a failure and not a skip.
func checkTypes(flowJSON []byte) error {
	v, err := msg.Unmarshal(flowJSON)
	if err != nil {
		return fmt.Errorf("flow.json: %v", err)
	}
	nodes, ok := v.([]any)
	if !ok {
		return fmt.Errorf("flow.json: want an array of nodes")
	}
	var missing []string
	seen := map[string]bool{}
	for _, n := range nodes {
		o, ok := n.(*msg.Object)
		if !ok {
			continue
		}
		typ, _ := o.Value("type").(string)
		if structural[typ] || strings.HasPrefix(typ, "subflow:") || seen[typ] {
			continue
		}
		seen[typ] = true
		if _, ok := node.Lookup(typ); !ok {
			id, _ := o.Value("id").(string)
			missing = append(missing, fmt.Sprintf("%q (node %s)", typ, id))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("node types not registered in Sluice: %s", strings.Join(missing, ", "))
	}
	return nil
}

func checkLoadError(err error, want string) []string {
	if err == nil {
		return []string{"deploy succeeded, want a load error containing:\n" + want}
	}
	var problems []string
	for _, line := range strings.Split(want, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.Contains(err.Error(), line) {
			problems = append(problems, fmt.Sprintf("load error %q does not contain %q", err.Error(), line))
		}
	}
	return problems
}

func readRecords(file string) ([]record, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	v, err := msg.Unmarshal(b)
	if err != nil {
		return nil, err
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("want an array")
	}
	out := make([]record, 0, len(arr))
	for i, x := range arr {
		o, _ := x.(*msg.Object)
		if o == nil {
			return nil, fmt.Errorf("[%d]: not an object", i)
		}
		n, _ := o.Value("node").(string)
		m, _ := o.Value("msg").(*msg.Object)
		if n == "" || m == nil {
			return nil, fmt.Errorf("[%d]: want {\"node\":...,\"msg\":{...}}", i)
		}
		out = append(out, record{node: n, msg: m})
	}
	return out, nil
}

// applyIgnore blanks the listed paths where they exist, as the recorder does.
func applyIgnore(o *msg.Object, paths []string) {
	for _, p := range paths {
		v, ok, err := msg.Get(o, p)
		if err != nil || !ok || msg.IsUndefined(v) {
			continue
		}
		_ = msg.Set(o, p, ignoredValue)
	}
}

// normaliseMsgIDs replaces every _msgid string with "msgid-N", numbering in
// a canonical order (output node id, then arrival within the node) so that
// interleaving across output nodes does not change the numbers, while
// shared ids stay visibly shared.
func normaliseMsgIDs(recs []record) {
	order := make([]int, len(recs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return recs[order[a]].node < recs[order[b]].node })
	ids := map[string]string{}
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case []any:
			for _, x := range t {
				walk(x)
			}
		case *msg.Object:
			for i := 0; i < t.Len(); i++ {
				k, x := t.At(i)
				if s, ok := x.(string); ok && k == "_msgid" {
					p, seen := ids[s]
					if !seen {
						p = fmt.Sprintf("msgid-%d", len(ids)+1)
						ids[s] = p
					}
					t.Set(k, p)
					continue
				}
				walk(x)
			}
		}
	}
	for _, i := range order {
		walk(recs[i].msg)
	}
}

// compare lists the differences per output node, in arrival order except
// for the unordered nodes.
func compare(expected, got []record, unordered ...string) []string {
	exp := byNode(expected)
	act := byNode(got)
	for _, n := range unordered {
		sort.Strings(exp[n])
		sort.Strings(act[n])
	}
	nodes := map[string]bool{}
	for n := range exp {
		nodes[n] = true
	}
	for n := range act {
		nodes[n] = true
	}
	names := make([]string, 0, len(nodes))
	for n := range nodes {
		names = append(names, n)
	}
	sort.Strings(names)
	var problems []string
	for _, n := range names {
		e, a := exp[n], act[n]
		for i := 0; i < len(e) || i < len(a); i++ {
			switch {
			case i >= len(a):
				problems = append(problems, fmt.Sprintf("%s message %d missing, want\n    %s", n, i+1, e[i]))
			case i >= len(e):
				problems = append(problems, fmt.Sprintf("%s message %d unexpected\n    %s", n, i+1, a[i]))
			case e[i] != a[i]:
				problems = append(problems, fmt.Sprintf("%s message %d differs\n    want %s\n    got  %s", n, i+1, e[i], a[i]))
			}
		}
	}
	return problems
}

func byNode(recs []record) map[string][]string {
	out := map[string][]string{}
	for _, r := range recs {
		out[r.node] = append(out[r.node], string(msg.Marshal(r.msg)))
	}
	return out
}

// syncBuffer collects the engine log of one case for failure reports.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) tail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	const max = 4000
	b := s.b.Bytes()
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}
