package jsonata

import (
	"math"
)

func (st *state) evalBinary(expr *node, input any, env *frame) (any, error) {
	lhs, err := st.eval(expr.lhs, input, env)
	if err != nil {
		return nil, err
	}
	op := expr.str
	if op == "and" || op == "or" {
		res, err := st.evalBoolean(lhs, expr, input, env)
		if err != nil {
			return nil, atOperator(err, expr)
		}
		return res, nil
	}
	rhs, err := st.eval(expr.rhs, input, env)
	if err != nil {
		return nil, err
	}
	var result any
	switch op {
	case "+", "-", "*", "/", "%":
		result, err = numericOp(lhs, rhs, op)
	case "=":
		if isUndef(lhs) || isUndef(rhs) {
			return false, nil
		}
		return deepEqual(lhs, rhs), nil
	case "!=":
		if isUndef(lhs) || isUndef(rhs) {
			return false, nil
		}
		return !deepEqual(lhs, rhs), nil
	case "<", "<=", ">", ">=":
		result, err = compareOp(lhs, rhs, op)
	case "&":
		result, err = concatOp(lhs, rhs)
	case "..":
		result, err = rangeOp(lhs, rhs)
	case "in":
		result = includesOp(lhs, rhs)
	}
	if err != nil {
		return nil, atOperator(err, expr)
	}
	return result, nil
}

// atOperator stamps an operator's position and symbol on an error.
func atOperator(err error, expr *node) error {
	if e, ok := err.(*Error); ok {
		e.Position = expr.pos
		e.forceToken(expr.str)
	}
	return err
}

func numericOp(lhs, rhs any, op string) (any, error) {
	if !isUndef(lhs) {
		ok, err := isNumeric(lhs)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, &Error{Code: "T2001", Value: lhs, hasValue: true}
		}
	}
	if !isUndef(rhs) {
		ok, err := isNumeric(rhs)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, &Error{Code: "T2002", Value: rhs, hasValue: true}
		}
	}
	if isUndef(lhs) || isUndef(rhs) {
		return undefined, nil
	}
	a, b := lhs.(float64), rhs.(float64)
	switch op {
	case "+":
		return num(a + b), nil
	case "-":
		return num(a - b), nil
	case "*":
		return num(a * b), nil
	case "/":
		return num(a / b), nil
	default:
		return num(math.Mod(a, b)), nil
	}
}

// jsType is typeof for the comparison operators.
func jsType(v any) string {
	switch v.(type) {
	case undefinedT:
		return "undefined"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	}
	switch f := v.(type) {
	case *regexFn, *closure:
		return "function"
	case *builtin:
		if f.plain {
			return "function"
		}
	}
	return "object"
}

func compareOp(lhs, rhs any, op string) (any, error) {
	lt, rt := jsType(lhs), jsType(rhs)
	lc := lt == "undefined" || lt == "string" || lt == "number"
	rc := rt == "undefined" || rt == "string" || rt == "number"
	if !lc || !rc {
		v := rhs
		if !(lt == "string" || lt == "number") {
			v = lhs
		}
		return nil, &Error{Code: "T2010", Value: v, hasValue: true}
	}
	if lt == "undefined" || rt == "undefined" {
		return undefined, nil
	}
	if lt != rt {
		return nil, &Error{Code: "T2009", Value: lhs, hasValue: true, value2: rhs}
	}
	var c int
	if lt == "number" {
		a, b := lhs.(float64), rhs.(float64)
		if a != a || b != b {
			return false, nil
		}
		switch {
		case a < b:
			c = -1
		case a > b:
			c = 1
		}
	} else {
		c = compareStrings(lhs.(string), rhs.(string))
	}
	switch op {
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	default:
		return c >= 0, nil
	}
}

