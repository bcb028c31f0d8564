// Records what js-yaml (as Node-RED 5's template node loads it) makes of the
// documents in yaml_cases.json, as JSON.stringify text, into yaml.json:
//   /work/nr/node_modules/node/bin/node yaml_gen.js
const yaml = require(process.env.JSYAML || '/work/nr/node_modules/js-yaml');
const fs = require('fs'), path = require('path');
const out = [];
for (const y of JSON.parse(fs.readFileSync(path.join(__dirname, 'yaml_cases.json')))) {
  try {
    const v = yaml.load(y);
    out.push({ y, json: v === undefined ? 'undefined' : JSON.stringify(v) });
  } catch (e) {
    out.push({ y, err: e.message.split('\n')[0] });
  }
}
fs.writeFileSync(path.join(__dirname, 'yaml.json'), JSON.stringify(out, null, 1) + '\n');
