package parser

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
)

// htmlSelector is a group of CSS selectors (cascadia), each of which may
// end in jQuery's positional filters, which cheerio also understands.
type htmlSelector struct {
	parts []selectorPart
}

type selectorPart struct {
	css     cascadia.Matcher
	filters []posFilter
}

type posFilter struct {
	kind string // first, last, even, odd, eq, gt, lt
	n    int
}

var trailingPos = regexp.MustCompile(`:(first|last|even|odd|(eq|gt|lt)\(\s*(-?\d+)\s*\))$`)

func compileSelector(s string) (*htmlSelector, error) {
	sel := &htmlSelector{}
	for _, part := range splitSelectorGroup(s) {
		p := selectorPart{}
		base := strings.TrimSpace(part)
		for {
			m := trailingPos.FindStringSubmatchIndex(base)
			if m == nil {
				break
			}
			f := posFilter{kind: base[m[2]:m[3]]}
			if m[4] >= 0 {
				f.kind = base[m[4]:m[5]]
				f.n, _ = strconv.Atoi(base[m[6]:m[7]])
			}
			p.filters = append([]posFilter{f}, p.filters...)
			base = strings.TrimSpace(base[:m[0]])
		}
		if base == "" {
			base = "*"
		}
		c, err := cascadia.ParseGroup(base)
		if err != nil {
			return nil, err
		}
		p.css = c
		sel.parts = append(sel.parts, p)
	}
	return sel, nil
}

// splitSelectorGroup splits at the commas that separate selectors (not
// those inside parentheses, brackets or quotes).
func splitSelectorGroup(s string) []string {
	var out []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '(' || c == '[':
			depth++
		case c == ')' || c == ']':
			depth--
		case c == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// match returns the elements any part selects, in document order.
func (s *htmlSelector) match(doc *html.Node) []*html.Node {
	if len(s.parts) == 1 {
		return s.parts[0].match(doc)
	}
	picked := map[*html.Node]bool{}
	for _, p := range s.parts {
		for _, n := range p.match(doc) {
			picked[n] = true
		}
	}
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if picked[n] {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

func (p selectorPart) match(doc *html.Node) []*html.Node {
	found := cascadia.QueryAll(doc, p.css)
	for _, f := range p.filters {
		found = f.apply(found)
	}
	return found
}

func (f posFilter) apply(in []*html.Node) []*html.Node {
	l := len(in)
	idx := func(n int) int {
		if n < 0 {
			return n + l
		}
		return n
	}
	var out []*html.Node
	for i, n := range in {
		keep := false
		switch f.kind {
		case "first":
			keep = i == 0
		case "last":
			keep = i == l-1
		case "even":
			keep = i%2 == 0
		case "odd":
			keep = i%2 == 1
		case "eq":
			keep = i == idx(f.n)
		case "gt":
			keep = i > idx(f.n)
		case "lt":
			keep = i < idx(f.n)
		}
		if keep {
			out = append(out, n)
		}
	}
	return out
}
