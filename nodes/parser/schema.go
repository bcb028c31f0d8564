package parser

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dlclark/regexp2/v2"
	"github.com/sluicehq/sluice/runtime/msg"
)

// A JSON Schema validator that behaves as the json node's Ajv 8 does
// (draft-07 and draft-06, all errors, strict mode): the same schemas are
// refused, and failures produce Ajv's error objects in Ajv's order, since
// flows read msg.schemaError and compare the error text.

type schema struct {
	root any
	// patterns compiled at load, keyed by pattern text.
	res map[string]*regexp2.Regexp
}

// schemaErr is one Ajv error object.
type schemaErr struct {
	instancePath string
	schemaPath   string
	keyword      string
	params       *msg.Object
	message      string
	propertyName *string
}

type schemaErrs []schemaErr

func (es schemaErrs) text() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = "data" + e.instancePath + " " + e.message
	}
	return strings.Join(parts, ", ")
}

func (es schemaErrs) objects() []any {
	out := make([]any, len(es))
	for i, e := range es {
		o := msg.ObjectOf("instancePath", e.instancePath, "schemaPath", e.schemaPath,
			"keyword", e.keyword, "params", e.params, "message", e.message)
		if e.propertyName != nil {
			o.Set("propertyName", *e.propertyName)
		}
		out[i] = o
	}
	return out
}

// Keywords Ajv's draft-07 vocabularies know; strict mode refuses others.
var knownKeywords = map[string]bool{
	"$id": true, "$schema": true, "$ref": true, "$comment": true, "definitions": true, "$defs": true,
	"title": true, "description": true, "default": true, "deprecated": true, "readOnly": true,
	"writeOnly": true, "examples": true, "contentMediaType": true, "contentEncoding": true,
	"type": true, "nullable": true, "enum": true, "const": true,
	"maximum": true, "minimum": true, "exclusiveMaximum": true, "exclusiveMinimum": true, "multipleOf": true,
	"maxLength": true, "minLength": true, "pattern": true, "format": true,
	"maxItems": true, "minItems": true, "uniqueItems": true, "items": true, "additionalItems": true, "contains": true,
	"maxProperties": true, "minProperties": true, "required": true, "properties": true,
	"patternProperties": true, "additionalProperties": true, "dependencies": true, "propertyNames": true,
	"not": true, "anyOf": true, "oneOf": true, "allOf": true, "if": true, "then": true, "else": true,
}

var jsonTypes = map[string]bool{"string": true, "number": true, "integer": true, "boolean": true, "null": true, "object": true, "array": true}

// compileSchema checks s as Ajv compiles it.
func compileSchema(s any) (*schema, error) {
	sc := &schema{root: s, res: map[string]*regexp2.Regexp{}}
	if o, ok := s.(*msg.Object); ok {
		if v, ok := o.Get("$schema"); ok {
			switch msg.ToString(v) {
			case "http://json-schema.org/draft-07/schema#", "http://json-schema.org/draft-07/schema",
				"http://json-schema.org/draft-06/schema#", "http://json-schema.org/draft-06/schema":
			default:
				return nil, fmt.Errorf("no schema with key or ref %q", msg.ToString(v))
			}
		}
	}
	if err := sc.check(s, "#"); err != nil {
		return nil, err
	}
	return sc, nil
}

func (sc *schema) check(s any, at string) error {
	switch t := s.(type) {
	case bool:
		return nil
	case *msg.Object:
		for _, k := range t.Keys() {
			if !knownKeywords[k] {
				return fmt.Errorf("strict mode: unknown keyword: %q", k)
			}
		}
		if err := sc.checkKeywords(t, at); err != nil {
			return err
		}
		return nil
	}
	return fmt.Errorf("schema at %s must be an object or boolean", at)
}

