package function

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type:     "exec",
		Category: "function",
		Color:    "darksalmon",
		Icon:     "cog.svg",
		Inputs:   1,
		Outputs:  3,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "command", Kind: node.KindString, Default: "", Label: "Command"},
			{Name: "addpay", Default: "", Types: []string{"msg"}, Label: "Append"},
			{Name: "append", Kind: node.KindString, Default: "", Label: "Extra input parameters"},
			{Name: "useSpawn", Kind: node.KindString, Default: "false", Options: []string{"false", "true"}, Label: "Output: when the command is complete (exec) or while it runs (spawn)"},
			{Name: "timer", Kind: node.KindNumber, Default: "", Label: "Timeout (seconds)"},
			{Name: "winHide", Kind: node.KindBool, Default: false},
			{Name: "oldrc", Kind: node.KindBool, Default: false, Label: "Return code as the bare number"},
		},
		Help: execHelp,
		New:  newExec,
	})
}

const execHelp = `Runs a system command and returns its output.

The command runs with the message property (` + "`msg.payload`" + ` by default) and the extra
parameters appended.

- **exec** mode runs it through the shell (` + "`/bin/bash -c`" + ` on Linux) and sends, when it
  ends: stdout on output 1, stderr on output 2 (when there is any), and the return code
  ` + "`{code: 0}`" + ` on output 3 (also copied to ` + "`msg.rc`" + `); a failure gives
  ` + "`{code, message, signal}`" + `.
- **spawn** mode runs the program directly (words split on spaces, double quotes group them)
  and sends stdout and stderr as they arrive, then the return code.

Output that is not valid UTF-8 is a Buffer. ` + "`msg.kill`" + ` (a signal name such as
"SIGINT", SIGTERM otherwise) signals the running command, or the one with ` + "`msg.pid`" + `.
A timeout kills the command with SIGTERM. Stopping the flows ends running commands.`

var errExecStopped = errors.New("exec node stopped while the command was running")

type execNode struct {
	cmd       string
	addpay    []msg.PathPart // nil: nothing appended
	addpayStr string
	append    string
	spawn     bool
	timer     time.Duration
	oldrc     bool

	mu     sync.Mutex
	procs  map[int]*execProc
	closed bool
}

type execProc struct {
	cmd    *exec.Cmd
	pid    int
	timer  *time.Timer
	exited atomic.Bool
}

func newExec(cfg *node.Config) (node.Node, error) {
	n := &execNode{
		cmd:    strings.TrimSpace(cfg.Str("command")),
		append: strings.TrimSpace(cfg.Str("append")),
		// Node-RED compares with == "true": only the string (or a value
		// whose text is "true") selects spawn; the boolean true does not.
		spawn: looseEqual(cfg.Get("useSpawn"), "true"),
		oldrc: cfg.Get("oldrc") != nil && jsString(cfg.Get("oldrc")) == "true",
		procs: map[int]*execProc{},
	}
	addpay, ok := cfg.Raw.Get("addpay")
	if !ok || addpay == true {
		addpay = "payload"
	}
	if msg.Truthy(addpay) {
		n.addpayStr = jsString(addpay)
		p, err := msgPath(n.addpayStr)
		if err != nil {
			return nil, node.BadProp("addpay", addpay, "%v", err)
		}
		n.addpay = p
	}
	if t := cfg.Get("timer"); msg.Truthy(t) {
		secs := msg.ToNumber(t)
		if math.IsNaN(secs) || secs < 0 {
			return nil, node.BadProp("timer", t, "not a timeout in seconds")
		}
		n.timer = time.Duration(secs * float64(time.Second))
	}
	return n, nil
}

func (n *execNode) DeferDone() {}

func (n *execNode) Input(c node.Ctx, m *msg.Msg) error {
	if kill, ok := m.Get("kill"); ok {
		c.Done(m, n.kill(c, m, kill))
		return nil
	}
	arg := n.cmd
	if n.addpay != nil {
		v, err := readProp(m.Object, n.addpay)
		if err != nil {
			c.Done(m, err)
			return nil
		}
		if !msg.IsUndefined(v) {
			arg += " " + jsString(v)
		}
	}
	if n.append != "" {
		arg += " " + n.append
	}
	if n.spawn {
		return n.startSpawn(c, m, arg)
	}
	return n.startExec(c, m, arg)
}

