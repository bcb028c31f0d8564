package function

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// The function node runs JavaScript in goja, one runtime per node instance
// (Node-RED keeps per-node state, even undeclared globals).
//
// Every entry into the runtime (a message, a timer, a promise settling, the
// close) holds the node's lock, on the goroutine that asked: the node's own
// goroutine for messages, a timer's for timers. goja_nodejs's event loop
// would hand each message to a loop goroutine and back, which costs more
// than the typical function body; promise jobs are run by goja itself when
// the outermost call returns, so the lock is the whole event loop.

func init() {
	node.Register(&node.Spec{
		Type:     "function",
		Category: "function",
		Color:    "#fdd0a2",
		Icon:     "function.svg",
		Inputs:   1,
		Outputs:  1,
		OutputsOf: func(cfg *node.Config) int {
			n, err := cfg.Num("outputs", 1)
			if err != nil || n < 0 {
				return 1
			}
			return int(n)
		},
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "func", Kind: node.KindString, Default: "\nreturn msg;", Label: "On Message"},
			{Name: "outputs", Kind: node.KindNumber, Default: 1.0, Label: "Outputs"},
			{Name: "timeout", Kind: node.KindNumber, Default: 0.0, Label: "Timeout (s)"},
			{Name: "noerr", Kind: node.KindNumber, Default: 0.0},
			{Name: "initialize", Kind: node.KindString, Default: "", Label: "On Start"},
			{Name: "finalize", Kind: node.KindString, Default: "", Label: "On Stop"},
			{Name: "libs", Kind: node.KindArray, Default: []any{}, Label: "Modules"},
		},
		NameAlways: true,
		Help:       functionHelp,
		New:        newFunction,
	})
}

const functionHelp = `A JavaScript function run against each message.

The message arrives as ` + "`msg`" + `; return it (or a new object) to send it on, an array
to send one message per output (an inner array sends several on one output), or
null/undefined to send nothing. ` + "`node.send()`" + ` sends at any time, also after a timer or an
await; ` + "`node.done()`" + ` finishes the message when the code calls it.

Available: ` + "`node`" + ` (send, done, error, warn, log, debug, trace, status, on("close"), id,
name, path, outputCount), ` + "`context`, `flow`, `global`" + ` (get/set/keys, with a store name and
callback forms), ` + "`env.get`, `RED.util`, `util`, `Buffer`, `URL`, `URLSearchParams`, `console`" + `,
` + "`setTimeout`/`setInterval`" + ` (cleared on stop), ` + "`promisify`" + `.

**On Start** runs once when the node starts (messages wait until it finishes);
**On Stop** runs when the node stops. **Timeout** (seconds) interrupts code that runs
too long; the error goes to catch nodes.

Sluice differences: npm modules (the Modules tab) cannot be loaded, a node that
lists any is refused at load; code that does not compile is refused at load.`

const (
	stateReady = iota
	stateStarting
	stateFailed
)

type fnNode struct {
	id, name string
	outputs  int
	timeout  time.Duration // per entry; 0: none
	memLimit uint64

	body, ini, fin *goja.Program
	usesNode       bool
	autoDone       bool // the code never calls node.done(): done after it returns

	mu     sync.Mutex
	c      node.Ctx
	vm     *goja.Runtime
	br     *bridge
	fn     goja.Callable
	state  int
	queued []*msg.Msg
	runs   map[*run]struct{}
	cur    *run // the message whose code is running now
	timers timerQueue
	closeH []goja.Value
	// statusUsed: node.status was called, so stopping clears it.
	statusUsed bool
	closed     bool
	guard      guard
	api        apiFuncs
}

