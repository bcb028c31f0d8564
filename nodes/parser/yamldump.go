package parser

import (
	"encoding/base64"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/sluicehq/sluice/runtime/jsyaml"
	"github.com/sluicehq/sluice/runtime/msg"
)

// yamlDump writes v as js-yaml 4's dump() does with its default options
// (the yaml node's output): block style, two-space indent, line width 80,
// single quotes where a plain scalar would be read back as something else.

const (
	yamlIndent = 2
	yamlWidth  = 80
)

type scalarStyle int

const (
	stylePlain scalarStyle = iota + 1
	styleSingle
	styleLiteral
	styleFolded
	styleDouble
)

var (
	yamlBase60 = regexp.MustCompile(`^[-+]?[0-9_]+(?::[0-9_]+)+(?:\.[0-9_]*)?$`)
	// js-yaml quotes the YAML 1.1 booleans so older readers agree.
	yamlOldBools = map[string]bool{
		"y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true,
		"n": true, "N": true, "no": true, "No": true, "NO": true, "off": true, "Off": true, "OFF": true,
	}
	yamlSciNoDot = regexp.MustCompile(`^[-+]?[0-9]+e`)
)

func yamlDump(v any) (string, error) {
	s, ok, err := yamlNodeOut(0, v, true, true, false)
	if err != nil || !ok {
		return "", err
	}
	return s + "\n", nil
}

// yamlNodeOut writes one value; ok is false for undefined, which mappings
// leave out.
func yamlNodeOut(level int, v any, block, compact, isKey bool) (string, bool, error) {
	tag := ""
	var scalar string
	switch t := v.(type) {
	case nil:
		scalar = "null"
	case bool:
		scalar = "false"
		if t {
			scalar = "true"
		}
	case float64:
		scalar = yamlNumber(t)
	case int:
		scalar = yamlNumber(float64(t))
	case int64:
		scalar = yamlNumber(float64(t))
	case time.Time:
		scalar = t.UTC().Format("2006-01-02T15:04:05.000Z")
	case []byte:
		tag = "!!binary"
		s, err := yamlScalar(yamlBase64(t), level, isKey, block)
		return tag + " " + s, true, err
	case string:
		s, err := yamlScalar(t, level, isKey, block)
		return s, true, err
	case msg.Undefined:
		return "", false, nil
	case *msg.Object:
		if block && t.Len() > 0 {
			s, err := yamlMapping(level, t, compact)
			return s, true, err
		}
		return "{}", true, nil
	case []any:
		if block && len(t) > 0 {
			s, err := yamlSequence(level, t, compact)
			return s, true, err
		}
		return "[]", true, nil
	default:
		return "", false, fmt.Errorf("unacceptable kind of an object to dump %T", v)
	}
	return scalar, true, nil
}

func yamlNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return ".nan"
	case math.IsInf(f, 1):
		return ".inf"
	case math.IsInf(f, -1):
		return "-.inf"
	case f == 0 && math.Signbit(f):
		return "-0.0"
	}
	s := msg.FormatNumber(f)
	if f != math.Trunc(f) && yamlSciNoDot.MatchString(s) {
		s = strings.Replace(s, "e", ".e", 1)
	}
	return s
}

// yamlBase64 is js-yaml's binary representation, which writes "AAAA"
// for an empty buffer.
func yamlBase64(b []byte) string {
	if len(b) == 0 {
		return "AAAA"
	}
	return base64.StdEncoding.EncodeToString(b)
}

func nextLine(level int) string {
	return "\n" + strings.Repeat(" ", yamlIndent*level)
}

func yamlSequence(level int, a []any, compact bool) (string, error) {
	var b strings.Builder
	for _, v := range a {
		d, ok, err := yamlNodeOut(level+1, v, true, true, false)
		if err != nil {
			return "", err
		}
		if !ok {
			d = "null"
		}
		if !compact || b.Len() > 0 {
			b.WriteString(nextLine(level))
		}
		if strings.HasPrefix(d, "\n") {
			b.WriteString("-")
		} else {
			b.WriteString("- ")
		}
		b.WriteString(d)
	}
	if b.Len() == 0 {
		return "[]", nil
	}
	return b.String(), nil
}

