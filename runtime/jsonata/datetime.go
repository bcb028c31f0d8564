package jsonata

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// XPath F&O integer and date/time pictures ($formatInteger,
// $parseInteger, $fromMillis, $toMillis) as jsonata implements them.

var (
	fewWords      = []string{"Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven", "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"}
	ordinalWords  = []string{"Zeroth", "First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth", "Tenth", "Eleventh", "Twelfth", "Thirteenth", "Fourteenth", "Fifteenth", "Sixteenth", "Seventeenth", "Eighteenth", "Nineteenth"}
	decadeWords   = []string{"Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety", "Hundred"}
	magnitudeWord = []string{"Thousand", "Million", "Billion", "Trillion"}
)

func numberToWords(value float64, ordinal bool) string {
	var lookup func(num float64, prev, ord bool) string
	lookup = func(num float64, prev, ord bool) string {
		words := ""
		switch {
		case num <= 19:
			if prev {
				words = " and "
			}
			if ord {
				words += ordinalWords[int(num)]
			} else {
				words += fewWords[int(num)]
			}
		case num < 100:
			tens := math.Floor(num / 10)
			rem := math.Mod(num, 10)
			if prev {
				words = " and "
			}
			words += decadeWords[int(tens)-2]
			if rem > 0 {
				words += "-" + lookup(rem, false, ord)
			} else if ord {
				words = words[:len(words)-1] + "ieth"
			}
		case num < 1000:
			hundreds := math.Floor(num / 100)
			rem := math.Mod(num, 100)
			if prev {
				words = ", "
			}
			words += fewWords[int(hundreds)] + " Hundred"
			if rem > 0 {
				words += lookup(rem, true, ord)
			} else if ord {
				words += "th"
			}
		default:
			mag := int(math.Floor(math.Log10(num) / 3))
			if mag > len(magnitudeWord) {
				mag = len(magnitudeWord)
			}
			factor := math.Pow(10, float64(mag*3))
			mant := math.Floor(num / factor)
			rem := num - mant*factor
			if prev {
				words = ", "
			}
			words += lookup(mant, false, false) + " " + magnitudeWord[mag-1]
			if rem > 0 {
				words += lookup(rem, true, ord)
			} else if ord {
				words += "th"
			}
		}
		return words
	}
	return lookup(value, false, ordinal)
}

// wordValues maps number words (lower case) to values, in jsonata's order.
var wordKeys []string
var wordValues = map[string]float64{}

func init() {
	add := func(k string, v float64) {
		if _, ok := wordValues[k]; !ok {
			wordKeys = append(wordKeys, k)
		}
		wordValues[k] = v
	}
	for i, w := range fewWords {
		add(strings.ToLower(w), float64(i))
	}
	for i, w := range ordinalWords {
		add(strings.ToLower(w), float64(i))
	}
	for i, w := range decadeWords {
		lw := strings.ToLower(w)
		add(lw, float64((i+2)*10))
		add(lw[:len(w)-1]+"ieth", float64((i+2)*10))
	}
	add("hundredth", 100)
	for i, w := range magnitudeWord {
		lw := strings.ToLower(w)
		v := math.Pow(10, float64((i+1)*3))
		add(lw, v)
		add(lw+"th", v)
	}
}

var wordSplitRE = regexp.MustCompile(`,\s|\sand\s|[\s\\-]`)

func wordsToNumber(text string) float64 {
	parts := wordSplitRE.Split(text, -1)
	segs := []float64{0}
	for _, p := range parts {
		v, ok := wordValues[p]
		if !ok {
			v = math.NaN()
		}
		if v < 100 || v != v {
			if v != v {
				// undefined < 100 is false in JavaScript.
				top := segs[len(segs)-1]
				segs[len(segs)-1] = top * v
				continue
			}
			top := segs[len(segs)-1]
			segs = segs[:len(segs)-1]
			if top >= 1000 {
				segs = append(segs, top)
				top = 0
			}
			segs = append(segs, top+v)
		} else {
			segs[len(segs)-1] *= v
		}
	}
	total := 0.0
	for _, s := range segs {
		total += s
	}
	return total
}

var romanNumerals = []struct {
	v float64
	s string
}{{1000, "m"}, {900, "cm"}, {500, "d"}, {400, "cd"}, {100, "c"}, {90, "xc"}, {50, "l"}, {40, "xl"}, {10, "x"}, {9, "ix"}, {5, "v"}, {4, "iv"}, {1, "i"}}