func newFunction(cfg *node.Config) (node.Node, error) {
	n := &fnNode{id: cfg.ID(), name: cfg.Name(), runs: map[*run]struct{}{}}
	out, err := cfg.Num("outputs", 1)
	if err != nil {
		return nil, err
	}
	if out < 0 || out != float64(int(out)) {
		return nil, node.BadProp("outputs", cfg.Get("outputs"), "must be a whole number of outputs")
	}
	n.outputs = int(out)
	secs, err := cfg.Num("timeout", 0)
	if err != nil {
		return nil, err
	}
	if secs > 0 {
		n.timeout = time.Duration(secs * float64(time.Second))
	}
	if err := checkLibs(cfg); err != nil {
		return nil, err
	}
	name := "Function node:" + n.id
	if n.name != "" {
		name += " [" + n.name + "]"
	}
	src := cfg.Str("func")
	n.usesNode = strings.Contains(src, "node")
	n.autoDone = !callsNodeDone(src)
	n.body, err = compileBody("func", name, src)
	if err != nil {
		return nil, err
	}
	if ini := strings.TrimSpace(cfg.Str("initialize")); ini != "" {
		n.ini, err = compileWrapped("initialize", strings.Replace(name, "node:", "node setup:", 1), "(async function(node){\n", ini, "\n})")
		if err != nil {
			return nil, err
		}
	}
	if fin := strings.TrimSpace(cfg.Str("finalize")); fin != "" {
		n.fin, err = compileWrapped("finalize", strings.Replace(name, "node:", "node cleanup:", 1), "(function(node){\n", fin, "\n})")
		if err != nil {
			return nil, err
		}
	}
	if err := n.setup(); err != nil {
		return nil, err
	}
	return n, nil
}

// checkLibs refuses external modules: Sluice has no npm modules to load.
func checkLibs(cfg *node.Config) error {
	libs, _ := cfg.Get("libs").([]any)
	for i, l := range libs {
		o, ok := l.(*msg.Object)
		if !ok {
			continue
		}
		mod := msg.ToString(o.Value("module"))
		if mod == "" || o.Value("module") == nil {
			continue
		}
		return node.BadProp(fmt.Sprintf("libs[%d]", i), o.Value("module"),
			"module %q cannot be loaded: Sluice runs function nodes without npm modules (remove it from the Setup tab's Modules list)", mod)
	}
	return nil
}

// compileBody compiles the code as Node-RED wraps it: the body of a
// sloppy-mode async function of msg (so top-level await works), starting on
// line 2 as in Node-RED so that line numbers match. Code without await
// runs as a plain function, which skips the promise machinery.
func compileBody(prop, name, src string) (*goja.Program, error) {
	head := "(async function(msg,node){\n"
	if !strings.Contains(src, "await") {
		head = "(function(msg,node){\n"
	}
	return compileWrapped(prop, name, head, src, "\n})")
}

func compileWrapped(prop, name, head, src, tail string) (*goja.Program, error) {
	full := head + src + tail
	p, err := goja.Compile(name, full, false)
	if err != nil {
		// The parser's own errors carry the position.
		if _, perr := parser.ParseFile(nil, name, full, 0); perr != nil {
			err = perr
		}
		return nil, syntaxError(prop, src, err)
	}
	return p, nil
}

var compileErrRE = regexp.MustCompile(`Line (\d+):(\d+) (.*?)(?: \(and \d+ more errors\))?$`)

func syntaxError(prop, src string, err error) error {
	kind := map[string]string{"func": "body", "initialize": "setup", "finalize": "cleanup"}[prop]
	text, line, col := err.Error(), 0, 0
	var pe *parser.Error
	var pl parser.ErrorList
	var ce *goja.CompilerSyntaxError
	switch {
	case errors.As(err, &pl) && len(pl) > 0:
		text, line, col = pl[0].Message, pl[0].Position.Line, pl[0].Position.Column
	case errors.As(err, &pe):
		text, line, col = pe.Message, pe.Position.Line, pe.Position.Column
	case errors.As(err, &ce):
		text = ce.Message
		if m := compileErrRE.FindStringSubmatch(ce.Message); m != nil {
			text = m[3]
			line, _ = strconv.Atoi(m[1])
			col, _ = strconv.Atoi(m[2])
		}
	}
	if line == 0 {
		return node.BadProp(prop, nil, "SyntaxError: %s", text)
	}
	// The code starts on line 2 of the wrapper.
	line--
	if line < 1 {
		line = 1
	}
	return node.BadProp(prop, nil, "SyntaxError: %s (%s:line %d, col %d)", text, kind, line, col)
}

