package network

import (
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
)

// Expected objects are qs 6.16's (Express 4's query parser in Node-RED 5).
func TestParseQSAsQs(t *testing.T) {
	for in, want := range map[string]string{
		"a=1&a=2":                `{"a":["1","2"]}`,
		"a[]=1&a[]=2":            `{"a":["1","2"]}`,
		"a[0]=x&a[2]=y":          `{"a":["x","y"]}`,
		"a[b][c]=1&a[b][d]=2":    `{"a":{"b":{"c":"1","d":"2"}}}`,
		"a=1&a[b]=2":             `{"a":["1",{"b":"2"}]}`,
		"a[b]=2&a=1":             `{"a":[{"b":"2"},"1"]}`,
		"x":                      `{"x":""}`,
		"=y":                     `{}`,
		"a[25]=z":                `{"a":{"25":"z"}}`,
		"a[]=1&a=2":              `{"a":["1","2"]}`,
		"b%5Bc%5D=1":             `{"b":{"c":"1"}}`,
		"a.b=1":                  `{"a.b":"1"}`,
		"a[b][c][d][e][f][g]=1":  `{"a":{"b":{"c":{"d":{"e":{"f":{"[g]":"1"}}}}}}}`,
		"+plus+=%2B&e=%E2%82%AC": `{" plus ":"+","e":"€"}`,
		"bad=%zz":                `{"bad":"%zz"}`,
		"user=alice&n=42&n2=":    `{"user":"alice","n":"42","n2":""}`,
	} {
		if got := string(msg.Marshal(parseQS(in, queryQS))); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

func TestStringifyQSAsNode(t *testing.T) {
	o := msg.ObjectOf("q", "x y", "n", []any{1.0, 2.0}, "t", true, "o", msg.ObjectOf("p", 1.0), "z", nil, "e", "é&=")
	// Node's querystring.stringify.
	if got, want := stringifyQS(o), "q=x%20y&n=1&n=2&t=true&o=&z=&e=%C3%A9%26%3D"; got != want {
		t.Errorf("%s, want %s", got, want)
	}
}

func TestCookieParsing(t *testing.T) {
	got := string(msg.Marshal(parseCookies(`a=1; b="quoted"; c=x%20y; a=2; j=j:{"k":[1]}; f=j:false; bad=%E0; noeq`)))
	want := `{"a":"1","b":"quoted","c":"x y","j":{"k":[1]},"f":"j:false","bad":"%E0"}`
	if got != want {
		t.Errorf("%s, want %s", got, want)
	}
	ex := string(msg.Marshal(extractCookies([]any{"sid=abc%20d; Path=/; HttpOnly", "other=1", "junk"})))
	if ex != `{"sid":{"Path":"/","value":"abc d"},"other":{"value":"1"}}` {
		t.Errorf("extractCookies: %s", ex)
	}
}
