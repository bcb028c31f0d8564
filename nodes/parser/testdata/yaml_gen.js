// Records js-yaml 4 dump and load results for yaml_test.go:
//   node testdata/yaml_gen.js testdata/yaml_jsyaml.json
const yaml = require(process.env.JS_YAML || '/work/nr/node_modules/js-yaml');
const long = "lorem ipsum dolor sit amet ".repeat(6);
const values = [
  {a: 1, b: "two", c: [1, 2, {d: null}], e: {}, f: [], g: true},
  ["x", "y", ["z", []], {k: "v", l: [1]}],
  {"s1": "123", "s2": "true", "s3": "null", "s4": "~", "s5": "1.5", "s6": "2001-12-14", "s7": "<<", "s8": ".inf", "s9": "0x1F", "s10": "yes", "s11": "1:30", "s12": "", "s13": " lead", "s14": "trail ", "s15": "a: b", "s16": "a #b", "s17": "a#b", "s18": "-x", "s19": "- x", "s20": "@at", "s21": "quote's", "s22": "tab\there", "s23": "x,y", "s24": "[x]", "s25": "{y}", "s26": "é ü 😀", "s27": "a\u0085b", "s28": "k:"},
  {"multi": "line1\nline2", "trail": "line1\n", "keep": "a\n\n", "lead": "  indented\nnext", "nl": "\n", "long": long, "longml": long + "\n" + long + "\nshort\n\n  more " + long},
  {"1": "a", "b": 2, "0": "z", "key with space": 1, "key:colon": 2, "-dash": 3, "": 4, "multi\nkey": 5, "123": 6},
  {n: [0, 1.5, -2.25, 1e21, 1e-7, 123456789012, 0.1, 1/3, 5e-324, 1.7976931348623157e308, 2e-7, -1e-10]},
  [[1, [2, [3]]], {a: {b: {c: {}}}}],
  "just a string", 42, null, true, [], {},
  {deep: {list: [{a: 1, b: [1, 2]}, [{}, []], "s"]}},
  {"with \"dq\"": "and 'sq'", "back\\slash": "x\\y", "ctl": "a\u0001b", "bom": "\ufeffx", "ls": "a\u2028b"},
  [long, "line1\nline2"],
];
const out = values.map(v => ({in: v, out: yaml.dump(v)}));
const loads = [
  "a: 1\nb: [1, 2, {c: d}]\nc:\n  - x\n  - y: z\n",
  "int: [0, -0, +5, 012, 0o17, 0x1F, 0b101, 1_000, 0b, 00, -0x1]\n",
  "float: [1.5, -2., .5, -.5, 1e3, 1E-2, .inf, -.Inf, .NaN, 1e400, +1.0]\n",
  "bool: [true, True, TRUE, false, yes, no, on, off, y, n]\n",
  "null: [~, null, Null, NULL, '', nul]\nempty:\n",
  "date: 2001-12-14\nstamp: 2001-12-14t21:59:43.10-05:00\nspace: 2001-12-14 21:59:43.10 -5\nnofrac: 2001-12-15T02:59:43Z\nbad: 2001-1-1\n",
  "str: !!str 123\nint: !!int '42'\nbin: !!binary aGVsbG8=\nflt: !!float 1\n",
  "base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n  z: 4\nlist:\n  <<: [*b, {w: 0}]\n",
  "2: two\n1: one\nb: b\na: a\n10: ten\n",
  "? [1, 2]\n: list\n? {a: 1}\n: obj\n1.5: f\ntrue: t\nnull: n\n",
  "multi: |\n  line1\n  line2\nfolded: >\n  one\n  two\n\n  three\nkeep: |+\n  k\n\nplain: a\n  b\n",
  "",
  "# just a comment\n",
  "- 1\n- two\n",
  "scalar",
  "quoted: \"a\\tb\\u00e9\"\nsingle: 'it''s'\n",
];
const fs = require('fs');
const lo = loads.map(s => { try { const v = yaml.load(s); return {in: s, out: v === undefined ? "<undefined>" : v}; } catch (e) { return {in: s, error: e.message}; } });
fs.writeFileSync(process.argv[2], JSON.stringify({dump: out, load: lo}, null, 1));