func yamlMapping(level int, o *msg.Object, compact bool) (string, error) {
	var b strings.Builder
	for i := 0; i < o.Len(); i++ {
		k, v := o.At(i)
		var pair strings.Builder
		if !compact || b.Len() > 0 {
			pair.WriteString(nextLine(level))
		}
		kd, err := yamlScalar(k, level+1, true, true)
		if err != nil {
			return "", err
		}
		explicit := len(utf16.Encode([]rune(kd))) > 1024
		if explicit {
			if strings.HasPrefix(kd, "\n") {
				pair.WriteString("?")
			} else {
				pair.WriteString("? ")
			}
		}
		pair.WriteString(kd)
		if explicit {
			pair.WriteString(nextLine(level))
		}
		vd, ok, err := yamlNodeOut(level+1, v, true, explicit, false)
		if err != nil {
			return "", err
		}
		if !ok {
			continue
		}
		if strings.HasPrefix(vd, "\n") {
			pair.WriteString(":")
		} else {
			pair.WriteString(": ")
		}
		pair.WriteString(vd)
		b.WriteString(pair.String())
	}
	if b.Len() == 0 {
		return "{}", nil
	}
	return b.String(), nil
}

func yamlScalar(s string, level int, isKey, inBlock bool) (string, error) {
	if s == "" {
		return "''", nil
	}
	if yamlOldBools[s] || yamlBase60.MatchString(s) {
		return "'" + s + "'", nil
	}
	indent := yamlIndent * max(1, level)
	width := max(min(yamlWidth, 40), yamlWidth-indent)
	switch chooseStyle(s, isKey, width, inBlock) {
	case stylePlain:
		return s, nil
	case styleSingle:
		return "'" + strings.ReplaceAll(s, "'", "''") + "'", nil
	case styleLiteral:
		return "|" + blockHeader(s) + dropEndingNewline(indentLines(s, indent)), nil
	case styleFolded:
		return ">" + blockHeader(s) + dropEndingNewline(indentLines(foldString(s, width), indent)), nil
	default:
		return `"` + yamlEscape(s) + `"`, nil
	}
}

func isPrintableYAML(c rune) bool {
	return (c >= 0x20 && c <= 0x7E) ||
		(c >= 0xA1 && c <= 0xD7FF && c != 0x2028 && c != 0x2029) ||
		(c >= 0xE000 && c <= 0xFFFD && c != 0xFEFF) ||
		(c >= 0x10000 && c <= 0x10FFFF)
}

func isNsCharOrSpace(c rune) bool {
	return isPrintableYAML(c) && c != 0xFEFF && c != '\r' && c != '\n'
}

func isWhite(c rune) bool { return c == ' ' || c == '\t' }

func isPlainSafe(c, prev rune, inBlock bool) bool {
	nsOrSpace := isNsCharOrSpace(c)
	ns := nsOrSpace && !isWhite(c)
	ok := nsOrSpace
	if !inBlock {
		ok = ok && c != ',' && c != '[' && c != ']' && c != '{' && c != '}'
	}
	return (ok && c != '#' && !(prev == ':' && !ns)) ||
		(prev >= 0 && isNsCharOrSpace(prev) && !isWhite(prev) && c == '#') ||
		(prev == ':' && ns)
}

func isPlainSafeFirst(c rune) bool {
	if !isPrintableYAML(c) || c == 0xFEFF || isWhite(c) {
		return false
	}
	return !strings.ContainsRune("-?:,[]{}#&*!|=>'\"%@`", c)
}

func isPlainSafeLast(c rune) bool { return !isWhite(c) && c != ':' }

func chooseStyle(s string, singleLine bool, width int, inBlock bool) scalarStyle {
	runes := []rune(s)
	plain := isPlainSafeFirst(runes[0]) && isPlainSafeLast(runes[len(runes)-1])
	hasBreak, foldable := false, false
	prevBreak := -1
	pos := 0 // UTF-16 position, as js-yaml measures lines
	prev := rune(-1)
	for _, c := range runes {
		if !singleLine && c == '\n' {
			hasBreak = true
			foldable = foldable || (pos-prevBreak-1 > width && unitAt(runes, prevBreak+1) != ' ')
			prevBreak = pos
		} else if !isPrintableYAML(c) {
			return styleDouble
		}
		plain = plain && isPlainSafe(c, prev, inBlock)
		prev = c
		if c >= 0x10000 {
			pos += 2
		} else {
			pos++
		}
	}
	if !singleLine {
		foldable = foldable || (pos-prevBreak-1 > width && unitAt(runes, prevBreak+1) != ' ')
	}
	if !hasBreak && !foldable {
		if plain && !yamlAmbiguous(s) {
			return stylePlain
		}
		return styleSingle
	}
	if foldable {
		return styleFolded
	}
	return styleLiteral
}