func decimalToRoman(v float64) string {
	var b strings.Builder
	for v > 0 {
		found := false
		for _, n := range romanNumerals {
			if v >= n.v {
				b.WriteString(n.s)
				v -= n.v
				found = true
				break
			}
		}
		if !found {
			break
		}
	}
	return b.String()
}

var romanValues = map[byte]float64{'M': 1000, 'D': 500, 'C': 100, 'L': 50, 'X': 10, 'V': 5, 'I': 1}

func romanToDecimal(roman string) float64 {
	dec := 0.0
	mx := 1.0
	for i := len(roman) - 1; i >= 0; i-- {
		v, ok := romanValues[roman[i]]
		if !ok {
			return math.NaN()
		}
		if v < mx {
			dec -= v
		} else {
			mx = v
			dec += v
		}
	}
	return dec
}

func decimalToLetters(v float64, a rune) string {
	var letters []rune
	for v > 0 {
		letters = append([]rune{rune(math.Mod(v-1, 26)) + a}, letters...)
		v = math.Floor((v - 1) / 26)
	}
	return string(letters)
}

func lettersToDecimal(letters string, a rune) float64 {
	u := utf16Encode(letters)
	dec := 0.0
	for i := 0; i < len(u); i++ {
		dec += float64(int(u[len(u)-i-1])-int(a)+1) * math.Pow(26, float64(i))
	}
	return dec
}

type groupSep struct {
	position int
	char     string
}

type intFormat struct {
	primary         string // decimal, letters, roman, words, sequence
	tcase           string // upper, lower, title
	ordinal         bool
	zeroCode        int
	mandatoryDigits int
	optionalDigits  int
	regular         bool
	regularSep      groupSep
	separators      []groupSep
	token           string
	parseWidth      int
}

var decimalGroups = []int{0x30, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10}

func analyseIntegerPicture(picture string) (*intFormat, error) {
	f := &intFormat{primary: "decimal", tcase: "lower"}
	primary := picture
	if semi := strings.LastIndex(picture, ";"); semi != -1 {
		primary = picture[:semi]
		if strings.HasPrefix(picture[semi+1:], "o") {
			f.ordinal = true
		}
	}
	switch primary {
	case "A":
		f.tcase = "upper"
		f.primary = "letters"
	case "a":
		f.primary = "letters"
	case "I":
		f.tcase = "upper"
		f.primary = "roman"
	case "i":
		f.primary = "roman"
	case "W":
		f.tcase = "upper"
		f.primary = "words"
	case "Ww":
		f.tcase = "title"
		f.primary = "words"
	case "w":
		f.primary = "words"
	default:
		zero := -1
		mandatory, optional, sepPos := 0, 0, 0
		var seps []groupSep
		cps := []rune(primary)
		for i := len(cps) - 1; i >= 0; i-- {
			cp := int(cps[i])
			digit := false
			for _, g := range decimalGroups {
				if cp >= g && cp <= g+9 {
					digit = true
					mandatory++
					sepPos++
					if zero == -1 {
						zero = g
					} else if g != zero {
						return nil, &Error{Code: "D3131"}
					}
					break
				}
			}
			if !digit {
				if cp == '#' {
					sepPos++
					optional++
				} else {
					seps = append(seps, groupSep{position: sepPos, char: string(rune(cp))})
				}
			}
		}
		if mandatory > 0 {
			f.primary = "decimal"
			f.zeroCode = zero
			f.mandatoryDigits = mandatory
			f.optionalDigits = optional
			if r := regularSeparators(seps); r > 0 {
				f.regular = true
				f.regularSep = groupSep{position: r, char: seps[0].char}
			} else {
				f.separators = seps
			}
		} else {
			f.primary = "sequence"
			f.token = primary
		}
	}
	return f, nil
}

func regularSeparators(seps []groupSep) int {
	if len(seps) == 0 {
		return 0
	}
	for _, s := range seps[1:] {
		if s.char != seps[0].char {
			return 0
		}
	}
	idx := make([]int, len(seps))
	for i, s := range seps {
		idx[i] = s.position
	}
	return regularGrouping(idx)
}

