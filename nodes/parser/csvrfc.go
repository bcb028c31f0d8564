package parser

import (
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// csvRFC is the csv node in RFC 4180 mode (spec "rfc").
type csvRFC struct {
	csvConfig
	template   []any // column names (string or nil); [""] for none
	noTemplate bool
	hdrSent    bool
	warned     bool
	store      []any
}

var (
	quoteablesFor = func(sep string) []string { return []string{sep, `"`, "\n", "\r"} }
	strictQuotes  = []string{",", `"`, "\n", "\r"}
)

func newCSVRFC(c csvConfig) (*csvRFC, error) {
	n := &csvRFC{csvConfig: c}
	t, err := n.templateOf(c.template, ",")
	if err != nil {
		return nil, node.BadProp("temp", c.template, csvErrBadTemplate)
	}
	n.template = t
	n.noTemplate = !hasTemplate(t)
	return n, nil
}

// templateOf parses a column list strictly; anything but exactly one row
// is no template ([""]).
func (n *csvRFC) templateOf(cols, sep string) ([]any, error) {
	r, err := csvParse(cols, csvOptions{sep: sep, quote: `"`, hasHeaderRow: true, strict: true})
	if err != nil {
		return nil, err
	}
	if len(r.rows) != 1 {
		return []any{""}, nil
	}
	return r.rows[0], nil
}

func hasTemplate(t []any) bool {
	return len(t) > 0 && !(len(t) == 1 && t[0] == "")
}

// columnLine writes column names as a CSV line with the given separator,
// empty names kept.
func columnLine(t []any, sep string, quoteables []string) string {
	parts := make([]string, len(t))
	for i, h := range t {
		s, _ := h.(string)
		parts[i] = quoteCell(s, `"`, quoteables)
	}
	return strings.Join(parts, sep)
}

func (n *csvRFC) input(c node.Ctx, m *msg.Msg) error {
	c.Status(node.Status{})
	if m.Has("reset") {
		n.hdrSent = false
	}
	payload, ok := m.Get("payload")
	if !ok {
		if !m.Has("reset") {
			c.Send(m)
		}
		return nil
	}
	switch v := payload.(type) {
	case string:
		return n.parse(c, m, v)
	case float64, bool, int, int64, msg.Undefined:
		c.Status(node.Status{Fill: "red", Shape: "dot", Text: csvErrJS})
		return &node.JSError{Name: "Error", Message: csvErrJS}
	default:
		return n.generate(c, m, v)
	}
}

func (n *csvRFC) generate(c node.Ctx, m *msg.Msg, in any) error {
	rows, isArrays := csvRows(in)
	parts, hasParts := m.Value("parts").(*msg.Object)
	if !(n.noTemplate && hasParts && parts.Has("index") && msg.ToNumber(parts.Value("index")) > 0) {
		// A template from the node is parsed again for every message.
		t, err := n.templateOf(n.template0(), ",")
		if err != nil {
			return err
		}
		n.template = t
	}
	var lines []string
	if n.hdrout != "none" && !n.hdrSent {
		if !hasTemplate(n.template) {
			if m.Has("columns") {
				t, err := n.templateOf(columnsString(m), ",")
				if err != nil {
					return err
				}
				n.template = t
			} else {
				var first any = msg.Undefined{}
				if len(rows) > 0 {
					first = rows[0]
				}
				keys, err := jsKeys(first)
				if err != nil {
					return err
				}
				n.template = stringsToAny(keys)
			}
		}
		lines = append(lines, columnLine(n.template, n.sep, quoteablesFor(n.sep)))
		if n.hdrout == "once" {
			n.hdrSent = true
		}
	}
	q := quoteablesFor(n.sep)
	for _, row := range rows {
		if row == nil {
			if key := nullRead(n.template, isArrays); key != "" {
				return &node.JSError{Name: "TypeError", Message: "Cannot read properties of null (reading '" + key + "')"}
			}
		}
		if isArrays {
			with := hasTemplate(n.template)
			l := jsLength(row)
			if with {
				l = len(n.template)
			}
			cells := make([]string, l)
			for t := 0; t < l; t++ {
				cell := member(row, itoa(t))
				if msg.IsUndefined(cell) {
					cell = ""
				}
				if with {
					if h, _ := n.template[t].(string); h == "" {
						continue
					}
				}
				cells[t] = quoteCell(ensureString(cell), `"`, q)
			}
			lines = append(lines, strings.Join(cells, n.sep))
			continue
		}
		if !hasTemplate(n.template) && m.Has("columns") {
			t, err := n.templateOf(columnsString(m), ",")
			if err != nil {
				return err
			}
			n.template = t
		}
		if !hasTemplate(n.template) {
			if !n.warned {
				c.Warn(csvErrObj)
				n.warned = true
			}
			keys, err := jsKeys(row)
			if err != nil {
				return err
			}
			n.template = stringsToAny(keys)
			var cells []string
			for _, h := range forInKeys(rows[0]) {
				if !hasOwn(row, h) {
					continue
				}
				cell := member(row, h)
				if isObjectType(cell) {
					continue
				}
				s := ""
				if !msg.IsUndefined(cell) {
					s = msg.ToString(cell)
				}
				cells = append(cells, quoteCell(s, `"`, q))
			}
			lines = append(lines, strings.Join(cells, n.sep))
			continue
		}
		cells := make([]string, len(n.template))
		for t, h := range n.template {
			name, _ := h.(string)
			if name == "" {
				continue
			}
			cell := member(row, name)
			if msg.IsUndefined(cell) {
				cell = ""
			}
			cells[t] = quoteCell(ensureString(cell), `"`, q)
		}
		lines = append(lines, strings.Join(cells, n.sep))
	}
	m.Set("payload", strings.Join(lines, n.ret)+n.ret)
	m.Set("columns", headerLine(n.template))
	c.Send(m)
	return nil
}

// nullRead is the property a row of null is first read for.
func nullRead(t []any, isArrays bool) string {
	if isArrays {
		if hasTemplate(t) {
			return "0"
		}
		return "length"
	}
	if !hasTemplate(t) {
		return "" // Object.keys(null) fails first
	}
	for _, h := range t {
		if s, _ := h.(string); s != "" {
			return s
		}
	}
	return ""
}

// template0 is the node's own column list.
func (n *csvRFC) template0() string { return n.csvConfig.template }

// csvRows turns the payload into the rows to write: an object is one row,
// an array of values one row of cells; it reports whether rows are arrays.
func csvRows(in any) ([]any, bool) {
	arr, isArr := in.([]any)
	if !isArr {
		return []any{in}, false
	}
	if len(arr) == 0 {
		return arr, false
	}
	switch arr[0].(type) {
	case []any:
		return arr, true
	}
	if !isObjectType(arr[0]) {
		return []any{arr}, true
	}
	return arr, false
}

func jsLength(v any) int {
	switch t := v.(type) {
	case []any:
		return len(t)
	case []byte:
		return len(t)
	case string:
		return jsLen(t)
	}
	return 0
}

func stringsToAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// columnsString is `msg.columns || ""` as text.
func columnsString(m *msg.Msg) string {
	v := m.Value("columns")
	if !msg.Truthy(v) {
		return ""
	}
	return msg.ToString(v)
}

func (n *csvRFC) parse(c node.Ctx, m *msg.Msg, in string) error {
	parts, hasParts, linecount, first, last := splitPosition(m, n.skip)
	skip := float64(n.skip)
	cursor := 0
	if n.skip > 0 && linecount < skip {
		for ; cursor < len(in); cursor++ {
			if first && linecount < skip {
				if in[cursor] == '\r' || in[cursor] == '\n' {
					linecount++
				}
				continue
			}
			break
		}
		if cursor >= len(in) {
			// Node-RED drops this message without finishing it.
			return errSkipped
		}
	}
	crs := strings.Count(in[cursor:], "\n") + strings.Count(in[cursor:], "\r")
	if hasParts && n.multi == "mult" && crs > 1 {
		first = true
	}
	template := n.template
	if first && n.hdrin {
		r, err := csvParse(in, csvOptions{cursor: cursor, sep: n.sep, quote: `"`, hasHeaderRow: true, headersOnly: true, strict: true})
		if err != nil {
			c.Status(node.Status{Fill: "red", Shape: "dot", Text: csvErrBadTemplate})
			return err
		}
		template = r.headers
		n.template = template
		cursor = r.cursor
	}
	opts := csvOptions{cursor: cursor, sep: n.sep, quote: `"`, objects: true, nulls: n.nulls, empties: n.empties, numbers: n.numbers}
	if hasTemplate(template) {
		opts.headers = template
	}
	r, err := csvParse(in, opts)
	if err != nil {
		return err
	}
	columns := headerLine(r.headers)
	if n.multi != "one" {
		if hasParts && crs <= 1 {
			n.store = append(n.store, r.objects...)
			if msg.ToNumber(valueOrUndef(parts, "index"))+1 == msg.ToNumber(valueOrUndef(parts, "count")) {
				m.Set("payload", n.store)
				m.Set("columns", columns)
				m.Delete("parts")
				c.Send(m)
				n.store = nil
			}
			return nil
		}
		m.Set("columns", columns)
		m.Set("payload", orEmpty(r.objects))
		c.Send(m)
		return nil
	}
	for i, row := range r.objects {
		out := m.Clone()
		out.Set("columns", columns)
		out.Set("payload", row)
		if !hasParts {
			out.Set("parts", msg.ObjectOf("id", m.Value("_msgid"), "index", float64(i), "count", float64(len(r.objects))))
		} else if p, ok := out.Value("parts").(*msg.Object); ok {
			partsAdd(p, "index", -n.skip)
			partsAdd(p, "count", -n.skip)
			if n.hdrinSet {
				partsAdd(p, "index", -1)
				partsAdd(p, "count", -1)
			}
		}
		if last {
			out.Set("complete", true)
		}
		c.Send(out)
	}
	if hasParts && last && len(r.objects) == 0 {
		c.Send(&msg.Msg{Object: msg.ObjectOf("complete", true), Track: m.Track})
	}
	return nil
}

func orEmpty(a []any) []any {
	if a == nil {
		return []any{}
	}
	return a
}

func valueOrUndef(o *msg.Object, k string) any {
	if v, ok := o.Get(k); ok {
		return v
	}
	return msg.Undefined{}
}
