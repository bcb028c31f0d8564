// Package jsyaml reads YAML as js-yaml 4's load() does with its default
// schema, into the message model: the yaml node and the template node's
// "parsed YAML" output both go through it, as both call js-yaml in
// Node-RED. The syntax is go-yaml's; the meaning of scalars is js-yaml's.
package jsyaml

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"

	"github.com/sluicehq/sluice/runtime/msg"
)

// Load reads one YAML document: YAML 1.2 core types, timestamps as dates,
// !!binary as a Uint8Array (an object of byte values once in a message),
// merge keys, !!pairs as [key, value] arrays; an empty document is
// undefined, more than one document an error.
func Load(s string) (any, error) {
	if strings.TrimFunc(s, jsSpace) == "" {
		return msg.Undefined{}, nil
	}
	dec := yaml.NewDecoder(strings.NewReader(s))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			// Only comments or markers: an empty document.
			return nil, nil
		}
		return nil, yamlError(err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, yamlError(err)
		}
		return nil, errors.New("expected a single document in the stream, but found more")
	}
	l := &yamlLoader{}
	return l.value(&doc)
}

func yamlError(err error) error {
	return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
}

type yamlLoader struct {
	depth int
	work  int // bounds alias expansion, as js-yaml bounds merges
}

const yamlMaxWork = 1_000_000

func (l *yamlLoader) value(n *yaml.Node) (any, error) {
	l.work++
	if l.work > yamlMaxWork {
		return nil, errors.New("document too large after alias expansion")
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return l.value(n.Content[0])
	case yaml.AliasNode:
		l.depth++
		defer func() { l.depth-- }()
		if l.depth > 100 {
			return nil, errors.New("alias nesting too deep")
		}
		return l.value(n.Alias)
	case yaml.ScalarNode:
		return l.scalar(n)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := l.value(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		if n.Style&yaml.TaggedStyle != 0 && n.ShortTag() == "!!pairs" {
			return pairs(out), nil
		}
		return out, nil
	case yaml.MappingNode:
		return l.mapping(n)
	}
	return nil, fmt.Errorf("unexpected YAML node at line %d", n.Line)
}

func (l *yamlLoader) mapping(n *yaml.Node) (any, error) {
	out := msg.NewObject(len(n.Content) / 2)
	overridable := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if isMergeKey(kn) {
			v, err := l.value(vn)
			if err != nil {
				return nil, err
			}
			srcs := []any{v}
			if a, ok := v.([]any); ok {
				srcs = a
			}
			for _, src := range srcs {
				so, ok := src.(*msg.Object)
				if !ok {
					return nil, fmt.Errorf("cannot merge mappings; the provided source object is unacceptable (%d:%d)", vn.Line, vn.Column)
				}
				for j := 0; j < so.Len(); j++ {
					k, sv := so.At(j)
					if !out.Has(k) {
						out.Set(k, sv)
						overridable[k] = true
					}
				}
			}
			continue
		}
		kv, err := l.value(kn)
		if err != nil {
			return nil, err
		}
		key := yamlKey(kv)
		if out.Has(key) && !overridable[key] {
			return nil, fmt.Errorf("duplicated mapping key (%d:%d)", kn.Line, kn.Column)
		}
		v, err := l.value(vn)
		if err != nil {
			return nil, err
		}
		out.Set(key, v)
		delete(overridable, key)
	}
	return out, nil
}

func isMergeKey(n *yaml.Node) bool {
	if n.Kind != yaml.ScalarNode {
		return false
	}
	if n.Style&yaml.TaggedStyle != 0 {
		return n.Tag == "!!merge"
	}
	return n.Style == 0 && n.Value == "<<"
}

// yamlKey is String(key) for a mapping key.
func yamlKey(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case *msg.Object:
		return "[object Object]"
	case time.Time:
		return t.UTC().Format("Mon Jan 02 2006 15:04:05 GMT+0000 (Coordinated Universal Time)")
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			if _, ok := e.(*msg.Object); ok {
				parts[i] = "[object Object]"
			} else if e != nil {
				parts[i] = msg.ToString(e)
			}
		}
		return strings.Join(parts, ",")
	}
	return msg.ToString(v)
}

func (l *yamlLoader) scalar(n *yaml.Node) (any, error) {
	if n.Style&yaml.TaggedStyle != 0 {
		return yamlTagged(n)
	}
	if n.Style != 0 {
		// Quoted and block scalars are strings.
		return n.Value, nil
	}
	if n.Value == "" {
		return nil, nil
	}
	if v, ok := Implicit(n.Value); ok {
		return v, nil
	}
	return n.Value, nil
}

