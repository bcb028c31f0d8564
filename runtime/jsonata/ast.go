package jsonata

import "github.com/dlclark/regexp2/v2"

type nodeType uint8

// Node types: those of the parser's output and, after processing, of the
// tree the evaluator walks.
const (
	ntNone nodeType = iota
	ntPath
	ntBinary
	ntUnary
	ntName
	ntString
	ntNumber
	ntValue
	ntWildcard
	ntDescendant
	ntParent
	ntCondition
	ntBlock
	ntBind
	ntRegex
	ntFunction
	ntVariable
	ntLambda
	ntPartial
	ntApply
	ntTransform
	ntSort
	ntOperator
	ntEnd
)

var nodeTypeNames = [...]string{
	ntNone: "", ntPath: "path", ntBinary: "binary", ntUnary: "unary", ntName: "name",
	ntString: "string", ntNumber: "number", ntValue: "value", ntWildcard: "wildcard",
	ntDescendant: "descendant", ntParent: "parent", ntCondition: "condition",
	ntBlock: "block", ntBind: "bind", ntRegex: "regex", ntFunction: "function",
	ntVariable: "variable", ntLambda: "lambda", ntPartial: "partial", ntApply: "apply",
	ntTransform: "transform", ntSort: "sort", ntOperator: "operator", ntEnd: "end",
}

func (t nodeType) String() string { return nodeTypeNames[t] }

// node is one node of an expression tree. The parser and the post-parse
// pass share the type, as jsonata's do, so fields are a union.
type node struct {
	typ nodeType
	id  string // parser symbol: an operator, "(name)", "(literal)", "(regex)", "(end)"
	// str is the name, variable, operator or string literal text.
	str   string
	value any // literal value (float64, string, bool, nil)
	pos   int

	lhs, rhs    *node
	expression  *node
	expressions []*node
	pairs       [][2]*node // object constructor / group-by
	procedure   *node
	arguments   []*node
	// lambda
	params    []*node
	signature *signature
	body      *node
	thunk     bool
	// condition
	condition, then, els *node
	// transform
	pattern, update, del *node
	// order-by
	terms []sortTerm
	// regex
	re    *regexp2.Regexp
	reLit *regexLit
	// nonGlobal marks a regex that lost its g flag (see clone).
	nonGlobal bool

	// path and step annotations
	steps              []*node
	predicate          []stage
	stages             []stage
	group              *groupSpec
	focus              string
	hasFocus           bool
	index              string
	hasIndex           bool
	tuple              bool
	ancestor           *slot
	slot               *slot
	keepArray          bool
	consarray          bool
	keepSingletonArray bool
	seekList           *slotList
	hasSeeking         bool

	// simple marks a path of plain names (see simplePath).
	simple bool
	// frameless marks a block that can share its parent's frame: nothing
	// in it can bind a variable there.
	frameless bool
}

// bindsOrCalls reports whether evaluating n may bind a variable in the
// current frame: a := outside lambda bodies, or any call (which may be
// $eval, binding in its caller's frame).
func bindsOrCalls(n *node, top bool) bool {
	switch n.typ {
	case ntBind, ntFunction, ntPartial, ntApply, ntTransform:
		return true
	case ntLambda:
		if !top {
			return false
		}
	}
	found := false
	n.children(func(c *node) {
		if !found && bindsOrCalls(c, false) {
			found = true
		}
	})
	return found
}

// children calls fn on every node below n.
func (n *node) children(fn func(*node)) {
	for _, c := range []*node{n.lhs, n.rhs, n.expression, n.procedure, n.body, n.condition, n.then, n.els, n.pattern, n.update, n.del} {
		if c != nil {
			fn(c)
		}
	}
	for _, list := range [][]*node{n.expressions, n.arguments, n.steps} {
		for _, c := range list {
			fn(c)
		}
	}
	for _, p := range n.pairs {
		fn(p[0])
		fn(p[1])
	}
	for _, t := range n.terms {
		fn(t.expr)
	}
	for _, list := range [][]stage{n.predicate, n.stages} {
		for _, s := range list {
			if s.expr != nil {
				fn(s.expr)
			}
		}
	}
	if n.group != nil {
		for _, p := range n.group.pairs {
			fn(p[0])
			fn(p[1])
		}
	}
}

// markSimple flags the paths simplePath can evaluate, once the tree is
// final.
func markSimple(n *node, seen map[*node]bool) {
	if seen[n] {
		return
	}
	seen[n] = true
	if n.typ == ntBlock {
		n.frameless = !bindsOrCalls(n, true)
	}
	if n.typ == ntPath && n.group == nil && !n.keepSingletonArray && !n.tuple && !n.keepArray && n.predicate == nil {
		simple := true
		for i, s := range n.steps {
			if !(s.typ == ntName || (i == 0 && s.typ == ntVariable && len(n.steps) > 1)) || s.predicate != nil || s.stages != nil || s.group != nil || s.tuple ||
				s.hasFocus || s.hasIndex || s.ancestor != nil || s.keepArray || s.consarray {
				simple = false
				break
			}
		}
		n.simple = simple
	}
	n.children(func(c *node) { markSimple(c, seen) })
}

type sortTerm struct {
	descending bool
	expr       *node
}

type stageKind uint8

const (
	stageFilter stageKind = iota + 1
	stageIndex
)

type stage struct {
	kind  stageKind
	expr  *node
	value string // index variable name
	pos   int
}

type groupSpec struct {
	pairs [][2]*node
	pos   int
}

// slot ties a parent operator (%) to the step that binds its value.
type slot struct {
	label string
	level int
	index int
}

// clone deep-copies a parse tree (jsonata copies the left side of ?: and ??
// through JSON so the two uses do not share nodes).
func (n *node) clone() *node {
	if n == nil {
		return nil
	}
	c := *n
	if n.signature != nil {
		// A signature does not survive jsonata's JSON copy: its validate
		// function is lost.
		c.signature = &signature{definition: n.signature.definition, broken: true}
	}
	if n.typ == ntRegex {
		// Nor does a RegExp, which becomes {}: new RegExp({}) is the
		// character class /[object Object]/, without the g flag.
		c.reLit = &regexLit{pattern: "[object Object]"}
		c.re = nil
		c.nonGlobal = true
	}
	c.lhs = n.lhs.clone()
	c.rhs = n.rhs.clone()
	c.expression = n.expression.clone()
	c.procedure = n.procedure.clone()
	c.body = n.body.clone()
	c.condition = n.condition.clone()
	c.then = n.then.clone()
	c.els = n.els.clone()
	c.pattern = n.pattern.clone()
	c.update = n.update.clone()
	c.del = n.del.clone()
	c.expressions = cloneNodes(n.expressions)
	c.arguments = cloneNodes(n.arguments)
	c.params = cloneNodes(n.params)
	c.steps = cloneNodes(n.steps)
	if n.pairs != nil {
		c.pairs = make([][2]*node, len(n.pairs))
		for i, p := range n.pairs {
			c.pairs[i] = [2]*node{p[0].clone(), p[1].clone()}
		}
	}
	if n.terms != nil {
		c.terms = make([]sortTerm, len(n.terms))
		for i, t := range n.terms {
			c.terms[i] = sortTerm{t.descending, t.expr.clone()}
		}
	}
	return &c
}

func cloneNodes(ns []*node) []*node {
	if ns == nil {
		return nil
	}
	out := make([]*node, len(ns))
	for i, n := range ns {
		out[i] = n.clone()
	}
	return out
}