func (sc *schema) checkKeywords(o *msg.Object, at string) error {
	sub := func(k string, v any) error { return sc.check(v, at+"/"+k) }
	for i := 0; i < o.Len(); i++ {
		k, v := o.At(i)
		switch k {
		case "type":
			types, ok := typeList(v)
			if !ok {
				return errors.New("schema is invalid: data/type must be equal to one of the allowed values")
			}
			_ = types
		case "format":
			return fmt.Errorf("unknown format %q ignored in schema at path %q", msg.ToString(v), at)
		case "pattern":
			s, ok := v.(string)
			if !ok {
				return errors.New("schema is invalid: pattern must be string")
			}
			if _, err := sc.regex(s); err != nil {
				return err
			}
		case "maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum", "multipleOf":
			if _, ok := v.(float64); !ok {
				return fmt.Errorf("schema is invalid: data/%s must be number", k)
			}
		case "maxLength", "minLength", "maxItems", "minItems", "maxProperties", "minProperties":
			f, ok := v.(float64)
			if !ok || f < 0 || f != math.Trunc(f) {
				return fmt.Errorf("schema is invalid: data/%s must be integer", k)
			}
		case "required":
			arr, ok := v.([]any)
			if !ok {
				return errors.New("schema is invalid: data/required must be array")
			}
			for _, e := range arr {
				if _, ok := e.(string); !ok {
					return errors.New("schema is invalid: data/required must be array of strings")
				}
			}
		case "enum":
			if _, ok := v.([]any); !ok {
				return errors.New("schema is invalid: data/enum must be array")
			}
		case "uniqueItems":
			if _, ok := v.(bool); !ok {
				return errors.New("schema is invalid: data/uniqueItems must be boolean")
			}
		case "properties", "patternProperties", "definitions", "$defs", "dependencies":
			m, ok := v.(*msg.Object)
			if !ok {
				return fmt.Errorf("schema is invalid: data/%s must be object", k)
			}
			for j := 0; j < m.Len(); j++ {
				name, s := m.At(j)
				if k == "patternProperties" {
					if _, err := sc.regex(name); err != nil {
						return err
					}
				}
				if k == "dependencies" {
					if _, isArr := s.([]any); isArr {
						continue
					}
				}
				if err := sub(k+"/"+escapeFragment(name), s); err != nil {
					return err
				}
			}
		case "items":
			if arr, ok := v.([]any); ok {
				for j, s := range arr {
					if err := sub(k+"/"+strconv.Itoa(j), s); err != nil {
						return err
					}
				}
			} else if err := sub(k, v); err != nil {
				return err
			}
		case "allOf", "anyOf", "oneOf":
			arr, ok := v.([]any)
			if !ok || len(arr) == 0 {
				return fmt.Errorf("schema is invalid: data/%s must NOT have fewer than 1 items", k)
			}
			for j, s := range arr {
				if err := sub(k+"/"+strconv.Itoa(j), s); err != nil {
					return err
				}
			}
		case "additionalItems", "additionalProperties", "contains", "propertyNames", "not", "if", "then", "else":
			if err := sub(k, v); err != nil {
				return err
			}
		case "$ref":
			ref, ok := v.(string)
			if !ok {
				return errors.New("schema is invalid: data/$ref must be string")
			}
			if _, _, err := sc.resolve(ref); err != nil {
				return err
			}
		}
	}
	return nil
}