func yamlTagged(n *yaml.Node) (any, error) {
	s := n.Value
	switch n.Tag {
	case "!!str":
		return s, nil
	case "!!null":
		if s == "" || yamlNull(s) {
			return nil, nil
		}
	case "!!bool":
		if v, ok := yamlBool(s); ok {
			return v, nil
		}
	case "!!int":
		if v, ok := yamlInt(s); ok {
			return v, nil
		}
	case "!!float":
		if v, ok := yamlFloat(s); ok {
			return v, nil
		}
	case "!!timestamp":
		if v, ok := yamlTimestamp(s); ok {
			return v, nil
		}
	case "!!binary":
		b, err := base64.StdEncoding.DecodeString(strings.Map(func(r rune) rune {
			// js-yaml skips line breaks only: a folded plain scalar (with
			// spaces) is not binary.
			if r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, s))
		if err == nil {
			// js-yaml gives a Uint8Array, which messages carry as an
			// object of byte values (not a Buffer).
			o := msg.NewObject(len(b))
			for i, c := range b {
				o.Set(itoa(i), float64(c))
			}
			return o, nil
		}
	default:
		return nil, fmt.Errorf("unknown tag !<%s> (%d:%d)", n.Tag, n.Line, n.Column)
	}
	// js-yaml names the tag in full (tag:yaml.org,2002:int).
	full := n.Tag
	if strings.HasPrefix(full, "!!") {
		full = "tag:yaml.org,2002:" + full[2:]
	}
	return nil, fmt.Errorf("cannot resolve a node with !<%s> explicit tag (%d:%d)", full, n.Line, n.Column)
}

// Implicit resolves a plain scalar with js-yaml's implicit types, in
// their order: null, bool, int, float, timestamp; ok is false for a string
// (a dumper quotes what would read back as something else).
func Implicit(s string) (any, bool) {
	if yamlNull(s) {
		return nil, true
	}
	if v, ok := yamlBool(s); ok {
		return v, true
	}
	if v, ok := yamlInt(s); ok {
		return v, true
	}
	if v, ok := yamlFloat(s); ok {
		return v, true
	}
	if v, ok := yamlTimestamp(s); ok {
		return v, true
	}
	return nil, false
}

func yamlNull(s string) bool {
	return s == "~" || s == "null" || s == "Null" || s == "NULL"
}

func yamlBool(s string) (bool, bool) {
	switch s {
	case "true", "True", "TRUE":
		return true, true
	case "false", "False", "FALSE":
		return false, true
	}
	return false, false
}

func yamlInt(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	body, sign := s, 1.0
	if body[0] == '-' || body[0] == '+' {
		if body[0] == '-' {
			sign = -1
		}
		body = body[1:]
	}
	if body == "0" {
		return 0, true
	}
	if len(body) >= 2 && body[0] == '0' {
		base := 0
		switch body[1] {
		case 'b':
			base = 2
		case 'x':
			base = 16
		case 'o':
			base = 8
		}
		if base != 0 {
			digits := body[2:]
			if digits == "" {
				return 0, false
			}
			f, ok := parseRadix(digits, base)
			if !ok || math.IsInf(f, 0) {
				return 0, false
			}
			return sign * f, true
		}
	}
	if body == "" {
		return 0, false
	}
	for i := 0; i < len(body); i++ {
		if body[i] < '0' || body[i] > '9' {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(body, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	return sign * f, true
}

func parseRadix(digits string, base int) (float64, bool) {
	f := 0.0
	for i := 0; i < len(digits); i++ {
		d, err := strconv.ParseUint(digits[i:i+1], base, 8)
		if err != nil {
			return 0, false
		}
		f = f*float64(base) + float64(d)
	}
	return f, true
}

var (
	yamlFloatRE = regexp.MustCompile(`^(?:[-+]?(?:[0-9]+)(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	yamlDateRE  = regexp.MustCompile(`^([0-9][0-9][0-9][0-9])-([0-9][0-9])-([0-9][0-9])$`)
	yamlStampRE = regexp.MustCompile(`^([0-9][0-9][0-9][0-9])-([0-9][0-9]?)-([0-9][0-9]?)(?:[Tt]|[ \t]+)([0-9][0-9]?):([0-9][0-9]):([0-9][0-9])(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9][0-9]?)(?::([0-9][0-9]))?))?$`)
)

func yamlFloat(s string) (float64, bool) {
	if !yamlFloatRE.MatchString(s) {
		return 0, false
	}
	low := strings.ToLower(s)
	sign := 1.0
	if low[0] == '-' {
		sign = -1
	}
	body := strings.TrimLeft(low, "+-")
	switch body {
	case ".inf":
		return math.Inf(int(sign)), true
	case ".nan":
		return math.NaN(), true
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(body, "."), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	return sign * f, true
}

func yamlTimestamp(s string) (time.Time, bool) {
	if m := yamlDateRE.FindStringSubmatch(s); m != nil {
		return jsDateUTC(atoi(m[1]), atoi(m[2])-1, atoi(m[3]), 0, 0, 0, 0), true
	}
	m := yamlStampRE.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, false
	}
	frac := 0
	if m[7] != "" {
		f := m[7]
		if len(f) > 3 {
			f = f[:3]
		}
		for len(f) < 3 {
			f += "0"
		}
		frac = atoi(f)
	}
	t := jsDateUTC(atoi(m[1]), atoi(m[2])-1, atoi(m[3]), atoi(m[4]), atoi(m[5]), atoi(m[6]), frac)
	if m[9] != "" {
		delta := time.Duration(atoi(m[10])*60+atoi(m[11])) * time.Minute
		if m[9] == "-" {
			delta = -delta
		}
		t = t.Add(-delta)
	}
	return t, true
}

// jsDateUTC is Date.UTC: out-of-range fields roll over, and two-digit
// years are in the 1900s.
func jsDateUTC(y, mon, d, h, mi, s, ms int) time.Time {
	if y >= 0 && y <= 99 {
		y += 1900
	}
	return time.Date(y, time.January, 1, 0, 0, 0, 0, time.UTC).
		AddDate(0, mon, d-1).
		Add(time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(s)*time.Second + time.Duration(ms)*time.Millisecond)
}

// pairs is js-yaml's !!pairs: a list of one-key mappings becomes a list
// of [key, value] arrays.
func pairs(items []any) []any {
	out := make([]any, 0, len(items))
	for _, it := range items {
		if o, ok := it.(*msg.Object); ok && o.Len() == 1 {
			k, v := o.At(0)
			out = append(out, []any{k, v})
		}
	}
	return out
}

// jsSpace is JavaScript's whitespace, which js-yaml skips before deciding
// that a stream holds no document.
func jsSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

func itoa(i int) string { return msg.FormatNumber(float64(i)) }

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
