#!/usr/bin/env node
// Records expected.json for conformance cases by running each case's flow in
// a real Node-RED (the reference behaviour Sluice is compared against).
//
//   node conformance/record.js              # every case under conformance/cases
//   node conformance/record.js switch-eq    # only the named cases (folder names)
//   node conformance/record.js -j 1 ...     # one case at a time (default 2)
//
// Node-RED is resolved from $NODE_RED_HOME, else /work/nr/node_modules/node-red.
// Each case runs in its own child process with a scratch user directory, so
// context, env and timers never leak from one case into the next (Sluice's
// runner also starts a fresh engine per case).
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const http = require("http");
const { spawn } = require("child_process");

const casesDir = path.join(__dirname, "cases");
const maxCaseMs = 10000;

function readJSON(file, fallback) {
    if (!fs.existsSync(file)) {
        return fallback;
    }
    return JSON.parse(fs.readFileSync(file, "utf8"));
}

// Placeholders are handed out in a canonical order (output nodes sorted by
// id, then arrival order within a node) rather than global arrival order:
// interleaving across different output nodes is not part of the contract, so
// the numbering must not depend on it. The Go runner uses the same order.
function normaliseMsgIds(records) {
    const ids = new Map();
    const order = records.map((r, i) => i).sort((a, b) => {
        const na = records[a].node, nb = records[b].node;
        if (na !== nb) {
            return na < nb ? -1 : 1;
        }
        return a - b;
    });
    function walk(v) {
        if (Array.isArray(v)) {
            v.forEach(walk);
        } else if (v && typeof v === "object") {
            for (const k of Object.keys(v)) {
                if (k === "_msgid" && typeof v[k] === "string") {
                    if (!ids.has(v[k])) {
                        ids.set(v[k], "msgid-" + (ids.size + 1));
                    }
                    v[k] = ids.get(v[k]);
                } else {
                    walk(v[k]);
                }
            }
        }
    }
    for (const i of order) {
        walk(records[i].msg);
    }
}

function applyIgnore(RED, records, ignore) {
    for (const r of records) {
        for (const p of ignore) {
            let v;
            try {
                v = RED.util.getMessageProperty(r.msg, p);
            } catch (err) {
                v = undefined;
            }
            if (v !== undefined) {
                RED.util.setMessageProperty(r.msg, p, "<ignored>", false);
            }
        }
    }
}

async function runChild(caseDir) {
    const nrHome = process.env.NODE_RED_HOME || "/work/nr/node_modules/node-red";
    const RED = require(nrHome);
    const flow = readJSON(path.join(caseDir, "flow.json"));
    const inputs = readJSON(path.join(caseDir, "input.json"), []);
    const opts = readJSON(path.join(caseDir, "case.json"), {});
    const waitMs = opts.waitMs || 300;

    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-conf-"));
    fs.writeFileSync(path.join(userDir, "flows.json"), JSON.stringify(flow));
    const settings = {
        userDir: userDir,
        flowFile: "flows.json",
        httpAdminRoot: false,
        httpNodeRoot: false,
        disableEditor: true,
        credentialSecret: false,
        logging: { console: { level: process.env.RECORD_LOG || "off", metrics: false, audit: false } },
        telemetry: { enabled: false },
        diagnostics: { enabled: false },
        externalModules: { autoInstall: false, palette: { allowInstall: false } },
        functionExternalModules: false,
    };

    const records = [];
    let lastActivity = Date.now();
    RED.init(http.createServer(), settings);
    RED.hooks.add("onReceive.conformance", (evt) => {
        const id = evt.destination.id;
        if (typeof id === "string" && id.startsWith("out")) {
            // Serialise right away: the receiving node may modify the message.
            records.push({ node: id, msg: JSON.parse(JSON.stringify(evt.msg)) });
            lastActivity = Date.now();
        }
    });
    const started = new Promise((resolve) => RED.events.once("flows:started", resolve));
    await RED.start();
    const startTimeout = setTimeout(() => {
        console.error(caseDir + ": flows did not start (unknown node type?)");
        process.exit(2);
    }, 5000);
    await started;
    clearTimeout(startTimeout);

    if (inputs.length > 0) {
        const target = RED.nodes.getNode("in");
        if (!target) {
            throw new Error("input.json has messages but the flow has no node with id \"in\"");
        }
        for (const m of inputs) {
            target.receive(m);
        }
    }
    lastActivity = Date.now();
    const t0 = Date.now();
    await new Promise((resolve) => {
        const tick = setInterval(() => {
            const now = Date.now();
            if (now - lastActivity >= waitMs || now - t0 > maxCaseMs) {
                clearInterval(tick);
                resolve();
            }
        }, 20);
    });
    const out = records.map((r) => ({ node: r.node, msg: r.msg }));
    applyIgnore(RED, out, opts.ignore || []);
    normaliseMsgIds(out);
    fs.writeFileSync(path.join(caseDir, "expected.json"), JSON.stringify(out, null, 1) + "\n");
    await RED.stop();
    fs.rmSync(userDir, { recursive: true, force: true });
    console.log(path.basename(caseDir) + ": " + out.length + " message(s)");
    process.exit(0);
}

async function runParent(args) {
    let jobs = 2;
    const names = [];
    for (let i = 0; i < args.length; i++) {
        if (args[i] === "-j") {
            jobs = parseInt(args[++i], 10) || 1;
        } else {
            names.push(args[i].replace(/\/+$/, "").split("/").pop());
        }
    }
    const all = names.length > 0 ? names : fs.readdirSync(casesDir).filter((n) =>
        fs.existsSync(path.join(casesDir, n, "flow.json"))).sort();
    const todo = all.filter((n) => {
        if (!fs.existsSync(path.join(casesDir, n, "flow.json"))) {
            console.error(n + ": no such case");
            process.exitCode = 1;
            return false;
        }
        if (fs.existsSync(path.join(casesDir, n, "load-error.txt"))) {
            console.log(n + ": load-error case, nothing to record");
            return false;
        }
        return true;
    });
    let next = 0;
    async function worker() {
        while (next < todo.length) {
            const name = todo[next++];
            const code = await new Promise((resolve) => {
                const child = spawn(process.execPath, [__filename, "--child", path.join(casesDir, name)], {
                    stdio: "inherit",
                    env: Object.assign({}, process.env, { TZ: "UTC" }),
                });
                child.on("exit", resolve);
            });
            if (code !== 0) {
                console.error(name + ": FAILED (exit " + code + ")");
                process.exitCode = 1;
            }
        }
    }
    await Promise.all(Array.from({ length: jobs }, worker));
}

if (process.argv[2] === "--child") {
    runChild(path.resolve(process.argv[3])).catch((err) => {
        console.error(process.argv[3] + ": " + (err && err.stack || err));
        process.exit(1);
    });
} else {
    runParent(process.argv.slice(2));
}
