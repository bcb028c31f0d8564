package parser

import (
	"strings"
	"unicode/utf8"

	"github.com/sluicehq/sluice/runtime/msg"
)

// The CSV reader and cell quoting of the csv node's RFC 4180 mode, which
// Node-RED 5 ships as a small library of its own: any one-character
// separator and quote, \r, \n or \r\n line ends, and a strict mode for
// column templates and header rows.

// csvOptions are the options the csv node passes to its reader.
type csvOptions struct {
	cursor       int // byte offset to start reading at
	sep, quote   string
	headersOnly  bool
	headers      []any // supplied column names (string or nil); nil: none
	hasHeaderRow bool
	objects      bool // output objects rather than rows
	nulls        bool // keep null cells
	empties      bool // keep empty string cells
	numbers      bool // convert numeric cells
	strict       bool
}

// csvResult is what the reader returns.
type csvResult struct {
	headers []any
	rows    [][]any // row output
	objects []any   // object output
	cursor  int
}

// csvError is a parse failure in strict mode, named as the library names it.
type csvError struct {
	name, message string
}

func (e *csvError) Error() string { return e.name + ": " + e.message }

// Stack is what catch nodes get as msg.error.stack.
func (e *csvError) Stack() string { return e.Error() }

// runeOf is the single character s, or -1 when s is not one character
// (a longer separator never matches, as in Node-RED).
func runeOf(s string) rune {
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 || size != len(s) {
		return -1
	}
	return r
}

func csvParse(in string, o csvOptions) (*csvResult, error) {
	sep, quote := runeOf(o.sep), runeOf(o.quote)
	var (
		cell    []byte // a cell that needed unquoting
		direct  = -1   // start of a cell taken from the input as is
		row     []any
		out     [][]any
		width   = 4
		newCell = true
		inQuote = false
		closed  = false
		cursor  = o.cursor
	)
	// Plain cells are slices of the input; only quoted ones are copied.
	toCopy := func() {
		if direct >= 0 {
			cell = append(cell[:0], in[direct:cursor]...)
			direct = -1
		}
	}
	finishCell := func() {
		switch {
		case direct >= 0 && cursor > direct:
			row = append(row, in[direct:cursor])
		case len(cell) > 0:
			row = append(row, string(cell))
		case newCell:
			row = append(row, nil)
		default:
			row = append(row, "")
		}
		cell, direct = cell[:0], -1
	}
	finishRow := func() {
		if len(cell) > 0 || direct >= 0 && cursor > direct {
			finishCell()
		}
		cell, direct = cell[:0], -1
		if len(row) > 0 {
			out = append(out, row)
			width = max(width, len(row))
			row = nil
		}
	}
	at := func(i int) (rune, int) {
		if i >= len(in) {
			return -2, 0
		}
		if c := in[i]; c < utf8.RuneSelf {
			return rune(c), 1
		}
		return utf8.DecodeRuneInString(in[i:])
	}
loop:
	for cursor < len(in) {
		ch, size := at(cursor)
		if inQuote {
			next, nsize := at(cursor + size)
			switch {
			case ch == quote && next == quote:
				cell = utf8.AppendRune(cell, quote)
				cursor += size + nsize
				newCell, closed = false, false
			case ch == quote:
				inQuote = false
				cursor += size
				newCell, closed = false, true
			default:
				cell = append(cell, in[cursor:cursor+size]...)
				newCell, closed = false, false
				cursor += size
			}
			continue
		}
		switch {
		case ch == sep:
			finishCell()
			cursor += size
			newCell, closed = true, false
		case ch == quote:
			toCopy()
			if newCell {
				inQuote = true
				cursor += size
				newCell, closed = false, false
			} else if o.strict {
				return nil, &csvError{"UnquotedQuoteError", "Quote found in the middle of an unquoted field"}
			} else {
				// Lenient: keep one quote unless a cell or record ends here.
				cursor += size
				next, nsize := at(cursor)
				if next >= 0 && next != '\n' && next != '\r' && next != sep {
					cell = utf8.AppendRune(cell, ch)
					if next == quote {
						cursor += nsize
					}
				}
			}
		case ch == '\n' || ch == '\r':
			finishRow()
			if next, _ := at(cursor + 1); next == '\n' {
				cursor += 2
			} else {
				cursor++
			}
			newCell, closed = true, false
			if o.headersOnly {
				break loop
			}
		case closed:
			if o.strict {
				return nil, &csvError{"DataAfterCloseError", "Data found after closing quote"}
			}
			// Step back onto the closing quote, which is then kept as
			// text in the lenient branch above.
			cursor -= utf8.RuneLen(quote)
			closed = false
		default:
			if len(cell) > 0 || !newCell && direct < 0 {
				cell = append(cell, in[cursor:cursor+size]...)
			} else if direct < 0 {
				direct = cursor
			}
			newCell = false
			cursor += size
		}
		if row == nil && !newCell {
			row = make([]any, 0, width)
		}
	}
	if o.strict && inQuote {
		return nil, &csvError{"ParseError", "Missing quote, unclosed cell"}
	}
	finishRow()

	headers := o.headers
	supplied := len(headers) > 0
	if !supplied {
		headers = nil
	}
	firstIsHeader := false
	if len(out) >= 1 && !supplied {
		if o.hasHeaderRow {
			headers = append(headers, out[0]...)
			firstIsHeader = true
		} else {
			for i := range out[0] {
				headers = append(headers, "col"+itoa(i+1))
			}
		}
	}
	res := &csvResult{headers: headers, cursor: cursor}
	if !o.objects || o.headersOnly {
		if !firstIsHeader && !o.headersOnly && len(headers) > 0 {
			out = append([][]any{headers}, out...)
		}
		res.rows = out
		return res, nil
	}
	start := 0
	if firstIsHeader {
		start = 1
	}
	objs := make([]any, 0, len(out)-start)
	for _, r := range out[start:] {
		obj := msg.NewObject(len(headers))
		for j, h := range headers {
			name, ok := h.(string)
			if !ok || name == "" {
				continue
			}
			var v any
			if j < len(r) {
				v = r[j]
			}
			if v == nil {
				if !o.nulls {
					continue
				}
			} else if s := v.(string); s == "" {
				if !o.empties {
					continue
				}
			} else if o.numbers && !skipNumber(s) {
				if f := msg.StringToNumber(s); f == f {
					v = f
				}
			}
			obj.Set(name, v)
		}
		if obj.Len() > 0 {
			objs = append(objs, obj)
		}
	}
	res.objects = objs
	return res, nil
}

