package parser

import (
	"regexp"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// xml2js's reading of sax events into objects, with its version 0.2
// defaults (what Node-RED gets).

type xmlParseOptions struct {
	attrKey, charKey string
	explicitArray    bool
	explicitRoot     bool
	explicitCharkey  bool
	mergeAttrs       bool
	ignoreAttrs      bool
	trim, normalize  bool
	normalizeTags    bool
	emptyTag         any // "" means: the element's own (blank) text
}

func newXMLParseOptions(o *msg.Object) xmlParseOptions {
	flag := func(k string, def bool) bool {
		if v, ok := o.Get(k); ok {
			return msg.Truthy(v)
		}
		return def
	}
	p := xmlParseOptions{
		attrKey:         msg.ToString(o.Value("attrkey")),
		charKey:         msg.ToString(o.Value("charkey")),
		explicitArray:   flag("explicitArray", true),
		explicitRoot:    flag("explicitRoot", true),
		explicitCharkey: flag("explicitCharkey", false),
		mergeAttrs:      flag("mergeAttrs", false),
		ignoreAttrs:     flag("ignoreAttrs", false),
		trim:            flag("trim", false),
		normalize:       flag("normalize", false),
		normalizeTags:   flag("normalizeTags", false),
		emptyTag:        "",
	}
	if v, ok := o.Get("emptyTag"); ok {
		p.emptyTag = v
	}
	return p
}

type xmlElem struct {
	obj   *msg.Object
	name  string
	cdata bool
}

type xml2js struct {
	opts   xmlParseOptions
	stack  []*xmlElem
	result any
}

func xmlToObject(s string, opts xmlParseOptions) (any, error) {
	if jsTrim(s) == "" {
		return nil, nil
	}
	s = strings.TrimPrefix(s, "\uFEFF")
	x := &xml2js{opts: opts}
	if err := saxParse(s, x); err != nil {
		return nil, err
	}
	return x.result, nil
}

func (x *xml2js) open(name string, attrs []xmlAttr) error {
	obj := msg.NewObject(4)
	obj.Set(x.opts.charKey, "")
	if !x.opts.ignoreAttrs {
		for _, a := range attrs {
			if x.opts.mergeAttrs {
				x.assignOrPush(obj, a.name, a.value)
				continue
			}
			ao, ok := obj.Value(x.opts.attrKey).(*msg.Object)
			if !ok {
				ao = msg.NewObject(len(attrs))
				obj.Set(x.opts.attrKey, ao)
			}
			ao.Set(a.name, a.value)
		}
	}
	if x.opts.normalizeTags {
		name = strings.ToLower(name)
	}
	x.stack = append(x.stack, &xmlElem{obj: obj, name: name})
	return nil
}

func (x *xml2js) text(s string, cdata bool) error {
	if len(x.stack) == 0 {
		return nil
	}
	top := x.stack[len(x.stack)-1]
	cur := top.obj.Value(x.opts.charKey)
	if str, ok := cur.(string); ok {
		top.obj.Set(x.opts.charKey, str+s)
	} else {
		top.obj.Set(x.opts.charKey, jsConcat(cur, s))
	}
	if cdata {
		top.cdata = true
	}
	return nil
}

// jsConcat is value + string in JavaScript.
func jsConcat(v any, s string) string {
	if v == nil {
		return "null" + s
	}
	if msg.IsUndefined(v) {
		return "undefined" + s
	}
	return msg.ToString(v) + s
}

var multiSpace = regexp.MustCompile(`\s{2,}`)

func (x *xml2js) close(string) (bool, error) {
	top := x.stack[len(x.stack)-1]
	x.stack = x.stack[:len(x.stack)-1]
	var obj any = top.obj
	o := top.obj
	ck := x.opts.charKey
	text, isStr := o.Value(ck).(string)
	if !isStr {
		// A child element named like the text key replaced the text.
		return false, &node.JSError{Name: "TypeError", Message: "obj[charkey].match is not a function"}
	}
	var emptyStr any = msg.Undefined{}
	if jsWhitespaceOnly(text) && !top.cdata {
		emptyStr = text
		o.Delete(ck)
	} else {
		if x.opts.trim {
			text = jsTrim(text)
		}
		if x.opts.normalize {
			text = jsTrim(multiSpace.ReplaceAllString(text, " "))
		}
		o.Set(ck, text)
		if o.Len() == 1 && !x.opts.explicitCharkey {
			obj = text
		}
	}
	if oo, ok := obj.(*msg.Object); ok && oo.Len() == 0 {
		if s, ok := x.opts.emptyTag.(string); ok && s == "" {
			obj = emptyStr
		} else {
			obj = msg.Clone(x.opts.emptyTag)
		}
	}
	if len(x.stack) > 0 {
		x.assignOrPush(x.stack[len(x.stack)-1].obj, top.name, obj)
		return false, nil
	}
	if x.opts.explicitRoot {
		obj = msg.ObjectOf(top.name, obj)
	}
	x.result = obj
	return true, nil
}

func (x *xml2js) assignOrPush(o *msg.Object, key string, v any) {
	cur, ok := o.Get(key)
	if !ok {
		if x.opts.explicitArray {
			o.Set(key, []any{v})
		} else {
			o.Set(key, v)
		}
		return
	}
	arr, isArr := cur.([]any)
	if !isArr {
		arr = []any{cur}
	}
	o.Set(key, append(arr, v))
}
