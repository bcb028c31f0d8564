package jsonataref

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/dop251/goja"
)

var (
	//go:embed js/prelude.js
	preludeSrc string
	//go:embed js/jsonata.js
	jsonataSrc string
	//go:embed js/moment.min.js
	momentSrc string
	//go:embed js/moment-timezone-with-data.min.js
	momentTZSrc string
)

// Programs are compiled once and run in every runtime.
var (
	progOnce    sync.Once
	progErr     error
	preludeProg *goja.Program
	jsonataProg *goja.Program

	momentOnce   sync.Once
	momentErr    error
	momentProgs  []*goja.Program
	maxCacheSize = 512 // compiled expressions kept per runtime
)

func loadPrograms() error {
	progOnce.Do(func() {
		src, err := patchLookup(jsonataSrc)
		if err != nil {
			progErr = err
			return
		}
		if preludeProg, err = goja.Compile("prelude.js", preludeSrc, false); err != nil {
			progErr = fmt.Errorf("jsonataref: prelude: %w", err)
			return
		}
		if jsonataProg, err = goja.Compile("jsonata.js", src, false); err != nil {
			progErr = fmt.Errorf("jsonataref: jsonata.js: %w", err)
		}
	})
	return progErr
}

func loadMomentPrograms() error {
	momentOnce.Do(func() {
		for _, f := range []struct{ name, src string }{
			{"moment.min.js", momentSrc},
			{"moment-timezone-with-data.min.js", momentTZSrc},
		} {
			p, err := goja.Compile(f.name, f.src, false)
			if err != nil {
				momentErr = fmt.Errorf("jsonataref: %s: %w", f.name, err)
				return
			}
			momentProgs = append(momentProgs, p)
		}
	})
	return momentErr
}

// A runtime is not safe for concurrent use and loading jsonata into one
// takes milliseconds, so loaded runtimes are pooled. A channel rather than
// sync.Pool: the GC must not throw loaded runtimes away.
var pool = make(chan *state, max(2, runtime.GOMAXPROCS(0)+1))

func get() (*state, error) {
	select {
	case s := <-pool:
		return s, nil
	default:
		return newState()
	}
}

func put(s *state) {
	select {
	case pool <- s:
	default:
	}
}

// state is one goja runtime with jsonata loaded.
type state struct {
	rt        *goja.Runtime
	jsonata   goja.Callable
	evaluate  goja.Callable
	define    goja.Callable
	bufCtor   *goja.Object
	undefined goja.Value

	cache map[string]*goja.Object // compiled expressions by source
	// funcs are the JS faces of bound Go functions, by name and signature;
	// each calls whatever cur holds for its name in the current evaluation.
	funcs  map[string]goja.Value
	cur    map[string]func([]any) (any, error)
	moment goja.Value

	// thrown is the JS value last thrown for a Go function's error, so the
	// rejection can be traced back to the Go error.
	thrown    *goja.Object
	thrownErr error
}

func newState() (*state, error) {
	if err := loadPrograms(); err != nil {
		return nil, err
	}
	rt := goja.New()
	// Deep recursion in an expression becomes an error, not unbounded memory.
	rt.SetMaxCallStackSize(50000)
	s := &state{
		rt:        rt,
		undefined: goja.Undefined(),
		cache:     map[string]*goja.Object{},
		funcs:     map[string]goja.Value{},
		cur:       map[string]func([]any) (any, error){},
	}
	g := rt.GlobalObject()
	if err := g.Set("__sluiceBufferToString", s.bufferToString); err != nil {
		return nil, err
	}
	if err := g.Set("__sluiceDecodeString", s.decodeString); err != nil {
		return nil, err
	}
	if err := g.Set("__sluiceLoadMoment", s.loadMoment); err != nil {
		return nil, err
	}
	if _, err := rt.RunProgram(preludeProg); err != nil {
		return nil, fmt.Errorf("jsonataref: prelude: %w", err)
	}
	if _, err := rt.RunProgram(jsonataProg); err != nil {
		return nil, fmt.Errorf("jsonataref: jsonata.js: %w", err)
	}
	var ok bool
	if s.jsonata, ok = goja.AssertFunction(g.Get("jsonata")); !ok {
		return nil, errors.New("jsonataref: jsonata.js did not define jsonata()")
	}
	s.evaluate, _ = goja.AssertFunction(g.Get("__sluiceEvaluate"))
	s.define, _ = goja.AssertFunction(g.Get("__sluiceDefine"))
	s.bufCtor = g.Get("__sluiceBuffer").ToObject(rt)
	return s, nil
}

// compiled returns the library's expression object for src, compiling it in
// this runtime on first use.
func (s *state) compiled(src string) (*goja.Object, error) {
	if c, ok := s.cache[src]; ok {
		return c, nil
	}
	v, err := s.jsonata(goja.Undefined(), s.rt.ToValue(src))
	if err != nil {
		return nil, s.jsError(err)
	}
	if len(s.cache) >= maxCacheSize {
		clear(s.cache)
	}
	c := v.ToObject(s.rt)
	s.cache[src] = c
	return c, nil
}