func (n *execNode) kill(c node.Ctx, m *msg.Msg, kill any) error {
	name := "SIGTERM"
	if s, ok := kill.(string); ok && strings.HasPrefix(strings.ToUpper(s), "SIG") {
		name = strings.ToUpper(s)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	var p *execProc
	if pid, ok := m.Get("pid"); ok {
		for id, q := range n.procs {
			if strconv.Itoa(id) == jsKey(pid) {
				p = q
			}
		}
	} else if len(n.procs) == 1 {
		for _, q := range n.procs {
			p = q
		}
	}
	if p == nil {
		return nil
	}
	sig, ok := execSignal(name)
	if !ok {
		return &TypeError{Msg: "Unknown signal: " + name}
	}
	_ = p.cmd.Process.Signal(sig)
	c.Status(node.Status{Fill: "red", Shape: "dot", Text: "killed"})
	return nil
}

// register keeps a started process and arms its timeout; it reports false
// when the node has been closed meanwhile.
func (n *execNode) register(c node.Ctx, p *execProc) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		execKillGroup(p.pid, syscall.SIGTERM)
		return false
	}
	n.procs[p.pid] = p
	c.Status(node.Status{Fill: "blue", Shape: "dot", Text: "pid:" + strconv.Itoa(p.pid)})
	if n.timer > 0 {
		p.timer = time.AfterFunc(n.timer, func() { _ = p.cmd.Process.Signal(syscall.SIGTERM) })
	}
	return true
}

// unregister forgets an ended process; it reports whether it was still
// the node's (not dropped by a close).
func (n *execNode) unregister(p *execProc) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if p.timer != nil {
		p.timer.Stop()
	}
	if n.procs[p.pid] != p {
		return false
	}
	delete(n.procs, p.pid)
	return true
}

func (n *execNode) active(p *execProc) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.procs[p.pid] == p
}

// finish ends the handling of m: a message whose command outlived the node
// was not handled.
func (n *execNode) finish(c node.Ctx, m *msg.Msg) {
	n.mu.Lock()
	closed := n.closed
	n.mu.Unlock()
	if closed {
		m.Track.Done(errExecStopped)
		return
	}
	c.Done(m, nil)
}

// execOutput is a chunk of output as Node-RED hands it on: a string when
// it is valid UTF-8, else a Buffer.
func execOutput(b []byte) any {
	if utf8.Valid(b) {
		return string(b)
	}
	return append([]byte(nil), b...)
}

// --- spawn ---

// spawnWordRE splits a command line as Node-RED does for spawn: runs of
// non-space characters and double-quoted strings.
var spawnWordRE = regexp.MustCompile(`(?:[^\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}"]+|"[^"]*")+`)

func spawnArgs(line string) []string {
	words := spawnWordRE.FindAllString(line, -1)
	for i, w := range words {
		if len(w) >= 2 && w[0] == '"' && w[len(w)-1] == '"' && !strings.ContainsAny(w, "\n\r\u2028\u2029") {
			words[i] = w[1 : len(w)-1]
		}
	}
	return words
}

