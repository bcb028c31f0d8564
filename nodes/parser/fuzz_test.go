package parser

import (
	"testing"

	"github.com/sluicehq/sluice/runtime/jsyaml"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// Malformed input must give an error or a value, never a panic.

func FuzzCSV(f *testing.F) {
	for _, s := range []string{"a,b\n1,2", "\"a\"\"b\",c\r\n", "x\"y,\"z", ",,\n\n", "\"open"} {
		f.Add(s)
	}
	rfc := buildNode(f, "csv", `{"spec":"rfc","hdrin":true,"multi":"mult","skip":"1"}`)
	legacy := buildNode(f, "csv", `{"hdrin":true,"multi":"one","include_null_values":true}`)
	f.Fuzz(func(t *testing.T, s string) {
		for _, n := range []node.Inputter{rfc, legacy} {
			m := msg.New()
			m.Set("payload", s)
			_ = n.Input(newCtx(), m)
		}
		_, _ = csvParse(s, csvOptions{sep: ",", quote: `"`, strict: true, hasHeaderRow: true})
	})
}

func FuzzXML(f *testing.F) {
	for _, s := range []string{"<a x='1'>t<b/></a>", "<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>", "<a><![CDATA[x]]></a>", "<a>&#x1F600;</a>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o := msg.ObjectOf("attrkey", "$", "charkey", "_")
		_, _ = xmlToObject(s, newXMLParseOptions(o))
	})
}

func FuzzYAML(f *testing.F) {
	for _, s := range []string{"a: 1\nb: [1, {c: d}]", "- &x 1\n- *x", "<<: {a: 1}", "? [1]\n: 2", "!!binary aGk="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := jsyaml.Load(s)
		if err == nil {
			_, _ = yamlDump(v)
		}
	})
}