func formatIntegerWith(value float64, f *intFormat) (string, error) {
	negative := value < 0
	value = math.Abs(value)
	var out string
	switch f.primary {
	case "letters":
		a := 'a'
		if f.tcase == "upper" {
			a = 'A'
		}
		out = decimalToLetters(value, a)
	case "roman":
		out = decimalToRoman(value)
		if f.tcase == "upper" {
			out = strings.ToUpper(out)
		}
	case "words":
		out = numberToWords(value, f.ordinal)
		if f.tcase == "upper" {
			out = strings.ToUpper(out)
		} else if f.tcase == "lower" {
			out = strings.ToLower(out)
		}
	case "decimal":
		s := toU16(formatNumber(value))
		if pad := f.mandatoryDigits - len(s); pad > 0 {
			s = append(toU16(strings.Repeat("0", pad)), s...)
		}
		if f.zeroCode != 0x30 {
			rs := []rune(s.String())
			for i, r := range rs {
				rs[i] = r + rune(f.zeroCode-0x30)
			}
			s = toU16(string(rs))
		}
		if f.regular {
			n := int(math.Floor(float64(len(s)-1) / float64(f.regularSep.position)))
			for ii := n; ii > 0; ii-- {
				pos := len(s) - ii*f.regularSep.position
				s = insertU(s, pos, toU16(f.regularSep.char))
			}
		} else {
			for i := len(f.separators) - 1; i >= 0; i-- {
				sep := f.separators[i]
				pos := len(s) - sep.position
				s = insertU(s, pos, toU16(sep.char))
			}
		}
		if f.ordinal {
			last := ""
			if len(s) > 0 {
				last = s[len(s)-1:].String()
			}
			suffix := map[string]string{"1": "st", "2": "nd", "3": "rd"}[last]
			if suffix == "" || (len(s) > 1 && s[len(s)-2] == '1') {
				suffix = "th"
			}
			s = append(s, toU16(suffix)...)
		}
		out = s.String()
	case "sequence":
		return "", &Error{Code: "D3130", Value: f.token, hasValue: true}
	}
	if negative {
		out = "-" + out
	}
	return out, nil
}

func fnFormatInteger(c call, a []any) (any, error) {
	v, ok := argAt(a, 0).(float64)
	if !ok {
		return undefined, nil
	}
	pic, _ := argAt(a, 1).(string)
	f, err := analyseIntegerPicture(pic)
	if err != nil {
		return nil, err
	}
	s, err := formatIntegerWith(math.Floor(v), f)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// integerParser is generateRegex for an integer picture: a pattern and how
// to read the matched text.
type integerParser struct {
	regex string
	parse func(string) float64
}

func integerMatcher(f *intFormat) (*integerParser, error) {
	upper := f.tcase == "upper"
	switch f.primary {
	case "letters":
		a := 'a'
		re := "[a-z]+"
		if upper {
			a, re = 'A', "[A-Z]+"
		}
		return &integerParser{re, func(v string) float64 { return lettersToDecimal(v, a) }}, nil
	case "roman":
		re := "[mdclxvi]+"
		if upper {
			re = "[MDCLXVI]+"
		}
		return &integerParser{re, func(v string) float64 {
			if !upper {
				v = strings.ToUpper(v)
			}
			return romanToDecimal(v)
		}}, nil
	case "words":
		alts := append(append([]string{}, wordKeys...), "and", `[\-, ]`)
		return &integerParser{"(?:" + strings.Join(alts, "|") + ")+", func(v string) float64 {
			return wordsToNumber(strings.ToLower(v))
		}}, nil
	case "decimal":
		re := "[0-9]"
		if f.parseWidth > 0 {
			re += "{" + strconv.Itoa(f.parseWidth) + "}"
		} else {
			re += "+"
		}
		if f.ordinal {
			re += "(?:th|st|nd|rd)"
		}
		return &integerParser{re, func(v string) float64 {
			digits := v
			if f.ordinal {
				u := toU16(digits)
				digits = u.sub(0, len(u)-2).String()
			}
			if f.regular {
				digits = strings.ReplaceAll(digits, ",", "")
			} else {
				for _, s := range f.separators {
					digits = strings.ReplaceAll(digits, s.char, "")
				}
			}
			if f.zeroCode != 0x30 {
				rs := []rune(digits)
				for i, r := range rs {
					rs[i] = r - rune(f.zeroCode) + 0x30
				}
				digits = string(rs)
			}
			return jsParseInt(digits)
		}}, nil
	}
	return nil, &Error{Code: "D3130", Value: f.token, hasValue: true}
}

// jsParseInt is parseInt(s, 10).
func jsParseInt(s string) float64 {
	s = strings.TrimLeft(s, " \t\n\r\v\f\u00a0\ufeff")
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	} else if strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return math.NaN()
	}
	f, _ := strconv.ParseFloat(s[:i], 64)
	if neg {
		f = -f
	}
	return f
}

