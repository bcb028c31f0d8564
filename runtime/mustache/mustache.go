// Package mustache renders mustache templates exactly as mustache.js 4 does,
// because Node-RED's template and trigger nodes use mustache.js and flows
// depend on its details: which characters are HTML-escaped, how JavaScript
// prints numbers, arrays and objects, how dotted names fall back to outer
// contexts, and which lines count as standalone.
//
// Values are those of the message model (runtime/msg): nil, bool, float64,
// string, []byte (a Buffer), []any, *msg.Object, time.Time (a Date),
// msg.Undefined, or opaque Go values, which behave as plain objects.
package mustache

import (
	"errors"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
)

// Template is a parsed template, safe for concurrent rendering.
type Template struct {
	src    string
	tokens []token
}

// Source is the template text.
func (t *Template) Source() string { return t.src }

// Names lists the content of every tag but section closes, without
// duplicates, in the order they appear; Node-RED's template node looks
// them up to fetch flow, global and env values before rendering.
func (t *Template) Names() []string {
	seen := map[string]bool{}
	var out []string
	var walk func([]token)
	walk = func(toks []token) {
		for i := range toks {
			tk := &toks[i]
			if tk.kind == kText {
				continue
			}
			if !seen[tk.value] {
				seen[tk.value] = true
				out = append(out, tk.value)
			}
			walk(tk.body)
		}
	}
	walk(t.tokens)
	return out
}

// Options adapt rendering to its caller. The zero value renders as
// mustache.render(template, view) does.
type Options struct {
	// Missing gives the value of a name that no context has (or has as
	// undefined). Node-RED answers flow., global. and env. names here and
	// "" for anything else.
	Missing func(name string) any
	// RootString rewrites strings found while no section is open; Node-RED
	// escapes them for JSON output there.
	RootString func(string) string
	// Partials returns the text of a partial; nil renders partials as
	// nothing, as Node-RED (which passes none) does.
	Partials func(name string) (string, bool)
}

// Render renders the template against view.
func (t *Template) Render(view any, o *Options) (string, error) {
	r := getRenderer(o, view)
	err := r.tokens(t.tokens)
	s := string(r.out)
	putRenderer(r)
	return s, err
}

// Append renders the template against view, appending to dst.
func (t *Template) Append(dst []byte, view any, o *Options) ([]byte, error) {
	r := getRenderer(o, view)
	r.out = dst
	err := r.tokens(t.tokens)
	dst = r.out
	r.out = nil
	putRenderer(r)
	return dst, err
}

// Renderers are pooled: their context stack and output buffer would
// otherwise be allocated for every message.
var renderers = sync.Pool{New: func() any { return &renderer{views: make([]any, 0, 8)} }}

func getRenderer(o *Options, view any) *renderer {
	if o == nil {
		o = &noOptions
	}
	r := renderers.Get().(*renderer)
	r.o = o
	r.views = append(r.views[:0], view)
	r.out = r.out[:0]
	return r
}

func putRenderer(r *renderer) {
	clear(r.views)
	r.views = r.views[:0]
	r.o = nil
	if cap(r.out) > 64<<10 {
		r.out = nil // do not keep the memory of one huge rendering
	}
	renderers.Put(r)
}

var noOptions Options

// Render parses and renders src against view, as mustache.render does.
func Render(src string, view any) (string, error) {
	t, err := Parse(src)
	if err != nil {
		return "", err
	}
	return t.Render(view, nil)
}

type renderer struct {
	o     *Options
	views []any
	out   []byte
	depth int
}

// maxDepth bounds recursive partials, which JavaScript would end with a
// stack overflow.
const maxDepth = 1000

var errTooDeep = errors.New("Maximum call stack size exceeded")

