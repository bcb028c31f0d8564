package function

import (
	"bytes"
	"errors"
	"strconv"
	"sync"

	"github.com/dop251/goja"
	"github.com/dop251/goja_nodejs/buffer"
	"github.com/dop251/goja_nodejs/require"
	"github.com/dop251/goja_nodejs/url"
	nodeutil "github.com/dop251/goja_nodejs/util"

	"github.com/sluicehq/sluice/runtime/msg"
)

// maxCallStack turns runaway recursion into V8's RangeError instead of
// exhausting the goroutine's stack.
const maxCallStack = 10000

var errNoModules = errors.New("modules cannot be loaded from a function node")

// setup creates the node's runtime with the globals Node-RED's sandbox has:
// console, util, Buffer, URL, URLSearchParams, RED, context, flow, global,
// env, setTimeout/clearTimeout, setInterval/clearInterval, promisify.
func (n *fnNode) setup() error {
	vm := goja.New()
	vm.SetMaxCallStackSize(maxCallStack)
	n.vm = vm
	reg := require.NewRegistry(require.WithLoader(func(string) ([]byte, error) { return nil, errNoModules }))
	reg.Enable(vm)
	buffer.Enable(vm)
	url.Enable(vm)
	n.br = &bridge{vm: vm, buf: buffer.GetApi(vm)}
	utilObj := vm.NewObject()
	u := nodeutil.New(vm)
	_ = utilObj.Set("format", func(c goja.FunctionCall) goja.Value {
		var b bytes.Buffer
		if len(c.Arguments) == 0 {
			return vm.ToValue("")
		}
		if s, ok := c.Arguments[0].Export().(string); ok {
			u.Format(&b, s, c.Arguments[1:]...)
		} else {
			u.Format(&b, "", c.Arguments...)
		}
		return vm.ToValue(b.String())
	})
	_ = utilObj.Set("inspect", func(c goja.FunctionCall) goja.Value {
		return vm.ToValue(n.inspect(c.Argument(0)))
	})
	// The sandbox has no require: Buffer and URL are in place already.
	_ = vm.GlobalObject().Delete("require")
	_ = vm.Set("util", utilObj)
	n.makeAPI()
	n.setConsole()
	n.setContexts()
	n.setEnv()
	n.setTimers()
	n.setRED()
	n.setBufferExtras()
	n.guardRegexps()
	if _, err := vm.RunProgram(preludeProg()); err != nil {
		return err
	}
	f, err := vm.RunProgram(n.body)
	if err != nil {
		return err
	}
	n.fn, _ = goja.AssertFunction(f)
	return nil
}

// The sandbox's own scripts are compiled once per process: parsing them
// for every node made a flow with hundreds of function nodes slow to deploy.
var (
	preludeProg = compileOnce("sluice:prelude", prelude)
	bufferProg  = compileOnce("sluice:buffer", bufferJS)
	redUtilProg = compileOnce("sluice:RED.util", redUtilJS)
	timersProg  = compileOnce("sluice:timers", timersJS)
)

func compileOnce(name, src string) func() *goja.Program {
	return sync.OnceValue(func() *goja.Program { return goja.MustCompile(name, src, false) })
}

// prelude completes the sandbox in JavaScript where that is simplest.
const prelude = `(function(g){
	const u = g.util;
	u.promisify = function(fn) {
		if (typeof fn !== "function") { throw new TypeError('The "original" argument must be of type function'); }
		if (fn[u.promisify.custom]) { return fn[u.promisify.custom]; }
		return function(...args) {
			return new Promise((resolve, reject) => {
				fn.call(this, ...args, (err, ...values) => {
					if (err) { reject(err); } else { resolve(values.length > 1 ? values : values[0]); }
				});
			});
		};
	};
	u.promisify.custom = Symbol.for("nodejs.util.promisify.custom");
	u.isArray = Array.isArray;
	u.inherits = function(ctor, superCtor) {
		Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
		Object.setPrototypeOf(ctor, superCtor);
	};
	u.isDeepStrictEqual = function(a, b) { return JSON.stringify(a) === JSON.stringify(b); };
	u.types = {
		isDate: v => v instanceof Date,
		isRegExp: v => v instanceof RegExp,
		isPromise: v => v instanceof Promise,
		isNativeError: v => v instanceof Error,
	};
	g.setTimeout[u.promisify.custom] = function(after, value) {
		return new Promise(resolve => g.setTimeout(() => resolve(value), after));
	};
	g.promisify = u.promisify;
	delete g.util.TextEncoder;
})(globalThis);
`

func (n *fnNode) setConsole() {
	vm := n.vm
	con := vm.NewObject()
	line := func(c goja.FunctionCall) string {
		var b bytes.Buffer
		for i, a := range c.Arguments {
			if i > 0 {
				b.WriteByte(' ')
			}
			if s, ok := a.Export().(string); ok {
				b.WriteString(s)
			} else {
				b.WriteString(n.inspect(a))
			}
		}
		return b.String()
	}
	for _, name := range []string{"log", "info", "debug", "trace"} {
		_ = con.Set(name, func(c goja.FunctionCall) goja.Value {
			n.c.Log().Info(line(c), "source", "console")
			return goja.Undefined()
		})
	}
	for _, name := range []string{"warn", "error"} {
		_ = con.Set(name, func(c goja.FunctionCall) goja.Value {
			n.c.Log().Warn(line(c), "source", "console")
			return goja.Undefined()
		})
	}
	_ = vm.Set("console", con)
}

// inspect is util.inspect for a JavaScript value.
func (n *fnNode) inspect(v goja.Value) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	}
	if o, ok := v.(*goja.Object); ok {
		if _, isFn := goja.AssertFunction(o); isFn {
			name := o.Get("name").String()
			if name == "" {
				return "[Function (anonymous)]"
			}
			return "[Function: " + name + "]"
		}
		if isError(o) {
			if s := o.Get("stack"); s != nil && !goja.IsUndefined(s) {
				return n.v8Stack(o.String(), s.String())
			}
			return o.String()
		}
	}
	return msg.Inspect(n.br.toGo(v))
}

func (n *fnNode) setEnv() {
	env := n.vm.NewObject()
	_ = env.Set("get", func(c goja.FunctionCall) goja.Value {
		v, ok := n.c.Env(c.Argument(0).String())
		if !ok {
			return goja.Undefined()
		}
		return n.br.toJS(v)
	})
	_ = n.vm.Set("env", env)
}

func itoa(i int) string { return strconv.Itoa(i) }
