package function

import (
	"encoding/base64"
	"errors"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sluicehq/sluice/runtime/msg"
)

// yamlLoad parses one YAML document into the message model as js-yaml's
// load does for the template node: mappings keep their key order (with
// JavaScript's integer keys first), numbers are float64, timestamps are
// Dates, !!binary is a Buffer, and an empty document is undefined.
func yamlLoad(text string) (any, error) {
	if strings.TrimFunc(text, mustacheSpace) == "" {
		return msg.Undefined{}, nil
	}
	dec := yaml.NewDecoder(strings.NewReader(text))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			// Comments or document markers alone: one null document.
			return nil, nil
		}
		return nil, errors.New(err.Error())
	}
	var more yaml.Node
	if err := dec.Decode(&more); err != io.EOF {
		if err != nil {
			return nil, errors.New(err.Error())
		}
		return nil, errors.New("expected a single document in the stream, but found more")
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return yamlValue(doc.Content[0], 0)
}

// maxYAMLDepth bounds alias expansion (a "billion laughs" document).
const maxYAMLDepth = 10000

var errYAMLDepth = errors.New("yaml: document nests too deeply")

func yamlValue(n *yaml.Node, depth int) (any, error) {
	if depth > maxYAMLDepth {
		return nil, errYAMLDepth
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return yamlValue(n.Content[0], depth+1)
	case yaml.AliasNode:
		return yamlValue(n.Alias, depth+1)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := yamlValue(c, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		if n.ShortTag() == "!!omap" || n.ShortTag() == "!!pairs" {
			return yamlPairs(out, n.ShortTag() == "!!pairs"), nil
		}
		return out, nil
	case yaml.MappingNode:
		return yamlMapping(n, depth)
	case yaml.ScalarNode:
		return yamlScalar(n)
	}
	return nil, nil
}

// yamlPairs is js-yaml's !!pairs (arrays of [key, value]); !!omap stays a
// list of one-key objects.
func yamlPairs(items []any, pairs bool) any {
	if !pairs {
		return items
	}
	out := make([]any, 0, len(items))
	for _, it := range items {
		if o, ok := it.(*msg.Object); ok && o.Len() == 1 {
			k, v := o.At(0)
			out = append(out, []any{k, v})
		}
	}
	return out
}

func yamlMapping(n *yaml.Node, depth int) (any, error) {
	o := msg.NewObject(len(n.Content) / 2)
	// Keys a merge (<<) brought in may be overridden by explicit keys; an
	// explicit key is never overridden by a merge.
	merged := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind == yaml.ScalarNode && kn.Value == "<<" && kn.Style == 0 {
			v, err := yamlValue(vn, depth+1)
			if err != nil {
				return nil, err
			}
			srcs := []any{v}
			if list, ok := v.([]any); ok {
				srcs = list
			}
			for _, s := range srcs {
				so, ok := s.(*msg.Object)
				if !ok {
					return nil, errors.New("cannot merge mappings; the provided source object is unacceptable")
				}
				for _, k := range so.Keys() {
					if !o.Has(k) {
						o.Set(k, so.Value(k))
						merged[k] = true
					}
				}
			}
			continue
		}
		kv, err := yamlValue(kn, depth+1)
		if err != nil {
			return nil, err
		}
		key := yamlKey(kv)
		v, err := yamlValue(vn, depth+1)
		if err != nil {
			return nil, err
		}
		if o.Has(key) && !merged[key] {
			return nil, errors.New("duplicated mapping key")
		}
		if n.ShortTag() == "!!set" {
			v = nil
		}
		o.Set(key, v)
		delete(merged, key)
	}
	return o, nil
}

// yamlKey is the property name JavaScript makes of a key value.
func yamlKey(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case time.Time:
		return t.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return jsString(v)
}

func yamlScalar(n *yaml.Node) (any, error) {
	tag := n.ShortTag()
	if n.Style&yaml.TaggedStyle == 0 {
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			return n.Value, nil
		}
		return yamlPlain(n.Value), nil
	}
	bad := func() error {
		return errors.New("cannot resolve a node with !<tag:yaml.org,2002:" + strings.TrimPrefix(tag, "!!") + "> explicit tag")
	}
	switch tag {
	case "!!str":
		return n.Value, nil
	case "!!null":
		if v, ok := yamlNull(n.Value); ok {
			return v, nil
		}
	case "!!bool":
		if v, ok := yamlBool(n.Value); ok {
			return v, nil
		}
	case "!!int":
		if v, ok := yamlInt(n.Value); ok {
			return v, nil
		}
	case "!!float":
		if v, ok := yamlFloat(n.Value); ok {
			return v, nil
		}
	case "!!timestamp":
		if v, ok := yamlTime(n.Value); ok {
			return v, nil
		}
	case "!!binary":
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(n.Value), ""))
		if err == nil {
			return b, nil
		}
	default:
		if n.Tag == "!" {
			return n.Value, nil
		}
		return nil, errors.New("unknown tag !<" + n.Tag + ">")
	}
	return nil, bad()
}