// Start runs the On Start code; messages wait until its promise settles.
func (n *fnNode) Start(c node.Ctx) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.c = c
	n.api.path = n.vm.ToValue(c.Path())
	n.guard.start(n)
	if n.ini == nil {
		return nil
	}
	n.state = stateStarting
	v, err := n.enter(func() (goja.Value, error) {
		f, err := n.vm.RunProgram(n.ini)
		if err != nil {
			return nil, err
		}
		call, _ := goja.AssertFunction(f)
		return call(goja.Undefined(), n.vm.NewDynamicObject(&nodeView{n: n, mode: modeSetup}))
	})
	if err != nil {
		n.initFailed(err)
		return nil
	}
	n.settle(v, func(goja.Value) { n.initDone() }, func(reason goja.Value) { n.initFailed(n.jsError(reason, nil)) })
	return nil
}

func (n *fnNode) initDone() {
	n.state = stateReady
	for len(n.queued) > 0 {
		q := n.queued
		n.queued = nil
		for _, m := range q {
			n.process(m)
		}
	}
}

func (n *fnNode) initFailed(err error) {
	n.state = stateFailed
	n.c.Error(err, nil)
	for _, m := range n.queued {
		m.Track.Done(err)
	}
	n.queued = nil
}

// DeferDone: messages finish when the code's promise settles or when it
// calls node.done().
func (n *fnNode) DeferDone() {}

func (n *fnNode) Input(c node.Ctx, m *msg.Msg) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.c == nil {
		n.c = c
		n.api.path = n.vm.ToValue(c.Path())
		n.guard.start(n)
	}
	switch {
	case n.closed:
		c.Done(m, nil)
	case n.state == stateStarting:
		n.queued = append(n.queued, m)
	case n.state == stateFailed:
		// Node-RED drops messages once On Start failed.
		m.Track.Done(errors.New("function node " + n.id + ": On Start failed"))
	default:
		n.process(m)
	}
	return nil
}

// run is one message being handled.
type run struct {
	n     *fnNode
	m     *msg.Msg
	msgid any
	done  bool
}

func (n *fnNode) process(m *msg.Msg) {
	r := &run{n: n, m: m}
	if id, ok := m.Get("_msgid"); ok {
		r.msgid = id
	} else {
		r.msgid = msg.Undefined{}
	}
	n.cur = r
	defer func() { n.cur = nil }()
	v, err := n.callBody(r)
	if err != nil {
		var ex *goja.Exception
		if !isTimeout(err) && errors.As(err, &ex) {
			r.reject(ex.Value())
			return
		}
		r.finish(n.errorOf(err))
		return
	}
	switch {
	case r.done && !n.autoDone:
		// Finished by node.done() already; results are still sent.
		n.settle(v, func(res goja.Value) { n.sendResults(r, res, false) }, r.reject)
	case isPlain(v):
		r.resolve(v)
	default:
		n.settle(v, r.resolve, r.reject)
	}
	if !r.done {
		// Still running (await, timers): remembered so that stopping the
		// node can release it.
		n.runs[r] = struct{}{}
	}
}

// callBody runs the code for one message (the hot path: no closures).
func (n *fnNode) callBody(r *run) (v goja.Value, err error) {
	n.guard.begin()
	defer n.leave(&err)
	var nodeArg goja.Value = goja.Undefined()
	if n.usesNode {
		nodeArg = n.vm.NewDynamicObject(&nodeView{n: n, r: r})
	}
	return n.fn(goja.Undefined(), n.br.objectOf(r.m.Object), nodeArg)
}

// isPlain reports whether a returned value needs no promise handling: not
// an object, or a message object.
func isPlain(v goja.Value) bool {
	o, ok := v.(*goja.Object)
	if !ok {
		return true
	}
	t := o.ExportType()
	return t == tObjProxy || t == tArrProxy
}

