package function

import (
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/runtime/jsonataref"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// ctxRef is a flow or global context reference as a typed input writes it:
// "#:(store)::key" names a store, a bare key uses the default one.
type ctxRef struct {
	global bool
	key    string
	store  string
	// hasRef: the key embeds msg properties (a[msg.topic]) to resolve per
	// message before the store sees it.
	hasRef bool
}

var storeSyntax = regexp.MustCompile(`^#:\((\S+?)\)::(.*)$`)

func parseCtxRef(scope, raw string) ctxRef {
	r := ctxRef{global: scope == "global", key: raw}
	if sm := storeSyntax.FindStringSubmatch(raw); sm != nil {
		r.store, r.key = sm[1], sm[2]
	}
	r.hasRef = strings.Contains(r.key, "[msg")
	return r
}

func (r ctxRef) scope(c node.Ctx) node.Scope {
	if r.global {
		return c.GlobalContext()
	}
	return c.FlowContext()
}

// resolve returns the key with msg references replaced by their values,
// written back as a property expression (a["b"][0]), as Node-RED does
// before handing the key to the store.
func (r ctxRef) resolve(m *msg.Msg) (string, error) {
	if !r.hasRef {
		return r.key, nil
	}
	parts, err := msg.ParsePath(r.key)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	refs := 0
	for i, p := range parts {
		var v any
		switch {
		case p.Ref != nil:
			refs++
			got, ok := msg.GetPath(m.Object, p.Ref)
			if !ok || msg.IsUndefined(got) {
				return "", fmt.Errorf("Invalid expression started at position %d", refOffset(r.key, refs))
			}
			v = got
		case p.IsIdx:
			v = float64(p.Index)
		case isDigits(p.Key):
			n, _ := strconv.Atoi(p.Key)
			v = float64(n)
		default:
			v = p.Key
		}
		if i == 0 {
			b.WriteString(msg.ToString(v))
			continue
		}
		switch t := v.(type) {
		case string:
			q := `"`
			if strings.Contains(t, `"`) {
				q = `'`
			}
			b.WriteString("[" + q + t + q + "]")
		default:
			b.WriteString("[" + msg.ToString(t) + "]")
		}
	}
	return b.String(), nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// refOffset is the offset after the '[' opening the n-th (from 1) msg
// reference in key, where Node-RED points its error.
func refOffset(key string, n int) int {
	off := 0
	for ; n > 0; n-- {
		i := strings.Index(key[off:], "[msg")
		if i < 0 {
			return 0
		}
		off += i + 1
	}
	return off
}

func (r ctxRef) get(c node.Ctx, m *msg.Msg) (any, error) {
	key, err := r.resolve(m)
	if err != nil {
		return nil, err
	}
	return r.scope(c).Get(key, r.store)
}

func (r ctxRef) set(c node.Ctx, m *msg.Msg, v any) error {
	key, err := r.resolve(m)
	if err != nil {
		return err
	}
	return r.scope(c).Set(key, v, r.store)
}

// envProp is RED.util.evaluateEnvProperty at construction: "${A}" and "A"
// name a variable, "x${A}y" substitutes; unknown variables are "".
func envProp(cfg *node.Config, value string) any {
	lookup := func(name string) any {
		if cfg.Env != nil {
			if v, ok := cfg.Env(name); ok {
				return v
			}
			return nil
		}
		if v, ok := os.LookupEnv(name); ok {
			return v
		}
		return nil
	}
	if strings.HasPrefix(value, "${") && strings.HasSuffix(value, "}") && !strings.Contains(value[2:len(value)-1], "}") && len(value) > 3 {
		if v := lookup(value[2 : len(value)-1]); v != nil {
			return v
		}
		return ""
	}
	if !envRef.MatchString(value) {
		if v := lookup(value); v != nil {
			return v
		}
		return ""
	}
	return envSub.ReplaceAllStringFunc(value, func(s string) string {
		if v := lookup(s[2 : len(s)-1]); v != nil {
			return msg.ToString(v)
		}
		return ""
	})
}

var (
	envRef = regexp.MustCompile(`\$\{\S+\}`)
	envSub = regexp.MustCompile(`\$\{[^}]+\}`)
)

// exprError words a JSONata failure as the node's locale text does.
func exprError(err error) error {
	var je *jsonataref.Error
	if errors.As(err, &je) {
		return errors.New("Invalid JSONata expression: " + je.Error())
	}
	return errors.New("Invalid JSONata expression: " + err.Error())
}

// toUint8 is the conversion a Buffer applies to a value stored in it.
func toUint8(v any) byte {
	f := msg.ToNumber(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return byte(int64(math.Mod(math.Trunc(f), 256)))
}

// bufferFrom is Buffer.from(JSON.parse(text)) for the "bin" type: an array
// of byte values or a string.
func bufferFrom(v any) ([]byte, bool) {
	switch t := v.(type) {
	case string:
		return []byte(t), true
	case []any:
		b := make([]byte, len(t))
		for i, e := range t {
			b[i] = toUint8(e)
		}
		return b, true
	}
	return nil, false
}
