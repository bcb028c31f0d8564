package jsonata

import (
	"math"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// XPath F&O date/time pictures ($fromMillis, $now) as jsonata implements
// them.

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
		s, err := formatComponent(t, invalidDate(ms), part, offsetHours, offsetMinutes)
		if err != nil {
			return "", err
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// invalidDate reports whether new Date(ms) is an Invalid Date, whose
// fields are all NaN.
func invalidDate(ms float64) bool {
	return math.IsNaN(ms) || math.Abs(ms) > 8.64e15
}

func formatComponent(t time.Time, invalid bool, part *dtPart, offH, offM float64) (string, error) {
	val := dateFragment(t, part.component)
	if invalid {
		switch part.component {
		case 'P':
			val = "am"
		case 'C', 'E':
		default:
			val = math.NaN()
		}
	}
	switch {
	case strings.IndexByte("YMDdFWwXxHhms", part.component) >= 0 && part.component != 0:
		num, _ := val.(float64)
		if part.component == 'Y' && part.n != -1 {
			num = math.Mod(num, math.Pow(10, float64(part.n)))
		}
		if part.names != "" {
			var name string
			switch part.component {
			case 'M', 'x', 'F':
				if num != num {
					// months[NaN] is undefined.
					switch part.names {
					case "upper":
						return "", &Error{Message: "Cannot read properties of undefined (reading 'toUpperCase')"}
					case "lower":
						return "", &Error{Message: "Cannot read properties of undefined (reading 'toLowerCase')"}
					}
					return "undefined", nil
				}
				if part.component == 'F' {
					name = dayNames[int(num)]
				} else {
					name = monthNames[int(num)-1]
				}
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
	return fromMillis(float64(c.st.timestamp().UnixMilli()), argAt(a, 0), argAt(a, 1))
}

func fnMillis(c call, a []any) (any, error) {
	return float64(c.st.timestamp().UnixMilli()), nil
}
