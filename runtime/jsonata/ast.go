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