func (r *renderer) tokens(toks []token) error {
	for i := range toks {
		t := &toks[i]
		switch t.kind {
		case kText:
			r.out = append(r.out, t.value...)
		case kEscaped, kRaw:
			v, err := r.lookup(t)
			if err != nil {
				return err
			}
			if isNullish(v) {
				continue
			}
			if t.kind == kRaw {
				r.out = appendString(r.out, v)
			} else if f, ok := v.(float64); ok {
				r.out = append(r.out, msg.FormatNumber(f)...)
			} else {
				r.out = appendEscaped(r.out, v)
			}
		case kSection:
			if err := r.section(t); err != nil {
				return err
			}
		case kInverted:
			v, err := r.lookup(t)
			if err != nil {
				return err
			}
			if a, ok := v.([]any); (ok && len(a) == 0) || !truthy(v) {
				if err := r.tokens(t.body); err != nil {
					return err
				}
			}
		case kPartial:
			if err := r.partial(t); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *renderer) section(t *token) error {
	v, err := r.lookup(t)
	if err != nil || !truthy(v) {
		return err
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			r.views = append(r.views, e)
			err := r.tokens(t.body)
			r.views = r.views[:len(r.views)-1]
			if err != nil {
				return err
			}
		}
		return nil
	case bool:
		return r.tokens(t.body)
	}
	r.views = append(r.views, v)
	err = r.tokens(t.body)
	r.views = r.views[:len(r.views)-1]
	return err
}

func (r *renderer) partial(t *token) error {
	if r.o.Partials == nil {
		return nil
	}
	src, ok := r.o.Partials(t.value)
	if !ok {
		return nil
	}
	if t.firstOnTag && t.indent != "" {
		src = indentPartial(src, t.indent, t.lineText)
	}
	toks, err := parse(src)
	if err != nil {
		return err
	}
	if r.depth++; r.depth > maxDepth {
		return errTooDeep
	}
	err = r.tokens(toks)
	r.depth--
	return err
}

// indentPartial prefixes the partial's lines with the spaces and tabs that
// precede a standalone partial tag.
func indentPartial(src, indent string, lineText bool) string {
	var pad strings.Builder
	for _, c := range indent {
		if c == ' ' || c == '\t' {
			pad.WriteRune(c)
		}
	}
	lines := strings.Split(src, "\n")
	for i, l := range lines {
		if l != "" && (i > 0 || !lineText) {
			lines[i] = pad.String() + l
		}
	}
	return strings.Join(lines, "\n")
}

// lookup resolves a tag's name through the open contexts, innermost first.
func (r *renderer) lookup(t *token) (any, error) {
	v, err := r.find(t.value, t.parts)
	if err != nil {
		return nil, err
	}
	if _, undef := v.(msg.Undefined); undef {
		if r.o.Missing != nil {
			return r.o.Missing(t.value), nil
		}
		return v, nil
	}
	if r.o.RootString != nil && len(r.views) == 1 {
		if s, ok := v.(string); ok {
			return r.o.RootString(s), nil
		}
	}
	return v, nil
}

func (r *renderer) find(name string, parts []string) (any, error) {
	if name == "." {
		return r.views[len(r.views)-1], nil
	}
	for i := len(r.views) - 1; i >= 0; i-- {
		view := r.views[i]
		if parts != nil {
			v := view
			for j, p := range parts {
				if isNullish(v) {
					break
				}
				if j == len(parts)-1 {
					if hasProperty(v, p) || primitiveHasOwn(v, p) {
						return get(v, p), nil
					}
					break
				}
				v = get(v, p)
			}
			continue
		}
		if isNullish(view) {
			return nil, readError(view, name)
		}
		if hasProperty(view, name) {
			return get(view, name), nil
		}
	}
	return msg.Undefined{}, nil
}

// readError is the TypeError JavaScript throws reading a property of null
// or undefined (a section over [null] looking a name up).
func readError(view any, name string) error {
	what := "null"
	if view != nil {
		what = "undefined"
	}
	return &TypeError{Msg: "Cannot read properties of " + what + " (reading '" + name + "')"}
}

// TypeError is a JavaScript TypeError met while rendering.
type TypeError struct{ Msg string }

func (e *TypeError) Error() string { return e.Msg }

func isNullish(v any) bool {
	if v == nil {
		return true
	}
	_, ok := v.(msg.Undefined)
	return ok
}

// truthy is JavaScript's ToBoolean.
func truthy(v any) bool {
	switch t := v.(type) {
	case nil, msg.Undefined:
		return false
	case bool:
		return t
	case float64:
		return t != 0 && !math.IsNaN(t)
	case int:
		return t != 0
	case int64:
		return t != 0
	case string:
		return t != ""
	}
	return true
}

// hasProperty is "name in v" for objects.
func hasProperty(v any, name string) bool {
	switch t := v.(type) {
	case *msg.Object:
		return t.Has(name)
	case []any:
		if name == "length" {
			return true
		}
		i, ok := index(name)
		return ok && i < len(t)
	case []byte:
		if name == "length" {
			return true
		}
		i, ok := index(name)
		return ok && i < len(t)
	}
	return false
}

// primitiveHasOwn is v.hasOwnProperty(name) for strings, numbers and
// booleans: only strings own anything (length and their indexes).
func primitiveHasOwn(v any, name string) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	if name == "length" {
		return true
	}
	i, ok := index(name)
	return ok && i < utf16Len(s)
}

func index(name string) (int, bool) {
	if !msg.IsArrayIndex(name) {
		return 0, false
	}
	n := 0
	for i := 0; i < len(name); i++ {
		n = n*10 + int(name[i]-'0')
		if n > math.MaxInt32 {
			return 0, false
		}
	}
	return n, true
}

