package jsonata

import (
	"strconv"

	"github.com/dlclark/regexp2/v2"
)

// The post-parse pass turns the parse tree into the evaluator's tree, as
// jsonata's processAST does: location paths become lists of steps carrying
// their predicates, group-by, focus (@) and index (#) bindings, and parent
// (%) references are tied to the steps that supply them.

// slotList is a list of slots shared by reference between nodes, as
// jsonata's seekingParent arrays are.
type slotList struct{ s []*slot }

type postParser struct {
	ancestorLabel int
	ancestorIndex int
	ancestry      []*node
}

func (pp *postParser) seekParent(n *node, sl *slot) (*slot, error) {
	switch n.typ {
	case ntName, ntWildcard:
		sl.level--
		if sl.level == 0 {
			if n.ancestor != nil {
				pp.ancestry[sl.index].slot.label = n.ancestor.label
			}
			n.ancestor = sl
			n.tuple = true
		}
	case ntParent:
		sl.level++
	case ntBlock:
		if len(n.expressions) > 0 {
			n.tuple = true
			var err error
			sl, err = pp.seekParent(n.expressions[len(n.expressions)-1], sl)
			if err != nil {
				return nil, err
			}
		}
	case ntPath:
		n.tuple = true
		index := len(n.steps) - 1
		var err error
		sl, err = pp.seekParent(n.steps[index], sl)
		index--
		if err != nil {
			return nil, err
		}
		for sl.level > 0 && index >= 0 {
			sl, err = pp.seekParent(n.steps[index], sl)
			index--
			if err != nil {
				return nil, err
			}
		}
	default:
		return nil, tokErr(&Error{Code: "S0217", Position: n.pos}, n.typ.String())
	}
	return sl, nil
}

func seeking(n *node) *slotList {
	if !n.hasSeeking {
		return nil
	}
	return n.seekList
}

func setSeeking(n *node, l *slotList) {
	n.hasSeeking = true
	n.seekList = l
}

func pushAncestry(result, value *node) {
	if value.hasSeeking || value.typ == ntParent {
		slots := seeking(value)
		if slots == nil {
			slots = &slotList{}
		}
		if value.typ == ntParent {
			slots.s = append(slots.s, value.slot)
		}
		if !result.hasSeeking {
			setSeeking(result, slots)
		} else {
			result.seekList.s = append(result.seekList.s, slots.s...)
		}
	}
}

