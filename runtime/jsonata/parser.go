package jsonata

// The parser is a Pratt (top-down operator precedence) parser producing the
// same tree shape as jsonata's, so that the post-parse pass and the
// evaluator can follow jsonata's semantics step by step.

// bindingPower is each operator's left binding power.
var bindingPower = map[string]int{
	".": 75, "[": 80, "]": 0, "{": 70, "}": 0, "(": 80, ")": 0, ",": 0, "@": 80,
	"#": 80, ";": 80, ":": 80, "?": 20, "+": 50, "-": 50, "*": 60, "/": 60,
	"%": 60, "|": 20, "=": 40, "<": 40, ">": 40, "^": 40, "**": 60, "..": 20,
	":=": 10, "!=": 40, "<=": 40, ">=": 40, "~>": 40, "?:": 40, "??": 40,
	"and": 30, "or": 25, "in": 40, "&": 50, "!": 0, "~": 0,
}

// symbolLBP is the lbp of each symbol the parser knows; a lexed operator
// missing here is unknown (S0204).
var symbolLBP = map[string]int{
	"(end)": 0, "(name)": 0, "(literal)": 0, "(regex)": 0,
	":": 0, ";": 0, ",": 0, ")": 0, "]": 0, "}": 0, "..": 0,
	".": 75, "+": 50, "-": 50, "*": 60, "/": 60, "%": 60, "=": 40, "<": 40,
	">": 40, "!=": 40, "<=": 40, ">=": 40, "&": 50, "and": 30, "or": 25,
	"in": 40, "~>": 40, "??": 40, "(error)": 10, "**": 0, "(": 80, "[": 80,
	"^": 40, "{": 70, ":=": 10, "@": 80, "#": 80, "?": 20, "?:": 40, "|": 0,
}

// infixDefault are the operators whose led is the plain binary form.
var infixDefault = map[string]bool{
	".": true, "+": true, "-": true, "*": true, "/": true, "%": true, "=": true,
	"<": true, ">": true, "!=": true, "<=": true, ">=": true, "&": true,
	"and": true, "or": true, "in": true, "~>": true,
}

type parser struct {
	lex   lexer
	src   []rune
	node  *node // current token
	depth int
}

// maxParseDepth bounds the nesting of an expression, so that a hostile one
// cannot exhaust the Go stack.
const maxParseDepth = 2000

func parse(src string) (*node, error) {
	p := &parser{src: []rune(src)}
	p.lex = lexer{src: p.src}
	if _, err := p.advance("", false); err != nil {
		return nil, err
	}
	expr, err := p.expression(0)
	if err != nil {
		return nil, err
	}
	if p.node.id != "(end)" {
		return nil, tokErr(&Error{Code: "S0201", Position: p.node.pos}, tokenText(p.node))
	}
	pp := &postParser{}
	expr, err = pp.process(expr)
	if err != nil {
		return nil, err
	}
	if expr.typ == ntParent || expr.hasSeeking {
		return nil, tokErr(&Error{Code: "S0217", Position: expr.pos}, expr.typ.String())
	}
	markSimple(expr, map[*node]bool{})
	return expr, nil
}

// tokenText is what jsonata puts in an error's token field for a node.
func tokenText(n *node) any {
	switch n.typ {
	case ntString, ntNumber, ntValue:
		return n.value
	case ntRegex:
		return regexToken("/" + n.reLit.pattern + "/" + n.reLit.flags + "g")
	}
	if n.id == "(end)" {
		return "(end)"
	}
	return n.str
}