func (n *execNode) startSpawn(c node.Ctx, m *msg.Msg, line string) error {
	words := spawnArgs(line)
	if len(words) == 0 {
		c.Done(m, &TypeError{Msg: "Cannot read properties of null (reading 'map')"})
		return nil
	}
	cmd := exec.Command(words[0], words[1:]...)
	execGroup(cmd)
	stdout, err1 := cmd.StdoutPipe()
	stderr, err2 := cmd.StderrPipe()
	if err := errors.Join(err1, err2); err != nil {
		c.Done(m, err)
		return nil
	}
	if err := cmd.Start(); err != nil {
		// Node.js reports a spawn that failed as an exit with -errno.
		code := -2
		if e, ok := execErrno(err); ok {
			code = e
		}
		c.Status(node.Status{Fill: "blue", Shape: "dot", Text: "pid:undefined"})
		n.sendCode(c, m, float64(code), "")
		n.finish(c, m)
		return nil
	}
	p := &execProc{cmd: cmd, pid: cmd.Process.Pid}
	if !n.register(c, p) {
		go func() { _ = cmd.Wait() }()
		m.Track.Done(errExecStopped)
		return nil
	}
	go func() {
		var wg sync.WaitGroup
		wg.Add(2)
		go n.pump(c, m, p, stdout, 0, &wg)
		go n.pump(c, m, p, stderr, 1, &wg)
		wg.Wait()
		err := cmd.Wait()
		p.exited.Store(true)
		if n.unregister(p) {
			code, sig := exitOf(cmd, err)
			n.sendCode(c, m, code, sig)
		}
		n.finish(c, m)
	}()
	return nil
}

// pump sends what the process writes, chunk by chunk, on one output.
func (n *execNode) pump(c node.Ctx, m *msg.Msg, p *execProc, r io.Reader, port int, wg *sync.WaitGroup) {
	defer wg.Done()
	buf := make([]byte, 64*1024)
	for {
		k, err := r.Read(buf)
		if k > 0 && n.active(p) {
			out := m.Clone()
			out.Set("payload", execOutput(buf[:k]))
			c.SendTo(port, out)
		}
		if err != nil {
			return
		}
	}
}

// exitOf is the code and signal Node.js gives a child's close event: the
// exit code, or null and the signal name.
func exitOf(cmd *exec.Cmd, err error) (any, string) {
	st := cmd.ProcessState
	if st == nil {
		return float64(-1), ""
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return nil, execSignalName(ws.Signal())
	}
	return float64(st.ExitCode()), ""
}

// sendCode sends the return code on the third output, with the status
// Node-RED shows for it.
func (n *execNode) sendCode(c node.Ctx, m *msg.Msg, code any, sig string) {
	out := m.Clone()
	if n.oldrc {
		out.Set("payload", code)
	} else {
		rc := msg.ObjectOf("code", code)
		if sig != "" {
			rc.Set("signal", sig)
		}
		out.Set("payload", rc)
	}
	f, isNum := code.(float64)
	switch {
	case !isNum:
		c.Status(node.Status{Fill: "red", Shape: "dot", Text: "killed"})
	case f < 0:
		c.Status(node.Status{Fill: "red", Shape: "dot", Text: "rc:" + msg.FormatNumber(f)})
	default:
		// Node-RED clears the status for 0 and then, falling through,
		// shows rc:0 anyway.
		c.Status(node.Status{Fill: "yellow", Shape: "dot", Text: "rc:" + msg.FormatNumber(f)})
	}
	c.SendTo(2, out)
}

// --- exec ---

// execMaxBuffer is the default of Node-RED's execMaxBufferSize setting.
const execMaxBuffer = 10000000

// capped keeps up to max bytes; past that it calls over once.
type capped struct {
	b    []byte
	max  int
	over func()
	hit  bool
}

func (w *capped) Write(p []byte) (int, error) {
	if w.hit {
		return len(p), nil
	}
	if len(w.b)+len(p) > w.max {
		w.b = append(w.b, p[:w.max-len(w.b)]...)
		w.hit = true
		w.over()
		return len(p), nil
	}
	w.b = append(w.b, p...)
	return len(p), nil
}

