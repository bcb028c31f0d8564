package function

import (
	"github.com/dop251/goja"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// apiFuncs are the node's methods that do not depend on the message being
// handled, made once per runtime.
type apiFuncs struct {
	id, name, path, outputCount  goja.Value
	log, warn, err, debug, trace goja.Value
	on, status, linkcall         goja.Value
	sendSetup, sendCleanup       goja.Value
	nodeKeys                     []string
}

const (
	modeMessage = iota
	modeSetup
	modeCleanup
)

// nodeView is the `node` object the code sees. Node-RED builds it afresh
// for each message (send and done belong to that message); here it is a
// small Go object whose send and done are made only if the code reads them.
type nodeView struct {
	n          *fnNode
	r          *run
	mode       int
	send, done goja.Value
	extra      *msg.Object // properties the code added (values kept as JS)
}

func (v *nodeView) Get(key string) goja.Value {
	a := &v.n.api
	switch key {
	case "id":
		return a.id
	case "name":
		return a.name
	case "path":
		return a.path
	case "outputCount":
		return a.outputCount
	case "log":
		return a.log
	case "warn":
		return a.warn
	case "error":
		return a.err
	case "debug":
		return a.debug
	case "trace":
		return a.trace
	case "status":
		return a.status
	case "send":
		switch v.mode {
		case modeSetup:
			return a.sendSetup
		case modeCleanup:
			return a.sendCleanup
		}
		if v.send == nil {
			r := v.r
			v.send = v.n.vm.ToValue(func(c goja.FunctionCall) goja.Value {
				clone := !(len(c.Arguments) > 1 && isFalse(c.Arguments[1]))
				r.n.sendResults(r, c.Argument(0), clone)
				return goja.Undefined()
			})
		}
		return v.send
	}
	if v.mode == modeMessage {
		switch key {
		case "on":
			return a.on
		case "linkcall":
			return a.linkcall
		case "done":
			if v.done == nil {
				r := v.r
				v.done = v.n.vm.ToValue(func(c goja.FunctionCall) goja.Value {
					arg := c.Argument(0)
					if goja.IsUndefined(arg) || goja.IsNull(arg) {
						r.finish(nil)
					} else {
						r.finish(r.n.errorValue(arg))
					}
					return goja.Undefined()
				})
			}
			return v.done
		}
	}
	if v.extra != nil {
		if x, ok := v.extra.Get(key); ok {
			jv, _ := x.(goja.Value)
			return jv
		}
	}
	return nil
}

func (v *nodeView) Set(key string, val goja.Value) bool {
	if v.extra == nil {
		v.extra = msg.NewObject(1)
	}
	v.extra.Set(key, val)
	return true
}

func (v *nodeView) Has(key string) bool { return v.Get(key) != nil }

func (v *nodeView) Delete(key string) bool {
	if v.extra != nil {
		v.extra.Delete(key)
	}
	return true
}

func (v *nodeView) Keys() []string {
	var ks []string
	switch v.mode {
	case modeMessage:
		ks = []string{"id", "name", "path", "outputCount", "log", "error", "warn", "debug", "trace", "on", "status", "send", "done", "linkcall"}
	default:
		ks = []string{"id", "name", "path", "outputCount", "log", "error", "warn", "debug", "trace", "status", "send"}
	}
	if v.extra != nil {
		ks = append(ks, v.extra.Keys()...)
	}
	return ks
}

// makeAPI builds the shared node methods.
func (n *fnNode) makeAPI() {
	vm := n.vm
	a := &n.api
	a.id = vm.ToValue(n.id)
	a.name = vm.ToValue(n.name)
	a.path = goja.Undefined()
	a.outputCount = vm.ToValue(float64(n.outputs))
	logAt := func(level string) goja.Value {
		return vm.ToValue(func(c goja.FunctionCall) goja.Value {
			text := n.logText(c.Argument(0))
			switch level {
			case "warn":
				n.c.Warn(text)
			case "info":
				n.c.Log().Info(text)
			default:
				n.c.Log().Debug(text, "level", level)
			}
			return goja.Undefined()
		})
	}
	a.log = logAt("info")
	a.warn = logAt("warn")
	a.debug = logAt("debug")
	a.trace = logAt("trace")
	a.err = vm.ToValue(func(c goja.FunctionCall) goja.Value {
		arg := c.Argument(0)
		err := n.errorValue(arg)
		if err == nil {
			err = textError("")
		}
		var m *msg.Msg
		if o, ok := c.Argument(1).(*goja.Object); ok {
			m = n.msgOf(o)
		}
		n.br.flush()
		n.c.Error(err, m)
		return goja.Undefined()
	})
	a.status = vm.ToValue(func(c goja.FunctionCall) goja.Value {
		n.statusUsed = true
		n.c.Status(n.statusOf(c.Argument(0)))
		return goja.Undefined()
	})
	a.on = vm.ToValue(func(c goja.FunctionCall) goja.Value {
		ev := c.Argument(0).String()
		switch ev {
		case "input":
			panic(n.throwError("Cannot add listener to 'input' event within Function"))
		case "close":
			if _, ok := goja.AssertFunction(c.Argument(1)); ok {
				n.closeH = append(n.closeH, c.Argument(1))
			}
		}
		return goja.Undefined()
	})
	a.linkcall = vm.ToValue(func(c goja.FunctionCall) goja.Value {
		p, _, reject := vm.NewPromise()
		_ = reject(n.throwError("node.linkcall is not supported by Sluice's function node"))
		return vm.ToValue(p)
	})
	a.sendSetup = vm.ToValue(func(c goja.FunctionCall) goja.Value {
		clone := !(len(c.Arguments) > 1 && isFalse(c.Arguments[1]))
		n.sendResults(&run{n: n, msgid: msg.NewID(), done: true}, c.Argument(0), clone)
		return goja.Undefined()
	})
	a.sendCleanup = vm.ToValue(func(c goja.FunctionCall) goja.Value {
		n.c.Error(textError("Cannot send from close function"), nil)
		return goja.Undefined()
	})
}

// logText is what node.log and friends print: strings as they are, other
// values as util.inspect shows them, Errors as their toString().
func (n *fnNode) logText(v goja.Value) string {
	if o, ok := v.(*goja.Object); ok {
		if isError(o) {
			return o.String()
		}
		return msg.Inspect(n.br.toGo(o))
	}
	if goja.IsUndefined(v) {
		return "undefined"
	}
	return v.String()
}

// statusOf reads node.status's argument: an object {fill, shape, text}, or
// a string, number or boolean as the text.
func (n *fnNode) statusOf(v goja.Value) node.Status {
	o, ok := v.(*goja.Object)
	if !ok {
		if goja.IsUndefined(v) || goja.IsNull(v) {
			return node.Status{}
		}
		return node.Status{Text: v.String()}
	}
	var s node.Status
	str := func(k string) string {
		x := o.Get(k)
		if x == nil || goja.IsUndefined(x) || goja.IsNull(x) {
			return ""
		}
		return x.String()
	}
	s.Fill = str("fill")
	s.Shape = str("shape")
	s.Text = str("text")
	return s
}

// msgOf gives the Go message for a message object from the code: the
// message being handled keeps its delivery state.
func (n *fnNode) msgOf(o *goja.Object) *msg.Msg {
	gv := n.br.toGo(o)
	obj, ok := gv.(*msg.Object)
	if !ok {
		return nil
	}
	if n.cur != nil && n.cur.m.Object == obj {
		return n.cur.m
	}
	for r := range n.runs {
		if r.m.Object == obj {
			return r.m
		}
	}
	return msg.Wrap(obj)
}

// sendResults sends what the code returned or passed to node.send, as
// Node-RED does: one message, an array with one entry per output, an
// inner array for several messages on one output; null entries skip an
// output. Every message gets the _msgid of the message being handled; with
// clone, the first message is a copy (node.send's default).
func (n *fnNode) sendResults(r *run, v goja.Value, clone bool) {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return
	}
	outer := n.listOf(v)
	if outer == nil {
		if o, ok := v.(*goja.Object); ok && o.ExportType() == tObjProxy {
			// The common case: one message object on output 0.
			n.c.Send(n.outMsg(r, o, clone))
			return
		}
		outer = []goja.Value{v}
	}
	ports := make([][]*msg.Msg, len(outer))
	count := 0
	for i, e := range outer {
		if !e.ToBoolean() {
			continue
		}
		inner := n.listOf(e)
		if inner == nil {
			inner = []goja.Value{e}
		}
		for _, m := range inner {
			if m == nil || goja.IsUndefined(m) || goja.IsNull(m) {
				continue
			}
			o, isObj := m.(*goja.Object)
			_, isFn := goja.AssertFunction(m)
			if !isObj || isFn || n.listOf(o) != nil || n.isBuffer(o) {
				n.c.Error(textError("Function tried to send a message of type "+jsTypeName(n, m)), nil)
				continue
			}
			ports[i] = append(ports[i], n.outMsg(r, o, clone && count == 0))
			count++
		}
	}
	if count == 0 {
		return
	}
	if len(ports) == 1 && len(ports[0]) == 1 {
		n.c.Send(ports[0][0])
		return
	}
	n.c.SendPorts(ports)
}

