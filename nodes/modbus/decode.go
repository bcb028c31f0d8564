package modbus

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/sluicehq/sluice/runtime/node"
)

// decoder turns the registers of a read into numbers or text (a Sluice
// extension of modbus-read; node-red-contrib-modbus users do it in function
// nodes). Byte order swaps the two bytes of each register, word order the
// registers of each 32 / 64-bit value ("LE" puts the low word first, as
// many PLCs store floats).
type decoder struct {
	kind          string
	byteLE        bool
	wordLE        bool
	scale, offset float64
}

var decodeKinds = []string{"", "int16", "uint16", "int32", "uint32", "float32", "float64", "string"}

func newDecoder(cfg *node.Config) (*decoder, error) {
	d := &decoder{kind: cfg.Str("decode")}
	ok := false
	for _, k := range decodeKinds {
		ok = ok || k == d.kind
	}
	if !ok {
		return nil, node.BadProp("decode", d.kind, "decode must be one of %s", strings.Join(decodeKinds[1:], ", "))
	}
	var err error
	if d.scale, err = cfg.Num("scale", 1); err != nil {
		return nil, err
	}
	if d.offset, err = cfg.Num("offset", 0); err != nil {
		return nil, err
	}
	for _, p := range []string{"byteOrder", "wordOrder"} {
		switch v := cfg.StrOr(p, "BE"); v {
		case "BE":
		case "LE":
			if p == "byteOrder" {
				d.byteLE = true
			} else {
				d.wordLE = true
			}
		default:
			return nil, node.BadProp(p, v, "%s must be BE or LE", p)
		}
	}
	if d.kind == "" && (d.scale != 1 || d.offset != 0) {
		d.kind = "uint16"
	}
	if d.kind == "" {
		return nil, nil
	}
	return d, nil
}

// decode works on the response's data bytes (big-endian registers).
func (d *decoder) decode(pdu []byte) (any, error) {
	regs := make([]uint16, len(pdu)/2)
	for i := range regs {
		r := binary.BigEndian.Uint16(pdu[2*i:])
		if d.byteLE {
			r = r<<8 | r>>8
		}
		regs[i] = r
	}
	if d.kind == "string" {
		b := make([]byte, 0, 2*len(regs))
		for _, r := range regs {
			b = append(b, byte(r>>8), byte(r))
		}
		return strings.TrimRight(string(b), "\x00"), nil
	}
	words := map[string]int{"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "float32": 2, "float64": 4}[d.kind]
	if len(regs)%words != 0 {
		return nil, fmt.Errorf("%d registers do not divide into %s values (%d registers each)", len(regs), d.kind, words)
	}
	out := make([]any, 0, len(regs)/words)
	for i := 0; i < len(regs); i += words {
		var u uint64
		for j := 0; j < words; j++ {
			w := regs[i+j]
			if d.wordLE {
				w = regs[i+words-1-j]
			}
			u = u<<16 | uint64(w)
		}
		var v float64
		switch d.kind {
		case "int16":
			v = float64(int16(u))
		case "uint16":
			v = float64(uint16(u))
		case "int32":
			v = float64(int32(u))
		case "uint32":
			v = float64(uint32(u))
		case "float32":
			v = float64(math.Float32frombits(uint32(u)))
		case "float64":
			v = math.Float64frombits(u)
		}
		out = append(out, v*d.scale+d.offset)
	}
	return out, nil
}