func (pp *postParser) resolveAncestry(path *node) error {
	index := len(path.steps) - 1
	last := path.steps[index]
	slots := seeking(last)
	if slots == nil {
		slots = &slotList{}
	}
	if last.typ == ntParent {
		slots.s = append(slots.s, last.slot)
	}
	for is := 0; is < len(slots.s); is++ {
		sl := slots.s[is]
		index = len(path.steps) - 2
		for sl.level > 0 {
			if index < 0 {
				if !path.hasSeeking {
					setSeeking(path, &slotList{s: []*slot{sl}})
				} else {
					path.seekList.s = append(path.seekList.s, sl)
				}
				break
			}
			step := path.steps[index]
			index--
			for index >= 0 && step.focus != "" && path.steps[index].focus != "" {
				step = path.steps[index]
				index--
			}
			var err error
			sl, err = pp.seekParent(step, sl)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func (pp *postParser) process(expr *node) (*node, error) {
	var result *node
	var err error
	switch expr.typ {
	case ntBinary:
		result, err = pp.binary(expr)
	case ntUnary:
		result = &node{typ: ntUnary, str: expr.str, pos: expr.pos}
		switch expr.str {
		case "[":
			result.expressions = make([]*node, len(expr.expressions))
			for i, item := range expr.expressions {
				v, err := pp.process(item)
				if err != nil {
					return nil, err
				}
				pushAncestry(result, v)
				result.expressions[i] = v
			}
		case "{":
			result.pairs = make([][2]*node, len(expr.pairs))
			for i, pair := range expr.pairs {
				k, err := pp.process(pair[0])
				if err != nil {
					return nil, err
				}
				pushAncestry(result, k)
				v, err := pp.process(pair[1])
				if err != nil {
					return nil, err
				}
				pushAncestry(result, v)
				result.pairs[i] = [2]*node{k, v}
			}
		default:
			e, err := pp.process(expr.expression)
			if err != nil {
				return nil, err
			}
			result.expression = e
			if expr.str == "-" && e.typ == ntNumber {
				result = e
				result.value = -e.value.(float64)
			} else {
				pushAncestry(result, e)
			}
		}
	case ntFunction, ntPartial:
		result = &node{typ: expr.typ, str: expr.str, pos: expr.pos}
		result.arguments = make([]*node, len(expr.arguments))
		for i, a := range expr.arguments {
			v, err := pp.process(a)
			if err != nil {
				return nil, err
			}
			pushAncestry(result, v)
			result.arguments[i] = v
		}
		if result.procedure, err = pp.process(expr.procedure); err != nil {
			return nil, err
		}
	case ntLambda:
		result = &node{typ: ntLambda, params: expr.params, signature: expr.signature, pos: expr.pos}
		if result.params == nil {
			result.params = expr.arguments
		}
		body, err := pp.process(expr.body)
		if err != nil {
			return nil, err
		}
		result.body = tailCallOptimize(body)
	case ntCondition:
		result = &node{typ: ntCondition, pos: expr.pos}
		if result.condition, err = pp.process(expr.condition); err != nil {
			return nil, err
		}
		pushAncestry(result, result.condition)
		if result.then, err = pp.process(expr.then); err != nil {
			return nil, err
		}
		pushAncestry(result, result.then)
		if expr.els != nil {
			if result.els, err = pp.process(expr.els); err != nil {
				return nil, err
			}
			pushAncestry(result, result.els)
		}
	case ntTransform:
		result = &node{typ: ntTransform, pos: expr.pos}
		if result.pattern, err = pp.process(expr.pattern); err != nil {
			return nil, err
		}
		if result.update, err = pp.process(expr.update); err != nil {
			return nil, err
		}
		if expr.del != nil {
			if result.del, err = pp.process(expr.del); err != nil {
				return nil, err
			}
		}
	case ntBlock:
		result = &node{typ: ntBlock, pos: expr.pos}
		result.expressions = make([]*node, len(expr.expressions))
		for i, item := range expr.expressions {
			part, err := pp.process(item)
			if err != nil {
				return nil, err
			}
			pushAncestry(result, part)
			if part.consarray || (part.typ == ntPath && part.steps[0].consarray) {
				result.consarray = true
			}
			result.expressions[i] = part
		}
	case ntName:
		result = &node{typ: ntPath, steps: []*node{expr}}
		if expr.keepArray {
			result.keepSingletonArray = true
		}
	case ntParent:
		result = &node{typ: ntParent, slot: &slot{label: "!" + strconv.Itoa(pp.ancestorLabel), level: 1, index: pp.ancestorIndex}}
		pp.ancestorLabel++
		pp.ancestorIndex++
		pp.ancestry = append(pp.ancestry, result)
	case ntRegex:
		if expr.re == nil {
			re, err := compileRegex(expr.reLit, expr.pos)
			if err != nil {
				return nil, err
			}
			expr.re = re
		}
		result = expr
	case ntString, ntNumber, ntValue, ntWildcard, ntDescendant, ntVariable:
		result = expr
	case ntOperator:
		if expr.str == "and" || expr.str == "or" || expr.str == "in" {
			expr.typ = ntName
			result, err = pp.process(expr)
			if err != nil {
				return nil, err
			}
		} else if expr.str == "?" {
			result = expr
		} else {
			return nil, tokErr(&Error{Code: "S0201", Position: expr.pos}, expr.str)
		}
	default:
		code := "S0206"
		if expr.id == "(end)" {
			code = "S0207"
		}
		return nil, tokErr(&Error{Code: code, Position: expr.pos}, tokenText(expr))
	}
	if err != nil {
		return nil, err
	}
	if expr.keepArray {
		result.keepArray = true
	}
	return result, nil
}

func compileRegex(lit *regexLit, pos int) (*regexp2.Regexp, error) {
	opts := regexp2.ECMAScript
	for _, f := range lit.flags {
		switch f {
		case 'i':
			opts |= regexp2.IgnoreCase
		case 'm':
			opts |= regexp2.Multiline
		}
	}
	re, err := regexp2.Compile(lit.pattern, opts, regexp2.OptionMaintainCaptureOrder())
	if err != nil {
		return nil, &Error{Position: pos, Message: "Invalid regular expression: /" + lit.pattern + "/: " + err.Error()}
	}
	return re, nil
}

func (pp *postParser) binary(expr *node) (*node, error) {
	var result *node
	var err error
	switch expr.str {
	case ".":
		lstep, err := pp.process(expr.lhs)
		if err != nil {
			return nil, err
		}
		if lstep.typ == ntPath {
			result = lstep
		} else {
			result = &node{typ: ntPath, steps: []*node{lstep}}
		}
		if lstep.typ == ntParent {
			setSeeking(result, &slotList{s: []*slot{lstep.slot}})
		}
		rest, err := pp.process(expr.rhs)
		if err != nil {
			return nil, err
		}
		if rest.typ == ntPath {
			result.steps = append(result.steps, rest.steps...)
		} else {
			if rest.predicate != nil {
				rest.stages = rest.predicate
				rest.predicate = nil
			}
			result.steps = append(result.steps, rest)
		}
		for _, step := range result.steps {
			if step.typ == ntNumber || step.typ == ntValue {
				return nil, &Error{Code: "S0213", Position: step.pos, Value: step.value, hasValue: true}
			}
		}
		for _, step := range result.steps {
			if step.typ == ntString {
				step.typ = ntName
			}
		}
		for _, step := range result.steps {
			if step.keepArray {
				result.keepSingletonArray = true
				break
			}
		}
		first := result.steps[0]
		if first.typ == ntUnary && first.str == "[" {
			first.consarray = true
		}
		last := result.steps[len(result.steps)-1]
		if last.typ == ntUnary && last.str == "[" {
			last.consarray = true
		}
		if err := pp.resolveAncestry(result); err != nil {
			return nil, err
		}
	case "[":
		result, err = pp.process(expr.lhs)
		if err != nil {
			return nil, err
		}
		step := result
		stages := false
		if result.typ == ntPath {
			step = result.steps[len(result.steps)-1]
			stages = true
		}
		if step.group != nil {
			return nil, &Error{Code: "S0209", Position: expr.pos}
		}
		pred, err := pp.process(expr.rhs)
		if err != nil {
			return nil, err
		}
		if sp := seeking(pred); sp != nil {
			for _, sl := range sp.s {
				if sl.level == 1 {
					if _, err := pp.seekParent(step, sl); err != nil {
						return nil, err
					}
				} else {
					sl.level--
				}
			}
			pushAncestry(step, pred)
		}
		st := stage{kind: stageFilter, expr: pred, pos: expr.pos}
		if stages {
			step.stages = append(step.stages, st)
		} else {
			step.predicate = append(step.predicate, st)
		}
	case "{":
		result, err = pp.process(expr.lhs)
		if err != nil {
			return nil, err
		}
		if result.group != nil {
			return nil, &Error{Code: "S0210", Position: expr.pos}
		}
		g := &groupSpec{pos: expr.pos, pairs: make([][2]*node, len(expr.pairs))}
		for i, pair := range expr.pairs {
			k, err := pp.process(pair[0])
			if err != nil {
				return nil, err
			}
			v, err := pp.process(pair[1])
			if err != nil {
				return nil, err
			}
			g.pairs[i] = [2]*node{k, v}
		}
		result.group = g
	case "^":
		result, err = pp.process(expr.lhs)
		if err != nil {
			return nil, err
		}
		if result.typ != ntPath {
			result = &node{typ: ntPath, steps: []*node{result}}
		}
		sortStep := &node{typ: ntSort, pos: expr.pos}
		for _, t := range expr.terms {
			e, err := pp.process(t.expr)
			if err != nil {
				return nil, err
			}
			pushAncestry(sortStep, e)
			sortStep.terms = append(sortStep.terms, sortTerm{descending: t.descending, expr: e})
		}
		result.steps = append(result.steps, sortStep)
		if err := pp.resolveAncestry(result); err != nil {
			return nil, err
		}
	case ":=":
		result = &node{typ: ntBind, str: expr.str, pos: expr.pos}
		if result.lhs, err = pp.process(expr.lhs); err != nil {
			return nil, err
		}
		if result.rhs, err = pp.process(expr.rhs); err != nil {
			return nil, err
		}
		pushAncestry(result, result.rhs)
	case "@":
		result, err = pp.process(expr.lhs)
		if err != nil {
			return nil, err
		}
		step := result
		if result.typ == ntPath {
			step = result.steps[len(result.steps)-1]
		}
		if step.stages != nil || step.predicate != nil {
			return nil, &Error{Code: "S0215", Position: expr.pos}
		}
		if step.typ == ntSort {
			return nil, &Error{Code: "S0216", Position: expr.pos}
		}
		if expr.keepArray {
			step.keepArray = true
		}
		step.focus = expr.rhs.str
		step.hasFocus = true
		step.tuple = true
	case "#":
		result, err = pp.process(expr.lhs)
		if err != nil {
			return nil, err
		}
		step := result
		if result.typ == ntPath {
			step = result.steps[len(result.steps)-1]
		} else {
			result = &node{typ: ntPath, steps: []*node{result}}
			if step.predicate != nil {
				step.stages = step.predicate
				step.predicate = nil
			}
		}
		if step.stages == nil {
			step.index = expr.rhs.str
			step.hasIndex = true
		} else {
			step.stages = append(step.stages, stage{kind: stageIndex, value: expr.rhs.str, pos: expr.pos})
		}
		step.tuple = true
	case "~>":
		result = &node{typ: ntApply, str: expr.str, pos: expr.pos}
		if result.lhs, err = pp.process(expr.lhs); err != nil {
			return nil, err
		}
		if result.rhs, err = pp.process(expr.rhs); err != nil {
			return nil, err
		}
		result.keepArray = result.lhs.keepArray || result.rhs.keepArray
	default:
		result = &node{typ: ntBinary, str: expr.str, pos: expr.pos}
		if result.lhs, err = pp.process(expr.lhs); err != nil {
			return nil, err
		}
		if result.rhs, err = pp.process(expr.rhs); err != nil {
			return nil, err
		}
		pushAncestry(result, result.lhs)
		pushAncestry(result, result.rhs)
	}
	return result, nil
}

// tailCallOptimize turns a function call in tail position into a thunk the
// caller's trampoline evaluates, so tail recursion does not grow the stack.
func tailCallOptimize(expr *node) *node {
	switch {
	case expr.typ == ntFunction && expr.predicate == nil:
		return &node{typ: ntLambda, thunk: true, params: []*node{}, pos: expr.pos, body: expr}
	case expr.typ == ntCondition:
		expr.then = tailCallOptimize(expr.then)
		if expr.els != nil {
			expr.els = tailCallOptimize(expr.els)
		}
	case expr.typ == ntBlock:
		if n := len(expr.expressions); n > 0 {
			expr.expressions[n-1] = tailCallOptimize(expr.expressions[n-1])
		}
	}
	return expr
}