// outMsg makes the Go message for a message object being sent.
func (n *fnNode) outMsg(r *run, o *goja.Object, clone bool) *msg.Msg {
	var track *msg.Tracker
	if r.m != nil && !r.done {
		track = r.m.Track
	}
	if clone {
		c, ok := n.br.cloneGo(n.br.toGo(o)).(*msg.Object)
		if !ok {
			// A Date or the like sent as a message: nothing to copy.
			c = msg.NewObject(1)
		}
		setMsgID(c, r.msgid)
		return &msg.Msg{Object: c, Track: track}
	}
	if o.ExportType() == tObjProxy {
		p := o.Export().(*objProxy)
		setMsgID(p.o, r.msgid)
		n.br.flush()
		if r.m != nil && p.o == r.m.Object {
			return r.m
		}
		return &msg.Msg{Object: p.o, Track: track}
	}
	if !msg.IsUndefined(r.msgid) {
		_ = o.Set("_msgid", n.br.toJS(r.msgid))
	}
	n.br.flush()
	obj, _ := n.br.toGo(o).(*msg.Object)
	if obj == nil {
		obj = msg.NewObject(1)
	}
	setMsgID(obj, r.msgid)
	return &msg.Msg{Object: obj, Track: track}
}

// setMsgID gives a sent message the _msgid of the message being handled;
// without one the engine assigns a new id, as Node-RED's send does.
func setMsgID(o *msg.Object, id any) {
	if msg.IsUndefined(id) {
		if v, ok := o.Get("_msgid"); ok && msg.IsUndefined(v) {
			o.Delete("_msgid")
		}
		return
	}
	o.Set("_msgid", id)
}

