package function

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/dop251/goja"

	"github.com/sluicehq/sluice/runtime/msg"
)

// Errors reach catch nodes as Node-RED builds msg.error: message is the
// thrown value's toString() ("TypeError: ...", or a thrown string as it
// is), and an Error also gives stack and code.

// textError is a thrown string (no stack).
type textError string

func (e textError) Error() string { return string(e) }

// stackError is a thrown Error.
type stackError struct{ text, stack string }

func (e *stackError) Error() string { return e.text }
func (e *stackError) Stack() string { return e.stack }

// codeError is a thrown Error with a code property.
type codeError struct {
	stackError
	code string
}

func (e *codeError) Code() string { return e.code }

func isError(o *goja.Object) bool { return o.ClassName() == "Error" }

// hasOwn is Object.hasOwn.
func hasOwn(o *goja.Object, key string) bool {
	for _, k := range o.GetOwnPropertyNames() {
		if k == key {
			return true
		}
	}
	return false
}

// v8Messages rewrites goja's wording of common errors to V8's, which is
// what flows (and catch nodes) see from Node-RED.
var v8Messages = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`^Cannot read property '(.*)' of (undefined|null)$`), "Cannot read properties of $2 (reading '$1')"},
	{regexp.MustCompile(`^Cannot set property '(.*)' of (undefined|null)$`), "Cannot set properties of $2 (setting '$1')"},
	{regexp.MustCompile(`^Object has no member '(.*)'$`), "$1 is not a function"},
	{regexp.MustCompile(`^Maximum call stack size exceeded.*$`), "Maximum call stack size exceeded"},
}

func v8Message(s string) string {
	for _, m := range v8Messages {
		if m.re.MatchString(s) {
			return m.re.ReplaceAllString(s, m.repl)
		}
	}
	return s
}

// errText is an Error's toString() with V8's wording.
func errText(o *goja.Object) string {
	name := "Error"
	if v := o.Get("name"); v != nil && !goja.IsUndefined(v) {
		name = v.String()
	}
	m := ""
	if v := o.Get("message"); v != nil && !goja.IsUndefined(v) {
		m = v8Message(v.String())
	}
	switch {
	case name == "":
		return m
	case m == "":
		return name
	}
	return name + ": " + m
}

// frameRE reads a goja stack frame: "at name (file:line:col(pc))".
var frameRE = regexp.MustCompile(`^\s*at (?:(.*?) \()?(.*):(\d+):(\d+)\(\d+\)\)?$`)

// v8Stack rewrites goja's stack text in V8's form: the error line, then
// "    at name (file:line:col)" frames; frames of Go functions are dropped.
func (n *fnNode) v8Stack(head, stack string) string {
	var b strings.Builder
	b.WriteString(head)
	for _, line := range strings.Split(stack, "\n")[1:] {
		m := frameRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		b.WriteString("\n    at ")
		loc := m[2] + ":" + m[3] + ":" + m[4]
		if m[1] == "" || m[1] == "<anonymous>" {
			b.WriteString(loc)
		} else {
			b.WriteString(m[1] + " (" + loc + ")")
		}
	}
	return b.String()
}

// firstFrame is the line and column of the innermost JavaScript frame.
func firstFrame(stack string) (line, col string, ok bool) {
	for _, l := range strings.Split(stack, "\n")[1:] {
		if m := frameRE.FindStringSubmatch(l); m != nil {
			return m[3], m[4], true
		}
	}
	return "", "", false
}

// errorValue is Node-RED's node.error(value) / done(value) error: the
// value's toString(), with stack and code when it has them.
func (n *fnNode) errorValue(v goja.Value) error {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	o, ok := v.(*goja.Object)
	if !ok {
		return textError(v.String())
	}
	text := o.String()
	if isError(o) {
		text = errText(o)
	}
	if !hasOwn(o, "stack") {
		return textError(text)
	}
	se := stackError{text: text, stack: n.v8Stack(text, o.Get("stack").String())}
	if hasOwn(o, "code") {
		return &codeError{stackError: se, code: o.Get("code").String()}
	}
	return &se
}

// jsError is the error for what the code threw or its promise rejected
// with, as Node-RED's function node reports it. r (when not nil) is the
// message being handled: an Error is also stored as its msg.error.
func (n *fnNode) jsError(reason goja.Value, r *run) error {
	o, ok := reason.(*goja.Object)
	if !ok {
		if reason == nil || goja.IsUndefined(reason) {
			return nil
		}
		if s, isStr := reason.Export().(string); isStr {
			return textError(s)
		}
		return textError(reason.String())
	}
	if !hasOwn(o, "stack") {
		j, err := n.vm.RunString("(JSON.stringify)")
		if err == nil {
			if f, ok := goja.AssertFunction(j); ok {
				if s, err := f(goja.Undefined(), o); err == nil && !goja.IsUndefined(s) {
					return textError(s.String())
				}
			}
		}
		return textError(o.String())
	}
	if r != nil && r.m != nil {
		props := msg.NewObject(0)
		for _, k := range o.Keys() {
			props.Set(k, n.br.toGo(o.Get(k)))
		}
		r.m.Set("error", props)
	}
	rawStack := o.Get("stack").String()
	text := errText(o)
	stack := n.v8Stack(text, rawStack)
	if isError(o) && o.Get("name").String() == "ReferenceError" {
		// Node-RED names the line and column of a ReferenceError, counting
		// lines of the function body.
		if line, col, ok := firstFrame(rawStack); ok {
			text = "ReferenceError: " + text + " (line " + decr(line) + ", col " + col + ")"
		}
	}
	se := stackError{text: text, stack: stack}
	if hasOwn(o, "code") {
		return &codeError{stackError: se, code: o.Get("code").String()}
	}
	return &se
}

func decr(s string) string {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return itoa(n - 1)
}

// errorOf converts an error from running code: an interrupt (timeout,
// memory, stop), or an exception.
func (n *fnNode) errorOf(err error) error {
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		text := "Error: " + fmt.Sprint(ie.Value())
		return &stackError{text: text, stack: text}
	}
	var so *goja.StackOverflowError
	if errors.As(err, &so) {
		// Uncatchable in goja, a RangeError in V8: reported as V8 words it.
		text := "RangeError: Maximum call stack size exceeded"
		return &stackError{text: text, stack: n.v8Stack(text, so.String())}
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		if e := n.errorValue(ex.Value()); e != nil {
			return e
		}
	}
	return err
}

// throwError makes a JavaScript Error to throw from Go.
func (n *fnNode) throwError(text string) *goja.Object {
	e, err := n.vm.New(n.vm.Get("Error"), n.vm.ToValue(text))
	if err != nil {
		return n.vm.NewGoError(errors.New(text))
	}
	return e
}