func fnParseInteger(c call, a []any) (any, error) {
	v, ok := argAt(a, 0).(string)
	if !ok {
		return undefined, nil
	}
	pic, _ := argAt(a, 1).(string)
	f, err := analyseIntegerPicture(pic)
	if err != nil {
		return nil, err
	}
	m, err := integerMatcher(f)
	if err != nil {
		return nil, err
	}
	return m.parse(v), nil
}

// Date/time pictures.

type widthMod struct {
	min, max       float64
	hasMin, hasMax bool
}

type dtPart struct {
	literal       bool
	value         string
	component     byte
	width         *widthMod
	presentation1 string
	presentation2 string
	hasPres2      bool
	ordinal       bool
	names         string
	integerFormat *intFormat
	n             int
}

var defaultPresentation = map[byte]string{
	'Y': "1", 'M': "1", 'D': "1", 'd': "1", 'F': "n", 'W': "1", 'w': "1", 'X': "1", 'x': "1", 'H': "1", 'h': "1",
	'P': "n", 'm': "01", 's': "01", 'f': "1", 'Z': "01:01", 'z': "01:01", 'C': "n", 'E': "n",
}

var spaceRE = regexp.MustCompile(`\s+`)

func analyseDateTimePicture(picture string) ([]*dtPart, error) {
	var spec []*dtPart
	u := toU16(picture)
	addLiteral := func(start, end int) {
		if end > start {
			lit := u.sub(start, end).String()
			lit = strings.ReplaceAll(lit, "]]", "]")
			spec = append(spec, &dtPart{literal: true, value: lit})
		}
	}
	start, pos := 0, 0
	for pos < len(u) {
		if u[pos] == '[' {
			if pos+1 < len(u) && u[pos+1] == '[' {
				addLiteral(start, pos)
				spec = append(spec, &dtPart{literal: true, value: "["})
				pos += 2
				start = pos
				continue
			}
			addLiteral(start, pos)
			start = pos
			pos = u.indexOf(u16s{']'}, start)
			if pos == -1 {
				return nil, &Error{Code: "D3135"}
			}
			marker := u.sub(start+1, pos).String()
			marker = spaceRE.ReplaceAllString(marker, "")
			d := &dtPart{}
			if marker != "" {
				d.component = marker[0]
			}
			comma := strings.LastIndex(marker, ",")
			var pres string
			if comma != -1 {
				wm := marker[comma+1:]
				d.width = &widthMod{}
				var mn, mx string
				hasMax := false
				if dash := strings.Index(wm, "-"); dash == -1 {
					mn = wm
				} else {
					mn, mx, hasMax = wm[:dash], wm[dash+1:], true
				}
				if mn != "*" {
					d.width.min, d.width.hasMin = jsParseInt(mn), true
				}
				if hasMax && mx != "*" {
					d.width.max, d.width.hasMax = jsParseInt(mx), true
				}
				pres = marker[1:comma]
			} else if len(marker) > 0 {
				pres = marker[1:]
			}
			switch {
			case utf8.RuneCountInString(pres) == 1:
				d.presentation1 = pres
			case len(pres) > 1:
				last := pres[len(pres)-1]
				if strings.IndexByte("atco", last) >= 0 {
					d.presentation2, d.hasPres2 = string(last), true
					if last == 'o' {
						d.ordinal = true
					}
					d.presentation1 = pres[:len(pres)-1]
				} else {
					d.presentation1 = pres
				}
			default:
				p, ok := defaultPresentation[d.component]
				if !ok {
					return nil, &Error{Code: "D3132", Value: string(d.component), hasValue: true}
				}
				d.presentation1 = p
			}
			if strings.HasPrefix(d.presentation1, "n") {
				d.names = "lower"
			} else if strings.HasPrefix(d.presentation1, "N") {
				if len(d.presentation1) > 1 && d.presentation1[1] == 'n' {
					d.names = "title"
				} else {
					d.names = "upper"
				}
			} else if strings.IndexByte("YMDdFWwXxHhmsf", d.component) >= 0 && d.component != 0 {
				ip := d.presentation1
				if d.hasPres2 {
					ip += ";" + d.presentation2
				}
				f, err := analyseIntegerPicture(ip)
				if err != nil {
					return nil, err
				}
				d.integerFormat = f
				if d.width != nil && d.width.hasMin {
					if float64(f.mandatoryDigits) < d.width.min {
						f.mandatoryDigits = int(d.width.min)
					}
				}
				if d.component == 'Y' {
					d.n = -1
					if d.width != nil && d.width.hasMax {
						d.n = int(d.width.max)
						f.mandatoryDigits = d.n
					} else if w := f.mandatoryDigits + f.optionalDigits; w >= 2 {
						d.n = w
					}
				}
				if len(spec) > 0 {
					if prev := spec[len(spec)-1]; prev.integerFormat != nil {
						prev.integerFormat.parseWidth = prev.integerFormat.mandatoryDigits
					}
				}
			}
			if d.component == 'Z' || d.component == 'z' {
				f, err := analyseIntegerPicture(d.presentation1)
				if err != nil {
					return nil, err
				}
				d.integerFormat = f
			}
			spec = append(spec, d)
			start = pos + 1
		}
		pos++
	}
	addLiteral(start, pos)
	return spec, nil
}