// listOf returns the elements of a JavaScript array (native or a proxy),
// nil for anything else.
func (n *fnNode) listOf(v goja.Value) []goja.Value {
	o, ok := v.(*goja.Object)
	if !ok {
		return nil
	}
	switch o.ExportType() {
	case tArrProxy:
		a := o.Export().(*arrProxy)
		out := make([]goja.Value, a.Len())
		for i := range out {
			out[i] = a.Get(i)
			if out[i] == nil {
				out[i] = goja.Undefined()
			}
		}
		return out
	}
	if o.ClassName() != "Array" {
		return nil
	}
	l := int(o.Get("length").ToInteger())
	out := make([]goja.Value, l)
	for i := range out {
		out[i] = o.Get(itoa(i))
	}
	return out
}

func (n *fnNode) isBuffer(o *goja.Object) bool {
	return o.ExportType() == tBytes && n.br.isUint8(o)
}

// jsTypeName is the type Node-RED names in "tried to send a message of
// type ...".
func jsTypeName(n *fnNode, v goja.Value) string {
	o, ok := v.(*goja.Object)
	if !ok {
		switch v.ExportType() {
		case tString:
			return "string"
		case tBool:
			return "boolean"
		case tInt64, tFloat64:
			return "number"
		case tBigInt:
			return "bigint"
		}
		return "symbol"
	}
	if _, isFn := goja.AssertFunction(o); isFn {
		return "function"
	}
	if n.isBuffer(o) {
		return "Buffer"
	}
	if n.listOf(o) != nil {
		return "Array"
	}
	return "Date"
}

func isFalse(v goja.Value) bool {
	return v.ExportType() == tBool && !v.ToBoolean()
}
