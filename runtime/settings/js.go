package settings

import (
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/dop251/goja"
	"github.com/sluicehq/sluice/runtime/msg"
)

// jsTimeout bounds the evaluation of a settings.js: a settings file that
// loops must not hang the start.
var jsTimeout = 5 * time.Second

// evalJS evaluates a Node-RED settings.js and returns the plain data of
// its module.exports, and the paths of what was not data.
//
// The sandbox gives the file what settings files use: module, exports,
// require, __filename, __dirname, process.env (environ), process.platform,
// process.cwd() and a silent console. require knows only path, os
// (hostname, homedir, tmpdir, platform, EOL) and fs (existsSync,
// readFileSync, which returns a string even without an encoding: Sluice
// has no Buffer, and the places settings files use the result, https keys
// and JSON.parse, take a string as well).
func evalJS(src []byte, file string, environ []string) (_ *msg.Object, _ []nonData, err error) {
	// Reading module.exports runs getters and proxy traps, whose exceptions
	// (and the timeout's interrupt) surface as panics from goja's Go API.
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = fmt.Errorf("%s: reading module.exports: %w", file, jsError(e))
				return
			}
			err = fmt.Errorf("%s: reading module.exports: %v", file, r)
		}
	}()
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, nil, err
	}
	vm := goja.New()
	sb := &sandbox{vm: vm, file: file, modules: map[*goja.Object]string{}}
	timer := time.AfterFunc(jsTimeout, func() {
		vm.Interrupt(fmt.Sprintf("still running after %v", jsTimeout))
	})
	defer timer.Stop()

	code := string(src)
	if strings.HasPrefix(code, "#!") {
		code = "//" + code // keep line numbers
	}
	// Node's module wrapper, on one line so line numbers match the file.
	prog, err := goja.Compile(file, "(function (exports, require, module, __filename, __dirname) {"+code+"\n})", false)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	wrapper, err := vm.RunProgram(prog)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	fn, _ := goja.AssertFunction(wrapper)
	module := vm.NewObject()
	exports := vm.NewObject()
	module.Set("exports", exports)
	vm.Set("process", sb.process(environ))
	vm.Set("console", sb.console())
	if _, err := fn(exports, exports, vm.ToValue(sb.require), module, vm.ToValue(abs), vm.ToValue(filepath.Dir(abs))); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, jsError(err))
	}
	out, ok := module.Get("exports").(*goja.Object)
	if !ok || out.ClassName() != "Object" {
		return nil, nil, fmt.Errorf("%s: module.exports must be an object of settings", file)
	}
	c := jsConv{sb: sb, seen: map[*goja.Object]bool{}}
	v, err := c.value(out, "", 0)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	o, _ := v.(*msg.Object)
	if o == nil {
		o = msg.NewObject(0)
	}
	return o, c.nonData, nil
}

// jsError makes a script's exception read well; an interrupt says why.
func jsError(err error) error {
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		return fmt.Errorf("evaluation stopped: %v", ie.Value())
	}
	return err
}

type sandbox struct {
	vm      *goja.Runtime
	file    string
	modules map[*goja.Object]string
	cache   map[string]*goja.Object
}

func (sb *sandbox) throw(format string, args ...any) {
	panic(sb.vm.NewGoError(fmt.Errorf(format, args...)))
}

func (sb *sandbox) require(call goja.FunctionCall) goja.Value {
	name := strings.TrimPrefix(call.Argument(0).String(), "node:")
	if m, ok := sb.cache[name]; ok {
		return m
	}
	var m *goja.Object
	switch name {
	case "path":
		m = sb.pathModule()
	case "os":
		m = sb.osModule()
	case "fs":
		m = sb.fsModule()
	default:
		sb.throw("require(%q) is not available: Sluice evaluates settings files in a sandbox that has only the path, os and fs (existsSync, readFileSync) modules", call.Argument(0).String())
	}
	if sb.cache == nil {
		sb.cache = map[string]*goja.Object{}
	}
	sb.cache[name] = m
	sb.modules[m] = name
	return m
}

func (sb *sandbox) object(fns map[string]any) *goja.Object {
	o := sb.vm.NewObject()
	for k, f := range fns {
		o.Set(k, f)
	}
	return o
}

func strArgs(call goja.FunctionCall) []string {
	out := make([]string, len(call.Arguments))
	for i, a := range call.Arguments {
		out[i] = a.String()
	}
	return out
}

// trimSlash drops trailing slashes, as Node's path functions ignore them.
func trimSlash(p string) string {
	for len(p) > 1 && strings.HasSuffix(p, "/") {
		p = p[:len(p)-1]
	}
	return p
}

