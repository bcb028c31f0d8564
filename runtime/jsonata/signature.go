package jsonata

import "strings"

// signature is a parsed function signature such as <s-n?:s>. Arguments are
// validated by matching their type letters against the parameters the way
// jsonata's generated regex does (greedy, first match wins).
type signature struct {
	definition string
	params     []sigParam
	// broken marks a signature copied through JSON (see node.clone).
	broken bool
}

type sigParam struct {
	typ     string // s n b l o a f j x, or "(...)" for a choice
	allowed string // the type letters accepted, including m (missing)
	mod     byte   // 0, '?', '+'
	context bool   // '-': the context value stands in for a missing argument
	ctxOK   string // the letters accepted from the context
	array   bool
	subtype string
}

var arrayTypeNames = map[string]string{
	"a": "arrays", "b": "booleans", "f": "functions", "n": "numbers", "o": "objects", "s": "strings",
}

func parseSignature(sig string) (*signature, *Error) {
	s := &signature{definition: sig}
	runes := []rune(sig)
	pos := 1
	var param sigParam
	prev := -1 // index of the previous param in s.params
	next := func() {
		s.params = append(s.params, param)
		prev = len(s.params) - 1
		param = sigParam{}
	}
	closing := func(start int, open, close rune) int {
		depth := 1
		p := start
		for p < len(runes) {
			p++
			if p >= len(runes) {
				break
			}
			c := runes[p]
			if c == close {
				depth--
				if depth == 0 {
					break
				}
			} else if c == open {
				depth++
			}
		}
		return p
	}
	for pos < len(runes) {
		c := runes[pos]
		if c == ':' {
			break
		}
		switch c {
		case 's', 'n', 'b', 'l', 'o':
			param.allowed = string(c) + "m"
			param.typ = string(c)
			next()
		case 'a':
			param.allowed = "asnblfom"
			param.typ = "a"
			param.array = true
			next()
		case 'f':
			param.allowed = "f"
			param.typ = "f"
			next()
		case 'j':
			param.allowed = "asnblom"
			param.typ = "j"
			next()
		case 'x':
			param.allowed = "asnblfom"
			param.typ = "x"
			next()
		case '-':
			if prev >= 0 {
				p := &s.params[prev]
				p.context = true
				p.ctxOK = p.allowed
				if p.mod == 0 {
					p.mod = '?'
				}
			}
		case '?', '+':
			if prev >= 0 {
				p := &s.params[prev]
				if p.mod == 0 {
					p.mod = byte(c)
				}
			}
		case '(':
			end := closing(pos, '(', ')')
			choice := string(runes[pos+1 : min(end, len(runes))])
			if strings.Contains(choice, "<") {
				return nil, &Error{Code: "S0402", Value: choice, offset: pos}
			}
			param.allowed = choice + "m"
			param.typ = "(" + choice + ")"
			pos = end
			next()
		case '<':
			if prev >= 0 && (s.params[prev].typ == "a" || s.params[prev].typ == "f") {
				end := closing(pos, '<', '>')
				s.params[prev].subtype = string(runes[pos+1 : min(end, len(runes))])
				pos = end
			} else {
				t := ""
				if prev >= 0 {
					t = s.params[prev].typ
				}
				return nil, &Error{Code: "S0401", Value: t, offset: pos}
			}
		}
		pos++
	}
	return s, nil
}

// typeLetter is the signature letter for a value.
func typeLetter(v any) byte {
	switch t := v.(type) {
	case undefinedT:
		return 'm'
	case nil:
		return 'l'
	case string:
		return 's'
	case float64:
		return 'n'
	case bool:
		return 'b'
	case []any:
		return 'a'
	case *sequence:
		return 'a'
	default:
		if isFunction(t) {
			return 'f'
		}
		return 'o'
	}
}

// match finds how many arguments each parameter takes (0: the parameter
// is missing) the way a backtracking regex ^(p1)(p2)...$ would.
func (s *signature) match(sig []byte, counts []int) bool {
	return s.try(sig, counts, 0, 0, len(s.params), true) >= 0
}

func (p *sigParam) accepts(sig []byte, i int) bool {
	return i < len(sig) && strings.IndexByte(p.allowed, sig[i]) >= 0
}

