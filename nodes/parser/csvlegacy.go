package parser

import (
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// csvLegacy is the csv node's parser from before Node-RED 4 (no spec
// property): a character loop that is forgiving about bad quoting and
// warns instead of failing. Its quirks are kept, since flows depend on them.
type csvLegacy struct {
	csvConfig
	template []string
	notmpl   bool
	goodTmpl bool
	splitSep string // the separator the column splitter last used
	hdrSent  bool
	warned   bool
	store    []any
}

func newCSVLegacy(c csvConfig) *csvLegacy {
	n := &csvLegacy{csvConfig: c, goodTmpl: true}
	n.template = n.clean(c.template, ",")
	n.notmpl = len(n.template) == 1 && n.template[0] == ""
	return n
}

// clean splits a column list at separators outside quotes, drops the
// quotes and trims; with no separator it reuses the last one.
func (n *csvLegacy) clean(col, sep string) []string {
	if sep != "" {
		n.splitSep = sep
	}
	cols := splitOutsideQuotes(strings.TrimSpace(col), n.splitSep)
	for i, c := range cols {
		cols[i] = strings.TrimSpace(strings.ReplaceAll(c, `"`, ""))
	}
	n.goodTmpl = !(len(cols) == 1 && cols[0] == "")
	return cols
}

// splitOutsideQuotes splits at each separator followed by an even number
// of quotes up to the end of the text.
func splitOutsideQuotes(s, sep string) []string {
	if sep == "" {
		return []string{s}
	}
	var out []string
	start := 0
	for i := 0; i+len(sep) <= len(s); {
		if s[i:i+len(sep)] == sep && strings.Count(s[i+len(sep):], `"`)%2 == 0 {
			out = append(out, s[start:i])
			i += len(sep)
			start = i
			continue
		}
		i++
	}
	return append(out, s[start:])
}

func (n *csvLegacy) input(c node.Ctx, m *msg.Msg) error {
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
	if isObjectType(payload) {
		return n.generate(c, m)
	}
	if s, ok := payload.(string); ok {
		return n.parse(c, m, s)
	}
	c.Warn(csvErrJS)
	return nil
}

func (n *csvLegacy) quoteColumns(t []string, sep string) []string {
	out := make([]string, len(t))
	for i, v := range t {
		if strings.Contains(v, sep) {
			v = `"` + v + `"`
		}
		out[i] = v
	}
	return out
}

func (n *csvLegacy) generate(c node.Ctx, m *msg.Msg) error {
	parts, _ := m.Value("parts").(*msg.Object)
	if !(n.notmpl && parts != nil && parts.Has("index") && msg.ToNumber(parts.Value("index")) > 0) {
		n.template = n.clean(n.csvConfig.template, "")
	}
	noTmpl := func() bool { return len(n.template) == 1 && n.template[0] == "" }
	payload := m.Value("payload")
	rows, ok := payload.([]any)
	if !ok {
		rows = []any{payload}
		m.Set("payload", rows)
	}
	var out []string
	if n.hdrout != "none" && !n.hdrSent {
		if noTmpl() {
			if m.Has("columns") {
				n.template = n.clean(columnsString(m), ",")
			} else {
				var first any = msg.Undefined{}
				if len(rows) > 0 {
					first = rows[0]
				}
				keys, err := jsKeys(first)
				if err != nil {
					return err
				}
				n.template = keys
			}
		}
		out = append(out, strings.Join(n.quoteColumns(n.template, n.sep), n.sep))
		if n.hdrout == "once" {
			n.hdrSent = true
		}
	}
	for s := 0; s < len(rows); s++ {
		row := rows[s]
		_, isArr := row.([]any)
		if isArr || !isObjectType(row) {
			if !isObjectType(row) {
				// Node-RED wraps the whole payload again here.
				rows = []any{rows}
				m.Set("payload", rows)
			}
			if s >= len(rows) {
				return &node.JSError{Name: "TypeError", Message: "Cannot read properties of undefined (reading 'length')"}
			}
			cells, _ := rows[s].([]any)
			for t, cell := range cells {
				if msg.IsUndefined(cell) {
					cell = ""
					cells[t] = cell
				}
				if cell == nil {
					return &node.JSError{Name: "TypeError", Message: "Cannot read properties of null (reading 'toString')"}
				}
				str := msg.ToString(cell)
				switch {
				case strings.Contains(str, `"`):
					cells[t] = `"` + strings.ReplaceAll(str, `"`, `""`) + `"`
				case strings.Contains(str, n.sep), strings.Contains(str, "\n"):
					cells[t] = `"` + str + `"`
				}
			}
			out = append(out, joinCells(cells, n.sep))
			continue
		}
		if noTmpl() && m.Has("columns") {
			n.template = n.clean(columnsString(m), ",")
		}
		if noTmpl() {
			if !n.warned {
				c.Warn(csvErrObj)
				n.warned = true
			}
			var cells []string
			for _, p := range forInKeys(rows[0]) {
				if row == nil {
					return &node.JSError{Name: "TypeError", Message: "Cannot read properties of null (reading 'hasOwnProperty')"}
				}
				if !hasOwn(row, p) {
					continue
				}
				v := member(row, p)
				if isObjectType(v) {
					continue
				}
				q := ""
				if !msg.IsUndefined(v) {
					q = msg.ToString(v)
				}
				switch {
				case strings.Contains(q, `"`):
					cells = append(cells, `"`+strings.ReplaceAll(q, `"`, `""`)+`"`)
				case strings.Contains(q, n.sep), strings.Contains(p, "\n"):
					cells = append(cells, `"`+q+`"`)
				default:
					cells = append(cells, q)
				}
			}
			out = append(out, strings.Join(cells, n.sep))
			continue
		}
		cells := make([]string, len(n.template))
		for t, name := range n.template {
			if name == "" {
				continue
			}
			if row == nil {
				return &node.JSError{Name: "TypeError", Message: "Cannot read properties of null (reading '" + name + "')"}
			}
			v := member(row, name)
			if msg.IsUndefined(v) {
				v = ""
			}
			p := ensureString(v)
			switch {
			case strings.Contains(p, `"`):
				p = `"` + strings.ReplaceAll(p, `"`, `""`) + `"`
			case strings.Contains(p, n.sep), strings.Contains(p, "\n"):
				p = `"` + p + `"`
			}
			cells[t] = p
		}
		out = append(out, strings.Join(cells, n.sep))
	}
	m.Set("payload", strings.Join(out, n.ret)+n.ret)
	m.Set("columns", strings.Join(n.quoteColumns(n.template, ","), ","))
	c.Send(m)
	return nil
}

// joinCells is Array.prototype.join over cells.
func joinCells(cells []any, sep string) string {
	parts := make([]string, len(cells))
	for i, c := range cells {
		if c == nil || msg.IsUndefined(c) {
			continue
		}
		parts[i] = msg.ToString(c)
	}
	return strings.Join(parts, sep)
}

// legacyNumber is the legacy parser's test for numeric cells:
// -?digits[.digits][E[-][+]]digits, no leading E and no leading zero
// before a digit.
func legacyNumber(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" || s[0] == 'e' || s[0] == 'E' {
		return false
	}
	if len(s) >= 2 && s[0] == '0' && isDigit(s[1]) {
		return false
	}
	return legacyNumberRE(s)
}

