package function

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/sluicehq/sluice/runtime/msg"
)

// The helpers here reproduce the JavaScript operations that Node-RED's
// change, switch and range nodes lean on (==, <, String(), property reads),
// because their results show in flows: "5" == 5 routes a message, a read
// through a missing parent is a TypeError that reaches catch nodes.

// msgPath parses a msg property expression; Node-RED accepts a leading
// "msg." and strips it.
func msgPath(expr string) ([]msg.PathPart, error) {
	return msg.ParsePath(strings.TrimPrefix(expr, "msg."))
}

// readProp reads parts under root as RED.util.getMessageProperty does: a
// missing property is undefined, but stepping through null or undefined is
// JavaScript's TypeError.
func readProp(root *msg.Object, parts []msg.PathPart) (any, error) {
	if v, ok := msg.GetPath(root, parts); ok {
		return v, nil
	}
	for i := 0; i < len(parts)-1; i++ {
		v, ok := msg.GetPath(root, parts[:i+1])
		switch {
		case !ok || msg.IsUndefined(v):
			return nil, readErr("undefined", parts[i+1])
		case v == nil:
			return nil, readErr("null", parts[i+1])
		}
	}
	return msg.Undefined{}, nil
}

func readErr(what string, p msg.PathPart) error {
	return &TypeError{Msg: fmt.Sprintf("Cannot read properties of %s (reading '%s')", what, p.String())}
}

// TypeError is a JavaScript TypeError. Node-RED reports thrown errors with
// their name ("TypeError: ..."), and flows see that text in msg.error.message.
type TypeError struct{ Msg string }

func (e *TypeError) Error() string { return "TypeError: " + e.Msg }

func isObjectLike(v any) bool {
	switch v.(type) {
	case nil, msg.Undefined, bool, float64, int, int64, string:
		return false
	}
	return true
}

// toPrimitive is ToPrimitive for the objects a message can hold: arrays
// join, Buffers decode, plain objects print as [object Object].
func toPrimitive(v any) any {
	if !isObjectLike(v) {
		return v
	}
	return jsString(v)
}

// jsString is String(v), with Buffers decoded as Buffer.toString() does.
func jsString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case []byte:
		return strings.ToValidUTF8(string(t), "\uFFFD")
	}
	return msg.ToString(v)
}

// sameRef is identity for objects: JavaScript compares objects by reference.
func sameRef(a, b any) bool {
	switch x := a.(type) {
	case *msg.Object:
		y, ok := b.(*msg.Object)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		return ok && len(x) == len(y) && unsafe.SliceData(x) == unsafe.SliceData(y)
	case []byte:
		y, ok := b.([]byte)
		return ok && len(x) == len(y) && unsafe.SliceData(x) == unsafe.SliceData(y)
	}
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	return ta == tb && ta != nil && ta.Comparable() && a == b
}

// looseEqual is JavaScript's a == b.
func looseEqual(a, b any) bool {
	an, aIsNum := msg.Num(a)
	bn, bIsNum := msg.Num(b)
	switch {
	case aIsNum && bIsNum:
		return an == bn
	case isNullish(a) || isNullish(b):
		return isNullish(a) && isNullish(b)
	}
	if as, ok := a.(string); ok {
		if bs, ok := b.(string); ok {
			return as == bs
		}
	}
	ab, aIsBool := a.(bool)
	bb, bIsBool := b.(bool)
	switch {
	case aIsBool && bIsBool:
		return ab == bb
	case aIsBool:
		return looseEqual(msg.ToNumber(ab), b)
	case bIsBool:
		return looseEqual(a, msg.ToNumber(bb))
	}
	aObj, bObj := isObjectLike(a), isObjectLike(b)
	switch {
	case aObj && bObj:
		return sameRef(a, b)
	case aObj:
		return looseEqual(toPrimitive(a), b)
	case bObj:
		return looseEqual(a, toPrimitive(b))
	}
	// One number, one string.
	return msg.ToNumber(a) == msg.ToNumber(b)
}

func isNullish(v any) bool {
	if v == nil {
		return true
	}
	_, ok := v.(msg.Undefined)
	return ok
}

// lessThan is JavaScript's abstract relational comparison a < b; ok is
// false when it is undefined (a NaN took part), which makes every relational
// operator false.
func lessThan(a, b any) (less, ok bool) {
	pa, pb := toPrimitive(a), toPrimitive(b)
	if sa, isStr := pa.(string); isStr {
		if sb, isStr := pb.(string); isStr {
			return compareUTF16(sa, sb) < 0, true
		}
	}
	na, nb := msg.ToNumber(pa), msg.ToNumber(pb)
	if math.IsNaN(na) || math.IsNaN(nb) {
		return false, false
	}
	return na < nb, true
}

func jsLT(a, b any) bool { l, _ := lessThan(a, b); return l }
func jsGT(a, b any) bool { l, _ := lessThan(b, a); return l }

func jsLE(a, b any) bool {
	l, ok := lessThan(b, a)
	return ok && !l
}

func jsGE(a, b any) bool {
	l, ok := lessThan(a, b)
	return ok && !l
}

// compareUTF16 orders strings by UTF-16 code units, as JavaScript does;
// this differs from byte order only for characters beyond the BMP.
func compareUTF16(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			ua, ub := units(ra), units(rb)
			for i := 0; i < len(ua) && i < len(ub); i++ {
				if ua[i] != ub[i] {
					if ua[i] < ub[i] {
						return -1
					}
					return 1
				}
			}
			return len(ua) - len(ub)
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) - len(b)
}

func units(r rune) []uint16 {
	if r >= 0x10000 {
		h, l := utf16.EncodeRune(r)
		return []uint16{uint16(h), uint16(l)}
	}
	return []uint16{uint16(r)}
}
