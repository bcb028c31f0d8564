package flowtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/flow"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// Options tune a test run.
type Options struct {
	// Timeout is the default per-test timeout (5s when zero); a file or a
	// test may set its own.
	Timeout time.Duration
	// Verbose prints "=== RUN" lines and the flow's log for passing tests.
	Verbose bool
	// Out receives progress as tests finish (go test's format); nil: none.
	Out io.Writer
}

// Result is a whole run.
type Result struct {
	Suites  []*Suite
	Elapsed time.Duration
}

// Suite is one test file's results.
type Suite struct {
	File    string
	Cases   []*CaseResult
	Elapsed time.Duration
}

// CaseResult is one test's outcome.
type CaseResult struct {
	Name     string
	Failures []string
	Log      []string // the flow's warnings and errors during the test
	Elapsed  time.Duration
}

// Passed reports whether the test passed.
func (c *CaseResult) Passed() bool { return len(c.Failures) == 0 }

// Failed counts failed tests.
func (r *Result) Failed() int {
	n := 0
	for _, s := range r.Suites {
		for _, c := range s.Cases {
			if !c.Passed() {
				n++
			}
		}
	}
	return n
}

// Total counts tests.
func (r *Result) Total() int {
	n := 0
	for _, s := range r.Suites {
		n += len(s.Cases)
	}
	return n
}

