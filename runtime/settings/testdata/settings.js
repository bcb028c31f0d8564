// A Node-RED style settings file using what settings files commonly use.
const path = require("path");
const os = require("node:os");
const fs = require("fs");

module.exports = {
    uiPort: process.env.PORT || 1880,
    uiHost: "127.0.0.1",
    flowFile: path.join(__dirname, "flows_" + os.hostname() + ".json"),
    credentialSecret: process.env.NODE_RED_CREDENTIAL_SECRET,
    httpAdminRoot: false,
    https: {
        key: fs.readFileSync(path.join(__dirname, "tls", "key.pem")),
        cert: fs.readFileSync(path.join(__dirname, "tls", "cert.pem"), "utf8"),
    },
    contextStorage: {
        default: "disk",
        disk: { module: "localfilesystem", config: { dir: path.resolve(__dirname, "context") } },
    },
    functionGlobalContext: {
        os: require("os"),
        answer: 42,
        hasTLS: fs.existsSync(path.join(__dirname, "tls")),
        hasNope: fs.existsSync(path.join(__dirname, "nope")),
        greet: function (name) { return "hello " + name; },
        started: new Date(0),
        list: [1, undefined, function () {}],
    },
    logging: {
        console: { level: "warn", metrics: true, audit: false },
        myLogger: { level: "info", handler: function () { return function () {}; } },
    },
    lang: "de",
    uiPrt: 1,
    debugMaxLength: 2000,
};
