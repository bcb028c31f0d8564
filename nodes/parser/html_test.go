package parser

import (
	"os"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
)

// Cheerio's results for the node's extraction (testdata/html_gen.js).
func TestHTMLMatchesCheerio(t *testing.T) {
	raw, err := os.ReadFile("testdata/cheerio.json")
	if err != nil {
		t.Fatal(err)
	}
	v, err := msg.Unmarshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	rec := v.(*msg.Object)
	main := rec.Value("main").(string)
	for _, cv := range rec.Value("cases").([]any) {
		c := cv.(*msg.Object)
		doc := c.Value("doc").(string)
		if doc == "main" {
			doc = main
		}
		tag, ret := c.Value("tag").(string), c.Value("ret").(string)
		n := buildNode(t, "html", `{"ret":"`+ret+`"}`)
		in := msg.New()
		in.Delete("_msgid")
		in.Set("payload", doc)
		in.Set("select", tag)
		ctx := newCtx()
		if err := n.Input(ctx, in); err != nil {
			t.Errorf("%s %s: %v", tag, ret, err)
			continue
		}
		want := string(msg.Marshal(c.Value("out")))
		got := string(msg.Marshal(ctx.Calls()[0][0].Value("payload")))
		if got != want {
			t.Errorf("%q %s on %.40q\n got  %s\n want %s", tag, ret, doc, got, want)
		}
	}
}

func TestHTMLMulti(t *testing.T) {
	n := buildNode(t, "html", `{"tag":"li","as":"multi","ret":"html","outproperty":"item"}`)
	c := newCtx()
	in := message(`{"payload":"<ul><li>a</li><li></li><li>c</li></ul>","_msgid":"m1"}`)
	if err := n.Input(c, in); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range c.Calls() {
		got = append(got, string(msg.Marshal(s[0].Object)))
	}
	// The empty element sends nothing but still counts.
	want := []string{
		`{"payload":"<ul><li>a</li><li></li><li>c</li></ul>","_msgid":"m1","item":"a","parts":{"id":"m1","index":0,"count":3,"type":"string","ch":""}}`,
		`{"payload":"<ul><li>a</li><li></li><li>c</li></ul>","_msgid":"m1","item":"c","parts":{"id":"m1","index":2,"count":3,"type":"string","ch":""}}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s", strings.Join(got, "\n"))
	}
	if err := n.Input(c, message(`{"payload":"<p>x</p>","select":"p:nth-child("}`)); err != nil {
		t.Fatal("a selector from msg.select is the node's own; n.tag wins")
	}
	bad := buildNode(t, "html", `{}`)
	if err := bad.Input(c, message(`{"payload":"<p>x</p>","select":"p:nth-child("}`)); err == nil {
		t.Fatal("an invalid selector must be an error")
	}
}
