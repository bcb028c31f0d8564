package jsonata

import (
	"encoding/base64"
	"math"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// jsSliceBounds resolves Array.prototype.slice(start, end) indices.
func jsSliceBounds(n int, start float64, end float64, hasEnd bool) (int, int) {
	rel := func(f float64) int {
		if math.IsNaN(f) {
			return 0
		}
		f = math.Trunc(f)
		if f < 0 {
			f += float64(n)
			if f < 0 {
				f = 0
			}
		}
		if f > float64(n) {
			f = float64(n)
		}
		return int(f)
	}
	s := rel(start)
	e := n
	if hasEnd {
		e = rel(end)
	}
	if e < s {
		e = s
	}
	return s, e
}

func fnSubstring(c call, a []any) (any, error) {
	str, ok := argAt(a, 0).(string)
	if !ok {
		return undefined, nil
	}
	runes := []rune(str)
	n := len(runes)
	start, _ := argAt(a, 1).(float64)
	if float64(n)+start < 0 {
		start = 0
	}
	if l, ok := argAt(a, 2).(float64); ok {
		if l <= 0 {
			return "", nil
		}
		var end float64
		if start >= 0 {
			end = start + l
		} else {
			end = float64(n) + start + l
		}
		s, e := jsSliceBounds(n, start, end, true)
		return string(runes[s:e]), nil
	}
	s, e := jsSliceBounds(n, start, 0, false)
	return string(runes[s:e]), nil
}

func fnSubstringBefore(c call, a []any) (any, error) {
	str, ok := argAt(a, 0).(string)
	if !ok {
		return undefined, nil
	}
	chars := toJSString(argAt(a, 1))
	if i := strings.Index(str, chars); i >= 0 {
		return str[:i], nil
	}
	return str, nil
}

func fnSubstringAfter(c call, a []any) (any, error) {
	str, ok := argAt(a, 0).(string)
	if !ok {
		return undefined, nil
	}
	chars := toJSString(argAt(a, 1))
	if i := strings.Index(str, chars); i >= 0 {
		return str[i+len(chars):], nil
	}
	return str, nil
}

func fnLowercase(c call, a []any) (any, error) {
	str, ok := argAt(a, 0).(string)
	if !ok {
		return undefined, nil
	}
	return jsLower(str), nil
}

func fnUppercase(c call, a []any) (any, error) {
	str, ok := argAt(a, 0).(string)
	if !ok {
		return undefined, nil
	}
	return jsUpper(str), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// jsUpper is String.prototype.toUpperCase, including the expansions
// (ß to SS) Go's simple case mapping lacks.
func jsUpper(s string) string {
	if isASCII(s) {
		return strings.ToUpper(s)
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case 'ß':
			b.WriteString("SS")
		case 'ŉ':
			b.WriteString("ʼN")
		default:
			b.WriteString(strings.ToUpper(string(r)))
		}
	}
	return b.String()
}

// jsLower is String.prototype.toLowerCase, with the final sigma rule.
func jsLower(s string) string {
	if isASCII(s) {
		return strings.ToLower(s)
	}
	runes := []rune(s)
	var b strings.Builder
	for i, r := range runes {
		if r == 'Σ' {
			before := i > 0 && isCased(runes[i-1])
			after := i+1 < len(runes) && isCased(runes[i+1])
			if before && !after {
				b.WriteRune('ς')
				continue
			}
		}
		if r == 'İ' {
			b.WriteString("i̇")
			continue
		}
		b.WriteString(strings.ToLower(string(r)))
	}
	return b.String()
}

func isCased(r rune) bool {
	return strings.ToUpper(string(r)) != strings.ToLower(string(r))
}

func fnLength(c call, a []any) (any, error) {
	str, ok := argAt(a, 0).(string)
	if !ok {
		return undefined, nil
	}
	return float64(utf8.RuneCountInString(str)), nil
}

func fnTrim(c call, a []any) (any, error) {
	str, ok := argAt(a, 0).(string)
	if !ok {
		return undefined, nil
	}
	var b strings.Builder
	inSpace := false
	for i := 0; i < len(str); i++ {
		ch := str[i]
		if ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' {
			if !inSpace {
				b.WriteByte(' ')
				inSpace = true
			}
			continue
		}
		inSpace = false
		b.WriteByte(ch)
	}
	res := b.String()
	res = strings.TrimPrefix(res, " ")
	res = strings.TrimSuffix(res, " ")
	return res, nil
}

func fnPad(c call, a []any) (any, error) {
	str, ok := argAt(a, 0).(string)
	if !ok {
		return undefined, nil
	}
	ch, ok := argAt(a, 2).(string)
	if !ok || ch == "" {
		ch = " "
	}
	w, _ := argAt(a, 1).(float64)
	w = math.Trunc(w)
	padLen := int(math.Abs(w)) - utf8.RuneCountInString(str)
	if math.IsNaN(w) || padLen <= 0 {
		return str, nil
	}
	padding := strings.Repeat(ch, padLen)
	if utf16Len(ch) > 1 {
		padding = string([]rune(padding)[:padLen])
	}
	if w > 0 {
		return str + padding, nil
	}
	return padding + str, nil
}