// legacyNumberRE matches \d*\.?\d*(E-?\+?)?\d+ (case-insensitive) whole.
func legacyNumberRE(s string) bool {
	// The last run of digits is required; try every split point for the
	// optional exponent, as a backtracking matcher would.
	end := len(s)
	i := end
	for i > 0 && isDigit(s[i-1]) {
		i--
	}
	if i == end {
		return false
	}
	// s[:i] must be \d*\.?\d*(E-?\+?)? with the trailing digits possibly
	// belonging to the mantissa; any digits may move left.
	head := s[:i]
	if m := mantissa(head); m {
		return true
	}
	// Exponent marker forms.
	for _, suf := range []string{"e", "e-", "e+", "e-+"} {
		if len(head) >= len(suf) && strings.EqualFold(head[len(head)-len(suf):], suf) && mantissa(head[:len(head)-len(suf)]) {
			return true
		}
	}
	return false
}

// mantissa matches \d*\.?\d* whole.
func mantissa(s string) bool {
	dot := false
	for i := 0; i < len(s); i++ {
		switch {
		case isDigit(s[i]):
		case s[i] == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parseFloatJS is parseFloat: the longest numeric prefix.
func parseFloatJS(s string) float64 {
	s = strings.TrimSpace(s)
	best := ""
	for i := len(s); i > 0; i-- {
		if _, err := strconv.ParseFloat(s[:i], 64); err == nil {
			best = s[:i]
			break
		}
	}
	f, _ := strconv.ParseFloat(best, 64)
	return f
}

func (n *csvLegacy) cellValue(k any) any {
	if s, ok := k.(string); ok && n.numbers && legacyNumber(strings.TrimSpace(s)) {
		return parseFloatJS(s)
	}
	return k
}

// put stores a finished cell in the row object as the legacy parser does.
func (n *csvLegacy) put(o *msg.Object, key string, v any) {
	if n.nulls && v == nil {
		o.Set(key, nil)
	}
	if n.empties && v == "" {
		o.Set(key, "")
	}
	if v != nil && v != "" {
		o.Set(key, v)
	}
}

func (n *csvLegacy) column(j int) string {
	if !n.goodTmpl {
		name := "col" + itoa(j+1)
		for len(n.template) <= j {
			n.template = append(n.template, "")
		}
		n.template[j] = name
	}
	if j < len(n.template) {
		return n.template[j]
	}
	return ""
}

func (n *csvLegacy) parse(c node.Ctx, m *msg.Msg, payload string) error {
	line := []rune(payload)
	at := func(i int) rune {
		if i < 0 || i >= len(line) {
			return -1
		}
		return line[i]
	}
	sep := runeOf(n.sep)
	var (
		f   = true
		j   = 0
		k   = []any{""}
		o   = msg.NewObject(4)
		a   []any
		tmp strings.Builder
	)
	parts, hasParts, linecount, first, last := splitPosition(m, n.skip)
	crs := strings.Count(payload, "\n") + strings.Count(payload, "\r")
	if hasParts && n.multi == "mult" && crs > 1 {
		tmp.Reset()
		first = true
	}
	for i := 0; i < len(line); i++ {
		ch := line[i]
		if first && linecount < float64(n.skip) {
			if ch == '\n' {
				linecount++
			}
			continue
		}
		if n.hdrin && first {
			if ch == '\n' || ch == '\r' || len(line)-i == 1 {
				if len(line)-i == 1 {
					tmp.WriteRune(ch)
				}
				n.template = n.clean(tmp.String(), n.sep)
				first = false
			} else {
				tmp.WriteRune(ch)
			}
			continue
		}
		switch {
		case ch == '"':
			f = !f
			if at(i-1) == '"' && !f {
				k[j] = msg.ToString(k[j]) + `"`
			}
		case ch == sep && f:
			if name := n.column(j); name != "" {
				prev := at(i - 1)
				if prev == -1 {
					return &node.JSError{Name: "TypeError", Message: "Cannot read properties of undefined (reading 'includes')"}
				}
				if prev == sep || prev == '\n' {
					k[j] = nil
				}
				if k[j] != nil {
					k[j] = n.cellValue(k[j])
				}
				n.put(o, name, k[j])
			}
			j++
			for len(k) <= j {
				k = append(k, "")
			}
			if len(line)-1 == i {
				k[j] = nil
			} else {
				k[j] = ""
			}
		case (ch == '\n' || ch == '\r') && f:
			if name := n.column(j); name != "" {
				if at(i-1) == sep {
					k[j] = nil
				}
				if k[j] != nil {
					k[j] = n.cellValue(k[j])
				}
				n.put(o, name, k[j])
			}
			if o.Len() > 0 {
				a = append(a, o)
			}
			j, k, o, f = 0, []any{""}, msg.NewObject(4), true
		default:
			k[j] = msg.ToString(k[j]) + string(ch)
		}
	}
	if !f {
		c.Warn(csvErrBadCSV)
	}
	if name := n.column(j); name != "" {
		if k[j] != nil {
			k[j] = n.cellValue(k[j])
		}
		n.put(o, name, k[j])
	}
	if o.Len() > 0 {
		a = append(a, o)
	}
	columns := n.columnsOut()
	if n.multi != "one" {
		m.Set("payload", orEmpty(a))
		if hasParts && crs <= 1 {
			if o.Len() > 0 {
				n.store = append(n.store, o)
			}
			if msg.ToNumber(valueOrUndef(parts, "index"))+1 == msg.ToNumber(valueOrUndef(parts, "count")) {
				m.Set("payload", orEmpty(n.store))
				m.Set("columns", columns)
				m.Delete("parts")
				c.Send(m)
				n.store = nil
			}
			return nil
		}
		m.Set("columns", columns)
		c.Send(m)
		return nil
	}
	for i, row := range a {
		out := m.Clone()
		out.Set("columns", columns)
		out.Set("payload", row)
		if !hasParts {
			out.Set("parts", msg.ObjectOf("id", m.Value("_msgid"), "index", float64(i), "count", float64(len(a))))
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
	if hasParts && last && len(a) == 0 {
		c.Send(&msg.Msg{Object: msg.ObjectOf("complete", true), Track: m.Track})
	}
	return nil
}

// columnsOut is msg.columns: the column names, quoted when they hold a
// comma, empty ones left out.
func (n *csvLegacy) columnsOut() string {
	var out []string
	for _, v := range n.template {
		if v == "" {
			continue
		}
		if strings.Contains(v, ",") {
			v = `"` + v + `"`
		}
		out = append(out, v)
	}
	return strings.Join(out, ",")
}