func (p *parser) advance(id string, infix bool) (*node, error) {
	if id != "" && p.node.id != id {
		code := "S0202"
		if p.node.id == "(end)" {
			code = "S0203"
		}
		return nil, tokErr(&Error{Code: code, Position: p.node.pos, Value: id, hasValue: true}, tokenText(p.node))
	}
	t, err := p.lex.next(infix)
	if err != nil {
		return nil, err
	}
	if t == nil {
		p.node = &node{id: "(end)", typ: ntEnd, str: "(end)", pos: len(p.src)}
		return p.node, nil
	}
	n := &node{pos: t.pos}
	switch t.kind {
	case tokName:
		n.id, n.typ, n.str = "(name)", ntName, t.str
	case tokVariable:
		n.id, n.typ, n.str = "(name)", ntVariable, t.str
	case tokOperator:
		if _, ok := symbolLBP[t.str]; !ok {
			return nil, tokErr(&Error{Code: "S0204", Position: t.pos}, t.str)
		}
		n.id, n.typ, n.str = t.str, ntOperator, t.str
	case tokString:
		n.id, n.typ, n.str, n.value = "(literal)", ntString, t.str, t.value
	case tokNumber:
		n.id, n.typ, n.value = "(literal)", ntNumber, t.value
	case tokValue:
		n.id, n.typ, n.value, n.str = "(literal)", ntValue, t.value, t.str
	case tokRegex:
		n.id, n.typ, n.reLit = "(regex)", ntRegex, t.re
	}
	p.node = n
	return n, nil
}

func (p *parser) expression(rbp int) (*node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxParseDepth {
		return nil, &Error{Code: "S0201", Position: p.node.pos, Message: "Expression nested too deeply", custom: true}
	}
	t := p.node
	if _, err := p.advance("", true); err != nil {
		return nil, err
	}
	left, err := p.nud(t)
	if err != nil {
		return nil, err
	}
	for rbp < symbolLBP[p.node.id] {
		t = p.node
		if _, err := p.advance("", false); err != nil {
			return nil, err
		}
		left, err = p.led(t, left)
		if err != nil {
			return nil, err
		}
	}
	return left, nil
}

func (p *parser) nud(t *node) (*node, error) {
	switch t.id {
	case "(end)", "(name)", "(literal)", "(regex)", "and", "or", "in":
		return t, nil
	case "-":
		e, err := p.expression(70)
		if err != nil {
			return nil, err
		}
		t.expression = e
		t.typ = ntUnary
		return t, nil
	case "*":
		t.typ = ntWildcard
		return t, nil
	case "**":
		t.typ = ntDescendant
		return t, nil
	case "%":
		t.typ = ntParent
		return t, nil
	case "(":
		return p.block(t)
	case "[":
		return p.arrayConstructor(t)
	case "{":
		return p.object(t, nil)
	case "|":
		return p.transform(t)
	}
	return nil, tokErr(&Error{Code: "S0211", Position: t.pos}, t.str)
}

func (p *parser) led(t *node, left *node) (*node, error) {
	id := t.id
	if infixDefault[id] {
		bp := bindingPower[id]
		rhs, err := p.expression(bp)
		if err != nil {
			return nil, err
		}
		t.lhs, t.rhs, t.typ = left, rhs, ntBinary
		return t, nil
	}
	switch id {
	case "??":
		t.typ = ntCondition
		arg := left.clone()
		t.condition = &node{typ: ntFunction, str: "(", procedure: &node{typ: ntVariable, str: "exists"}, arguments: []*node{arg}}
		t.then = left
		e, err := p.expression(0)
		if err != nil {
			return nil, err
		}
		t.els = e
		return t, nil
	case "(":
		return p.call(t, left)
	case "[":
		return p.predicate(t, left)
	case "^":
		return p.orderBy(t, left)
	case "{":
		return p.object(t, left)
	case ":=":
		if left.typ != ntVariable {
			return nil, tokErr(&Error{Code: "S0212", Position: left.pos}, tokenText(left))
		}
		rhs, err := p.expression(bindingPower[":="] - 1)
		if err != nil {
			return nil, err
		}
		t.lhs, t.rhs, t.typ = left, rhs, ntBinary
		return t, nil
	case "@", "#":
		rhs, err := p.expression(bindingPower[id])
		if err != nil {
			return nil, err
		}
		t.lhs, t.rhs = left, rhs
		if rhs.typ != ntVariable {
			return nil, tokErr(&Error{Code: "S0214", Position: rhs.pos}, id)
		}
		t.typ = ntBinary
		return t, nil
	case "?":
		t.typ = ntCondition
		t.condition = left
		e, err := p.expression(0)
		if err != nil {
			return nil, err
		}
		t.then = e
		if p.node.id == ":" {
			if _, err := p.advance(":", false); err != nil {
				return nil, err
			}
			e, err := p.expression(0)
			if err != nil {
				return nil, err
			}
			t.els = e
		}
		return t, nil
	case "?:":
		t.typ = ntCondition
		t.condition = left.clone()
		t.then = left
		e, err := p.expression(0)
		if err != nil {
			return nil, err
		}
		t.els = e
		return t, nil
	}
	// A symbol with a binding power but no infix meaning.
	return nil, tokErr(&Error{Code: "S0201", Position: t.pos}, t.str)
}