// Discover lists the test files under paths: files as given, directories
// searched recursively for *.test.yaml and *.test.yml (skipping
// node_modules and hidden directories).
func Discover(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(q string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && q != p && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			if !d.IsDir() && (strings.HasSuffix(q, ".test.yaml") || strings.HasSuffix(q, ".test.yml")) {
				out = append(out, q)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

// Run runs every test file under paths.
func Run(paths []string, opts Options) (*Result, error) {
	files, err := Discover(paths)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no test files (*.test.yaml) under %s", strings.Join(paths, ", "))
	}
	start := time.Now()
	res := &Result{}
	for _, f := range files {
		res.Suites = append(res.Suites, RunFile(f, opts))
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// RunFile runs one test file. A file that cannot be loaded, or whose flow
// file cannot, is one failed test named "load".
func RunFile(path string, opts Options) *Suite {
	start := time.Now()
	s := &Suite{File: path}
	defer func() { s.Elapsed = time.Since(start) }()
	loadFail := func(err error) *Suite {
		c := &CaseResult{Name: "load", Failures: []string{err.Error()}}
		s.Cases = append(s.Cases, c)
		report(opts, s, c)
		return s
	}
	f, err := Load(path)
	if err != nil {
		return loadFail(err)
	}
	data, err := os.ReadFile(f.FlowPath())
	if err != nil {
		return loadFail(fmt.Errorf("flow file: %w", err))
	}
	fl, err := parseFlow(data)
	if err != nil {
		return loadFail(fmt.Errorf("flow file %s: %w", f.FlowPath(), err))
	}
	for _, c := range f.Tests {
		if opts.Verbose && opts.Out != nil {
			fmt.Fprintf(opts.Out, "=== RUN   %s/%s\n", path, c.Name)
		}
		cr := runCase(f, fl, c, opts)
		s.Cases = append(s.Cases, cr)
		report(opts, s, cr)
	}
	return s
}

func report(opts Options, s *Suite, c *CaseResult) {
	if opts.Out == nil {
		return
	}
	status := "PASS"
	if !c.Passed() {
		status = "FAIL"
	}
	fmt.Fprintf(opts.Out, "--- %s: %s/%s (%.2fs)\n", status, s.File, c.Name, c.Elapsed.Seconds())
	for _, f := range c.Failures {
		fmt.Fprintf(opts.Out, "    %s\n", strings.ReplaceAll(f, "\n", "\n    "))
	}
	if len(c.Log) > 0 && (!c.Passed() || opts.Verbose) {
		fmt.Fprintln(opts.Out, "    flow log:")
		for _, l := range c.Log {
			fmt.Fprintf(opts.Out, "        %s\n", l)
		}
	}
}

// flowFile is a parsed flow file, kept as raw entries so that each test
// can substitute node types on a copy.
type flowFile struct {
	entries []*msg.Object
	byID    map[string]*msg.Object
	byName  map[string][]string
}

func parseFlow(data []byte) (*flowFile, error) {
	set, err := flow.Parse(data)
	if err != nil {
		return nil, err
	}
	f := &flowFile{byID: map[string]*msg.Object{}, byName: map[string][]string{}}
	for _, d := range set.Defs {
		f.entries = append(f.entries, d.Raw)
		f.byID[d.ID] = d.Raw
		if d.Name != "" && !flow.IsContainer(d.Type) {
			f.byName[d.Name] = append(f.byName[d.Name], d.ID)
		}
	}
	return f, nil
}

// resolve finds a node by id, or else by its name when one node has it.
func (f *flowFile) resolve(ref, flowPath string) (string, error) {
	if o, ok := f.byID[ref]; ok {
		if flow.IsContainer(msg.ToString(o.Value("type"))) {
			return "", fmt.Errorf("%q is a %s in %s, not a node", ref, o.Value("type"), flowPath)
		}
		return ref, nil
	}
	switch ids := f.byName[ref]; len(ids) {
	case 0:
		return "", fmt.Errorf("node %q is not in %s (no node has that id or name)", ref, flowPath)
	case 1:
		return ids[0], nil
	default:
		return "", fmt.Errorf("name %q is used by nodes %s in %s; use an id", ref, strings.Join(ids, ", "), flowPath)
	}
}

// received is one message that arrived at a node, as it arrived.
type received struct {
	m  *msg.Object
	at time.Duration
}

// run is one test case running.
type run struct {
	mu        sync.Mutex
	start     time.Time
	got       map[string][]received
	sources   map[string]node.Ctx
	responses map[string][]*msg.Object
	failures  []string
	notify    chan struct{}
}

func (r *run) addSource(c node.Ctx) {
	r.mu.Lock()
	r.sources[c.ID()] = c
	r.mu.Unlock()
}

func (r *run) nextResponse(id string) (*msg.Object, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rs := r.responses[id]
	if len(rs) == 0 {
		return nil, false
	}
	if len(rs) > 1 {
		r.responses[id] = rs[1:]
	}
	return rs[0], true
}

func (r *run) fail(s string) {
	r.mu.Lock()
	r.failures = append(r.failures, s)
	r.mu.Unlock()
	r.poke()
}

func (r *run) poke() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

func (r *run) receive(id string, m *msg.Msg) {
	// Cloned on arrival: the node may change the message afterwards.
	c := m.Object.Clone()
	r.mu.Lock()
	r.got[id] = append(r.got[id], received{m: c, at: time.Since(r.start)})
	r.mu.Unlock()
	r.poke()
}

// logBuffer collects the flow's log lines for the report.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
	part  []byte
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.part = append(b.part, p...)
	for {
		i := strings.IndexByte(string(b.part), '\n')
		if i < 0 {
			break
		}
		b.lines = append(b.lines, string(b.part[:i]))
		b.part = b.part[i+1:]
	}
	return len(p), nil
}

func (b *logBuffer) get() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	const keep = 30
	if len(b.lines) > keep {
		return append([]string{fmt.Sprintf("(%d earlier lines)", len(b.lines)-keep)}, b.lines[len(b.lines)-keep:]...)
	}
	return append([]string(nil), b.lines...)
}

func newToken() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func runCase(f *File, fl *flowFile, c *Case, opts Options) (cr *CaseResult) {
	start := time.Now()
	cr = &CaseResult{Name: c.Name}
	defer func() { cr.Elapsed = time.Since(start) }()
	timeout := time.Duration(c.Timeout)
	if timeout == 0 {
		timeout = time.Duration(f.Timeout)
	}
	if timeout == 0 {
		timeout = opts.Timeout
	}
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	settle := time.Duration(f.Settle)
	if settle == 0 {
		settle = 100 * time.Millisecond
	}
	flowPath := f.FlowPath()

	// Every node the test names must exist before anything runs.
	var errs []string
	resolve := func(ref string) string {
		id, err := fl.resolve(ref, flowPath)
		if err != nil {
			errs = append(errs, err.Error())
		}
		return id
	}
	injectAt := make([]string, len(c.Inject))
	for i, in := range c.Inject {
		injectAt[i] = resolve(in.Node)
	}
	exps := make([]*expectation, len(c.Expect))
	for i, x := range c.Expect {
		exps[i] = &expectation{Expect: x, id: resolve(x.Node)}
	}
	tok := newToken()
	r := &run{got: map[string][]received{}, sources: map[string]node.Ctx{}, responses: map[string][]*msg.Object{}, notify: make(chan struct{}, 1)}
	for _, rs := range c.Respond {
		id := resolve(rs.Node)
		r.responses[id] = append(r.responses[id], rs.value)
	}
	if len(errs) > 0 {
		cr.Failures = errs
		return cr
	}
	kinds := map[string]string{}
	for k, v := range defaultReplace {
		kinds[k] = v
	}
	for k, v := range f.Replace {
		kinds[k] = v
	}
	entries, sourceIDs := substitute(fl.entries, kinds, tok, f.Timers)
	for i, in := range c.Inject {
		if sourceIDs[injectAt[i]] && in.Port >= outputsOf(fl.byID[injectAt[i]]) {
			cr.Failures = append(cr.Failures, fmt.Sprintf("inject[%d]: node %s has %d output(s); port %d does not exist",
				i, injectAt[i], outputsOf(fl.byID[injectAt[i]]), in.Port))
		}
	}
	if len(cr.Failures) > 0 {
		return cr
	}

	runs.Store(tok, r)
	defer runs.Delete(tok)
	dir, err := os.MkdirTemp("", "sluice-test-")
	if err != nil {
		cr.Failures = []string{err.Error()}
		return cr
	}
	defer os.RemoveAll(dir)
	logs := &logBuffer{}
	eng, err := engine.New(engine.Options{UserDir: dir, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})), CloseTimeout: 5 * time.Second})
	if err != nil {
		cr.Failures = []string{err.Error()}
		return cr
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := eng.Close(ctx); err != nil {
			cr.Failures = append(cr.Failures, "flows did not stop cleanly: "+err.Error())
		}
		cr.Log = logs.get()
	}()
	eng.OnReceive(r.receive)
	r.start = time.Now()
	if err := eng.Deploy(msg.Marshal(toAny(entries))); err != nil {
		var le *flow.LoadError
		if errors.As(err, &le) {
			cr.Failures = append(cr.Failures, fmt.Sprintf("flow %s refused:", flowPath))
			for _, p := range flow.Errors(le.Problems) {
				cr.Failures = append(cr.Failures, "  "+p.String())
			}
			return cr
		}
		cr.Failures = append(cr.Failures, fmt.Sprintf("flow %s started with errors: %v", flowPath, err))
		return cr
	}
	deadline := r.start.Add(timeout)

	for i, in := range c.Inject {
		if d := time.Duration(in.After); d > 0 {
			time.Sleep(d)
		}
		m := msg.Wrap(in.value.Clone())
		id := injectAt[i]
		if sourceIDs[id] {
			r.mu.Lock()
			src := r.sources[id]
			r.mu.Unlock()
			if src == nil {
				cr.Failures = append(cr.Failures, fmt.Sprintf("inject[%d]: node %s is not running (disabled?)", i, id))
				return cr
			}
			if !m.Has("_msgid") {
				m.Set("_msgid", msg.NewID())
			}
			src.SendTo(in.Port, m)
			continue
		}
		if err := eng.Inject(id, m); err != nil {
			cr.Failures = append(cr.Failures, fmt.Sprintf("inject[%d]: %v (is node %s disabled?)", i, err, id))
			return cr
		}
	}
	cr.Failures = append(cr.Failures, r.wait(exps, deadline, timeout, settle)...)
	return cr
}

