package mqtt

import (
	"encoding/base64"
	"strings"
	"unicode/utf8"

	"github.com/sluicehq/sluice/runtime/msg"
)

// knownMediaTypes is how Node-RED turns an MQTT 5 content type into a
// payload type when the mqtt in node auto-detects.
var knownMediaTypes = map[string]string{
	"text/css":                 "string",
	"text/html":                "string",
	"text/plain":               "string",
	"application/json":         "json",
	"application/octet-stream": "buffer",
	"application/pdf":          "buffer",
	"application/x-gtar":       "buffer",
	"application/x-gzip":       "buffer",
	"application/x-tar":        "buffer",
	"application/xml":          "string",
	"application/zip":          "buffer",
	"audio/aac":                "buffer",
	"audio/ac3":                "buffer",
	"audio/basic":              "buffer",
	"audio/mp4":                "buffer",
	"audio/ogg":                "buffer",
	"image/bmp":                "buffer",
	"image/gif":                "buffer",
	"image/jpeg":               "buffer",
	"image/tiff":               "buffer",
	"image/png":                "buffer",
}

// isUTF8 is the is-utf8 package Node-RED uses to tell text from binary: valid
// UTF-8 whose single-byte characters are printable ASCII, tab, LF or CR. A
// NUL or any other control byte makes the payload binary.
func isUTF8(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c != '\t' && c != '\n' && c != '\r' && (c < 0x20 || c > 0x7e) {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return false
		}
		i += n
	}
	return true
}

// decodeUTF8 is Buffer.toString("utf8"): each maximal ill-formed
// subsequence becomes one U+FFFD, as the WHATWG decoder does.
func decodeUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + 8)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || n > 1 {
			sb.Write(b[i : i+n])
			i += n
			continue
		}
		sb.WriteRune(utf8.RuneError)
		i += illFormedLen(b[i:])
	}
	return sb.String()
}

// illFormedLen is the length of the maximal subpart of an ill-formed
// sequence starting at b[0]: a valid lead byte and the continuation bytes
// that still fit it.
func illFormedLen(b []byte) int {
	need, lo, hi := 0, byte(0x80), byte(0xbf)
	switch c := b[0]; {
	case c >= 0xc2 && c <= 0xdf:
		need = 1
	case c == 0xe0:
		need, lo = 2, 0xa0
	case c == 0xed:
		need, hi = 2, 0x9f
	case c >= 0xe1 && c <= 0xef:
		need = 2
	case c == 0xf0:
		need, lo = 3, 0x90
	case c == 0xf4:
		need, hi = 3, 0x8f
	case c >= 0xf1 && c <= 0xf3:
		need = 3
	default:
		return 1
	}
	k := 1
	for j := 0; j < need && k < len(b); j++ {
		x := b[k]
		if j == 0 && (x < lo || x > hi) || j > 0 && (x < 0x80 || x > 0xbf) {
			break
		}
		k++
	}
	return k
}

// decodeError is a payload that the node's datatype could not accept; the
// message is reported with it instead of being sent.
type decodeError struct {
	text    string
	payload any
}

func (e *decodeError) Error() string { return e.text }

// decodePayload turns a received payload into msg.payload for a datatype as
// Node-RED's mqtt in node does. contentType ("" when absent) and utf8Flag
// (the payload format indicator) are MQTT 5 properties, ignored unless v5.
func decodePayload(datatype string, b []byte, v5 bool, contentType string, utf8Flag bool) (any, error) {
	switch datatype {
	case "buffer":
		return b, nil
	case "base64":
		return base64.StdEncoding.EncodeToString(b), nil
	case "utf8":
		return decodeUTF8(b), nil
	case "json":
		if (v5 && utf8Flag) || isUTF8(b) {
			v, err := msg.UnmarshalString(decodeUTF8(b))
			if err != nil {
				return nil, &decodeError{text: "Failed to parse JSON string", payload: b}
			}
			return v, nil
		}
		return nil, &decodeError{text: "Invalid JSON string", payload: b}
	}
	// "auto" (legacy) and "auto-detect"; anything else behaves like them.
	parse := datatype == "auto-detect"
	if v5 && (utf8Flag || contentType != "") {
		switch knownMediaTypes[strings.ToLower(contentType)] {
		case "string":
			return decodeUTF8(b), nil
		case "buffer":
			return b, nil
		case "json":
			s := decodeUTF8(b)
			v, err := msg.UnmarshalString(s)
			if err != nil {
				return nil, &decodeError{text: "Failed to parse JSON string", payload: s}
			}
			if parse {
				return v, nil
			}
			return s, nil
		}
		if utf8Flag || isUTF8(b) {
			return textOrJSON(b, parse), nil
		}
		return b, nil
	}
	if isUTF8(b) {
		return textOrJSON(b, parse), nil
	}
	return b, nil
}

func textOrJSON(b []byte, parse bool) any {
	s := decodeUTF8(b)
	if parse {
		if v, err := msg.UnmarshalString(s); err == nil {
			return v
		}
	}
	return s
}
