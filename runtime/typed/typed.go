// Package typed implements Node-RED's typed inputs: a property whose value
// is read according to a companion type ("msg", "flow", "num", "jsonata",
// ...), as RED.util.evaluateNodeProperty does.
//
// Prepare checks and pre-parses a property once when the node is built;
// Eval reads it for each message.
package typed

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/dlclark/regexp2/v2"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// The types Node-RED's editor offers.
const (
	Msg     = "msg"
	Flow    = "flow"
	Global  = "global"
	Str     = "str"
	Num     = "num"
	Bool    = "bool"
	JSON    = "json"
	Bin     = "bin"
	Re      = "re"
	Date    = "date"
	JSONata = "jsonata"
	Env     = "env"
	Node    = "node"
	Cred    = "cred"
)

// Input is a prepared typed property.
type Input struct {
	Type  string
	Value any // as in the flow file

	str   string         // Value as a string
	path  []msg.PathPart // msg: the parsed property path
	store string         // flow, global: the context store, "" for default
	key   string         // flow, global: the key within the store
	keyP  []msg.PathPart // flow, global: the parsed key, when it nests msg refs
	konst any            // str, num, bool, bin, re, json: the value
	expr  JSONataExpr    // jsonata
	// legacy marks JSONata expressions that mention msg: Node-RED then
	// evaluates them against {msg: msg} instead of the message itself.
	legacy bool
}

// Prepare checks a typed property once, at load. Errors describe the value;
// the caller adds the node id and property name.
func Prepare(typ string, value any) (*Input, error) {
	in := &Input{Type: typ, Value: value, str: asString(value)}
	s := in.str
	switch typ {
	case Msg:
		p := strings.TrimPrefix(s, "msg.")
		parts, err := msg.ParsePath(p)
		if err != nil {
			return nil, fmt.Errorf("invalid msg property %q: %w", s, err)
		}
		in.path = parts
	case Flow, Global:
		in.store, in.key = ParseContextStore(s)
		parts, err := msg.ParsePath(in.key)
		if err != nil {
			return nil, fmt.Errorf("invalid %s context key %q: %w", typ, in.key, err)
		}
		if hasRef(parts) {
			in.keyP = parts
		}
	case Str:
		in.konst = s
	case Num:
		n := msg.ToNumber(s)
		if math.IsNaN(n) && strings.TrimSpace(s) != "NaN" {
			return nil, fmt.Errorf("not a number: %q", s)
		}
		in.konst = n
	case Bool:
		in.konst = strings.EqualFold(s, "true")
	case JSON:
		v, err := msg.UnmarshalString(s)
		if err != nil {
			return nil, fmt.Errorf("invalid JSON %q: %w", clip(s), err)
		}
		in.konst = v
	case Bin:
		b, err := parseBin(s)
		if err != nil {
			return nil, err
		}
		in.konst = b
	case Re:
		re, err := regexp2.Compile(s, regexp2.ECMAScript)
		if err != nil {
			return nil, fmt.Errorf("invalid regular expression /%s/: %w", s, err)
		}
		in.konst = re
	case Date:
		// "", "iso", "object" or a moment.js format, which takes any text.
	case JSONata:
		e, err := engine.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("invalid JSONata expression %q: %w", clip(s), err)
		}
		in.expr = e
		in.legacy = legacyRE.MatchString(s)
	}
	return in, nil
}

// MustPrepare is Prepare for values known to be valid (defaults in code).
func MustPrepare(typ string, value any) *Input {
	in, err := Prepare(typ, value)
	if err != nil {
		panic(err)
	}
	return in
}

// Eval reads the property for message m (m may be nil where a node has no
// message, as at start-up). A missing msg, flow or global property is
// msg.Undefined{}; reading through a missing parent is an error, as it is
// in Node-RED.
func (in *Input) Eval(c node.Ctx, m *msg.Msg) (any, error) {
	return in.EvalWith(c, m, nil)
}

// EvalWith is Eval with extra JSONata variables (the join node's $A, ...);
// other types ignore them.
func (in *Input) EvalWith(c node.Ctx, m *msg.Msg, extra map[string]any) (any, error) {
	switch in.Type {
	case Str, Num, Bool:
		return in.konst, nil
	case JSON:
		return msg.Clone(in.konst), nil
	case Bin:
		return msg.Clone(in.konst), nil
	case Re:
		return in.konst, nil
	case Msg:
		if m == nil {
			// Node-RED skips msg lookups without a message and returns the
			// raw value.
			return in.str, nil
		}
		return getProperty(m.Object, in.str, in.path)
	case Flow, Global:
		return in.evalContext(c, m)
	case Date:
		return evalDate(in.str)
	case JSONata:
		return in.evalJSONata(c, m, extra)
	case Env:
		return EvalEnv(in.str, envOf(c)), nil
	case Cred:
		if c != nil {
			if v, ok := c.Credentials()[in.str]; ok {
				return v, nil
			}
		}
		return "", nil
	}
	// "node" (a node id picked in the editor) and types Node-RED does not
	// know are returned as written.
	return in.Value, nil
}

func (in *Input) evalContext(c node.Ctx, m *msg.Msg) (any, error) {
	if c == nil {
		return in.Value, nil
	}
	key := in.key
	if in.keyP != nil {
		var root *msg.Object
		if m != nil {
			root = m.Object
		}
		k, err := contextKey(root, in.key, in.keyP)
		if err != nil {
			return nil, err
		}
		key = k
	}
	scope := c.FlowContext()
	if in.Type == Global {
		scope = c.GlobalContext()
	}
	v, err := scope.Get(key, in.store)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// ParseContextStore splits "#:(store)::key" into its store and key; a key
// without the prefix uses the default store ("").
func ParseContextStore(s string) (store, key string) {
	if m := contextStoreRE.FindStringSubmatch(s); m != nil {
		return m[1], m[2]
	}
	return "", s
}

var contextStoreRE = regexp.MustCompile(`^#:\((\S+?)\)::((?s).*)$`)

func evalDate(format string) (any, error) {
	now := time.Now()
	switch format {
	case "":
		return float64(now.UnixMilli()), nil
	case "object":
		return now, nil
	case "iso":
		return now.UTC().Format("2006-01-02T15:04:05.000Z"), nil
	}
	return momentFormat(format)
}

// parseBin is the "bin" type: a JSON array of byte values or a JSON string
// (its UTF-8 bytes), as Buffer.from takes them.
func parseBin(s string) ([]byte, error) {
	v, err := msg.UnmarshalString(s)
	if err != nil {
		return nil, fmt.Errorf("invalid buffer %q: %w", clip(s), err)
	}
	switch t := v.(type) {
	case string:
		return []byte(t), nil
	case []any:
		b := make([]byte, len(t))
		for i, e := range t {
			b[i] = toUint8(msg.ToNumber(e))
		}
		return b, nil
	}
	return nil, fmt.Errorf("invalid buffer %q: not a string or an array", clip(s))
}

// toUint8 is JavaScript's ToUint8: truncate, then wrap modulo 256.
func toUint8(f float64) byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	n := math.Mod(math.Trunc(f), 256)
	if n < 0 {
		n += 256
	}
	return byte(n)
}

func asString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if v == nil {
		return ""
	}
	return msg.ToString(v)
}

// clip shortens long values in error messages.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

func hasRef(parts []msg.PathPart) bool {
	for _, p := range parts {
		if p.Ref != nil {
			return true
		}
	}
	return false
}
