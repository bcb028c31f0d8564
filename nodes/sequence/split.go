package sequence

import (
	"bytes"
	"context"
	"math"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type:     "split",
		Category: "sequence",
		Color:    seqColor,
		Icon:     "split.svg",
		Inputs:   1,
		Outputs:  1,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "splt", Kind: node.KindString, Default: `\n`, Label: "Split using"},
			{Name: "spltType", Kind: node.KindString, Default: "str", Options: []string{"str", "bin", "len"}},
			{Name: "arraySplt", Kind: node.KindNumber, Default: 1, Label: "Array split length"},
			{Name: "arraySpltType", Kind: node.KindString, Default: "len", Options: []string{"len"}},
			{Name: "stream", Kind: node.KindBool, Default: false, Label: "Handle as a stream of messages"},
			{Name: "addname", Kind: node.KindString, Default: "", Label: "Copy key to", Types: []string{"msg"}},
			{Name: "property", Kind: node.KindString, Default: "payload", Required: true, Types: []string{"msg"}, Label: "Split property"},
		},
		Help: splitHelp,
		New:  newSplit,
	})
}

const splitHelp = `Splits a message into a sequence of messages, each with ` + "`msg.parts`" + ` describing its place.

- **String / Buffer**: split at a string, at a byte sequence (` + "`[10]`" + `) or into chunks of a
  fixed length. *Handle as a stream* keeps the unfinished end and prepends it to the next
  message, and leaves ` + "`msg.parts.count`" + ` out.
- **Array**: one message per element, or per chunk of *array split length* elements.
- **Object**: one message per key/value pair; ` + "`msg.parts.key`" + ` holds the key, which can also be
  copied to another property.

A join node in automatic mode puts the sequence back together. A message that already has
` + "`msg.parts`" + ` keeps it under ` + "`msg.parts.parts`" + `.`

type splitNode struct {
	prop      *prop
	addname   string
	stream    bool
	kind      string // str, bin, len
	sep       string // str: the separator; bin: its bytes as a string
	sepBytes  []byte
	sepLen    int   // how far past a match a buffer split advances
	sepArray  []any // bin: the separator as written, for msg.parts.ch
	chunk     int   // len: chunk length
	arraySplt int

	mu        sync.Mutex
	c         int    // running part index (stream mode continues it)
	remainder string // stream mode: unfinished end of the last string
	buffer    []byte // stream mode: unfinished end of the last buffer
	pending   []*msg.Msg
}

func newSplit(cfg *node.Config) (node.Node, error) {
	n := &splitNode{kind: cfg.StrOr("spltType", "str"), addname: cfg.Str("addname")}
	n.stream = cfg.Get("stream") == true
	p, err := newProp("property", cfg.StrOr("property", "payload"))
	if err != nil {
		return nil, err
	}
	n.prop = p
	raw := cfg.Str("splt")
	switch n.kind {
	case "str":
		n.sep = unescape(raw)
		if raw == "" {
			n.sep = "\n"
		}
		n.sepBytes = []byte(n.sep)
		n.sepLen = len(utf16.Encode([]rune(n.sep)))
	case "bin":
		v, err := msg.UnmarshalString(raw)
		arr, ok := v.([]any)
		if err != nil || !ok {
			return nil, node.BadProp("splt", raw, "Invalid split property: Error: not an array")
		}
		b := make([]byte, len(arr))
		for i, e := range arr {
			b[i] = toByte(msg.ToNumber(e))
		}
		if len(b) == 0 {
			// Node-RED would loop forever on an empty separator.
			return nil, node.BadProp("splt", raw, "the split buffer is empty")
		}
		n.sepArray, n.sepBytes, n.sep, n.sepLen = arr, b, string(b), len(b)
	case "len":
		l, ok := parseIntJS(raw)
		if !ok || l < 1 {
			return nil, node.BadProp("splt", raw, "Invalid split property: Error: invalid split length: %s", raw)
		}
		n.chunk = l
	default:
		return nil, node.BadProp("spltType", n.kind, `must be "str", "bin" or "len"`)
	}
	n.arraySplt = 1
	if v, ok := cfg.Raw.Get("arraySplt"); ok {
		l, ok := parseIntJS(msg.ToString(v))
		if !ok || l < 1 {
			return nil, node.BadProp("arraySplt", v, "Invalid split property: Error: invalid array split length: %s", msg.ToString(v))
		}
		n.arraySplt = l
	}
	return n, nil
}