// get is v[name].
func get(v any, name string) any {
	switch t := v.(type) {
	case *msg.Object:
		if x, ok := t.Get(name); ok {
			return x
		}
	case []any:
		if name == "length" {
			return float64(len(t))
		}
		if i, ok := index(name); ok && i < len(t) {
			return t[i]
		}
	case []byte:
		if name == "length" {
			return float64(len(t))
		}
		if i, ok := index(name); ok && i < len(t) {
			return float64(t[i])
		}
	case string:
		if name == "length" {
			return float64(utf16Len(t))
		}
		if i, ok := index(name); ok {
			if u, ok := utf16At(t, i); ok {
				return u
			}
		}
	}
	return msg.Undefined{}
}

func utf16Len(s string) int {
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

// utf16At is s[i] in JavaScript: one UTF-16 code unit (half a surrogate
// pair prints as U+FFFD here, as a lone surrogate cannot be UTF-8).
func utf16At(s string, i int) (string, bool) {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			if i == n || i == n+1 {
				return "\uFFFD", true
			}
			n += 2
			continue
		}
		if i == n {
			return string(r), true
		}
		n++
	}
	return "", false
}

// appendString appends String(v).
func appendString(b []byte, v any) []byte {
	switch t := v.(type) {
	case string:
		return append(b, t...)
	case float64:
		return append(b, msg.FormatNumber(t)...)
	case bool:
		if t {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case nil:
		return append(b, "null"...)
	case msg.Undefined:
		return append(b, "undefined"...)
	case []byte:
		return appendUTF8(b, t)
	case []any:
		for i, e := range t {
			if i > 0 {
				b = append(b, ',')
			}
			if !isNullish(e) {
				b = appendString(b, e)
			}
		}
		return b
	case time.Time:
		return append(b, DateString(t)...)
	case int:
		return append(b, msg.FormatNumber(float64(t))...)
	case int64:
		return append(b, msg.FormatNumber(float64(t))...)
	}
	return append(b, "[object Object]"...)
}

// appendUTF8 decodes a Buffer as Buffer.toString() does: each maximal
// invalid subsequence becomes one U+FFFD.
func appendUTF8(b []byte, p []byte) []byte {
	for i := 0; i < len(p); {
		c := p[i]
		if c < 0x80 {
			b = append(b, c)
			i++
			continue
		}
		n, lo, hi := 0, byte(0x80), byte(0xBF)
		switch {
		case c >= 0xC2 && c <= 0xDF:
			n = 1
		case c == 0xE0:
			n, lo = 2, 0xA0
		case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
			n = 2
		case c == 0xED:
			n, hi = 2, 0x9F
		case c == 0xF0:
			n, lo = 3, 0x90
		case c >= 0xF1 && c <= 0xF3:
			n = 3
		case c == 0xF4:
			n, hi = 3, 0x8F
		default:
			b = append(b, "\uFFFD"...)
			i++
			continue
		}
		j := i + 1
		ok := true
		for k := 0; k < n; k++ {
			if j >= len(p) {
				ok = false
				break
			}
			l, h := byte(0x80), byte(0xBF)
			if k == 0 {
				l, h = lo, hi
			}
			if p[j] < l || p[j] > h {
				ok = false
				break
			}
			j++
		}
		if !ok {
			b = append(b, "\uFFFD"...)
			i = j
			continue
		}
		b = append(b, p[i:j]...)
		i = j
	}
	return b
}

// appendEscaped appends String(v) with mustache.js's HTML escaping.
func appendEscaped(b []byte, v any) []byte {
	if s, ok := v.(string); ok {
		return escapeHTML(b, s)
	}
	return escapeHTML(b, string(appendString(nil, v)))
}

func escapeHTML(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case '&':
			rep = "&amp;"
		case '<':
			rep = "&lt;"
		case '>':
			rep = "&gt;"
		case '"':
			rep = "&quot;"
		case '\'':
			rep = "&#39;"
		case '/':
			rep = "&#x2F;"
		case '`':
			rep = "&#x60;"
		case '=':
			rep = "&#x3D;"
		default:
			continue
		}
		b = append(b, s[last:i]...)
		b = append(b, rep...)
		last = i + 1
	}
	return append(b, s[last:]...)
}

// DateString is JavaScript's Date.prototype.toString in the local zone.
func DateString(t time.Time) string {
	t = t.Local()
	zone, _ := t.Zone()
	if name, ok := zoneNames[zone]; ok {
		zone = name
	}
	return t.Format("Mon Jan 02 2006 15:04:05 GMT-0700") + " (" + zone + ")"
}

var zoneNames = map[string]string{
	"UTC": "Coordinated Universal Time",
	"GMT": "Greenwich Mean Time",
}

// MustParse is Parse for templates known to be valid.
func MustParse(src string) *Template {
	t, err := Parse(src)
	if err != nil {
		panic(err)
	}
	return t
}