func outputsOf(o *msg.Object) int {
	w, _ := o.Value("wires").([]any)
	return len(w)
}

func toAny(es []*msg.Object) []any {
	out := make([]any, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// substitute returns a copy of the flow with edge nodes replaced by
// stand-ins, inject timers off (unless timers), and config nodes that only
// replaced nodes used replaced too (they would otherwise connect to
// brokers). It also reports which node ids became sources.
func substitute(entries []*msg.Object, kinds map[string]string, tok string, timers bool) ([]*msg.Object, map[string]bool) {
	out := make([]*msg.Object, len(entries))
	sources := map[string]bool{}
	replaced := map[string]bool{}
	for i, e := range entries {
		typ := msg.ToString(e.Value("type"))
		id := msg.ToString(e.Value("id"))
		switch kinds[typ] {
		case "source", "sink":
			o := e.Clone()
			o.Set(typeKey, typ)
			o.Set(runKey, tok)
			if kinds[typ] == "source" {
				o.Set("type", SourceType)
				sources[id] = true
			} else {
				o.Set("type", SinkType)
			}
			out[i] = o
			replaced[id] = true
			continue
		}
		if typ == "inject" && !timers {
			o := e.Clone()
			o.Set("once", false)
			o.Set("repeat", "")
			o.Set("crontab", "")
			out[i] = o
			continue
		}
		out[i] = e
	}
	isConfig := func(o *msg.Object) bool {
		typ := msg.ToString(o.Value("type"))
		if typ == "global-config" || flow.IsContainer(typ) || strings.HasPrefix(typ, "subflow:") {
			return false
		}
		if spec, ok := node.Lookup(typ); ok {
			return spec.Config
		}
		z, _ := o.Value("z").(string)
		return z == ""
	}
	// Config nodes in use: referenced from a kept node, or from a config
	// node in use, until nothing changes.
	used := map[string]bool{}
	configs := map[string]*msg.Object{}
	for _, o := range out {
		if isConfig(o) {
			configs[msg.ToString(o.Value("id"))] = o
		}
	}
	var mark func(v any)
	mark = func(v any) {
		switch t := v.(type) {
		case string:
			if c, ok := configs[t]; ok && !used[t] {
				used[t] = true
				markNode(c, mark)
			}
		case []any:
			for _, e := range t {
				mark(e)
			}
		case *msg.Object:
			for _, k := range t.Keys() {
				mark(t.Value(k))
			}
		}
	}
	for _, o := range out {
		id := msg.ToString(o.Value("id"))
		if replaced[id] || isConfig(o) {
			continue
		}
		markNode(o, mark)
	}
	for i, o := range out {
		id := msg.ToString(o.Value("id"))
		if _, ok := configs[id]; ok && !used[id] {
			c := o.Clone()
			c.Set(typeKey, c.Value("type"))
			c.Set("type", ConfigType)
			out[i] = c
		}
	}
	return out, sources
}

// markNode marks the values of a node's properties, skipping its own
// identity and placement.
func markNode(o *msg.Object, mark func(any)) {
	for _, k := range o.Keys() {
		switch k {
		case "id", "type", "z", "g", "wires":
			continue
		}
		mark(o.Value(k))
	}
}