// skipNumber is the library's test for cells that look numeric but must
// stay text: a leading plus sign or a leading zero before a digit.
func skipNumber(s string) bool {
	s = strings.TrimLeft(s, " ")
	if strings.HasPrefix(s, "+") {
		return true
	}
	s = strings.TrimPrefix(s, "-")
	return len(s) >= 2 && s[0] == '0' && s[1] >= '0' && s[1] <= '9'
}

// quoteCell doubles the double quotes in a cell that holds the quote
// character and wraps it in quotes when it holds any of the quoteables.
func quoteCell(cell, quote string, quoteables []string) string {
	wrap := false
	for _, q := range quoteables {
		if strings.Contains(cell, q) {
			wrap = true
			break
		}
	}
	if strings.Contains(cell, quote) {
		cell = strings.ReplaceAll(cell, `"`, `""`)
	}
	if wrap {
		return quote + cell + quote
	}
	return cell
}

// headerLine is the library's header string: the non-empty column names,
// quoted for a comma separator, joined with commas.
func headerLine(headers []any) string {
	var b strings.Builder
	first := true
	for _, h := range headers {
		s, ok := h.(string)
		if !ok || s == "" {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(quoteCell(s, `"`, []string{`"`, ",", "\r", "\n"}))
	}
	return b.String()
}

func itoa(i int) string { return msg.FormatNumber(float64(i)) }

// splitPosition is where a message stands in a sequence a split node made
// (msg.parts), as the csv node reads it: the parts object (empty when
// absent), the line count so far, whether header and skipped lines are
// still ahead (first) and whether this is the sequence's last message.
func splitPosition(m *msg.Msg, skip int) (parts *msg.Object, hasParts bool, linecount float64, first, last bool) {
	first = true
	hasParts = m.Has("parts")
	parts, _ = m.Value("parts").(*msg.Object)
	if parts == nil {
		parts = msg.NewObject(0)
	}
	if hasParts {
		idx := msg.ToNumber(valueOrUndef(parts, "index"))
		linecount = idx
		if idx > float64(skip) {
			first = false
		}
		if parts.Has("count") && idx+1 >= msg.ToNumber(parts.Value("count")) {
			last = true
		}
	}
	return parts, hasParts, linecount, first, last
}
