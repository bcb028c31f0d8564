// Records what mustache.js (the version Node-RED 5 ships) renders for the
// cases in cases.json and for every test of the mustache spec, into
// mustachejs.json. Run from this directory:
//   /work/nr/node_modules/node/bin/node gen.js
const M = require(process.env.MUSTACHE || '/work/nr/node_modules/mustache');
const fs = require('fs'), path = require('path');
const specDir = path.join(__dirname, '../../../../shared/mustache-spec');

function revive(k, v) {
  if (v && v.type === 'Buffer' && Array.isArray(v.data)) return Buffer.from(v.data);
  return v;
}
function run(t, v, partials) {
  try { return { out: M.render(t, v, partials) }; } catch (e) { return { err: e.message }; }
}
const out = [];
for (const c of JSON.parse(fs.readFileSync(path.join(__dirname, 'cases.json')))) {
  const view = JSON.parse(JSON.stringify(c.v), revive);
  out.push(Object.assign({ t: c.t, v: c.v }, run(c.t, view)));
}
for (const f of fs.readdirSync(specDir).filter(f => f.endsWith('.json') && f !== '~lambdas.json').sort()) {
  for (const t of JSON.parse(fs.readFileSync(path.join(specDir, f))).tests) {
    out.push(Object.assign({ spec: f + '/' + t.name, t: t.template, v: t.data, p: t.partials || {} }, run(t.template, t.data, t.partials || {})));
  }
}
fs.writeFileSync(path.join(__dirname, 'mustachejs.json'), JSON.stringify(out, null, 1) + '\n');