// try matches params[pi:k] from letter ai, greedy first; with whole set
// the match must end at the last letter. It returns where it ended, -1
// when it cannot match.
func (s *signature) try(sig []byte, counts []int, pi, ai, k int, whole bool) int {
	if pi == k {
		if whole && ai != len(sig) {
			return -1
		}
		return ai
	}
	p := &s.params[pi]
	switch p.mod {
	case 0:
		if p.accepts(sig, ai) {
			counts[pi] = 1
			return s.try(sig, counts, pi+1, ai+1, k, whole)
		}
		return -1
	case '?':
		if p.accepts(sig, ai) {
			counts[pi] = 1
			if r := s.try(sig, counts, pi+1, ai+1, k, whole); r >= 0 {
				return r
			}
		}
		counts[pi] = 0
		return s.try(sig, counts, pi+1, ai, k, whole)
	default: // '+'
		n := 0
		for p.accepts(sig, ai+n) {
			n++
		}
		for ; n >= 1; n-- {
			counts[pi] = n
			if r := s.try(sig, counts, pi+1, ai+n, k, whole); r >= 0 {
				return r
			}
		}
		return -1
	}
}

// prefixLen is how many letters of sig the first k parameters match, as
// the library's error reporting measures it; -1 when they fail.
func (s *signature) prefixLen(sig []byte, k int) int {
	counts := make([]int, len(s.params))
	return s.try(sig, counts, 0, 0, k, false)
}

// validate checks args against the signature, substituting the context
// value for a missing "-" argument and wrapping single values for array
// parameters; it returns the arguments to call with.
func (s *signature) validate(args []any, context any) ([]any, error) {
	return s.validateInto(args, context, make([]any, 0, len(s.params)))
}

// validateInto is validate appending the arguments to out.
func (s *signature) validateInto(args []any, context any, out []any) ([]any, error) {
	if s.broken {
		return nil, &Error{Message: "signature.validate is not a function"}
	}
	var buf [8]byte
	sig := buf[:0]
	for _, a := range args {
		sig = append(sig, typeLetter(a))
	}
	var cbuf [8]int
	counts := cbuf[:0]
	for range s.params {
		counts = append(counts, 0)
	}
	if !s.match(sig, counts) {
		return nil, s.validationError(args, sig)
	}
	ai := 0 // the next argument
	sp := 0 // the next letter of the supplied signature
	for pi := range s.params {
		p := &s.params[pi]
		n := counts[pi]
		if n == 0 {
			if p.context {
				cl := typeLetter(context)
				if strings.IndexByte(p.ctxOK, cl) >= 0 {
					out = append(out, context)
				} else {
					return nil, &Error{Code: "T0411", Value: context, hasValue: true, index: float64(ai + 1)}
				}
			} else {
				out = append(out, argAt(args, ai))
				ai++
			}
			continue
		}
		match := sig[sp : sp+n]
		sp += n
		for _, single := range match {
			a := argAt(args, ai)
			if p.typ == "a" {
				if single == 'm' {
					a = undefined
				} else {
					ok := true
					if p.subtype != "" {
						if single != 'a' && string(match) != p.subtype {
							ok = false
						} else if single == 'a' {
							items := arrayItems(a)
							if len(items) > 0 {
								it := typeLetter(items[0])
								if it != p.subtype[0] {
									ok = false
								} else {
									for _, v := range items {
										if typeLetter(v) != it {
											ok = false
											break
										}
									}
								}
							}
						}
					}
					if !ok {
						return nil, &Error{Code: "T0412", Value: a, hasValue: true, index: float64(ai + 1), typeName: arrayTypeNames[p.subtype]}
					}
					if single != 'a' {
						a = []any{a}
					}
				}
			}
			out = append(out, a)
			ai++
		}
	}
	return out, nil
}

func (s *signature) validationError(args []any, sig []byte) *Error {
	goodTo := 0
	for i := range s.params {
		n := s.prefixLen(sig, i+1)
		if n < 0 {
			break
		}
		goodTo = n
	}
	var v any = undefined
	if goodTo < len(args) {
		v = args[goodTo]
	}
	return &Error{Code: "T0410", Value: v, hasValue: true, index: float64(goodTo + 1)}
}
