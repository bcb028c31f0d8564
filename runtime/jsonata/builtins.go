package jsonata

import (
	"strings"
)

// builtins are jsonata's functions, bound below every evaluation's
// variables.
var builtins = map[string]*builtin{}

type implFn = func(c call, args []any) (any, error)

// def registers a built-in. params are the JavaScript parameter names (a
// default value, "prettify = false", ends the counted arity, as in JS).
func def(name, sig string, params string, fn implFn) {
	b := &builtin{name: name, fn: fn}
	if sig != "" {
		s, err := parseSignature(sig)
		if err != nil {
			panic("jsonata: bad signature for $" + name + ": " + sig)
		}
		b.sig = s
	}
	if params != "" {
		b.params = strings.Split(params, ",")
	} else {
		b.params = []string{""}
	}
	for _, p := range b.params {
		if p == "" || strings.Contains(p, "=") {
			break
		}
		b.nargs++
	}
	builtins[name] = b
}

func init() {
	def("sum", "<a<n>:n>", "args", fnSum)
	def("count", "<a:n>", "args", fnCount)
	def("max", "<a<n>:n>", "args", fnMax)
	def("min", "<a<n>:n>", "args", fnMin)
	def("average", "<a<n>:n>", "args", fnAverage)
	def("string", "<x-b?:s>", "arg, prettify = false", func(c call, a []any) (any, error) {
		return fnString(argAt(a, 0), truthy(argAt(a, 1)))
	})
	def("substring", "<s-nn?:s>", "str, start, length", fnSubstring)
	def("substringBefore", "<s-s:s>", "str, chars", fnSubstringBefore)
	def("substringAfter", "<s-s:s>", "str, chars", fnSubstringAfter)
	def("lowercase", "<s-:s>", "str", fnLowercase)
	def("uppercase", "<s-:s>", "str", fnUppercase)
	def("length", "<s-:n>", "str", fnLength)
	def("trim", "<s-:s>", "str", fnTrim)
	def("pad", "<s-ns?:s>", "str, width, char", fnPad)
	def("match", "<s-f<s:o>n?:a<o>>", "str, regex, limit", fnMatch)
	def("contains", "<s-(sf):b>", "str, token", fnContains)
	def("replace", "<s-(sf)(sf)n?:s>", "str, pattern, replacement, limit", fnReplace)
	def("split", "<s-(sf)n?:a<s>>", "str, separator, limit", fnSplit)
	def("join", "<a<s>s?:s>", "strs, separator", fnJoin)
	def("formatNumber", "<n-so?:s>", "value, picture, options", fnFormatNumber)
	def("formatBase", "<n-n?:s>", "value, radix", fnFormatBase)
	def("formatInteger", "<n-s:s>", "value, picture", fnFormatInteger)
	def("parseInteger", "<s-s:n>", "value, picture", fnParseInteger)
	def("number", "<(nsb)-:n>", "arg", fnNumber)
	def("floor", "<n-:n>", "arg", fnFloor)
	def("ceil", "<n-:n>", "arg", fnCeil)
	def("round", "<n-n?:n>", "arg, precision", fnRound)
	def("abs", "<n-:n>", "arg", fnAbs)
	def("sqrt", "<n-:n>", "arg", fnSqrt)
	def("power", "<n-n:n>", "arg, exp", fnPower)
	def("random", "<:n>", "", fnRandom)
	def("boolean", "<x-:b>", "arg", func(c call, a []any) (any, error) { return toBoolean(argAt(a, 0)) })
	def("not", "<x-:b>", "arg", fnNot)
	def("map", "<af>", "arr, func", fnMap)
	def("zip", "<a+>", "", fnZip)
	def("filter", "<af>", "arr, func", fnFilter)
	def("single", "<af?>", "arr, func", fnSingle)
	def("reduce", "<afj?:j>", "sequence, func, init", fnReduce)
	def("sift", "<o-f?:o>", "arg, func", fnSift)
	def("keys", "<x-:a<s>>", "arg", fnKeys)
	def("lookup", "<x-s:x>", "input, key", fnLookup)
	def("append", "<xx:a>", "arg1, arg2", func(c call, a []any) (any, error) {
		return appendValues(argAt(a, 0), argAt(a, 1)), nil
	})
	def("exists", "<x:b>", "arg", func(c call, a []any) (any, error) { return !isUndef(argAt(a, 0)), nil })
	def("spread", "<x-:a<o>>", "arg", fnSpread)
	def("merge", "<a<o>:o>", "arg", fnMerge)
	def("reverse", "<a:a>", "arr", fnReverse)
	def("each", "<o-f:a>", "obj, func", fnEach)
	def("error", "<s?:x>", "message", fnError)
	def("assert", "<bs?:x>", "condition, message", fnAssert)
	def("type", "<x:s>", "value", fnType)
	def("sort", "<af?:a>", "arr, comparator", fnSort)
	def("shuffle", "<a:a>", "arr", fnShuffle)
	def("distinct", "<x:x>", "arr", fnDistinct)
	def("base64encode", "<s-:s>", "str", fnBase64Encode)
	def("base64decode", "<s-:s>", "str", fnBase64Decode)
	def("encodeUrlComponent", "<s-:s>", "str", fnURL("encodeUrlComponent"))
	def("encodeUrl", "<s-:s>", "str", fnURL("encodeUrl"))
	def("decodeUrlComponent", "<s-:s>", "str", fnURL("decodeUrlComponent"))
	def("decodeUrl", "<s-:s>", "str", fnURL("decodeUrl"))
	def("eval", "<sx?:x>", "expr, focus", fnEval)
	def("toMillis", "<s-s?:n>", "timestamp, picture", fnToMillis)
	def("fromMillis", "<n-s?s?:s>", "millis, picture, timezone", fnFromMillis)
	def("clone", "<(oa)-:o>", "arg", fnClone)
	def("now", "<s?s?:s>", "picture, timezone", fnNow)
	def("millis", "<:n>", "", fnMillis)
}