// eval runs one evaluation; healthy is false when the runtime must not be
// reused (interrupted, stack overflow).
func (s *state) eval(ctx context.Context, src string, input any, bindings map[string]any) (res any, err error, healthy bool) {
	defer func() {
		clear(s.cur)
		s.thrown, s.thrownErr = nil, nil
	}()
	c, err := s.compiled(src)
	if err != nil {
		return nil, err, true
	}
	in, err := s.toJS(input, 0)
	if err != nil {
		return nil, err, true
	}
	b := s.rt.NewObject()
	for k, v := range bindings {
		jv, err := s.binding(k, v)
		if err != nil {
			return nil, err, true
		}
		if err := b.Set(k, jv); err != nil {
			return nil, err, true
		}
	}
	if ctx.Done() != nil {
		if err := ctx.Err(); err != nil {
			return nil, &Error{Message: "JSONata evaluation stopped: " + err.Error(), Err: err}, true
		}
		stop := context.AfterFunc(ctx, func() { s.rt.Interrupt(ctx.Err()) })
		defer func() {
			if !stop() {
				// The interrupt may land after we return: never reuse.
				healthy = false
			}
		}()
	}
	pv, err := s.evaluate(goja.Undefined(), c, in, b)
	if err != nil {
		var ie *goja.InterruptedError
		if errors.As(err, &ie) {
			cause := ctx.Err()
			return nil, &Error{Message: "JSONata evaluation stopped: " + fmt.Sprint(ie.Value()), Err: cause}, false
		}
		var so *goja.StackOverflowError
		if errors.As(err, &so) {
			return nil, &Error{Code: "U1001", Message: "Stack overflow error: Check for non-terminating recursive function.  Consider rewriting as tail-recursive."}, false
		}
		return nil, s.jsError(err), true
	}
	p, ok := pv.Export().(*goja.Promise)
	if !ok {
		return nil, errorf("jsonataref: evaluate did not return a promise"), true
	}
	switch p.State() {
	case goja.PromiseStateFulfilled:
		out, err := s.fromJS(p.Result(), 0)
		return out, err, true
	case goja.PromiseStateRejected:
		return nil, s.toError(p.Result()), true
	default:
		return nil, errorf("jsonataref: evaluation did not settle (a bound function returned a pending promise?)"), false
	}
}

// binding converts one binding value.
func (s *state) binding(name string, v any) (goja.Value, error) {
	switch f := v.(type) {
	case builtin:
		if f == Moment {
			return s.momentValue(), nil
		}
		return nil, errorf("jsonataref: unknown builtin binding %d for $%s", f, name)
	case Func:
		return s.goFunc(name, f.Signature, f.Fn)
	case *Func:
		return s.goFunc(name, f.Signature, f.Fn)
	case func([]any) (any, error):
		return s.goFunc(name, "", f)
	}
	return s.toJS(v, 0)
}

func (s *state) goFunc(name, sig string, fn func([]any) (any, error)) (goja.Value, error) {
	if fn == nil {
		return nil, errorf("jsonataref: nil function bound to $%s", name)
	}
	s.cur[name] = fn
	key := name + "\x00" + sig
	if f, ok := s.funcs[key]; ok {
		return f, nil
	}
	impl := s.rt.ToValue(func(call goja.FunctionCall) goja.Value {
		return s.callGo(name, call.Arguments)
	})
	if sig == "" {
		s.funcs[key] = impl
		return impl, nil
	}
	pv, err := s.define(goja.Undefined(), impl, s.rt.ToValue(sig))
	if err != nil {
		return nil, s.jsError(err)
	}
	p, _ := pv.Export().(*goja.Promise)
	if p == nil || p.State() != goja.PromiseStateFulfilled {
		if p != nil && p.State() == goja.PromiseStateRejected {
			e := s.toError(p.Result())
			e.Message = fmt.Sprintf("signature %q of $%s: %s", sig, name, e.Message)
			return nil, e
		}
		return nil, errorf("jsonataref: could not define $%s", name)
	}
	s.funcs[key] = p.Result()
	return p.Result(), nil
}

func (s *state) callGo(name string, args []goja.Value) goja.Value {
	fn := s.cur[name]
	if fn == nil {
		return goja.Undefined()
	}
	in := make([]any, len(args))
	for i, a := range args {
		v, err := s.fromJS(a, 0)
		if err != nil {
			s.throw(err)
		}
		in[i] = v
	}
	out, err := fn(in)
	if err != nil {
		s.throw(err)
	}
	v, err := s.toJS(out, 0)
	if err != nil {
		s.throw(err)
	}
	return v
}

// throw raises err in JavaScript from inside a Go function.
func (s *state) throw(err error) {
	var obj *goja.Object
	var je *Error
	if errors.As(err, &je) && je.Code != "" {
		obj = s.rt.NewObject()
		_ = obj.Set("code", je.Code)
		_ = obj.Set("message", je.Message)
	} else {
		obj = s.rt.NewGoError(err)
	}
	s.thrown, s.thrownErr = obj, err
	panic(obj)
}