func (sb *sandbox) pathModule() *goja.Object {
	return sb.object(map[string]any{
		"join": func(call goja.FunctionCall) goja.Value {
			p := filepath.Join(strArgs(call)...)
			if p == "" {
				p = "."
			}
			return sb.vm.ToValue(p)
		},
		"resolve": func(call goja.FunctionCall) goja.Value {
			args := strArgs(call)
			p := ""
			for i := len(args) - 1; i >= 0 && !filepath.IsAbs(p); i-- {
				if args[i] != "" {
					p = filepath.Join(args[i], p)
				}
			}
			if !filepath.IsAbs(p) {
				cwd, _ := os.Getwd()
				p = filepath.Join(cwd, p)
			}
			return sb.vm.ToValue(filepath.Clean(p))
		},
		"dirname": func(p string) string { return filepath.Dir(trimSlash(p)) },
		"basename": func(p string, ext goja.Value) string {
			b := filepath.Base(trimSlash(p))
			if ext != nil && !goja.IsUndefined(ext) {
				if e := ext.String(); e != b {
					b = strings.TrimSuffix(b, e)
				}
			}
			return b
		},
		"extname": func(p string) string {
			b := filepath.Base(p)
			i := strings.LastIndexByte(b, '.')
			if i <= 0 || strings.Trim(b[:i], ".") == "" {
				return ""
			}
			return b[i:]
		},
		"isAbsolute": filepath.IsAbs,
		"normalize":  filepath.Clean,
		"sep":        string(filepath.Separator),
		"delimiter":  string(filepath.ListSeparator),
	})
}

func nodePlatform() string {
	if runtime.GOOS == "windows" {
		return "win32"
	}
	return runtime.GOOS
}

func (sb *sandbox) osModule() *goja.Object {
	return sb.object(map[string]any{
		"hostname": func() string { h, _ := os.Hostname(); return h },
		"homedir":  func() string { h, _ := os.UserHomeDir(); return h },
		"tmpdir":   func() string { return trimSlash(os.TempDir()) },
		"platform": nodePlatform,
		"EOL":      "\n",
	})
}

func (sb *sandbox) fsModule() *goja.Object {
	return sb.object(map[string]any{
		"existsSync": func(p string) bool {
			_, err := os.Stat(p)
			return err == nil
		},
		"readFileSync": func(p string) string {
			b, err := os.ReadFile(p)
			if err != nil {
				sb.throw("%v", err)
			}
			return string(b)
		},
	})
}

func (sb *sandbox) process(environ []string) *goja.Object {
	env := sb.vm.NewObject()
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			env.Set(k, v)
		}
	}
	p := sb.object(map[string]any{
		"platform": nodePlatform(),
		"cwd":      func() string { d, _ := os.Getwd(); return d },
	})
	p.Set("env", env)
	return p
}

func (sb *sandbox) console() *goja.Object {
	quiet := func(goja.FunctionCall) goja.Value { return goja.Undefined() }
	return sb.object(map[string]any{"log": quiet, "info": quiet, "warn": quiet, "error": quiet, "debug": quiet})
}

// jsConv turns JavaScript values into the message model, recording what is
// not data.
type jsConv struct {
	sb      *sandbox
	seen    map[*goja.Object]bool
	nonData []nonData
}

// undefined marks a property to leave out, as JSON.stringify does.
type undefined struct{}

func (c *jsConv) skip(path, what string) (any, error) {
	c.nonData = append(c.nonData, nonData{path: path, what: what})
	return undefined{}, nil
}

func (c *jsConv) value(v goja.Value, path string, depth int) (any, error) {
	if depth > 100 {
		return nil, fmt.Errorf("%s: nested too deeply", path)
	}
	if v == nil || goja.IsUndefined(v) {
		return undefined{}, nil
	}
	if goja.IsNull(v) {
		return nil, nil
	}
	o, isObj := v.(*goja.Object)
	if !isObj {
		switch t := v.Export().(type) {
		case int64:
			return float64(t), nil
		case float64:
			return t, nil
		case string:
			return t, nil
		case bool:
			return t, nil
		case *big.Int:
			return c.skip(path, "a BigInt")
		}
		return c.skip(path, "a symbol")
	}
	if _, fn := goja.AssertFunction(o); fn {
		return c.skip(path, "a function")
	}
	if name, mod := c.sb.modules[o]; mod {
		return c.skip(path, fmt.Sprintf("the %s module", name))
	}
	if c.seen[o] {
		return c.skip(path, "a circular reference")
	}
	c.seen[o] = true
	defer delete(c.seen, o)
	switch o.ClassName() {
	case "Array":
		n := int(o.Get("length").ToInteger())
		out := make([]any, n)
		for i := range n {
			e, err := c.value(o.Get(fmt.Sprint(i)), fmt.Sprintf("%s[%d]", path, i), depth+1)
			if err != nil {
				return nil, err
			}
			if _, u := e.(undefined); u {
				e = nil // as JSON.stringify writes it
			}
			out[i] = e
		}
		return out, nil
	case "Object":
		out := msg.NewObject(0)
		for _, k := range o.Keys() {
			e, err := c.value(o.Get(k), join(path, k), depth+1)
			if err != nil {
				return nil, err
			}
			if _, u := e.(undefined); !u {
				out.Set(k, e)
			}
		}
		return out, nil
	}
	return c.skip(path, "a "+o.ClassName())
}