// utf16Len is a string's JavaScript length.
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

func fnJoin(c call, a []any) (any, error) {
	v := argAt(a, 0)
	if isUndef(v) {
		return undefined, nil
	}
	sep, _ := argAt(a, 1).(string)
	items := arrayItems(v)
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = joinText(it)
	}
	return strings.Join(parts, sep), nil
}

// joinText is how Array.prototype.join prints an element.
func joinText(v any) string {
	switch t := v.(type) {
	case nil, undefinedT:
		return ""
	case string:
		return t
	}
	return toJSString(v)
}

// latin1Bytes is Buffer.from(str, 'binary'): each UTF-16 unit's low byte.
func latin1Bytes(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, len(u))
	for i, c := range u {
		b[i] = byte(c)
	}
	return b
}

func fnBase64Encode(c call, a []any) (any, error) {
	str, ok := argAt(a, 0).(string)
	if !ok {
		return undefined, nil
	}
	return base64.StdEncoding.EncodeToString(latin1Bytes(str)), nil
}

func fnBase64Decode(c call, a []any) (any, error) {
	str, ok := argAt(a, 0).(string)
	if !ok {
		return undefined, nil
	}
	b := decodeBase64Lenient(str)
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r), nil
}

// decodeBase64Lenient decodes as Node's Buffer.from(s, 'base64') does:
// URL-safe letters accepted, other characters skipped, '=' ends the data.
func decodeBase64Lenient(s string) []byte {
	clean := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= 'A' && ch <= 'Z', ch >= 'a' && ch <= 'z', ch >= '0' && ch <= '9':
			clean = append(clean, ch)
		case ch == '+' || ch == '-':
			clean = append(clean, '+')
		case ch == '/' || ch == '_':
			clean = append(clean, '/')
		case ch == '=':
			i = len(s)
		}
	}
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	b, _ := base64.RawStdEncoding.DecodeString(string(clean))
	return b
}

const (
	uriUnreservedMarks = "-_.!~*'()"
	uriReserved        = ";/?:@&=+$,#"
)

func fnURL(name string) implFn {
	return func(c call, a []any) (any, error) {
		str, ok := argAt(a, 0).(string)
		if !ok {
			return undefined, nil
		}
		var res string
		var good bool
		switch name {
		case "encodeUrlComponent":
			res, good = uriEncode(str, uriUnreservedMarks)
		case "encodeUrl":
			res, good = uriEncode(str, uriUnreservedMarks+uriReserved)
		case "decodeUrlComponent":
			res, good = uriDecode(str, "")
		case "decodeUrl":
			res, good = uriDecode(str, uriReserved)
		}
		if !good {
			return nil, &Error{Code: "D3140", Value: str, hasValue: true, fname: name}
		}
		return res, nil
	}
}

func uriEncode(s string, keep string) (string, bool) {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); {
		ch := s[i]
		if ch < utf8.RuneSelf {
			if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.IndexByte(keep, ch) >= 0 {
				b.WriteByte(ch)
			} else {
				b.WriteByte('%')
				b.WriteByte(hex[ch>>4])
				b.WriteByte(hex[ch&15])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return "", false
		}
		for j := i; j < i+size; j++ {
			b.WriteByte('%')
			b.WriteByte(hex[s[j]>>4])
			b.WriteByte(hex[s[j]&15])
		}
		i += size
	}
	return b.String(), true
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// uriDecode is decodeURIComponent (reserved empty) or decodeURI (escapes of
// reserved characters kept as they are).
func uriDecode(s string, reserved string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '%' {
			b.WriteByte(s[i])
			i++
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		h, l := unhex(s[i+1]), unhex(s[i+2])
		if h < 0 || l < 0 {
			return "", false
		}
		c0 := byte(h<<4 | l)
		if c0 < 0x80 {
			if strings.IndexByte(reserved, c0) >= 0 {
				b.WriteString(s[i : i+3])
			} else {
				b.WriteByte(c0)
			}
			i += 3
			continue
		}
		n := 0
		switch {
		case c0&0xE0 == 0xC0:
			n = 2
		case c0&0xF0 == 0xE0:
			n = 3
		case c0&0xF8 == 0xF0:
			n = 4
		default:
			return "", false
		}
		buf := []byte{c0}
		j := i + 3
		for k := 1; k < n; k++ {
			if j+2 >= len(s) || s[j] != '%' {
				return "", false
			}
			h, l := unhex(s[j+1]), unhex(s[j+2])
			if h < 0 || l < 0 {
				return "", false
			}
			cb := byte(h<<4 | l)
			if cb&0xC0 != 0x80 {
				return "", false
			}
			buf = append(buf, cb)
			j += 3
		}
		r, size := utf8.DecodeRune(buf)
		if r == utf8.RuneError || size != n || (r >= 0xD800 && r <= 0xDFFF) {
			return "", false
		}
		b.Write(buf)
		i = j
	}
	return b.String(), true
}

func utf16Encode(s string) u16s { return utf16.Encode([]rune(s)) }

func utf16Decode(u u16s) string { return string(utf16.Decode(u)) }
