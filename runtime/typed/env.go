package typed

import (
	"os"
	"regexp"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// EnvFunc resolves an environment variable (node.Ctx.Env, node.Config.Env).
type EnvFunc func(name string) (any, bool)

func envOf(c node.Ctx) EnvFunc {
	if c == nil {
		// Without a node Node-RED reads the process environment.
		return func(name string) (any, bool) { return os.LookupEnv(name) }
	}
	return c.Env
}

var (
	envWholeRE = regexp.MustCompile(`^\$\{[^}]+\}$`)
	envAnyRE   = regexp.MustCompile(`\$\{\S+\}`)
	envRefRE   = regexp.MustCompile(`\$\{([^}]+)\}`)
)

// EvalEnv is the "env" typed input (RED.util.evaluateEnvProperty): "${X}"
// or a bare "X" is the variable's value with its type; a string with
// ${X} references inside gets them replaced as text. An unset variable is
// "".
func EvalEnv(value string, env EnvFunc) any {
	lookup := func(name string) any {
		if env == nil {
			return nil
		}
		v, ok := env(name)
		if !ok || msg.IsUndefined(v) {
			return nil
		}
		return v
	}
	var v any
	switch {
	case envWholeRE.MatchString(value):
		v = lookup(value[2 : len(value)-1])
	case !envAnyRE.MatchString(value):
		v = lookup(value)
	default:
		return envRefRE.ReplaceAllStringFunc(value, func(ref string) string {
			if r := lookup(ref[2 : len(ref)-1]); r != nil {
				return msg.ToString(r)
			}
			// Node-RED's "" for unset; null prints as "null" there too, but
			// an env var cannot be null.
			return ""
		})
	}
	if v == nil {
		return ""
	}
	return v
}

// envPropRE matches a whole property value "${NAME}" or the older "$(NAME)".
var envPropRE = regexp.MustCompile(`^\$(?:\{(\S+)\}|\((\S+)\))$`)

// Substitute is Node-RED's substitution of environment variables in node
// properties when a flow starts: a string that is exactly "${NAME}" (or the
// older "$(NAME)") becomes the variable's value; any other string,
// including one with ${NAME} inside other text, is left alone, as is a
// reference to an unset variable. Substitute returns the value as text;
// SubstituteValue keeps its type, as Node-RED does.
func Substitute(s string, env func(string) (any, bool)) string {
	v, ok := substitute(s, env)
	if !ok {
		return s
	}
	if str, isStr := v.(string); isStr {
		return str
	}
	return msg.ToString(v)
}

func substitute(s string, env func(string) (any, bool)) (any, bool) {
	if len(s) < 4 || s[0] != '$' || env == nil {
		return nil, false
	}
	m := envPropRE.FindStringSubmatch(s)
	if m == nil {
		return nil, false
	}
	name := m[1] + m[2]
	v, ok := env(name)
	if !ok || msg.IsUndefined(v) {
		return nil, false
	}
	return v, true
}

// SubstituteValue applies Substitute through a node's configuration: every
// string in objects and arrays, in place, keeping the variable's type (a
// "num" env var gives a number). Buffers are left alone. It returns v, or
// the replacement when v itself is such a string.
func SubstituteValue(v any, env func(string) (any, bool)) any {
	switch t := v.(type) {
	case string:
		if r, ok := substitute(t, env); ok {
			return r
		}
	case []any:
		for i, e := range t {
			t[i] = SubstituteValue(e, env)
		}
	case *msg.Object:
		for _, k := range t.Keys() {
			old := t.Value(k)
			if nv := SubstituteValue(old, env); !sameString(old, nv) {
				t.Set(k, nv)
			}
		}
	}
	return v
}

// sameString avoids rewriting keys whose value did not change; only
// strings can be replaced at this level, containers are edited in place.
func sameString(a, b any) bool {
	as, ok := a.(string)
	if !ok {
		return true
	}
	bs, ok := b.(string)
	return ok && as == bs
}
