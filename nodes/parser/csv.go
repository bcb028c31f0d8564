package parser

import (
	"errors"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type:     "csv",
		Category: "parser",
		Color:    "#DEBD5C",
		Icon:     "parser-csv.svg",
		Inputs:   1,
		Outputs:  1,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "spec", Kind: node.KindString, Default: "rfc", Options: []string{"rfc", ""}, Label: "Parser"},
			{Name: "sep", Kind: node.KindString, Default: ",", Required: true, Label: "Separator"},
			{Name: "hdrin", Default: "", Label: "first row contains column names"},
			{Name: "hdrout", Default: "none", Label: "Output column names (none, all, once)"},
			{Name: "multi", Kind: node.KindString, Default: "one", Required: true, Options: []string{"one", "mult"}, Label: "Output"},
			{Name: "ret", Kind: node.KindString, Default: `\r\n`, Label: "Newline"},
			{Name: "temp", Kind: node.KindString, Default: "", Label: "Columns"},
			{Name: "skip", Kind: node.KindNumber, Default: "0", Label: "Skip first lines"},
			{Name: "strings", Kind: node.KindBool, Default: true, Label: "parse numerical values"},
			{Name: "include_empty_strings", Default: "", Label: "include empty strings"},
			{Name: "include_null_values", Default: "", Label: "include null values"},
		},
		Help: csvHelp,
		New:  newCSV,
	})
}

const csvHelp = `Converts between CSV text and JavaScript objects.

**CSV to objects**: a string in ` + "`msg.payload`" + ` is parsed into one message per row (with
` + "`msg.parts`" + `) or a single message holding an array of rows. Column names come from the
*Columns* template, from the first row, or are ` + "`col1`" + `, ` + "`col2`" + `… Numeric cells become numbers
unless switched off; empty cells and nulls can be kept. *Skip first* drops leading lines.
` + "`msg.columns`" + ` lists the column names.

**Objects to CSV**: an object, an array of objects or an array of arrays becomes CSV text, with
the columns of the template (or ` + "`msg.columns`" + `, or the keys of the first object) and a header
line never, always or once (until ` + "`msg.reset`" + `).

The *RFC 4180* parser (the default) reports malformed input as errors; the *legacy* parser of
earlier Node-RED versions is used for flows that do not choose one.`

const (
	csvErrBadTemplate = "Malformed columns template."
	csvErrJS          = "This node only handles CSV strings or js objects."
	csvErrObj         = "No columns template specified for object -> CSV."
	csvErrBadCSV      = "Malformed CSV data - output probably corrupt."
)

// csvConfig is what both parsers read from the node's properties.
type csvConfig struct {
	template string
	sep      string
	ret      string
	multi    string
	hdrin    bool // exactly true: read the header row
	hdrinSet bool // truthy: shift msg.parts past the header row
	hdrout   string
	skip     int
	numbers  bool
	empties  bool
	nulls    bool
}

func newCSV(cfg *node.Config) (node.Node, error) {
	c := csvConfig{
		template: cfg.Str("temp"),
		sep:      csvUnescape(cfg.StrOr("sep", ",")),
		multi:    cfg.StrOr("multi", "one"),
		hdrin:    cfg.Get("hdrin") == true,
		hdrinSet: msg.Truthy(cfg.Get("hdrin")),
		empties:  msg.Truthy(cfg.Get("include_empty_strings")),
		nulls:    msg.Truthy(cfg.Get("include_null_values")),
	}
	switch v := cfg.Get("hdrout").(type) {
	case bool:
		c.hdrout = "none"
		if v {
			c.hdrout = "all"
		}
	default:
		c.hdrout = cfg.StrOr("hdrout", "none")
	}
	if skip, ok := parseIntPrefix(msg.ToString(orZero(cfg.Get("skip")))); ok {
		c.skip = skip
	}
	c.numbers = true
	if v, ok := cfg.Raw.Get("strings"); ok {
		c.numbers = v == true
	}
	if cfg.Str("spec") == "rfc" {
		c.ret = csvUnescape(cfg.StrOr("ret", `\r\n`))
		p, err := newCSVRFC(c)
		if err != nil {
			return nil, err
		}
		return &csvNode{p}, nil
	}
	c.ret = csvUnescape(cfg.StrOr("ret", `\n`))
	return &csvNode{newCSVLegacy(c)}, nil
}