var (
	dayNames   = []string{"", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
	monthNames = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
)

const millisInADay = 1000 * 60 * 60 * 24

func dateUTC(y, m int) float64 {
	return float64(time.Date(y, time.Month(m+1), 1, 0, 0, 0, 0, time.UTC).UnixMilli())
}

func startOfFirstWeek(y, m int) float64 {
	jan1 := dateUTC(y, m)
	day := int(time.UnixMilli(int64(jan1)).UTC().Weekday())
	if day == 0 {
		day = 7
	}
	if day > 4 {
		return jan1 + float64(8-day)*millisInADay
	}
	return jan1 - float64(day-1)*millisInADay
}

func deltaWeeks(start, end float64) float64 {
	return (end-start)/(millisInADay*7) + 1
}

func nextMonth(y, m int) (int, int) {
	if m == 11 {
		return y + 1, 0
	}
	return y, m + 1
}

func prevMonth(y, m int) (int, int) {
	if m == 0 {
		return y - 1, 11
	}
	return y, m - 1
}

func dayStart(y, m, d int) float64 {
	return float64(time.Date(y, time.Month(m+1), d, 0, 0, 0, 0, time.UTC).UnixMilli())
}

// dateFragment is getDateTimeFragment: a component of a UTC date.
func dateFragment(t time.Time, component byte) any {
	y, mo, d := t.Date()
	m := int(mo) - 1
	switch component {
	case 'Y':
		return float64(y)
	case 'M':
		return float64(m + 1)
	case 'D':
		return float64(d)
	case 'd':
		return (dayStart(y, m, d)-dateUTC(y, 0))/millisInADay + 1
	case 'F':
		wd := int(t.Weekday())
		if wd == 0 {
			wd = 7
		}
		return float64(wd)
	case 'W':
		startW1 := startOfFirstWeek(y, 0)
		today := dayStart(y, m, d)
		week := deltaWeeks(startW1, today)
		if week > 52 {
			if today >= startOfFirstWeek(y+1, 0) {
				week = 1
			}
		} else if week < 1 {
			week = deltaWeeks(startOfFirstWeek(y-1, 0), today)
		}
		return math.Floor(week)
	case 'w':
		startW1 := startOfFirstWeek(y, m)
		today := dayStart(y, m, d)
		week := deltaWeeks(startW1, today)
		if week > 4 {
			ny, nm := nextMonth(y, m)
			if today >= startOfFirstWeek(ny, nm) {
				week = 1
			}
		} else if week < 1 {
			py, pm := prevMonth(y, m)
			week = deltaWeeks(startOfFirstWeek(py, pm), today)
		}
		return math.Floor(week)
	case 'X':
		startISO := startOfFirstWeek(y, 0)
		endISO := startOfFirstWeek(y+1, 0)
		now := float64(t.UnixMilli())
		switch {
		case now < startISO:
			return float64(y - 1)
		case now >= endISO:
			return float64(y + 1)
		}
		return float64(y)
	case 'x':
		startISO := startOfFirstWeek(y, m)
		ny, nm := nextMonth(y, m)
		endISO := startOfFirstWeek(ny, nm)
		now := float64(t.UnixMilli())
		switch {
		case now < startISO:
			_, pm := prevMonth(y, m)
			return float64(pm + 1)
		case now >= endISO:
			return float64(nm + 1)
		}
		return float64(m + 1)
	case 'H':
		return float64(t.Hour())
	case 'h':
		h := t.Hour() % 12
		if h == 0 {
			h = 12
		}
		return float64(h)
	case 'P':
		if t.Hour() >= 12 {
			return "pm"
		}
		return "am"
	case 'm':
		return float64(t.Minute())
	case 's':
		return float64(t.Second())
	case 'f':
		return float64(t.Nanosecond() / 1e6)
	case 'C', 'E':
		return "ISO"
	}
	return undefined
}

var iso8601Spec, _ = analyseDateTimePicture("[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]")

func formatDateTime(millis float64, picture *string, timezone *string) (string, error) {
	offsetHours, offsetMinutes := 0.0, 0.0
	if timezone != nil {
		off := jsParseInt(*timezone)
		offsetHours = math.Floor(off / 100)
		offsetMinutes = math.Mod(off, 100)
	}
	spec := iso8601Spec
	if picture != nil {
		var err error
		if spec, err = analyseDateTimePicture(*picture); err != nil {
			return "", err
		}
	}
	offsetMillis := (60*offsetHours + offsetMinutes) * 60 * 1000
	ms := millis + offsetMillis
	t := time.UnixMilli(int64(math.Trunc(ms))).UTC()
	var b strings.Builder
	for _, part := range spec {
		if part.literal {
			b.WriteString(part.value)
			continue
		}
		s, err := formatComponent(t, part, offsetHours, offsetMinutes)
		if err != nil {
			return "", err
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

func formatComponent(t time.Time, part *dtPart, offH, offM float64) (string, error) {
	val := dateFragment(t, part.component)
	switch {
	case strings.IndexByte("YMDdFWwXxHhms", part.component) >= 0 && part.component != 0:
		num, _ := val.(float64)
		if part.component == 'Y' && part.n != -1 {
			num = math.Mod(num, math.Pow(10, float64(part.n)))
		}
		if part.names != "" {
			var name string
			switch part.component {
			case 'M', 'x':
				name = monthNames[int(num)-1]
			case 'F':
				name = dayNames[int(num)]
			default:
				return "", &Error{Code: "D3133", Value: string(part.component), hasValue: true}
			}
			switch part.names {
			case "upper":
				name = strings.ToUpper(name)
			case "lower":
				name = strings.ToLower(name)
			}
			if part.width != nil && part.width.hasMax && float64(len(name)) > part.width.max {
				name = name[:int(part.width.max)]
			}
			return name, nil
		}
		return formatIntegerWith(num, part.integerFormat)
	case part.component == 'f':
		num, _ := val.(float64)
		return formatIntegerWith(num, part.integerFormat)
	case part.component == 'Z' || part.component == 'z':
		offset := offH*100 + offM
		var s string
		var err error
		if part.integerFormat.regular {
			s, err = formatIntegerWith(offset, part.integerFormat)
		} else {
			switch nd := part.integerFormat.mandatoryDigits; nd {
			case 1, 2:
				s, err = formatIntegerWith(offH, part.integerFormat)
				if err == nil && offM != 0 {
					f, _ := analyseIntegerPicture("00")
					m, _ := formatIntegerWith(math.Floor(offM), f)
					s += ":" + m
				}
			case 3, 4:
				s, err = formatIntegerWith(offset, part.integerFormat)
			default:
				return "", &Error{Code: "D3134", Value: float64(nd), hasValue: true}
			}
		}
		if err != nil {
			return "", err
		}
		if offset >= 0 {
			s = "+" + s
		}
		if part.component == 'z' {
			s = "GMT" + s
		}
		if offset == 0 && part.presentation2 == "t" {
			s = "Z"
		}
		return s, nil
	case part.component == 'P':
		s, _ := val.(string)
		if part.names == "upper" {
			s = strings.ToUpper(s)
		}
		return s, nil
	}
	if s, ok := val.(string); ok {
		return s, nil
	}
	return "undefined", nil
}

func fnFromMillis(c call, a []any) (any, error) {
	ms, ok := argAt(a, 0).(float64)
	if !ok {
		return undefined, nil
	}
	return fromMillis(ms, argAt(a, 1), argAt(a, 2))
}

func fromMillis(ms float64, picture, tz any) (any, error) {
	var pp, tp *string
	if s, ok := picture.(string); ok {
		pp = &s
	}
	if s, ok := tz.(string); ok {
		tp = &s
	}
	s, err := formatDateTime(ms, pp, tp)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func fnNow(c call, a []any) (any, error) {
	return fromMillis(float64(c.st.now.UnixMilli()), argAt(a, 0), argAt(a, 1))
}

func fnMillis(c call, a []any) (any, error) {
	return float64(c.st.now.UnixMilli()), nil
}

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
	now := c.st.now.UTC()
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