// momentValue is $moment: moment-timezone is loaded into the runtime on the
// first call, since most expressions never use it.
func (s *state) momentValue() goja.Value {
	if s.moment == nil {
		s.moment = s.rt.ToValue(func(call goja.FunctionCall) goja.Value {
			m, ok := goja.AssertFunction(s.rt.GlobalObject().Get("moment"))
			if !ok {
				s.loadMoment()
				m, ok = goja.AssertFunction(s.rt.GlobalObject().Get("moment"))
				if !ok {
					panic(s.rt.NewGoError(errors.New("moment-timezone did not load")))
				}
			}
			// Node-RED passes exactly four arguments on, missing ones undefined.
			args := make([]goja.Value, 4)
			for i := range args {
				args[i] = call.Argument(i)
			}
			v, err := m(goja.Undefined(), args...)
			if err != nil {
				var ex *goja.Exception
				if errors.As(err, &ex) {
					panic(ex.Value())
				}
				panic(s.rt.NewGoError(err))
			}
			return v
		})
	}
	return s.moment
}

func (s *state) loadMoment() {
	if err := loadMomentPrograms(); err != nil {
		panic(s.rt.NewGoError(err))
	}
	for _, p := range momentProgs {
		if _, err := s.rt.RunProgram(p); err != nil {
			panic(s.rt.NewGoError(fmt.Errorf("jsonataref: loading moment: %w", err)))
		}
	}
}

// bufferToString is Buffer.prototype.toString for the encodings JSONata
// users reach for.
func (s *state) bufferToString(call goja.FunctionCall) goja.Value {
	b, _ := call.Argument(0).Export().([]byte)
	enc := "utf8"
	if a := call.Argument(1); !goja.IsUndefined(a) && !goja.IsNull(a) {
		enc = strings.ToLower(a.String())
	}
	start, end := 0, len(b)
	if a := call.Argument(2); !goja.IsUndefined(a) {
		start = clampIndex(a.ToInteger(), len(b))
	}
	if a := call.Argument(3); !goja.IsUndefined(a) {
		end = clampIndex(a.ToInteger(), len(b))
	}
	if end < start {
		end = start
	}
	str, err := encodeBytes(b[start:end], enc)
	if err != nil {
		panic(s.rt.NewTypeError(err.Error()))
	}
	return s.rt.ToValue(str)
}

// decodeString is the string half of Buffer.from(string, encoding).
func (s *state) decodeString(call goja.FunctionCall) goja.Value {
	enc := "utf8"
	if a := call.Argument(1); !goja.IsUndefined(a) && !goja.IsNull(a) {
		enc = strings.ToLower(a.String())
	}
	b, err := decodeString(call.Argument(0).String(), enc)
	if err != nil {
		panic(s.rt.NewTypeError(err.Error()))
	}
	return s.rt.ToValue(s.rt.NewArrayBuffer(b))
}

func clampIndex(i int64, n int) int {
	if i < 0 {
		return 0
	}
	if i > int64(n) {
		return n
	}
	return int(i)
}

// jsError turns an error from a goja call into an *Error.
func (s *state) jsError(err error) *Error {
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return s.toError(ex.Value())
	}
	return &Error{Message: err.Error(), Err: err}
}

// toError reads a thrown JSONata error object ({code, position, token,
// value, message}) or any other thrown value.
func (s *state) toError(v goja.Value) *Error {
	o, ok := v.(*goja.Object)
	if !ok {
		if v == nil || goja.IsUndefined(v) {
			return &Error{Message: "undefined"}
		}
		return &Error{Message: v.String()}
	}
	e := &Error{}
	if c := o.Get("code"); c != nil && !goja.IsUndefined(c) && !goja.IsNull(c) {
		e.Code = c.String()
	}
	if p := o.Get("position"); p != nil && !goja.IsUndefined(p) && !goja.IsNull(p) {
		e.Position = int(p.ToInteger())
	}
	if t := o.Get("token"); t != nil && !goja.IsUndefined(t) && !goja.IsNull(t) {
		e.Token = t.String()
	}
	if val := o.Get("value"); val != nil && !goja.IsUndefined(val) {
		if gv, err := s.fromJS(val, 0); err == nil {
			e.Value = gv
		}
	}
	if m := o.Get("message"); m != nil && !goja.IsUndefined(m) && !goja.IsNull(m) {
		e.Message = m.String()
	}
	if s.thrown != nil && o.SameAs(s.thrown) {
		e.Err = s.thrownErr
		if e.Message == "" {
			e.Message = s.thrownErr.Error()
		}
		if e.Code == "" {
			var je *Error
			if errors.As(s.thrownErr, &je) {
				e.Code = je.Code
			}
		}
	}
	if e.Message == "" && e.Code == "" {
		e.Message = o.String()
	}
	return e
}
