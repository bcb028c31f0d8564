package storage

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf16"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// codec converts between text and bytes for one of the encodings the file
// nodes offer (iconv-lite's names).
type codec struct {
	encode func(string) []byte
	decode func([]byte) string
}

// iconv-lite looks names up lower-cased without punctuation.
func canonical(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

var charmaps = map[string]encoding.Encoding{
	"shiftjis": japanese.ShiftJIS, "windows31j": japanese.ShiftJIS, "windows932": japanese.ShiftJIS, "cp932": japanese.ShiftJIS,
	"eucjp":  japanese.EUCJP,
	"gb2312": simplifiedchinese.GBK, "gbk": simplifiedchinese.GBK, "windows936": simplifiedchinese.GBK, "cp936": simplifiedchinese.GBK,
	"euccn": simplifiedchinese.GBK, "gb18030": simplifiedchinese.GB18030,
	"ksc5601": korean.EUCKR, "windows949": korean.EUCKR, "euckr": korean.EUCKR, "cp949": korean.EUCKR,
	"big5": traditionalchinese.Big5, "big5hkscs": traditionalchinese.Big5, "windows950": traditionalchinese.Big5, "cp950": traditionalchinese.Big5,
	"cp874": charmap.Windows874, "windows874": charmap.Windows874, "iso885911": charmap.Windows874,
	"cp1250": charmap.Windows1250, "windows1250": charmap.Windows1250,
	"cp1251": charmap.Windows1251, "windows1251": charmap.Windows1251,
	"cp1252": charmap.Windows1252, "windows1252": charmap.Windows1252,
	"cp1253": charmap.Windows1253, "windows1253": charmap.Windows1253,
	"cp1254": charmap.Windows1254, "windows1254": charmap.Windows1254,
	"cp1255": charmap.Windows1255, "windows1255": charmap.Windows1255,
	"cp1256": charmap.Windows1256, "windows1256": charmap.Windows1256,
	"cp1257": charmap.Windows1257, "windows1257": charmap.Windows1257,
	"cp1258": charmap.Windows1258, "windows1258": charmap.Windows1258,
	"iso88592": charmap.ISO8859_2, "iso88593": charmap.ISO8859_3, "iso88594": charmap.ISO8859_4,
	"iso88595": charmap.ISO8859_5, "iso88596": charmap.ISO8859_6, "iso88597": charmap.ISO8859_7,
	"iso88598": charmap.ISO8859_8, "iso88599": charmap.ISO8859_9, "iso885910": charmap.ISO8859_10,
	"iso885913": charmap.ISO8859_13, "iso885914": charmap.ISO8859_14, "iso885915": charmap.ISO8859_15,
	"iso885916": charmap.ISO8859_16,
	"cp437":     charmap.CodePage437, "cp850": charmap.CodePage850, "cp852": charmap.CodePage852,
	"cp855": charmap.CodePage855, "cp858": charmap.CodePage858, "cp860": charmap.CodePage860,
	"cp862": charmap.CodePage862, "cp863": charmap.CodePage863, "cp865": charmap.CodePage865,
	"cp866": charmap.CodePage866,
	"koi8r": charmap.KOI8R, "koi8u": charmap.KOI8U,
	"macintosh": charmap.Macintosh, "macroman": charmap.Macintosh, "maccyrillic": charmap.MacintoshCyrillic,
}

// codecFor finds an encoding; "none" (or "") is UTF-8 without the BOM
// handling iconv-lite does.
func codecFor(name string) (*codec, error) {
	switch canonical(name) {
	case "", "none":
		return &codec{
			encode: func(s string) []byte { return []byte(s) },
			decode: func(b []byte) string { return strings.ToValidUTF8(string(b), "\uFFFD") },
		}, nil
	case "utf8", "unicode11utf8":
		return &codec{
			encode: func(s string) []byte { return []byte(s) },
			decode: func(b []byte) string {
				return strings.ToValidUTF8(string(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))), "\uFFFD")
			},
		}, nil
	case "ucs2", "utf16le":
		return utf16Codec(false), nil
	case "utf16be":
		return utf16Codec(true), nil
	case "ascii":
		return &codec{
			encode: latin1Encode,
			decode: func(b []byte) string {
				r := make([]rune, len(b))
				for i, c := range b {
					r[i] = rune(c & 0x7F)
				}
				return string(r)
			},
		}, nil
	case "binary", "latin1", "iso88591":
		return &codec{encode: latin1Encode, decode: func(b []byte) string {
			r := make([]rune, len(b))
			for i, c := range b {
				r[i] = rune(c)
			}
			return string(r)
		}}, nil
	case "base64":
		return &codec{
			encode: func(s string) []byte {
				b, _ := base64.StdEncoding.DecodeString(strings.TrimRight(s, "=") + strings.Repeat("=", (4-len(strings.TrimRight(s, "="))%4)%4))
				return b
			},
			decode: func(b []byte) string { return base64.StdEncoding.EncodeToString(b) },
		}, nil
	case "hex":
		return &codec{
			encode: func(s string) []byte {
				if len(s)%2 == 1 {
					s = s[:len(s)-1]
				}
				b, err := hex.DecodeString(s)
				if err != nil {
					// Buffer.from(s, "hex") stops at the first bad pair.
					var out []byte
					for i := 0; i+1 < len(s); i += 2 {
						v, err := hex.DecodeString(s[i : i+2])
						if err != nil {
							break
						}
						out = append(out, v...)
					}
					return out
				}
				return b
			},
			decode: func(b []byte) string { return hex.EncodeToString(b) },
		}, nil
	}
	enc, ok := charmaps[canonical(name)]
	if !ok {
		return nil, fmt.Errorf("Encoding not recognized: '%s' (searched as: '%s')", name, canonical(name))
	}
	return &codec{
		encode: func(s string) []byte {
			b, err := encoding.ReplaceUnsupported(enc.NewEncoder()).Bytes([]byte(s))
			if err != nil {
				return []byte(s)
			}
			return b
		},
		decode: func(b []byte) string {
			s, err := enc.NewDecoder().Bytes(b)
			if err != nil {
				return strings.ToValidUTF8(string(b), "\uFFFD")
			}
			return string(s)
		},
	}, nil
}

func latin1Encode(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		for _, u := range utf16.Encode([]rune{r}) {
			out = append(out, byte(u))
		}
	}
	return out
}

func utf16Codec(bigEndian bool) *codec {
	return &codec{
		encode: func(s string) []byte {
			units := utf16.Encode([]rune(s))
			out := make([]byte, 2*len(units))
			for i, u := range units {
				if bigEndian {
					out[2*i], out[2*i+1] = byte(u>>8), byte(u)
				} else {
					out[2*i], out[2*i+1] = byte(u), byte(u>>8)
				}
			}
			return out
		},
		decode: func(b []byte) string {
			units := make([]uint16, len(b)/2)
			for i := range units {
				if bigEndian {
					units[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
				} else {
					units[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
				}
			}
			if len(units) > 0 && units[0] == 0xFEFF {
				units = units[1:]
			}
			return string(utf16.Decode(units))
		},
	}
}
