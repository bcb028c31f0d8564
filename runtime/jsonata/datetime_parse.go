package jsonata

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// $toMillis: ISO 8601 timestamps and date/time pictures.

var iso8601RE = regexp.MustCompile(`^\d{4}(-[01]\d)?(-[0-3]\d)?(T[0-2]\d:[0-5]\d:[0-5]\d)?(\.\d+)?([+-][0-2]\d:?[0-5]\d|Z)?$`)

func fnToMillis(c call, a []any) (any, error) {
	ts, ok := argAt(a, 0).(string)
	if !ok {
		return undefined, nil
	}
	if pic, ok := argAt(a, 1).(string); ok {
		return parseDateTime(c, ts, pic)
	}
	if !iso8601RE.MatchString(ts) {
		return nil, &Error{Code: "D3110", Value: ts, hasValue: true}
	}
	return dateParse(ts), nil
}

var isoParseRE = regexp.MustCompile(`^(\d{4})(?:-(\d\d)(?:-(\d\d))?)?(?:T(\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?)?(Z|[+-]\d\d:?\d\d)?$`)

// dateParse is Date.parse for the ISO 8601 forms $toMillis accepts.
func dateParse(s string) float64 {
	m := isoParseRE.FindStringSubmatch(s)
	if m == nil {
		return math.NaN()
	}
	num := func(x string, def int) int {
		if x == "" {
			return def
		}
		n, _ := strconv.Atoi(x)
		return n
	}
	y, mo, d := num(m[1], 0), num(m[2], 1), num(m[3], 1)
	h, mi, sec := num(m[4], 0), num(m[5], 0), num(m[6], 0)
	ms := 0
	if m[7] != "" {
		frac := (m[7] + "00")[:3]
		ms, _ = strconv.Atoi(frac)
	}
	if mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 24 || mi > 59 || sec > 59 || (h == 24 && (mi != 0 || sec != 0 || ms != 0)) {
		return math.NaN()
	}
	loc := time.UTC
	if m[4] != "" && m[8] == "" {
		loc = time.Local
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, ms*1e6, loc)
	if z := m[8]; z != "" && z != "Z" {
		zz := strings.ReplaceAll(z[1:], ":", "")
		oh, _ := strconv.Atoi(zz[:2])
		om, _ := strconv.Atoi(zz[2:])
		if oh > 23 || om > 59 {
			return math.NaN()
		}
		off := time.Duration(oh)*time.Hour + time.Duration(om)*time.Minute
		if z[0] == '+' {
			t = t.Add(-off)
		} else {
			t = t.Add(off)
		}
	}
	return float64(t.UnixMilli())
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

type dtMatcher struct {
	regex     string
	component byte
	parse     func(string) any
}

func parseDateTime(c call, timestamp, picture string) (any, error) {
	spec, err := analyseDateTimePicture(picture)
	if err != nil {
		return nil, err
	}
	var parts []dtMatcher
	for _, part := range spec {
		var m dtMatcher
		switch {
		case part.literal:
			m.regex = regexp.QuoteMeta(part.value)
		case part.component == 'Z' || part.component == 'z':
			var sep *groupSep
			if part.integerFormat.regular {
				s := part.integerFormat.regularSep
				sep = &s
			}
			comp := part.component
			if comp == 'z' {
				m.regex = "GMT"
			}
			m.regex += "[-+][0-9]+"
			if sep != nil {
				m.regex += regexp.QuoteMeta(sep.char) + "[0-9]+"
			}
			m.parse = func(v string) any {
				if comp == 'z' {
					v = v[min(3, len(v)):]
				}
				var oh, om float64
				if sep != nil {
					i := strings.Index(v, sep.char)
					oh = jsParseInt(v[:i])
					om = jsParseInt(v[i+len(sep.char):])
				} else if len(v)-1 <= 2 {
					oh = jsParseInt(v)
				} else {
					oh = jsParseInt(v[:3])
					om = jsParseInt(v[3:])
				}
				return oh*60 + om
			}
		case part.component == 'f':
			m.regex = "[0-9]+"
			m.parse = func(v string) any {
				f, _ := strconv.ParseFloat("0."+v[:min(3, len(v))], 64)
				return f * 1000
			}
		case part.integerFormat != nil:
			ip, err := integerMatcher(part.integerFormat)
			if err != nil {
				return nil, err
			}
			m.regex = ip.regex
			m.parse = func(v string) any { return ip.parse(v) }
		default:
			m.regex = "[a-zA-Z]+"
			lookup := map[string]float64{}
			switch part.component {
			case 'M', 'x':
				for i, name := range monthNames {
					if part.width != nil && part.width.hasMax && part.width.max > 0 {
						name = name[:min(len(name), int(part.width.max))]
					}
					lookup[name] = float64(i + 1)
				}
			case 'F':
				for i, name := range dayNames {
					if i == 0 {
						continue
					}
					if part.width != nil && part.width.hasMax && part.width.max > 0 {
						name = name[:min(len(name), int(part.width.max))]
					}
					lookup[name] = float64(i)
				}
			case 'P':
				lookup = map[string]float64{"am": 0, "AM": 0, "pm": 1, "PM": 1}
			default:
				return nil, &Error{Code: "D3133", Value: string(part.component), hasValue: true}
			}
			m.parse = func(v string) any {
				if n, ok := lookup[v]; ok {
					return n
				}
				return undefined
			}
		}
		m.component = part.component
		parts = append(parts, m)
	}
	var full strings.Builder
	full.WriteString("(?i)^")
	for _, p := range parts {
		full.WriteString("(" + p.regex + ")")
	}
	full.WriteString("$")
	re, err := regexp.Compile(full.String())
	if err != nil {
		return undefined, nil
	}
	info := re.FindStringSubmatch(timestamp)
	if info == nil {
		return undefined, nil
	}
	comps := map[byte]any{}
	for i := 1; i < len(info); i++ {
		p := parts[i-1]
		if p.parse != nil {
			comps[p.component] = p.parse(info[i])
		}
	}
	if len(comps) == 0 {
		return undefined, nil
	}
	mask := 0
	shift := func(b bool) {
		mask <<= 1
		if b {
			mask++
		}
	}
	has := func(c byte) bool {
		v, ok := comps[c]
		return ok && truthy(v)
	}
	isType := func(t int) bool { return (^t&mask) == 0 && (t&mask) != 0 }
	for _, p := range "YXMxWwdD" {
		shift(has(byte(p)))
	}
	dateA := isType(161)
	dateB := !dateA && isType(130)
	dateC := isType(84)
	dateD := !dateC && isType(72)
	mask = 0
	for _, p := range "PHhmsf" {
		shift(has(byte(p)))
	}
	timeA := isType(23)
	timeB := !timeA && isType(47)
	dateComps := "YMD"
	switch {
	case dateB:
		dateComps = "YD"
	case dateC:
		dateComps = "XxwF"
	case dateD:
		dateComps = "XWF"
	}
	timeComps := "Hmsf"
	if timeB {
		timeComps = "Phmsf"
	}
	now := c.st.timestamp().UTC()
	startSpecified, endSpecified := false, false
	for _, pr := range dateComps + timeComps {
		p := byte(pr)
		v, ok := comps[p]
		if !ok || isUndef(v) {
			if startSpecified {
				if strings.IndexByte("MDd", p) >= 0 {
					comps[p] = 1.0
				} else {
					comps[p] = 0.0
				}
				endSpecified = true
			} else {
				comps[p] = dateFragment(now, p)
			}
		} else {
			startSpecified = true
			if endSpecified {
				return nil, &Error{Code: "D3136"}
			}
		}
	}
	num := func(c byte) float64 {
		f, ok := comps[c].(float64)
		if !ok {
			return math.NaN()
		}
		return f
	}
	if m := num('M'); m > 0 {
		comps['M'] = m - 1
	} else {
		comps['M'] = 0.0
	}
	if dateB {
		first := dateUTC(int(num('Y')), 0)
		derived := time.UnixMilli(int64(first + (num('d')-1)*millisInADay)).UTC()
		comps['M'] = float64(int(derived.Month()) - 1)
		comps['D'] = float64(derived.Day())
	}
	if dateC || dateD {
		return nil, &Error{Code: "D3136"}
	}
	if timeB {
		h := num('h')
		if h == 12 {
			h = 0
		}
		if p, ok := comps['P'].(float64); ok && p == 1 {
			h += 12
		}
		comps['H'] = h
	}
	millis := jsDateUTC(num('Y'), num('M'), num('D'), num('H'), num('m'), num('s'), num('f'))
	z := comps['Z']
	if !truthy(z) {
		z = comps['z']
	}
	if truthy(z) {
		if zf, ok := z.(float64); ok {
			millis -= zf * 60 * 1000
		}
	}
	return millis, nil
}

// jsDateUTC is Date.UTC, which normalises out-of-range fields and reads
// years 0-99 as 1900-1999.
func jsDateUTC(y, mo, d, h, mi, s, ms float64) float64 {
	for _, v := range []float64{y, mo, d, h, mi, s, ms} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return math.NaN()
		}
	}
	yi := int(math.Trunc(y))
	if yi >= 0 && yi <= 99 {
		yi += 1900
	}
	t := time.Date(yi, time.January, 1, 0, 0, 0, 0, time.UTC)
	t = t.AddDate(0, int(math.Trunc(mo)), int(math.Trunc(d))-1)
	total := float64(t.UnixMilli()) + math.Trunc(h)*3600000 + math.Trunc(mi)*60000 + math.Trunc(s)*1000 + math.Trunc(ms)
	return total
}
