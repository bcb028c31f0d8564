package msg

import (
	"strconv"
	"strings"
)

// Inspect prints a value as Node.js's util.inspect does for the values a
// message holds (single-line form, depth 2), which is what Node-RED shows in
// status text and console logs.
func Inspect(v any) string {
	var b strings.Builder
	inspect(&b, v, 0)
	return b.String()
}

func isIdent(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		if !(r == '_' || r == '$' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || (i > 0 && r >= '0' && r <= '9')) {
			return false
		}
	}
	return true
}

func quoteJS(s string) string {
	q := "'"
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = `"`
	}
	r := strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\t", `\t`, "\r", `\r`, q, `\`+q)
	return q + r.Replace(s) + q
}

func inspect(b *strings.Builder, v any, depth int) {
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case Undefined:
		b.WriteString("undefined")
	case string:
		if depth == 0 {
			b.WriteString(quoteJS(t))
		} else {
			b.WriteString(quoteJS(t))
		}
	case []byte:
		b.WriteString("<Buffer")
		for i, c := range t {
			if i == 50 {
				b.WriteString(" ... " + strconv.Itoa(len(t)-50) + " more bytes")
				break
			}
			b.WriteString(" ")
			b.WriteString(strconv.FormatInt(int64(c)+0x100, 16)[1:])
		}
		b.WriteString(">")
	case []any:
		if len(t) == 0 {
			b.WriteString("[]")
			return
		}
		if depth > 2 {
			b.WriteString("[Array]")
			return
		}
		b.WriteString("[ ")
		for i, e := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			if i == 100 {
				b.WriteString("... " + strconv.Itoa(len(t)-100) + " more items")
				break
			}
			inspect(b, e, depth+1)
		}
		b.WriteString(" ]")
	case *Object:
		if t.Len() == 0 {
			b.WriteString("{}")
			return
		}
		if depth > 2 {
			b.WriteString("[Object]")
			return
		}
		b.WriteString("{ ")
		for i, k := range t.Keys() {
			if i > 0 {
				b.WriteString(", ")
			}
			if isIdent(k) {
				b.WriteString(k)
			} else {
				b.WriteString(quoteJS(k))
			}
			b.WriteString(": ")
			inspect(b, t.Value(k), depth+1)
		}
		b.WriteString(" }")
	default:
		b.WriteString(ToString(v))
	}
}