// parseIntJS is JavaScript's parseInt(s) for the decimal integers the
// editor writes: leading digits count, the rest is ignored.
func parseIntJS(s string) (int, bool) {
	s = strings.TrimSpace(s)
	end := 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	start := end
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == start {
		return 0, false
	}
	v, err := strconv.Atoi(s[:end])
	return v, err == nil
}

// toByte is a number as Buffer.from([n]) stores it: truncated, modulo 256.
func toByte(f float64) byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return byte(int64(math.Trunc(f)))
}

func (n *splitNode) DeferDone() {}

func (n *splitNode) Input(c node.Ctx, m *msg.Msg) error {
	value, err := n.prop.get(m)
	if err != nil {
		c.Done(m, err)
		return nil
	}
	if msg.IsUndefined(value) {
		// Node-RED neither sends nor finishes such a message.
		release(m)
		return nil
	}
	parts := msg.NewObject(6)
	if old, ok := m.Get("parts"); ok {
		parts.Set("parts", old)
	}
	parts.Set("id", msg.NewID())
	if n.prop.name != "payload" {
		parts.Set("property", n.prop.name)
	}
	m.Set("parts", parts)
	m.Delete("_msgid")

	n.mu.Lock()
	defer n.mu.Unlock()
	switch v := value.(type) {
	case string:
		n.splitString(c, m, parts, v)
	case []any:
		n.splitArray(c, m, parts, v)
	case []byte:
		n.splitBuffer(c, m, parts, v)
	case *msg.Object:
		n.splitObject(c, m, parts, v)
		c.Done(m, nil)
	case nil:
		c.Done(m, &node.JSError{Name: "TypeError", Message: "Cannot convert undefined or null to object"})
	default:
		// Numbers and booleans are dropped.
		c.Done(m, nil)
	}
	return nil
}

// emit sends a copy of m with the property set to v.
func (n *splitNode) emit(c node.Ctx, m *msg.Msg, v any) {
	n.prop.set(m, v)
	c.Send(m.Clone())
}

func (n *splitNode) flush(c node.Ctx) {
	for _, pm := range n.pending {
		c.Done(pm, nil)
	}
	n.pending = nil
}

func (n *splitNode) splitString(c node.Ctx, m *msg.Msg, parts *msg.Object, v string) {
	v = n.remainder + v
	parts.Set("type", "string")
	if n.kind == "len" {
		parts.Set("ch", "")
		parts.Set("len", float64(n.chunk))
		s := newJSString(v)
		count := (s.len() + n.chunk - 1) / n.chunk
		if !n.stream {
			parts.Set("count", float64(count))
			n.c = 0
		}
		pos := 0
		for i := 0; i < count-1; i++ {
			parts.Set("index", float64(n.c))
			n.c++
			n.emit(c, m, s.sub(pos, pos+n.chunk))
			pos += n.chunk
		}
		if count > 1 {
			n.flush(c)
		}
		rest := s.sub(pos, s.len())
		if !n.stream || s.len()-pos == n.chunk {
			parts.Set("index", float64(n.c))
			n.c++
			n.emit(c, m, rest)
			n.flush(c)
			c.Done(m, nil)
			n.remainder = ""
		} else {
			n.remainder = rest
			n.pending = append(n.pending, m)
		}
		return
	}
	var a []string
	if n.kind == "bin" {
		// Strings split at the separator bytes read as UTF-8 text.
		a = strings.Split(v, strings.ToValidUTF8(n.sep, "\uFFFD"))
		parts.Set("ch", msg.Clone(n.sepArray))
	} else {
		a = strings.Split(v, n.sep)
		parts.Set("ch", n.sep)
	}
	last := len(a) - 1
	for i := 0; i < last; i++ {
		parts.Set("index", float64(n.c))
		n.c++
		if !n.stream {
			parts.Set("count", float64(len(a)))
		}
		n.emit(c, m, a[i])
	}
	if !n.stream {
		parts.Set("index", float64(n.c))
		n.c++
		parts.Set("count", float64(len(a)))
		n.emit(c, m, a[last])
		n.c = 0
	} else {
		n.remainder = a[last]
	}
	c.Done(m, nil)
}

func (n *splitNode) splitArray(c node.Ctx, m *msg.Msg, parts *msg.Object, v []any) {
	parts.Set("type", "array")
	count := (len(v) + n.arraySplt - 1) / n.arraySplt
	parts.Set("count", float64(count))
	parts.Set("len", float64(n.arraySplt))
	base := m.Clone()
	bp, _ := partsOf(base)
	for i := 0; i < count; i++ {
		end := min((i+1)*n.arraySplt, len(v))
		var el any = v[i*n.arraySplt : end]
		if n.arraySplt == 1 {
			el = v[i]
		}
		n.prop.set(base, el)
		bp.Set("index", float64(i))
		c.Send(base.Clone())
	}
	c.Done(m, nil)
}