func (n *execNode) startExec(c node.Ctx, m *msg.Msg, line string) error {
	max := execMaxBuffer
	if v, ok := c.Setting("execMaxBufferSize"); ok {
		if f, ok := msg.Num(v); ok && f > 0 {
			max = int(f)
		}
	}
	sh := execShell()
	cmd := exec.Command(sh[0], append(sh[1:], line)...)
	execGroup(cmd)
	var overflow sync.Once
	overflowed := ""
	kill := func(stream string) func() {
		return func() {
			overflow.Do(func() {
				overflowed = stream
				if cmd.Process != nil {
					_ = cmd.Process.Signal(syscall.SIGTERM)
				}
			})
		}
	}
	stdout := &capped{max: max, over: kill("stdout")}
	stderr := &capped{max: max, over: kill("stderr")}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		code := -2
		if e, ok := execErrno(err); ok {
			code = e
		}
		n.execDone(c, m, line, nil, nil, float64(code), "", err.Error())
		n.finish(c, m)
		return nil
	}
	p := &execProc{cmd: cmd, pid: cmd.Process.Pid}
	if !n.register(c, p) {
		go func() { _ = cmd.Wait() }()
		m.Track.Done(errExecStopped)
		return nil
	}
	go func() {
		err := cmd.Wait()
		p.exited.Store(true)
		n.unregister(p)
		code, sig := exitOf(cmd, err)
		if overflowed != "" {
			n.execDone(c, m, line, stdout.b, stderr.b, "ERR_CHILD_PROCESS_STDIO_MAXBUFFER", "", overflowed+" maxBuffer length exceeded")
		} else {
			n.execDone(c, m, line, stdout.b, stderr.b, code, sig, "")
		}
		n.finish(c, m)
	}()
	return nil
}

func (n *execNode) isClosed() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.closed
}

// execDone sends what child_process.exec's callback gets: stdout on the
// first output, stderr on the second (when there is any), the outcome on
// the third and in msg.rc. A code of 0 without a signal is success.
func (n *execNode) execDone(c node.Ctx, m *msg.Msg, line string, stdout, stderr []byte, code any, sig, errMsg string) {
	if n.isClosed() {
		return
	}
	m.Delete("payload")
	var m2 *msg.Msg
	if len(stderr) > 0 {
		m2 = m.Clone()
		m2.Set("payload", execOutput(stderr))
	}
	m.Set("payload", execOutput(stdout))
	c.Status(node.Status{})
	var rc *msg.Object
	failed := errMsg != "" || sig != "" || code != 0.0
	if failed {
		if errMsg == "" {
			// Node.js reads the output as latin1 ("binary") for its message.
			errMsg = "Command failed: " + line + "\n" + latin1(stderr)
		}
		rc = msg.ObjectOf("code", code, "message", errMsg)
		if sig != "" {
			rc.Set("signal", sig)
		}
		if code == nil {
			c.Status(node.Status{Fill: "red", Shape: "dot", Text: "killed"})
		} else {
			c.Status(node.Status{Fill: "red", Shape: "dot", Text: "error:" + jsString(code)})
		}
	} else if !n.oldrc {
		rc = msg.ObjectOf("code", 0.0)
	}
	var m3 *msg.Msg
	if rc != nil {
		m3 = m.Clone()
		m3.Set("payload", rc)
		// Node-RED shares one object; copies keep concurrent flows apart.
		m.Set("rc", rc.Clone())
		if m2 != nil {
			m2.Set("rc", rc.Clone())
		}
	}
	ports := [][]*msg.Msg{{m}, nil, nil}
	if m2 != nil {
		ports[1] = []*msg.Msg{m2}
	}
	if m3 != nil {
		ports[2] = []*msg.Msg{m3}
	}
	c.SendPorts(ports)
}

func latin1(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		s.WriteRune(rune(c))
	}
	return s.String()
}

// execKillGrace is how long a command may take to end after SIGTERM when
// the flows stop before it is killed outright.
const execKillGrace = 5 * time.Second

// Close ends the running commands, as Node-RED does, and makes sure that
// they do not outlive the node by much.
func (n *execNode) Close(ctx context.Context, removed bool) error {
	n.mu.Lock()
	n.closed = true
	procs := n.procs
	n.procs = map[int]*execProc{}
	n.mu.Unlock()
	for _, p := range procs {
		if p.timer != nil {
			p.timer.Stop()
		}
		execKillGroup(p.pid, syscall.SIGTERM)
		time.AfterFunc(execKillGrace, func() {
			if !p.exited.Load() {
				execKillGroup(p.pid, os.Kill)
			}
		})
	}
	return nil
}

func asErrno(err error, target *syscall.Errno) bool {
	if errors.Is(err, exec.ErrNotFound) {
		*target = syscall.ENOENT
		return true
	}
	return errors.As(err, target)
}
