package function

import (
	"reflect"
	"regexp"

	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"
)

// nodeDoneRE is Node-RED's first look for node.done(): only code that
// matches it is parsed to find a real call (not one in a comment).
var nodeDoneRE = regexp.MustCompile(`node\.done\s*\(\s*\)`)

// callsNodeDone reports whether the code calls node.done() itself, in which
// case Node-RED leaves finishing the message to it.
func callsNodeDone(src string) bool {
	if !nodeDoneRE.MatchString(src) {
		return false
	}
	prog, err := parser.ParseFile(nil, "", "(async function(msg,node){\n"+src+"\n})", 0)
	if err != nil {
		return true
	}
	found := false
	walkAST(reflect.ValueOf(prog), func(c *ast.CallExpression) {
		if d, ok := c.Callee.(*ast.DotExpression); ok {
			if id, ok := d.Left.(*ast.Identifier); ok && id.Name == "node" && d.Identifier.Name == "done" {
				found = true
			}
		}
	})
	return found
}

var callType = reflect.TypeOf((*ast.CallExpression)(nil))

// walkAST visits every call expression under v (goja's AST has no walker).
func walkAST(v reflect.Value, visit func(*ast.CallExpression)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return
		}
		if v.Type() == callType {
			visit(v.Interface().(*ast.CallExpression))
		}
		walkAST(v.Elem(), visit)
	case reflect.Struct:
		if v.Type().PkgPath() != "github.com/dop251/goja/ast" {
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				walkAST(v.Field(i), visit)
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			walkAST(v.Index(i), visit)
		}
	}
}