// compareStrings orders strings by UTF-16 code units, as JavaScript does.
func compareStrings(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	if i == len(a) || i == len(b) {
		switch {
		case len(a) == len(b):
			return 0
		case len(a) < len(b):
			return -1
		}
		return 1
	}
	// Back up to the start of the differing characters.
	for i > 0 && (a[i]&0xC0 == 0x80) {
		i--
	}
	ra := []rune(a[i:])
	rb := []rune(b[i:])
	for j := 0; j < len(ra) && j < len(rb); j++ {
		if ra[j] == rb[j] {
			continue
		}
		ua, ub := utf16First(ra[j]), utf16First(rb[j])
		if ua != ub {
			if ua < ub {
				return -1
			}
			return 1
		}
		if ra[j] < rb[j] {
			return -1
		}
		return 1
	}
	switch {
	case len(ra) == len(rb):
		return 0
	case len(ra) < len(rb):
		return -1
	}
	return 1
}

func utf16First(r rune) rune {
	if r >= 0x10000 {
		return 0xD800 + (r-0x10000)>>10
	}
	return r
}

func concatOp(lhs, rhs any) (any, error) {
	ls, lok := lhs.(string)
	rs, rok := rhs.(string)
	if lok && rok {
		return ls + rs, nil
	}
	if !lok && !isUndef(lhs) {
		s, err := fnString(lhs, false)
		if err != nil {
			return nil, err
		}
		ls, _ = s.(string)
	}
	if !rok && !isUndef(rhs) {
		s, err := fnString(rhs, false)
		if err != nil {
			return nil, err
		}
		rs, _ = s.(string)
	}
	return ls + rs, nil
}

func isInteger(v any) bool {
	f, ok := v.(float64)
	return ok && !math.IsInf(f, 0) && f == math.Trunc(f)
}

func rangeOp(lhs, rhs any) (any, error) {
	if !isUndef(lhs) && !isInteger(lhs) {
		return nil, &Error{Code: "T2003", Value: lhs, hasValue: true}
	}
	if !isUndef(rhs) && !isInteger(rhs) {
		return nil, &Error{Code: "T2004", Value: rhs, hasValue: true}
	}
	if isUndef(lhs) || isUndef(rhs) {
		return undefined, nil
	}
	a, b := lhs.(float64), rhs.(float64)
	if a > b {
		return undefined, nil
	}
	size := b - a + 1
	if size > 1e7 {
		return nil, &Error{Code: "D2014", Value: size, hasValue: true}
	}
	out := &sequence{items: make([]any, int(size)), flags: fSeq}
	for i := range out.items {
		out.items[i] = num(a + float64(i))
	}
	return out, nil
}

func includesOp(lhs, rhs any) any {
	if isUndef(lhs) || isUndef(rhs) {
		return false
	}
	items, ok := asArray(rhs)
	if !ok {
		items = []any{rhs}
	}
	for _, it := range items {
		if strictEqual(it, lhs) {
			return true
		}
	}
	return false
}

func (st *state) evalBoolean(lhs any, expr *node, input any, env *frame) (any, error) {
	lb, err := boolize(lhs)
	if err != nil {
		return nil, err
	}
	if expr.str == "and" {
		if !lb {
			return false, nil
		}
	} else if lb {
		return true, nil
	}
	rhs, err := st.eval(expr.rhs, input, env)
	if err != nil {
		return nil, err
	}
	return boolize(rhs)
}

func boolize(v any) (bool, error) {
	b, err := toBoolean(v)
	if err != nil {
		return false, err
	}
	return b == true, nil
}

// toBoolean is jsonata's $boolean: undefined stays undefined.
func toBoolean(v any) (any, error) {
	switch t := v.(type) {
	case undefinedT:
		return undefined, nil
	case []any, *sequence:
		items := arrayItems(t)
		switch len(items) {
		case 0:
			return false, nil
		case 1:
			return toBoolean(items[0])
		}
		for _, it := range items {
			b, err := toBoolean(it)
			if err != nil {
				return nil, err
			}
			if b == true {
				return true, nil
			}
		}
		return false, nil
	case string:
		return t != "", nil
	case float64:
		ok, err := isNumeric(t)
		if err != nil {
			return nil, err
		}
		return ok && t != 0, nil
	case bool:
		return t, nil
	case nil:
		return false, nil
	}
	if isFunction(v) {
		return false, nil
	}
	return objectLen(v) > 0, nil
}