// csvNode finishes its messages itself: Node-RED's csv node leaves a
// message it skips entirely unfinished.
type csvNode struct {
	p interface {
		input(c node.Ctx, m *msg.Msg) error
	}
}

// errSkipped marks a message that Node-RED drops without finishing.
var errSkipped = errors.New("csv: message skipped")

func (n *csvNode) DeferDone() {}

func (n *csvNode) Input(c node.Ctx, m *msg.Msg) error {
	err := n.p.input(c, m)
	if err == errSkipped {
		m.Track.Done(nil)
		return nil
	}
	c.Done(m, err)
	return nil
}

// csvUnescape reads the \t, \n and \r the editor stores literally.
func csvUnescape(s string) string {
	return strings.NewReplacer(`\t`, "\t", `\n`, "\n", `\r`, "\r").Replace(s)
}

// orZero is JavaScript's `v || 0`.
func orZero(v any) any {
	if !msg.Truthy(v) {
		return 0.0
	}
	return v
}

// parseIntPrefix is parseInt for decimal integers: the leading digits.
func parseIntPrefix(s string) (int, bool) {
	s = strings.TrimSpace(s)
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	n, digits := 0, 0
	for digits < len(s) && s[digits] >= '0' && s[digits] <= '9' && digits < 15 {
		n = n*10 + int(s[digits]-'0')
		digits++
	}
	if digits == 0 {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// jsKeys is Object.keys(v): an error for null and undefined.
func jsKeys(v any) ([]string, error) {
	switch t := v.(type) {
	case *msg.Object:
		return append([]string(nil), t.Keys()...), nil
	case []any:
		return indexKeys(len(t)), nil
	case []byte:
		return indexKeys(len(t)), nil
	case string:
		return indexKeys(jsLen(t)), nil
	case nil, msg.Undefined:
		return nil, &node.JSError{Name: "TypeError", Message: "Cannot convert undefined or null to object"}
	}
	return nil, nil
}

// forInKeys is what a for...in loop over v visits (nothing for null).
func forInKeys(v any) []string {
	k, _ := jsKeys(v)
	return k
}

func indexKeys(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = itoa(i)
	}
	return out
}

// jsLen is a string's length in UTF-16 code units.
func jsLen(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// member is v[key] for the values messages hold; undefined when absent.
func member(v any, key string) any {
	switch t := v.(type) {
	case *msg.Object:
		if x, ok := t.Get(key); ok {
			return x
		}
	case []any:
		if i, ok := arrayIndex(key); ok && i < len(t) {
			return t[i]
		}
	case []byte:
		if i, ok := arrayIndex(key); ok && i < len(t) {
			return float64(t[i])
		}
	case string:
		if i, ok := arrayIndex(key); ok {
			u := []rune(t)
			if i < len(u) {
				return string(u[i])
			}
		}
	}
	return msg.Undefined{}
}

func hasOwn(v any, key string) bool {
	switch t := v.(type) {
	case *msg.Object:
		return t.Has(key)
	case []any, []byte, string:
		return !msg.IsUndefined(member(t, key))
	}
	return false
}

func arrayIndex(k string) (int, bool) {
	if !msg.IsArrayIndex(k) {
		return 0, false
	}
	n := 0
	for i := 0; i < len(k); i++ {
		n = n*10 + int(k[i]-'0')
	}
	return n, true
}

// ensureString is RED.util.ensureString: Buffers decoded, objects (and
// null) as JSON, anything else through String().
func ensureString(v any) string {
	switch t := v.(type) {
	case []byte:
		return strings.ToValidUTF8(string(t), "\uFFFD")
	case string:
		return t
	case nil, *msg.Object, []any:
		return string(msg.Marshal(t))
	}
	return msg.ToString(v)
}

// isObjectType is typeof v === "object" (null included).
func isObjectType(v any) bool {
	switch v.(type) {
	case nil, *msg.Object, []any, []byte:
		return true
	case string, float64, bool, msg.Undefined, int, int64:
		return false
	}
	return true
}

// partsAdd shifts a msg.parts field as JavaScript's -= does (a missing
// field becomes NaN).
func partsAdd(p *msg.Object, key string, delta int) {
	var v any = msg.Undefined{}
	if x, ok := p.Get(key); ok {
		v = x
	}
	p.Set(key, msg.ToNumber(v)+float64(delta))
}