func (n *splitNode) splitObject(c node.Ctx, m *msg.Msg, parts *msg.Object, v *msg.Object) {
	parts.Set("type", "object")
	l := v.Len()
	// The keys are read up front: with addname or a nested property the
	// object itself may be written to while it is walked.
	keys := append([]string(nil), v.Keys()...)
	vals := make([]any, len(keys))
	for i, k := range keys {
		vals[i] = v.Value(k)
	}
	for j, k := range keys {
		n.prop.set(m, vals[j])
		if n.addname != "" {
			_ = setPath(m, n.addname, k)
		}
		parts.Set("key", k)
		parts.Set("index", float64(j))
		parts.Set("count", float64(l))
		c.Send(m.Clone())
	}
}

func (n *splitNode) splitBuffer(c node.Ctx, m *msg.Msg, parts *msg.Object, v []byte) {
	buff := make([]byte, 0, len(n.buffer)+len(v))
	buff = append(append(buff, n.buffer...), v...)
	parts.Set("type", "buffer")
	if n.kind == "len" {
		count := (len(buff) + n.chunk - 1) / n.chunk
		if !n.stream {
			parts.Set("count", float64(count))
			n.c = 0
		}
		parts.Set("len", float64(n.chunk))
		pos := 0
		for i := 0; i < count-1; i++ {
			parts.Set("index", float64(n.c))
			n.c++
			n.emit(c, m, bytes.Clone(buff[pos:pos+n.chunk]))
			pos += n.chunk
		}
		if count > 1 {
			n.flush(c)
		}
		n.buffer = buff[pos:]
		if !n.stream || len(n.buffer) == n.chunk {
			parts.Set("index", float64(n.c))
			n.c++
			n.emit(c, m, bytes.Clone(n.buffer))
			n.flush(c)
			c.Done(m, nil)
			n.buffer = nil
		} else {
			n.pending = append(n.pending, m)
		}
		return
	}
	if n.kind == "bin" {
		parts.Set("ch", msg.Clone(n.sepArray))
	} else {
		parts.Set("ch", n.sep)
	}
	count := 1
	for i := indexFrom(buff, n.sepBytes, 0); i >= 0; i = indexFrom(buff, n.sepBytes, i+n.sepLen) {
		count++
	}
	if !n.stream {
		parts.Set("count", float64(count))
		n.c = 0
	}
	p := 0
	for {
		i := indexFrom(buff, n.sepBytes, p)
		if i < 0 {
			break
		}
		parts.Set("index", float64(n.c))
		n.c++
		n.emit(c, m, bytes.Clone(buff[p:i]))
		p = i + n.sepLen
	}
	if count > 1 {
		n.flush(c)
	}
	if !n.stream && p < len(buff) {
		parts.Set("index", float64(n.c))
		n.c++
		// Node-RED counts the parts by bumping the index once more.
		parts.Set("count", float64(n.c))
		n.c++
		n.emit(c, m, bytes.Clone(buff[p:]))
		n.flush(c)
	} else {
		n.buffer = nil
		if p < len(buff) {
			n.buffer = bytes.Clone(buff[p:])
			n.pending = append(n.pending, m)
		}
	}
	if len(n.buffer) == 0 {
		c.Done(m, nil)
	}
}

// indexFrom is Buffer.indexOf(sep, from).
func indexFrom(b, sep []byte, from int) int {
	if from > len(b) {
		return -1
	}
	i := bytes.Index(b[from:], sep)
	if i < 0 {
		return -1
	}
	return from + i
}

func (n *splitNode) Close(ctx context.Context, removed bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, pm := range n.pending {
		release(pm)
	}
	n.pending = nil
	return nil
}

// jsString indexes a string by UTF-16 code units, as JavaScript's length
// and substring do; ASCII text is used as is.
type jsString struct {
	s     string
	units []uint16 // nil for ASCII
}

func newJSString(s string) jsString {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return jsString{s: s, units: utf16.Encode([]rune(s))}
		}
	}
	return jsString{s: s}
}

func (j jsString) len() int {
	if j.units == nil {
		return len(j.s)
	}
	return len(j.units)
}

func (j jsString) sub(from, to int) string {
	to = min(to, j.len())
	if from >= to {
		return ""
	}
	if j.units == nil {
		return j.s[from:to]
	}
	return string(utf16.Decode(j.units[from:to]))
}
