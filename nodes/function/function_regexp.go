package function

import (
	"time"

	"github.com/dop251/goja"
)

// goja reports a regexp2 match that ran out of time as no match at all. So
// that a catastrophic pattern is an error rather than a silent wrong
// answer, RegExp.prototype.test and the methods String.prototype.replace,
// match, matchAll, search and split go through are timed: one that took the
// whole match timeout throws. exec is left alone: replacing it would take
// goja off its fast paths for every regular expression.

func (n *fnNode) guardRegexps() {
	vm := n.vm
	proto := vm.Get("RegExp").(*goja.Object).Get("prototype").(*goja.Object)
	wrap := func(v goja.Value, name string) goja.Value {
		orig, ok := goja.AssertFunction(v)
		if !ok {
			return v
		}
		return vm.ToValue(func(c goja.FunctionCall) goja.Value {
			start := time.Now()
			res, err := orig(c.This, c.Arguments...)
			if err != nil {
				panic(err)
			}
			if time.Since(start) >= regexMatchTimeout {
				src := ""
				if o, ok := c.This.(*goja.Object); ok {
					src = o.Get("source").String()
				}
				panic(n.throwError("Regular expression /" + src + "/ (" + name + ") gave up after " +
					regexMatchTimeout.String() + ": catastrophic backtracking"))
			}
			return res
		})
	}
	_ = proto.Set("test", wrap(proto.Get("test"), "test"))
	for _, s := range []struct {
		sym  *goja.Symbol
		name string
	}{{goja.SymReplace, "replace"}, {goja.SymMatch, "match"}, {goja.SymMatchAll, "matchAll"}, {goja.SymSearch, "search"}, {goja.SymSplit, "split"}} {
		_ = proto.DefineDataPropertySymbol(s.sym, wrap(proto.GetSymbol(s.sym), s.name), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
}
