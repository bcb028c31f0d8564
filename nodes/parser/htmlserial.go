package parser

import (
	"fmt"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Serialisation as cheerio does it for the html node: an element's inner
// HTML by the HTML5 fragment serialisation algorithm, and, for the html
// output, that text parsed again as a fragment and written as XML
// (cheerio's .xml()).

var voidElements = map[string]bool{
	"area": true, "base": true, "basefont": true, "bgsound": true, "br": true, "col": true, "embed": true,
	"frame": true, "hr": true, "img": true, "input": true, "keygen": true, "link": true, "meta": true,
	"param": true, "source": true, "track": true, "wbr": true,
}

var rawTextElements = map[string]bool{
	"style": true, "script": true, "xmp": true, "iframe": true, "noembed": true, "noframes": true, "plaintext": true, "noscript": true,
}

var (
	htmlTextEscaper = strings.NewReplacer("&", "&amp;", "\u00a0", "&nbsp;", "<", "&lt;", ">", "&gt;")
	htmlAttrEscaper = strings.NewReplacer("&", "&amp;", "\u00a0", "&nbsp;", `"`, "&quot;")
)

// innerHTML serialises an element's children.
func innerHTML(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		writeHTML(&b, c, n)
	}
	return b.String()
}

func writeHTML(b *strings.Builder, n, parent *html.Node) {
	switch n.Type {
	case html.ElementNode:
		b.WriteString("<" + n.Data)
		for _, a := range n.Attr {
			b.WriteString(" " + attrName(a) + `="` + htmlAttrEscaper.Replace(a.Val) + `"`)
		}
		b.WriteString(">")
		if n.Namespace == "" && voidElements[n.Data] {
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			writeHTML(b, c, n)
		}
		b.WriteString("</" + n.Data + ">")
	case html.TextNode:
		if parent != nil && parent.Type == html.ElementNode && parent.Namespace == "" && rawTextElements[parent.Data] {
			b.WriteString(n.Data)
		} else {
			b.WriteString(htmlTextEscaper.Replace(n.Data))
		}
	case html.CommentNode:
		b.WriteString("<!--" + n.Data + "-->")
	case html.DoctypeNode:
		b.WriteString("<!DOCTYPE " + n.Data + ">")
	}
}

// xmlOfFragment parses HTML as a fragment (in a template, as parse5 does
// without context) and writes it as XML.
func xmlOfFragment(s string) string {
	ctx := &html.Node{Type: html.ElementNode, Data: "template", DataAtom: atom.Template}
	nodes, err := html.ParseFragment(strings.NewReader(s), ctx)
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, n := range nodes {
		writeXMLNode(&b, n)
	}
	return b.String()
}

func writeXMLNode(b *strings.Builder, n *html.Node) {
	switch n.Type {
	case html.ElementNode:
		b.WriteString("<" + n.Data)
		for _, a := range n.Attr {
			b.WriteString(" " + attrName(a) + `="` + encodeXMLEntities(a.Val) + `"`)
		}
		if n.FirstChild == nil {
			b.WriteString("/>")
			return
		}
		b.WriteString(">")
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			writeXMLNode(b, c)
		}
		b.WriteString("</" + n.Data + ">")
	case html.TextNode:
		b.WriteString(encodeXMLEntities(n.Data))
	case html.CommentNode:
		b.WriteString("<!--" + n.Data + "-->")
	}
}

// encodeXMLEntities is the entities library's encodeXML: the five XML
// entities, and any non-ASCII character as a hexadecimal reference.
func encodeXMLEntities(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '\'':
			b.WriteString("&apos;")
		case r >= 0x80:
			fmt.Fprintf(&b, "&#x%X;", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