func typeList(v any) ([]string, bool) {
	switch t := v.(type) {
	case string:
		return []string{t}, jsonTypes[t]
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok || !jsonTypes[s] {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

func (sc *schema) regex(p string) (*regexp2.Regexp, error) {
	if re, ok := sc.res[p]; ok {
		return re, nil
	}
	re, err := regexp2.Compile(p, regexp2.ECMAScript|regexp2.Unicode)
	if err != nil {
		return nil, fmt.Errorf("Invalid regular expression: /%s/u: %v", p, err)
	}
	sc.res[p] = re
	return re, nil
}

// resolve follows a local JSON pointer reference ("#", "#/definitions/x").
func (sc *schema) resolve(ref string) (any, string, error) {
	if !strings.HasPrefix(ref, "#") {
		return nil, "", fmt.Errorf("can't resolve reference %s", ref)
	}
	frag, err := url.PathUnescape(ref[1:])
	if err != nil {
		return nil, "", fmt.Errorf("can't resolve reference %s", ref)
	}
	cur := sc.root
	if frag == "" {
		return cur, "#", nil
	}
	if !strings.HasPrefix(frag, "/") {
		return nil, "", fmt.Errorf("can't resolve reference %s", ref)
	}
	for _, tok := range strings.Split(frag[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch t := cur.(type) {
		case *msg.Object:
			v, ok := t.Get(tok)
			if !ok {
				return nil, "", fmt.Errorf("can't resolve reference %s", ref)
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(t) {
				return nil, "", fmt.Errorf("can't resolve reference %s", ref)
			}
			cur = t[i]
		default:
			return nil, "", fmt.Errorf("can't resolve reference %s", ref)
		}
	}
	return cur, ref, nil
}

// validate returns nil when v is valid.
func (sc *schema) validate(v any) schemaErrs {
	var errs schemaErrs
	sc.validateAt(sc.root, v, "", "#", &errs, 0)
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// escapeFragment is how Ajv writes a property name into a schema path.
func escapeFragment(s string) string {
	s = escapePointer(s)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func jsonType(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if t == math.Trunc(t) && !math.IsInf(t, 0) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case *msg.Object:
		return "object"
	}
	// undefined, Buffers and opaque values match no JSON type here.
	return ""
}

func hasType(v any, t string) bool {
	jt := jsonType(v)
	switch t {
	case "number":
		return jt == "number" || jt == "integer"
	case "integer":
		return jt == "integer"
	}
	return jt == t
}

func groupOf(k string) string {
	switch k {
	case "maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum", "multipleOf":
		return "number"
	case "maxLength", "minLength", "pattern":
		return "string"
	case "maxItems", "minItems", "additionalItems", "items", "contains", "uniqueItems":
		return "array"
	case "maxProperties", "minProperties", "required", "propertyNames", "additionalProperties",
		"dependencies", "properties", "patternProperties":
		return "object"
	}
	return ""
}

// Ajv's evaluation order within each group.
var (
	generalOrder = []string{"$ref", "const", "enum", "not", "anyOf", "oneOf", "allOf", "if"}
	groupOrder   = []struct {
		typ      string
		keywords []string
	}{
		{"number", []string{"maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum", "multipleOf"}},
		{"string", []string{"maxLength", "minLength", "pattern"}},
		{"array", []string{"maxItems", "minItems", "additionalItems", "items", "contains", "uniqueItems"}},
		{"object", []string{"maxProperties", "minProperties", "required", "propertyNames",
			"additionalProperties", "dependencies", "properties", "patternProperties"}},
	}
)

const maxSchemaDepth = 1000

func (sc *schema) validateAt(s, v any, ip, sp string, errs *schemaErrs, depth int) bool {
	add := func(kw, path string, params *msg.Object, message string) {
		*errs = append(*errs, schemaErr{instancePath: ip, schemaPath: path, keyword: kw, params: params, message: message})
	}
	switch t := s.(type) {
	case bool:
		if !t {
			add("false schema", sp+"/false schema", msg.NewObject(0), "boolean schema is false")
		}
		return t
	case *msg.Object:
		if depth > maxSchemaDepth {
			add("$ref", sp, msg.NewObject(0), "schema recursion too deep")
			return false
		}
		start := len(*errs)
		o := t
		types, hasTypes := []string(nil), o.Has("type")
		if hasTypes {
			types, _ = typeList(o.Value("type"))
		}
		typeOK := !hasTypes || slices.ContainsFunc(types, func(ty string) bool { return hasType(v, ty) })
		typeErr := func() {
			var p any = o.Value("type")
			add("type", sp+"/type", msg.ObjectOf("type", p), "must be "+strings.Join(types, ","))
		}
		// With one type whose group has keywords here, Ajv reports a type
		// mismatch where that group runs; otherwise before everything.
		inGroup := ""
		if len(types) == 1 && types[0] != "integer" {
			for _, g := range groupOrder {
				if g.typ == types[0] && slices.ContainsFunc(g.keywords, o.Has) {
					inGroup = g.typ
				}
			}
		}
		if !typeOK && inGroup == "" {
			typeErr()
		}
		for _, k := range generalOrder {
			if o.Has(k) {
				sc.keyword(o, k, v, ip, sp, errs, depth)
			}
		}
		for _, g := range groupOrder {
			if hasType(v, g.typ) {
				for _, k := range g.keywords {
					if o.Has(k) {
						sc.keyword(o, k, v, ip, sp, errs, depth)
					}
				}
			} else if g.typ == inGroup && !typeOK {
				typeErr()
			}
		}
		return len(*errs) == start
	}
	return true
}

func limitMsg(k string, n float64, unit string) string {
	if strings.HasPrefix(k, "max") {
		return fmt.Sprintf("must NOT have more than %s %s", msg.FormatNumber(n), unit)
	}
	return fmt.Sprintf("must NOT have fewer than %s %s", msg.FormatNumber(n), unit)
}

func (sc *schema) keyword(o *msg.Object, k string, v any, ip, sp string, errs *schemaErrs, depth int) {
	sv := o.Value(k)
	kp := sp + "/" + k
	add := func(path string, params *msg.Object, message string) {
		*errs = append(*errs, schemaErr{instancePath: ip, schemaPath: path, keyword: k, params: params, message: message})
	}
	// sub validates against a subschema; quiet discards its errors.
	sub := func(s, val any, ip2, sp2 string, quiet bool) bool {
		if quiet {
			var scratch schemaErrs
			return sc.validateAt(s, val, ip2, sp2, &scratch, depth+1)
		}
		return sc.validateAt(s, val, ip2, sp2, errs, depth+1)
	}
	num, _ := sv.(float64)
	switch k {
	case "$ref":
		target, path, err := sc.resolve(msg.ToString(sv))
		if err == nil {
			sub(target, v, ip, path, false)
		}
	case "const":
		if !msg.Equal(v, sv) {
			add(kp, msg.ObjectOf("allowedValue", sv), "must be equal to constant")
		}
	case "enum":
		arr, _ := sv.([]any)
		if !slices.ContainsFunc(arr, func(e any) bool { return msg.Equal(v, e) }) {
			add(kp, msg.ObjectOf("allowedValues", sv), "must be equal to one of the allowed values")
		}
	case "not":
		if sub(sv, v, ip, kp, true) {
			add(kp, msg.NewObject(0), "must NOT be valid")
		}
	case "anyOf":
		start := len(*errs)
		arr, _ := sv.([]any)
		for i, s := range arr {
			if sub(s, v, ip, kp+"/"+strconv.Itoa(i), false) {
				*errs = (*errs)[:start]
				return
			}
		}
		add(kp, msg.NewObject(0), "must match a schema in anyOf")
	case "oneOf":
		start := len(*errs)
		arr, _ := sv.([]any)
		valid := false
		var passing any
		for i, s := range arr {
			ok := sub(s, v, ip, kp+"/"+strconv.Itoa(i), false)
			// Ajv's generated code, step for step.
			if valid && ok {
				valid = false
				passing = []any{passing, float64(i)}
			} else if ok {
				valid = true
				passing = float64(i)
			}
		}
		if valid {
			*errs = (*errs)[:start]
			return
		}
		add(kp, msg.ObjectOf("passingSchemas", passing), "must match exactly one schema in oneOf")
	case "allOf":
		arr, _ := sv.([]any)
		for i, s := range arr {
			sub(s, v, ip, kp+"/"+strconv.Itoa(i), false)
		}
	case "if":
		then, hasThen := o.Get("then")
		els, hasElse := o.Get("else")
		if !hasThen && !hasElse {
			return
		}
		if sub(sv, v, ip, kp, true) {
			if hasThen && !sub(then, v, ip, sp+"/then", false) {
				add(kp, msg.ObjectOf("failingKeyword", "then"), `must match "then" schema`)
			}
		} else if hasElse && !sub(els, v, ip, sp+"/else", false) {
			add(kp, msg.ObjectOf("failingKeyword", "else"), `must match "else" schema`)
		}
	case "maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum":
		f := v.(float64)
		var ok bool
		var cmp string
		switch k {
		case "maximum":
			ok, cmp = f <= num, "<="
		case "minimum":
			ok, cmp = f >= num, ">="
		case "exclusiveMaximum":
			ok, cmp = f < num, "<"
		default:
			ok, cmp = f > num, ">"
		}
		if !ok {
			add(kp, msg.ObjectOf("comparison", cmp, "limit", num), "must be "+cmp+" "+msg.FormatNumber(num))
		}
	case "multipleOf":
		r := v.(float64) / num
		if r != math.Trunc(r) || math.IsInf(r, 0) {
			add(kp, msg.ObjectOf("multipleOf", num), "must be multiple of "+msg.FormatNumber(num))
		}
	case "maxLength", "minLength":
		n := float64(utf8.RuneCountInString(v.(string)))
		if (k == "maxLength" && n > num) || (k == "minLength" && n < num) {
			add(kp, msg.ObjectOf("limit", num), limitMsg(k, num, "characters"))
		}
	case "pattern":
		re, err := sc.regex(msg.ToString(sv))
		if err != nil {
			return
		}
		if ok, _ := re.MatchString(v.(string)); !ok {
			add(kp, msg.ObjectOf("pattern", sv), `must match pattern "`+msg.ToString(sv)+`"`)
		}
	case "maxItems", "minItems":
		n := float64(len(v.([]any)))
		if (k == "maxItems" && n > num) || (k == "minItems" && n < num) {
			add(kp, msg.ObjectOf("limit", num), limitMsg(k, num, "items"))
		}
	case "items":
		arr := v.([]any)
		if tuple, ok := sv.([]any); ok {
			for i := 0; i < len(tuple) && i < len(arr); i++ {
				sub(tuple[i], arr[i], ip+"/"+strconv.Itoa(i), kp+"/"+strconv.Itoa(i), false)
			}
			return
		}
		for i, e := range arr {
			sub(sv, e, ip+"/"+strconv.Itoa(i), kp, false)
		}
	case "additionalItems":
		tuple, ok := o.Value("items").([]any)
		if !ok {
			return
		}
		arr := v.([]any)
		if b, isBool := sv.(bool); isBool {
			if !b && len(arr) > len(tuple) {
				n := float64(len(tuple))
				add(kp, msg.ObjectOf("limit", n), limitMsg("maxItems", n, "items"))
			}
			return
		}
		for i := len(tuple); i < len(arr); i++ {
			sub(sv, arr[i], ip+"/"+strconv.Itoa(i), kp, false)
		}
	case "contains":
		start := len(*errs)
		for i, e := range v.([]any) {
			if sub(sv, e, ip+"/"+strconv.Itoa(i), kp, false) {
				*errs = (*errs)[:start]
				return
			}
		}
		add(kp, msg.ObjectOf("minContains", 1.0), "must contain at least 1 valid item(s)")
	case "uniqueItems":
		if sv != true {
			return
		}
		if i, j, dup := duplicate(v.([]any), o.Value("items")); dup {
			add(kp, msg.ObjectOf("i", float64(i), "j", float64(j)),
				fmt.Sprintf("must NOT have duplicate items (items ## %d and %d are identical)", j, i))
		}
	case "maxProperties", "minProperties":
		n := float64(v.(*msg.Object).Len())
		if (k == "maxProperties" && n > num) || (k == "minProperties" && n < num) {
			add(kp, msg.ObjectOf("limit", num), limitMsg(k, num, "properties"))
		}
	case "required":
		obj := v.(*msg.Object)
		for _, e := range sv.([]any) {
			name := e.(string)
			if !hasProp(obj, name) {
				add(kp, msg.ObjectOf("missingProperty", name), "must have required property '"+name+"'")
			}
		}
	case "propertyNames":
		for _, key := range v.(*msg.Object).Keys() {
			start := len(*errs)
			if !sub(sv, key, ip, kp, false) {
				for i := start; i < len(*errs); i++ {
					name := key
					(*errs)[i].propertyName = &name
				}
				add(kp, msg.ObjectOf("propertyName", key), "property name must be valid")
			}
		}
	case "additionalProperties":
		obj := v.(*msg.Object)
		props, _ := o.Value("properties").(*msg.Object)
		pats, _ := o.Value("patternProperties").(*msg.Object)
		for i := 0; i < obj.Len(); i++ {
			key, val := obj.At(i)
			if props.Has(key) || sc.matchesAny(pats, key) {
				continue
			}
			if b, isBool := sv.(bool); isBool {
				if !b {
					add(kp, msg.ObjectOf("additionalProperty", key), "must NOT have additional properties")
				}
				continue
			}
			sub(sv, val, ip+"/"+escapePointer(key), kp, false)
		}
	case "dependencies":
		obj := v.(*msg.Object)
		deps := sv.(*msg.Object)
		for i := 0; i < deps.Len(); i++ {
			prop, d := deps.At(i)
			if !hasProp(obj, prop) {
				continue
			}
			list, isList := d.([]any)
			if !isList {
				sub(d, v, ip, kp+"/"+escapeFragment(prop), false)
				continue
			}
			names := make([]string, len(list))
			for j, e := range list {
				names[j] = msg.ToString(e)
			}
			word := "property"
			if len(names) != 1 {
				word = "properties"
			}
			joined := strings.Join(names, ", ")
			for _, missing := range names {
				if !hasProp(obj, missing) {
					add(kp, msg.ObjectOf("property", prop, "missingProperty", missing,
						"depsCount", float64(len(names)), "deps", joined),
						fmt.Sprintf("must have %s %s when property %s is present", word, joined, prop))
				}
			}
		}
	case "properties":
		obj := v.(*msg.Object)
		props := sv.(*msg.Object)
		for i := 0; i < props.Len(); i++ {
			name, s := props.At(i)
			if val, ok := obj.Get(name); ok && !msg.IsUndefined(val) {
				sub(s, val, ip+"/"+escapePointer(name), kp+"/"+escapeFragment(name), false)
			}
		}
	case "patternProperties":
		obj := v.(*msg.Object)
		pats := sv.(*msg.Object)
		for i := 0; i < pats.Len(); i++ {
			pat, s := pats.At(i)
			re, err := sc.regex(pat)
			if err != nil {
				continue
			}
			for j := 0; j < obj.Len(); j++ {
				key, val := obj.At(j)
				if ok, _ := re.MatchString(key); ok {
					sub(s, val, ip+"/"+escapePointer(key), kp+"/"+escapeFragment(pat), false)
				}
			}
		}
	}
}

func hasProp(o *msg.Object, k string) bool {
	v, ok := o.Get(k)
	return ok && !msg.IsUndefined(v)
}

func (sc *schema) matchesAny(pats *msg.Object, key string) bool {
	for i := 0; i < pats.Len(); i++ {
		pat, _ := pats.At(i)
		if re, err := sc.regex(pat); err == nil {
			if ok, _ := re.MatchString(key); ok {
				return true
			}
		}
	}
	return false
}

// duplicate finds the pair Ajv reports: scanning from the end, by value for
// scalar item types, else by deep equality.
func duplicate(arr []any, items any) (i, j int, dup bool) {
	var types []string
	if o, ok := items.(*msg.Object); ok {
		types, _ = typeList(o.Value("type"))
	}
	scalar := len(types) > 0 && !slices.ContainsFunc(types, func(t string) bool { return t == "object" || t == "array" })
	if scalar {
		seen := map[string]int{}
		for i := len(arr) - 1; i >= 0; i-- {
			item := arr[i]
			if !slices.ContainsFunc(types, func(t string) bool { return hasType(item, t) }) {
				continue
			}
			key := msg.ToString(item)
			if s, isStr := item.(string); isStr && len(types) > 1 {
				key = s + "_"
			}
			if j, ok := seen[key]; ok {
				return i, j, true
			}
			seen[key] = i
		}
		return 0, 0, false
	}
	for i := len(arr) - 1; i > 0; i-- {
		for j := i - 1; j >= 0; j-- {
			if msg.Equal(arr[i], arr[j]) {
				return i, j, true
			}
		}
	}
	return 0, 0, false
}
