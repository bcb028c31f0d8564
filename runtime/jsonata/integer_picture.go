package jsonata

import (
	"math"
	"regexp"
	"strconv"
	"strings"
)

// XPath F&O integer pictures ($formatInteger, $parseInteger) as jsonata
// implements them.

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