// settle calls ok or fail with the value, at once when it is not a pending
// promise, or when the promise settles.
func (n *fnNode) settle(v goja.Value, ok, fail func(goja.Value)) {
	o, isObj := v.(*goja.Object)
	if !isObj {
		ok(v)
		return
	}
	if o.ExportType() != tPromise {
		// Export of a plain object would copy it whole: look for then alone.
		if then, isFn := goja.AssertFunction(o.Get("then")); isFn {
			// A thenable returned by plain code: adopt it as await would.
			_, err := n.enter(func() (goja.Value, error) {
				return then(o, n.vm.ToValue(func(c goja.FunctionCall) goja.Value { ok(c.Argument(0)); return goja.Undefined() }),
					n.vm.ToValue(func(c goja.FunctionCall) goja.Value { fail(c.Argument(0)); return goja.Undefined() }))
			})
			if err != nil {
				fail(n.vm.ToValue(err.Error()))
			}
			return
		}
		ok(v)
		return
	}
	p := o.Export().(*goja.Promise)
	switch p.State() {
	case goja.PromiseStateFulfilled:
		ok(p.Result())
	case goja.PromiseStateRejected:
		fail(p.Result())
	default:
		then, _ := goja.AssertFunction(o.Get("then"))
		_, _ = then(o, n.vm.ToValue(func(c goja.FunctionCall) goja.Value { ok(c.Argument(0)); return goja.Undefined() }),
			n.vm.ToValue(func(c goja.FunctionCall) goja.Value { fail(c.Argument(0)); return goja.Undefined() }))
	}
}

func (r *run) resolve(v goja.Value) {
	r.n.sendResults(r, v, false)
	if r.n.autoDone {
		r.finish(nil)
	}
}

// reject reports what the code threw, as Node-RED does: an Error is also
// stored as msg.error (catch nodes then see it as _error).
func (r *run) reject(reason goja.Value) {
	err := r.n.jsError(reason, r)
	if err == nil {
		r.finish(nil)
		return
	}
	r.finish(err)
}

// finish marks the message done (once).
func (r *run) finish(err error) {
	if r.done {
		if err != nil {
			r.n.br.flush()
			r.n.c.Error(err, r.m)
		}
		return
	}
	r.done = true
	delete(r.n.runs, r)
	r.n.br.flush()
	r.n.c.Done(r.m, err)
}

// Close runs On Stop, then the close handlers the code registered, clears
// timers, and clears the status if the code set one.
func (n *fnNode) Close(ctx context.Context, removed bool) error {
	// Stop code that is running now; the lock is ours once it has returned.
	n.guard.stopAll()
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = true
	if n.c == nil {
		return nil
	}
	// On Stop and close handlers are bounded by the close deadline too.
	stopWatch := context.AfterFunc(ctx, n.guard.stopAll)
	defer stopWatch()
	defer n.guard.stop()
	if n.fin != nil {
		_, err := n.enter(func() (goja.Value, error) {
			f, err := n.vm.RunProgram(n.fin)
			if err != nil {
				return nil, err
			}
			call, _ := goja.AssertFunction(f)
			return call(goja.Undefined(), n.vm.NewDynamicObject(&nodeView{n: n, mode: modeCleanup}))
		})
		if err != nil {
			n.c.Error(n.errorOf(err), nil)
		}
	}
	n.timers.clear()
	n.runCloseHandlers(ctx, removed)
	if n.statusUsed {
		n.c.Status(node.Status{})
	}
	for r := range n.runs {
		r.done = true
		r.m.Track.Done(errFnClosed)
	}
	clear(n.runs)
	return nil
}

var errFnClosed = errors.New("function node stopped before the message was done")

// runCloseHandlers calls node.on("close") handlers: with no parameter they
// are synchronous, with one they get done, with two removed and done.
func (n *fnNode) runCloseHandlers(ctx context.Context, removed bool) {
	for _, h := range n.closeH {
		fn, _ := goja.AssertFunction(h)
		arity := int(h.(*goja.Object).Get("length").ToInteger())
		finished := make(chan struct{})
		var once sync.Once
		doneFn := n.vm.ToValue(func(goja.FunctionCall) goja.Value {
			once.Do(func() { close(finished) })
			return goja.Undefined()
		})
		var args []goja.Value
		switch arity {
		case 0:
		case 1:
			args = []goja.Value{doneFn}
		default:
			args = []goja.Value{n.vm.ToValue(removed), doneFn}
		}
		_, err := n.enter(func() (goja.Value, error) { return fn(goja.Undefined(), args...) })
		if err != nil {
			n.c.Error(n.errorOf(err), nil)
			continue
		}
		if arity == 0 {
			continue
		}
		// The handler finishes later (a timer): let timers run meanwhile.
		n.mu.Unlock()
		select {
		case <-finished:
		case <-ctx.Done():
		}
		n.mu.Lock()
	}
}