// yamlPlain resolves an untagged plain scalar with js-yaml's default
// schema, in its order: null, bool, int, float, timestamp, else a string.
func yamlPlain(s string) any {
	if v, ok := yamlNull(s); ok {
		return v
	}
	if v, ok := yamlBool(s); ok {
		return v
	}
	if v, ok := yamlInt(s); ok {
		return v
	}
	if v, ok := yamlFloat(s); ok {
		return v
	}
	if v, ok := yamlTime(s); ok {
		return v
	}
	return s
}

func yamlNull(s string) (any, bool) {
	switch s {
	case "", "~", "null", "Null", "NULL":
		return nil, true
	}
	return nil, false
}

func yamlBool(s string) (any, bool) {
	switch s {
	case "true", "True", "TRUE":
		return true, true
	case "false", "False", "FALSE":
		return false, true
	}
	return nil, false
}

func yamlInt(s string) (any, bool) {
	t, sign := s, 1.0
	if t != "" && (t[0] == '-' || t[0] == '+') {
		if t[0] == '-' {
			sign = -1
		}
		t = t[1:]
	}
	if t == "" {
		return nil, false
	}
	base, digits := 10, t
	if len(t) > 1 && t[0] == '0' {
		switch t[1] {
		case 'b':
			base, digits = 2, t[2:]
		case 'x':
			base, digits = 16, t[2:]
		case 'o':
			base, digits = 8, t[2:]
		}
	}
	if digits == "" {
		return nil, false
	}
	f := 0.0
	for i := 0; i < len(digits); i++ {
		d := strings.IndexByte("0123456789abcdef", digits[i]|0x20)
		if base != 16 && digits[i] >= 'A' {
			d = -1
		}
		if d < 0 || d >= base {
			return nil, false
		}
		if base == 10 {
			continue
		}
		f = f*float64(base) + float64(d)
	}
	if base == 10 {
		v, err := strconv.ParseFloat(digits, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, false
		}
		f = v
	}
	if math.IsInf(f, 0) {
		return nil, false
	}
	return sign * f, true
}

var (
	yamlFloatRE = regexp.MustCompile(`^(?:[-+]?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	yamlDateRE  = regexp.MustCompile(`^([0-9]{4})-([0-9]{2})-([0-9]{2})$`)
	yamlTimeRE  = regexp.MustCompile(`^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[Tt]|[ \t]+)([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9]{1,2})(?::([0-9]{2}))?))?$`)
)

func yamlFloat(s string) (any, bool) {
	if !yamlFloatRE.MatchString(s) {
		return nil, false
	}
	t := strings.ToLower(s)
	sign := 1.0
	if t[0] == '-' || t[0] == '+' {
		if t[0] == '-' {
			sign = -1
		}
		t = t[1:]
	}
	switch t {
	case ".inf":
		return math.Inf(int(sign)), true
	case ".nan":
		return math.NaN(), true
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(t, "."), 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, false
	}
	return sign * f, true
}

func yamlTime(s string) (any, bool) {
	atoi := func(x string) int { n, _ := strconv.Atoi(x); return n }
	if m := yamlDateRE.FindStringSubmatch(s); m != nil {
		return time.Date(atoi(m[1]), time.Month(atoi(m[2])), atoi(m[3]), 0, 0, 0, 0, time.UTC), true
	}
	m := yamlTimeRE.FindStringSubmatch(s)
	if m == nil {
		return nil, false
	}
	ms := 0
	if m[7] != "" {
		f := m[7]
		if len(f) > 3 {
			f = f[:3]
		}
		for len(f) < 3 {
			f += "0"
		}
		ms = atoi(f)
	}
	t := time.Date(atoi(m[1]), time.Month(atoi(m[2])), atoi(m[3]), atoi(m[4]), atoi(m[5]), atoi(m[6]), ms*int(time.Millisecond), time.UTC)
	if m[9] != "" {
		delta := time.Duration(atoi(m[10])*60+atoi(m[11])) * time.Minute
		if m[9] == "-" {
			delta = -delta
		}
		t = t.Add(-delta)
	}
	return t, true
}

// mustacheSpace is JavaScript's whitespace, which js-yaml skips before
// deciding that a stream holds no document.
func mustacheSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}
