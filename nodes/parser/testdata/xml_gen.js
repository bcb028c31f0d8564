// Records xml2js results for xml_test.go, with the options Node-RED's xml
// node uses:  node testdata/xml_gen.js testdata/xml2js.json
const xml2js = require(process.env.XML2JS || '/work/nr/node_modules/xml2js');
const fs = require('fs');
const build = [
  {a: {b: "text", c: 1, d: true}},
  {root: {$: {id: "1", q: 'say "hi" & <bye>\t\n'}, _: "body & <tags>", child: ["one", {x: "2"}, {$: {k: "v"}}]}},
  {a: 1, b: 2},
  {list: {item: [1, 2, 3], empty: [], nul: null, obj: {}, str: ""}},
  {a: {b: [{c: "x"}, {c: "y", d: "z"}]}},
  {a: "x\ry"},
  {a: {"_": "t", "child": "c"}},
  {a: [{b: 1}, {c: 2}]},
  {a: {b: {$: {}, _: ""}}},
  {a: "]]>"},
  {a: {"$": "notobj", b: 1}},
];
const builds = build.map(o => {
  const r = {in: o};
  try { r.out = new xml2js.Builder({renderOpts: {pretty: false}}).buildObject(JSON.parse(JSON.stringify(o))); } catch (e) { r.error = e.message; }
  try { r.pretty = new xml2js.Builder({renderOpts: {pretty: true}, headless: true}).buildObject(JSON.parse(JSON.stringify(o))); } catch (e) { r.prettyError = e.message; }
  try { r.cdata = new xml2js.Builder({renderOpts: {pretty: false}, cdata: true, rootName: "doc", headless: true}).buildObject(JSON.parse(JSON.stringify(o))); } catch (e) { r.cdataError = e.message; }
  return r;
});
const parses = [
  '<a>text</a>',
  '<a id="1" b=\'2\'>text</a>',
  '<root><item>1</item><item>2</item><other x="y"/></root>',
  '<?xml version="1.0"?>\n<!-- c -->\n<a>\n  <b>1</b>\n  <c/>\n  <d></d>\n  <e> </e>\n</a>\n',
  '<a>x<b>1</b>y</a>',
  '<a><![CDATA[<raw> & stuff]]></a>',
  '<a><![CDATA[  ]]></a>',
  '<a>&lt;&amp;&gt;&quot;&apos;&#65;&#x42;</a>',
  '<ns:a xmlns:ns="urn:x" ns:attr="v"><ns:b>1</ns:b></ns:a>',
  '<a attr="x &amp; y"/>',
  '<a><b><c>deep</c></b><b>2</b></a>',
  '',
  '   ',
  '<a>1</a><b>2</b>',
  'not xml',
  '<a><b></a>',
  '<a>&nbsp;</a>',
  '<a>',
  '<a b=1/>',
  '<a>\r\nline\r\n</a>',
  '\ufeff<a>bom</a>',
  '<a><_>x</_><_>y</_></a>',
  '<a><x>1</x> <x>2</x></a>',
  '<a>\n  <b>x & y</b>\n</a>',
  '<a>\n<b attr="1" attr2></b></a>',
  '<a><!-- bad -- comment --></a>',
  '<a><![CDATA[open',
  '<!DOCTYPE note [<!ELEMENT note (#PCDATA)>]>\n<note>hi</note>',
  '<a>caf\u00e9 \ud83d\ude00 <b>&bogus;</b></a>',
  '<a b="1"c="2"/>',
  '<a></ b>',
  '< a/>',
  '<a>&#x1F600;&#0;</a>',
  '<a b="x" b="y"/>',
  '<root>\r\n<item>1</item>\r\n</root>',
  '<a><b>1</b>text<b>2</b></a>',
  '<?xml version="1.0" encoding="ISO-8859-1"?><a/>',
  '<a>\n</a >',
  '<a/>trailing',
];
const results = parses.map(s => {
  const r = {in: s};
  let done = false;
  xml2js.parseString(s, {async: false, attrkey: '$', charkey: '_'}, (err, res) => {
    if (done) return; done = true;
    if (err) r.error = err.message; else r.out = res;
  });
  return r;
});
const opts = [
  ['<a x="1"><b>t</b></a>', {explicitArray: false}],
  ['<a x="1"><b>t</b></a>', {mergeAttrs: true}],
  ['<a x="1"><b> t  u </b></a>', {trim: true, normalize: true}],
  ['<A><B>t</B></A>', {normalizeTags: true, explicitRoot: false}],
  ['<a x="1"><b>t</b></a>', {ignoreAttrs: true, explicitCharkey: true}],
  ['<a x="1">t</a>', {attrkey: 'attr', charkey: 'text'}],
  ['<a><b/></a>', {emptyTag: 'EMPTY'}],
];
const withOpts = opts.map(([s, o]) => {
  const r = {in: s, options: o};
  xml2js.parseString(s, Object.assign({async: false}, o, {attrkey: o.attrkey || '$', charkey: o.charkey || '_'}), (err, res) => { if (err) r.error = err.message; else r.out = res; });
  return r;
});
fs.writeFileSync(process.argv[2], JSON.stringify({build: builds, parse: results, options: withOpts}, null, 1));