// unitAt is the character at a UTF-16 position, for the checks that only
// compare it with a space.
func unitAt(runes []rune, pos int) rune {
	p := 0
	for _, r := range runes {
		if p == pos {
			return r
		}
		if r >= 0x10000 {
			p += 2
		} else {
			p++
		}
		if p > pos {
			return -1
		}
	}
	return -1
}

func blockHeader(s string) string {
	ind := ""
	if strings.HasPrefix(strings.TrimLeft(s, "\n"), " ") {
		ind = "2"
	}
	clip := strings.HasSuffix(s, "\n")
	keep := clip && (strings.HasSuffix(s, "\n\n") || s == "\n")
	chomp := "-"
	switch {
	case keep:
		chomp = "+"
	case clip:
		chomp = ""
	}
	return ind + chomp + "\n"
}

func dropEndingNewline(s string) string { return strings.TrimSuffix(s, "\n") }

func indentLines(s string, spaces int) string {
	ind := strings.Repeat(" ", spaces)
	var b strings.Builder
	for s != "" {
		line := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line = s[:i+1]
		}
		s = s[len(line):]
		if line != "\n" {
			b.WriteString(ind)
		}
		b.WriteString(line)
	}
	return b.String()
}

func foldString(s string, width int) string {
	u := utf16.Encode([]rune(s))
	next := indexUnit(u, '\n', 0)
	if next < 0 {
		next = len(u)
	}
	var out []uint16
	out = append(out, foldLine(u[:next], width)...)
	prevMore := len(u) > 0 && (u[0] == '\n' || u[0] == ' ')
	i := next
	for i < len(u) {
		j := i
		for j < len(u) && u[j] == '\n' {
			j++
		}
		k := j
		for k < len(u) && u[k] != '\n' {
			k++
		}
		prefix, line := u[i:j], u[j:k]
		more := len(line) > 0 && line[0] == ' '
		out = append(out, prefix...)
		if !prevMore && !more && len(line) > 0 {
			out = append(out, '\n')
		}
		out = append(out, foldLine(line, width)...)
		prevMore = more
		i = k
	}
	return string(utf16.Decode(out))
}

func indexUnit(u []uint16, c uint16, from int) int {
	for i := from; i < len(u); i++ {
		if u[i] == c {
			return i
		}
	}
	return -1
}

// foldLine breaks a line at spaces so that no piece is longer than width.
func foldLine(line []uint16, width int) []uint16 {
	if len(line) == 0 || line[0] == ' ' {
		return line
	}
	start, curr := 0, 0
	var out []uint16
	for i := 0; i+1 < len(line); {
		if line[i] != ' ' || line[i+1] == ' ' {
			i++
			continue
		}
		next := i
		if next-start > width {
			end := next
			if curr > start {
				end = curr
			}
			out = append(out, '\n')
			out = append(out, line[start:end]...)
			start = end + 1
		}
		curr = next
		i += 2
	}
	out = append(out, '\n')
	if len(line)-start > width && curr > start {
		out = append(out, line[start:curr]...)
		out = append(out, '\n')
		out = append(out, line[curr+1:]...)
	} else {
		out = append(out, line[start:]...)
	}
	return out[1:]
}

var yamlEscapes = map[rune]string{
	0x00: `\0`, 0x07: `\a`, 0x08: `\b`, 0x09: `\t`, 0x0A: `\n`, 0x0B: `\v`, 0x0C: `\f`,
	0x0D: `\r`, 0x1B: `\e`, 0x22: `\"`, 0x5C: `\\`, 0x85: `\N`, 0xA0: `\_`, 0x2028: `\L`, 0x2029: `\P`,
}

func yamlEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		if e, ok := yamlEscapes[c]; ok {
			b.WriteString(e)
			continue
		}
		if isPrintableYAML(c) {
			b.WriteRune(c)
			continue
		}
		switch {
		case c <= 0xFF:
			fmt.Fprintf(&b, `\x%02X`, c)
		case c <= 0xFFFF:
			fmt.Fprintf(&b, `\u%04X`, c)
		default:
			fmt.Fprintf(&b, `\U%08X`, c)
		}
	}
	return b.String()
}

// yamlAmbiguous reports whether a plain scalar would be read back as
// something other than this string.
func yamlAmbiguous(s string) bool {
	_, ok := jsyaml.Implicit(s)
	return ok || s == "<<"
}
