// Records what Node-RED's html node (cheerio) returns for html_test.go:
//   node testdata/html_gen.js testdata/cheerio.json
const cheerio = require(process.env.CHEERIO || '/work/nr/node_modules/cheerio');
const fs = require('fs');
// The node's own extraction, per element, as 70-HTML.js does it.
function extract(value, tag, ret, chr) {
  const $ = cheerio.load(value);
  const out = [];
  $(tag).each(function() {
    if (ret === "html") out.push(cheerio.load($(this).html().trim(), null, false).xml());
    if (ret === "text") out.push($(this).text());
    if (ret === "attr") out.push(Object.assign({}, this.attribs));
    if (ret === "compl") { const b = {}; b[chr] = $(this).html().trim(); out.push(Object.assign(b, this.attribs)); }
  });
  return out;
}
const doc = `<!DOCTYPE html>
<html><head><title>T &amp; t</title><style>p > a { color: red }</style></head>
<body>
  <div id="main" class="box big" data-x='1 "q"'>
    <p>Hello <b>world</b> &amp; <i>café</i> &lt;ok&gt; &nbsp;x</p>
    <p class="second">Line<br>break <img src="a.png" alt=""> <input disabled value="v"></p>
    <ul><li>one</li><li class="x">two</li><li>three <!-- c --> end</li></ul>
    <table><tr><td>1</td><td>2</td></tr></table>
    <script>if (a < b && c > d) { x = "y"; }</script>
    <svg viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"/></svg>
    <a href="/x?a=1&amp;b=2" title="it's">link</a>
  </div>
  <p>  padded  </p>
</body></html>`;
const cases = [];
const selectors = ["p", "#main", "li", "li.x", "ul > li:first-child", "td", "a", "title", "img", "input", "svg", "script", "style", "div p b", "li:contains(two)", "nothing", "br", "p.second", "body > p", "[data-x]", "table"];
for (const sel of selectors) {
  for (const ret of ["html", "text", "attr", "compl"]) {
    cases.push({doc: "main", tag: sel, ret, out: extract(doc, sel, ret, "_")});
  }
}
const frags = [
  ["<p title=\"it's\">it's \"q\"</p>", "p"],
  ["<ul><li>1</li><li>2</li><li>3</li><li>4</li></ul>", "li:first"],
  ["<ul><li>1</li><li>2</li><li>3</li><li>4</li></ul>", "li:eq(2)"],
  ["<ul><li>1</li><li>2</li><li>3</li><li>4</li></ul>", "li:odd"],
  ["<ul><li>1</li><li>2</li><li>3</li><li>4</li></ul>", "li:gt(-3)"],
  ["<svg><a xlink:href='#x'>l</a><foreignObject><p>f</p></foreignObject></svg>", "svg"],
  ["<div><script>var s = '<b>not bold</b>';</script></div>", "div"],
  ["<p>a</p><p>b</p>", "p"],
  ["plain text only", "body"],
  ["<div><p>unclosed<div>next</div>", "div"],
  ["<P CLASS=Up>Upper</P>", "p"],
  ["<span title=\"&quot;q&quot; &lt;\">s</span>", "span"],
  ["<p>é ü 😀 &#169; &copy;</p>", "p"],
  ["<p>a\n  b\n</p>", "p"],
  ["<div>  <em>x</em>  </div>", "div"],
  ["<p>tab\there</p>", "p"],
  ["<p>x</p>", ""],
];
for (const [h, sel] of frags) {
  for (const ret of ["html", "text", "attr"]) {
    cases.push({doc: h, tag: sel, ret, out: extract(h, sel, ret, "_")});
  }
}
fs.writeFileSync(process.argv[2], JSON.stringify({main: doc, cases}, null, 1));
