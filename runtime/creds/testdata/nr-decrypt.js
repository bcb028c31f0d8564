// Opens a credentials file with Node-RED's own credentials module and prints
// the named nodes' credentials as JSON: proof that files Sluice writes open
// in Node-RED.
// Usage: node nr-decrypt.js NODE_RED_DIR FILE SECRET|false ID...
const path = require("path");
const fs = require("fs");
const [nrDir, file, secretArg, ...ids] = process.argv.slice(2);
const credentials = require(path.join(nrDir, "node_modules/@node-red/runtime/lib/nodes/credentials.js"));
const quiet = () => {};
credentials.init({
    log: { debug: quiet, warn: quiet, info: quiet, _: (id) => id },
    settings: {
        get: (name) => {
            if (name === "credentialSecret") return secretArg === "false" ? false : secretArg;
            throw new Error("not set");
        },
    },
});
credentials.load(JSON.parse(fs.readFileSync(file, "utf8"))).then(() => {
    const out = {};
    for (const id of ids) out[id] = credentials.get(id);
    process.stdout.write(JSON.stringify(out));
}, (err) => {
    process.stderr.write(String(err));
    process.exit(2);
});