// call parses a function invocation, a partial application or a lambda
// definition: left(args...).
func (p *parser) call(t *node, left *node) (*node, error) {
	t.procedure = left
	t.typ = ntFunction
	t.arguments = []*node{}
	if p.node.id != ")" {
		err := p.separated(",", func() error {
			if p.node.typ == ntOperator && p.node.id == "?" {
				t.typ = ntPartial
				t.arguments = append(t.arguments, p.node)
				_, err := p.advance("?", false)
				return err
			}
			e, err := p.expression(0)
			t.arguments = append(t.arguments, e)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	if _, err := p.advance(")", true); err != nil {
		return nil, err
	}
	if left.typ == ntName && (left.str == "function" || left.str == "\u03BB") {
		for i, a := range t.arguments {
			if a.typ != ntVariable {
				return nil, tokErr(&Error{Code: "S0208", Position: a.pos, Value: float64(i + 1), hasValue: true}, tokenText(a))
			}
		}
		t.typ = ntLambda
		if p.node.id == "<" {
			sigPos := p.node.pos
			depth := 1
			sig := "<"
			for depth > 0 && p.node.id != "{" && p.node.id != "(end)" {
				tok, err := p.advance("", false)
				if err != nil {
					return nil, err
				}
				if tok.id == ">" {
					depth--
				} else if tok.id == "<" {
					depth++
				}
				sig += sigText(tok)
			}
			if _, err := p.advance(">", false); err != nil {
				return nil, err
			}
			s, err := parseSignature(sig)
			if err != nil {
				err.Position = sigPos + err.offset
				return nil, err
			}
			t.signature = s
		}
		if _, err := p.advance("{", false); err != nil {
			return nil, err
		}
		body, err := p.expression(0)
		if err != nil {
			return nil, err
		}
		t.body = body
		if _, err := p.advance("}", false); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// sigText is the text a token contributes to a lambda signature.
func sigText(n *node) string {
	switch n.typ {
	case ntString:
		return n.str
	case ntNumber:
		return formatNumber(n.value.(float64))
	case ntValue:
		return n.str
	case ntRegex:
		return "/" + n.reLit.pattern + "/" + n.reLit.flags
	case ntEnd:
		return "(end)"
	}
	return n.str
}

// separated parses one item or more, separated by sep: it stops at the
// first token after an item that is not sep.
func (p *parser) separated(sep string, item func() error) error {
	for {
		if err := item(); err != nil {
			return err
		}
		if p.node.id != sep {
			return nil
		}
		if _, err := p.advance(sep, false); err != nil {
			return err
		}
	}
}

func (p *parser) block(t *node) (*node, error) {
	var exprs []*node
	for p.node.id != ")" {
		e, err := p.expression(0)
		if err != nil {
			return nil, err
		}
		exprs = append(exprs, e)
		if p.node.id != ";" {
			break
		}
		if _, err := p.advance(";", false); err != nil {
			return nil, err
		}
	}
	if _, err := p.advance(")", true); err != nil {
		return nil, err
	}
	t.typ = ntBlock
	t.expressions = exprs
	return t, nil
}

func (p *parser) arrayConstructor(t *node) (*node, error) {
	a := []*node{}
	if p.node.id != "]" {
		err := p.separated(",", func() error {
			item, err := p.expression(0)
			if err != nil {
				return err
			}
			if p.node.id == ".." {
				r := &node{typ: ntBinary, id: "..", str: "..", pos: p.node.pos, lhs: item}
				if _, err := p.advance("..", false); err != nil {
					return err
				}
				if r.rhs, err = p.expression(0); err != nil {
					return err
				}
				item = r
			}
			a = append(a, item)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if _, err := p.advance("]", true); err != nil {
		return nil, err
	}
	t.expressions = a
	t.typ = ntUnary
	return t, nil
}

func (p *parser) predicate(t *node, left *node) (*node, error) {
	if p.node.id == "]" {
		step := left
		for step != nil && step.typ == ntBinary && step.str == "[" {
			step = step.lhs
		}
		step.keepArray = true
		if _, err := p.advance("]", false); err != nil {
			return nil, err
		}
		return left, nil
	}
	t.lhs = left
	rhs, err := p.expression(bindingPower["]"])
	if err != nil {
		return nil, err
	}
	t.rhs = rhs
	t.typ = ntBinary
	if _, err := p.advance("]", true); err != nil {
		return nil, err
	}
	return t, nil
}

func (p *parser) orderBy(t *node, left *node) (*node, error) {
	if _, err := p.advance("(", false); err != nil {
		return nil, err
	}
	var terms []sortTerm
	err := p.separated(",", func() error {
		term := sortTerm{}
		if p.node.id == "<" || p.node.id == ">" {
			term.descending = p.node.id == ">"
			if _, err := p.advance(p.node.id, false); err != nil {
				return err
			}
		}
		e, err := p.expression(0)
		term.expr = e
		terms = append(terms, term)
		return err
	})
	if err != nil {
		return nil, err
	}
	if _, err := p.advance(")", false); err != nil {
		return nil, err
	}
	t.lhs = left
	t.terms = terms
	t.typ = ntBinary
	return t, nil
}

// object parses {k: v, ...}: a constructor (left nil) or a group-by.
func (p *parser) object(t *node, left *node) (*node, error) {
	var pairs [][2]*node
	if p.node.id != "}" {
		err := p.separated(",", func() error {
			k, err := p.expression(0)
			if err != nil {
				return err
			}
			if _, err := p.advance(":", false); err != nil {
				return err
			}
			v, err := p.expression(0)
			pairs = append(pairs, [2]*node{k, v})
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	if _, err := p.advance("}", true); err != nil {
		return nil, err
	}
	if pairs == nil {
		pairs = [][2]*node{}
	}
	t.pairs = pairs
	if left == nil {
		t.typ = ntUnary
	} else {
		t.lhs = left
		t.typ = ntBinary
	}
	return t, nil
}

func (p *parser) transform(t *node) (*node, error) {
	t.typ = ntTransform
	e, err := p.expression(0)
	if err != nil {
		return nil, err
	}
	t.pattern = e
	if _, err := p.advance("|", false); err != nil {
		return nil, err
	}
	if t.update, err = p.expression(0); err != nil {
		return nil, err
	}
	if p.node.id == "," {
		if _, err := p.advance(",", false); err != nil {
			return nil, err
		}
		if t.del, err = p.expression(0); err != nil {
			return nil, err
		}
	}
	if _, err := p.advance("|", false); err != nil {
		return nil, err
	}
	return t, nil
}

// regexToken is a regex literal as an error's token: a RegExp object,
// which JSON.stringify prints as {}.
type regexToken string
