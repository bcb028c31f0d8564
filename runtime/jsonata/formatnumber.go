package jsonata

import (
	"math"
	"math/big"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
)

// $formatNumber: XPath F&O fn:format-number as jsonata implements it.
// Strings are handled as UTF-16 unit sequences, as the JavaScript is.

type u16s []uint16

func toU16(s string) u16s { return utf16Encode(s) }

func (u u16s) String() string { return utf16Decode(u) }

func (u u16s) indexOf(sub u16s, from int) int {
	if from < 0 {
		from = 0
	}
	for i := from; i+len(sub) <= len(u); i++ {
		match := true
		for j := range sub {
			if u[i+j] != sub[j] {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}

func (u u16s) lastIndexOf(sub u16s) int {
	for i := len(u) - len(sub); i >= 0; i-- {
		match := true
		for j := range sub {
			if u[i+j] != sub[j] {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}

func (u u16s) sub(a, b int) u16s {
	if a < 0 {
		a = 0
	}
	if b > len(u) {
		b = len(u)
	}
	if a > b {
		a, b = b, a
	}
	return u[a:b]
}

func (u u16s) charAt(i int) u16s {
	if i < 0 || i >= len(u) {
		return nil
	}
	return u[i : i+1]
}

func eqU(a, b u16s) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

type numberFormatProps struct {
	decimal, grouping, exponent, infinity, minus, nan, percent, permille, zero, digit, pattern u16s
}

type subPicture struct {
	prefix, suffix, active, mantissa, integer, fraction, sub u16s
	exponent                                                 u16s
	hasExponent                                              bool
}

type pictureVars struct {
	intGrouping      []int
	regular          int
	minInt           int
	scaling          int
	prefix           u16s
	fracGrouping     []int
	minFrac, maxFrac int
	minExp           int
	suffix           u16s
	picture          u16s
}

func fnFormatNumber(c call, a []any) (any, error) {
	value, ok := argAt(a, 0).(float64)
	if !ok {
		return undefined, nil
	}
	picStr, _ := argAt(a, 1).(string)
	props := map[string]string{
		"decimal-separator": ".", "grouping-separator": ",", "exponent-separator": "e",
		"infinity": "Infinity", "minus-sign": "-", "NaN": "NaN", "percent": "%",
		"per-mille": "\u2030", "zero-digit": "0", "digit": "#", "pattern-separator": ";",
	}
	if o, ok := argAt(a, 2).(*msg.Object); ok {
		for _, k := range o.Keys() {
			props[k] = toJSString(o.Value(k))
		}
	}
	p := numberFormatProps{
		decimal: toU16(props["decimal-separator"]), grouping: toU16(props["grouping-separator"]),
		exponent: toU16(props["exponent-separator"]), minus: toU16(props["minus-sign"]),
		percent: toU16(props["percent"]), permille: toU16(props["per-mille"]),
		zero: toU16(props["zero-digit"]), digit: toU16(props["digit"]), pattern: toU16(props["pattern-separator"]),
	}
	var zeroCode uint16
	if len(p.zero) > 0 {
		zeroCode = p.zero[0]
	}
	var family []u16s
	for i := 0; i < 10; i++ {
		family = append(family, u16s{zeroCode + uint16(i)})
	}
	inList := func(ch u16s, list []u16s) bool {
		for _, x := range list {
			if eqU(x, ch) {
				return true
			}
		}
		return false
	}
	isDigit := func(ch u16s) bool { return inList(ch, family) }
	active := append(append([]u16s{}, family...), p.decimal, p.exponent, p.grouping, p.digit, p.pattern)
	isActive := func(ch u16s) bool { return inList(ch, active) }

	picture := toU16(picStr)
	subs := splitU16(picture, p.pattern)
	if len(subs) > 2 {
		return nil, &Error{Code: "D3080"}
	}
	split := func(sp u16s) subPicture {
		var prefix, suffix u16s
		for i := 0; i < len(sp); i++ {
			ch := sp.charAt(i)
			if isActive(ch) && !eqU(ch, p.exponent) {
				prefix = sp[:i]
				break
			}
		}
		for i := len(sp) - 1; i >= 0; i-- {
			ch := sp.charAt(i)
			if isActive(ch) && !eqU(ch, p.exponent) {
				suffix = sp[i+1:]
				break
			}
		}
		r := subPicture{prefix: prefix, suffix: suffix, sub: sp}
		r.active = sp.sub(len(prefix), len(sp)-len(suffix))
		expPos := sp.indexOf(p.exponent, len(prefix))
		if expPos == -1 || expPos > len(sp)-len(suffix) {
			r.mantissa = r.active
		} else {
			r.mantissa = r.active.sub(0, expPos)
			r.exponent = r.active.sub(expPos+1, len(r.active))
			r.hasExponent = true
		}
		dp := r.mantissa.indexOf(p.decimal, 0)
		if dp == -1 {
			r.integer = r.mantissa
			r.fraction = suffix
		} else {
			r.integer = r.mantissa.sub(0, dp)
			r.fraction = r.mantissa.sub(dp+1, len(r.mantissa))
		}
		return r
	}
	validate := func(parts subPicture) error {
		code := ""
		sp := parts.sub
		decimalPos := sp.indexOf(p.decimal, 0)
		if decimalPos != sp.lastIndexOf(p.decimal) {
			code = "D3081"
		}
		if sp.indexOf(p.percent, 0) != sp.lastIndexOf(p.percent) {
			code = "D3082"
		}
		if sp.indexOf(p.permille, 0) != sp.lastIndexOf(p.permille) {
			code = "D3083"
		}
		if sp.indexOf(p.percent, 0) != -1 && sp.indexOf(p.permille, 0) != -1 {
			code = "D3084"
		}
		valid := false
		for i := range parts.mantissa {
			ch := parts.mantissa.charAt(i)
			if isDigit(ch) || eqU(ch, p.digit) {
				valid = true
				break
			}
		}
		if !valid {
			code = "D3085"
		}
		for i := range parts.active {
			if !isActive(parts.active.charAt(i)) {
				code = "D3086"
				break
			}
		}
		if decimalPos != -1 {
			if eqU(sp.charAt(decimalPos-1), p.grouping) || eqU(sp.charAt(decimalPos+1), p.grouping) {
				code = "D3087"
			}
		} else if len(parts.integer) > 0 && eqU(parts.integer.charAt(len(parts.integer)-1), p.grouping) {
			code = "D3088"
		}
		if sp.indexOf(append(append(u16s{}, p.grouping...), p.grouping...), 0) != -1 {
			code = "D3089"
		}
		if odp := parts.integer.indexOf(p.digit, 0); odp != -1 {
			for i := 0; i < odp; i++ {
				if isDigit(parts.integer.charAt(i)) {
					code = "D3090"
					break
				}
			}
		}
		if odp := parts.fraction.lastIndexOf(p.digit); odp != -1 {
			for i := odp; i < len(parts.fraction); i++ {
				if isDigit(parts.fraction.charAt(i)) {
					code = "D3091"
					break
				}
			}
		}
		if parts.hasExponent && len(parts.exponent) > 0 && (sp.indexOf(p.percent, 0) != -1 || sp.indexOf(p.permille, 0) != -1) {
			code = "D3092"
		}
		if parts.hasExponent {
			bad := len(parts.exponent) == 0
			for i := range parts.exponent {
				if !isDigit(parts.exponent.charAt(i)) {
					bad = true
				}
			}
			if bad {
				code = "D3093"
			}
		}
		if code != "" {
			return &Error{Code: code}
		}
		return nil
	}
	analyse := func(parts subPicture) pictureVars {
		groupingPositions := func(part u16s, toLeft bool) []int {
			var positions []int
			gp := part.indexOf(p.grouping, 0)
			for gp != -1 {
				var seg u16s
				if toLeft {
					seg = part.sub(0, gp)
				} else {
					seg = part.sub(gp, len(part))
				}
				n := 0
				for i := range seg {
					ch := seg.charAt(i)
					if isDigit(ch) || eqU(ch, p.digit) {
						n++
					}
				}
				positions = append(positions, n)
				gp = parts.integer.indexOf(p.grouping, gp+1)
			}
			return positions
		}
		v := pictureVars{prefix: parts.prefix, suffix: parts.suffix, picture: parts.sub}
		v.intGrouping = groupingPositions(parts.integer, false)
		v.regular = regularGrouping(v.intGrouping)
		v.fracGrouping = groupingPositions(parts.fraction, true)
		for i := range parts.integer {
			if isDigit(parts.integer.charAt(i)) {
				v.minInt++
			}
		}
		v.scaling = v.minInt
		for i := range parts.fraction {
			ch := parts.fraction.charAt(i)
			if isDigit(ch) {
				v.minFrac++
			}
			if isDigit(ch) || eqU(ch, p.digit) {
				v.maxFrac++
			}
		}
		if v.minInt == 0 && v.maxFrac == 0 {
			if parts.hasExponent {
				v.minFrac, v.maxFrac = 1, 1
			} else {
				v.minInt = 1
			}
		}
		if parts.hasExponent && v.minInt == 0 && parts.integer.indexOf(p.digit, 0) != -1 {
			v.minInt = 1
		}
		if v.minInt == 0 && v.minFrac == 0 {
			v.minFrac = 1
		}
		if parts.hasExponent {
			for i := range parts.exponent {
				if isDigit(parts.exponent.charAt(i)) {
					v.minExp++
				}
			}
		}
		return v
	}

	var parts []subPicture
	for _, sp := range subs {
		parts = append(parts, split(sp))
	}
	for _, pt := range parts {
		if err := validate(pt); err != nil {
			return nil, err
		}
	}
	var vars []pictureVars
	for _, pt := range parts {
		vars = append(vars, analyse(pt))
	}
	if len(vars) == 1 {
		neg := vars[0]
		neg.prefix = append(append(u16s{}, p.minus...), neg.prefix...)
		vars = append(vars, neg)
	}
	pic := vars[0]
	if !(value >= 0) {
		pic = vars[1]
	}
	var adjusted float64
	switch {
	case pic.picture.indexOf(p.percent, 0) != -1:
		adjusted = value * 100
	case pic.picture.indexOf(p.permille, 0) != -1:
		adjusted = value * 1000
	default:
		adjusted = value
	}
	var mantissa float64
	exponent := 0
	hasExp := pic.minExp != 0
	if !hasExp {
		mantissa = adjusted
	} else {
		maxM := math.Pow(10, float64(pic.scaling))
		minM := math.Pow(10, float64(pic.scaling-1))
		mantissa = adjusted
		if mantissa != 0 {
			for math.Abs(mantissa) < minM {
				mantissa *= 10
				exponent--
			}
			for math.Abs(mantissa) > maxM {
				mantissa /= 10
				exponent++
			}
		}
	}
	rounded := roundHalfEven(mantissa, float64(pic.maxFrac), true)
	makeString := func(v float64, dp int) u16s {
		s := jsToFixed(math.Abs(v), dp)
		u := toU16(s)
		if zeroCode != '0' {
			for i, ch := range u {
				if ch >= '0' && ch <= '9' {
					u[i] = zeroCode + (ch - '0')
				}
			}
		}
		return u
	}
	sv := makeString(rounded, pic.maxFrac)
	if dp := sv.indexOf(u16s{'.'}, 0); dp == -1 {
		sv = append(sv, p.decimal...)
	} else {
		sv = append(append(append(u16s{}, sv[:dp]...), p.decimal...), sv[dp+1:]...)
	}
	zeroU := u16s{zeroCode}
	for len(sv) > 0 && eqU(sv.charAt(0), zeroU) {
		sv = sv[1:]
	}
	for len(sv) > 0 && eqU(sv.charAt(len(sv)-1), zeroU) {
		sv = sv[:len(sv)-1]
	}
	decimalPos := sv.indexOf(p.decimal, 0)
	padLeft := pic.minInt - decimalPos
	padRight := pic.minFrac - (len(sv) - decimalPos - 1)
	if padLeft > 0 {
		sv = append(repeatU(zeroU, padLeft), sv...)
	}
	if padRight > 0 {
		sv = append(sv, repeatU(zeroU, padRight)...)
	}
	decimalPos = sv.indexOf(p.decimal, 0)
	if pic.regular > 0 {
		groupCount := int(math.Floor(float64(decimalPos-1) / float64(pic.regular)))
		for g := 1; g <= groupCount; g++ {
			at := decimalPos - g*pic.regular
			sv = insertU(sv, at, p.grouping)
		}
	} else {
		for _, pos := range pic.intGrouping {
			sv = insertU(sv, decimalPos-pos, p.grouping)
			decimalPos++
		}
	}
	decimalPos = sv.indexOf(p.decimal, 0)
	for _, pos := range pic.fracGrouping {
		sv = insertU(sv, pos+decimalPos+1, p.grouping)
	}
	decimalPos = sv.indexOf(p.decimal, 0)
	if pic.picture.indexOf(p.decimal, 0) == -1 || decimalPos == len(sv)-1 {
		sv = sv[:len(sv)-1]
	}
	if hasExp {
		se := makeString(float64(exponent), 0)
		if pl := pic.minExp - len(se); pl > 0 {
			se = append(repeatU(zeroU, pl), se...)
		}
		sv = append(sv, p.exponent...)
		if exponent < 0 {
			sv = append(sv, p.minus...)
		}
		sv = append(sv, se...)
	}
	out := append(append(append(u16s{}, pic.prefix...), sv...), pic.suffix...)
	return out.String(), nil
}

func repeatU(u u16s, n int) u16s {
	out := make(u16s, 0, n*len(u))
	for i := 0; i < n; i++ {
		out = append(out, u...)
	}
	return out
}

// insertU is [s.slice(0, at), ins, s.slice(at)].join(”) with slice's
// handling of negative positions.
func insertU(s u16s, at int, ins u16s) u16s {
	if at < 0 {
		at += len(s)
		if at < 0 {
			at = 0
		}
	}
	if at > len(s) {
		at = len(s)
	}
	out := make(u16s, 0, len(s)+len(ins))
	out = append(out, s[:at]...)
	out = append(out, ins...)
	return append(out, s[at:]...)
}

func splitU16(s, sep u16s) []u16s {
	if len(sep) == 0 {
		out := make([]u16s, len(s))
		for i := range s {
			out[i] = s[i : i+1]
		}
		return out
	}
	var out []u16s
	start := 0
	for {
		i := s.indexOf(sep, start)
		if i < 0 {
			break
		}
		out = append(out, s[start:i])
		start = i + len(sep)
	}
	return append(out, s[start:])
}

func regularGrouping(idx []int) int {
	if len(idx) == 0 {
		return 0
	}
	gcd := func(a, b int) int {
		for b != 0 {
			a, b = b, a%b
		}
		return a
	}
	f := idx[0]
	for _, x := range idx[1:] {
		f = gcd(f, x)
	}
	for i := 1; i <= len(idx); i++ {
		found := false
		for _, x := range idx {
			if x == i*f {
				found = true
				break
			}
		}
		if !found {
			return 0
		}
	}
	return f
}

// jsToFixed is Number.prototype.toFixed: the exact binary value rounded
// half up (away from zero) to dp places.
func jsToFixed(v float64, dp int) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	if math.Abs(v) >= 1e21 {
		return formatNumber(v)
	}
	neg := v < 0
	exact := new(big.Float).SetPrec(2048).SetFloat64(math.Abs(v)).Text('f', 1100)
	intPart, frac, _ := strings.Cut(exact, ".")
	for len(frac) < dp+1 {
		frac += "0"
	}
	digits := []byte(intPart + frac[:dp])
	if frac[dp] >= '5' {
		i := len(digits) - 1
		for i >= 0 {
			if digits[i] == '9' {
				digits[i] = '0'
				i--
				continue
			}
			digits[i]++
			break
		}
		if i < 0 {
			digits = append([]byte{'1'}, digits...)
		}
	}
	n := len(digits) - dp
	out := string(digits[:n])
	if dp > 0 {
		out += "." + string(digits[n:])
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return out
}
