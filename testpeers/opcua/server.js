// A real OPC UA server (node-opcua) for the Go tests and benchmarks of
// nodes/opcua. Usage:
//   node server.js PORT [--pki DIR] [--items N] [--rate MS] [--change MS]
// Prints "READY opc.tcp://127.0.0.1:PORT" once it accepts connections.
"use strict";
const path = require("path");
const {
    OPCUAServer, OPCUACertificateManager, Variant, DataType, StatusCodes,
    SecurityPolicy, MessageSecurityMode, LocalizedText, coerceInt64, coerceUInt64,
} = require("node-opcua");

function arg(name, def) {
    const i = process.argv.indexOf(name);
    return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const port = parseInt(process.argv[2], 10);
if (!port) {
    console.error("usage: node server.js PORT [--pki DIR] [--items N] [--rate MS] [--change MS]");
    process.exit(2);
}
const pki = arg("--pki", path.join(__dirname, "pki"));
const benchItems = parseInt(arg("--items", "0"), 10);
const benchRate = parseInt(arg("--rate", "100"), 10);
const changeMS = parseInt(arg("--change", "100"), 10);

async function main() {
    const serverCertificateManager = new OPCUACertificateManager({
        automaticallyAcceptUnknownCertificate: true,
        rootFolder: path.join(pki, "server"),
    });
    await serverCertificateManager.initialize();
    const userCertificateManager = new OPCUACertificateManager({
        automaticallyAcceptUnknownCertificate: true,
        rootFolder: path.join(pki, "user"),
    });
    await userCertificateManager.initialize();

    const server = new OPCUAServer({
        port,
        hostname: "127.0.0.1",
        alternateHostname: ["127.0.0.1"],
        serverCertificateManager,
        userCertificateManager,
        securityPolicies: [SecurityPolicy.None, SecurityPolicy.Basic256Sha256],
        securityModes: [MessageSecurityMode.None, MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt],
        allowAnonymous: true,
        userManager: { isValidUser: (u, p) => u === "user" && p === "secret" },
        maxConnectionsPerEndpoint: 200,
        serverCapabilities: { maxSessions: 200 },
        buildInfo: { productName: "sluice-testpeer-opcua", buildNumber: "1" },
    });
    await server.initialize();

    const ns = server.engine.addressSpace.getOwnNamespace();
    const objects = server.engine.addressSpace.rootFolder.objects;
    const dev = ns.addObject({ organizedBy: objects, browseName: "Device", nodeId: "s=Device" });

    let changing = 0;
    let counter = 0;
    const variable = (browseName, dataType, value, extra) => ns.addVariable(Object.assign({
        componentOf: dev, browseName, nodeId: "s=" + browseName, dataType,
        value: new Variant({ dataType: DataType[dataType], arrayType: 0, value }),
    }, extra || {}));

    ns.addVariable({
        componentOf: dev, browseName: "Changing", nodeId: "s=Changing", dataType: "Double",
        minimumSamplingInterval: 50,
        value: { get: () => new Variant({ dataType: DataType.Double, value: changing }) },
    });
    ns.addVariable({
        componentOf: dev, browseName: "Counter", nodeId: "s=Counter", dataType: "Int32",
        minimumSamplingInterval: 50,
        value: { get: () => new Variant({ dataType: DataType.Int32, value: counter }) },
    });
    setInterval(() => { changing = Math.sin(Date.now() / 1000) * 100; counter++; }, changeMS);

    variable("Setpoint", "Double", 1.5);
    variable("Text", "String", "hello");
    variable("Flag", "Boolean", true);
    variable("Big", "Int64", coerceInt64("9007199254740993"));
    variable("UBig", "UInt64", coerceUInt64("18446744073709551615"));
    variable("When", "DateTime", new Date("2024-05-06T07:08:09.123Z"));
    variable("Label", "LocalizedText", new LocalizedText({ locale: "en", text: "Pump 1" }));
    variable("Bytes", "ByteString", Buffer.from([1, 2, 3, 250]));
    ns.addVariable({
        componentOf: dev, browseName: "Doubles", nodeId: "s=Doubles", dataType: "Double", valueRank: 1,
        value: new Variant({ dataType: DataType.Double, arrayType: 1, value: [1.5, 2.5, 3.5] }),
    });
    ns.addVariable({
        componentOf: dev, browseName: "ReadOnly", nodeId: "s=ReadOnly", dataType: "Double",
        accessLevel: "CurrentRead", userAccessLevel: "CurrentRead",
        value: new Variant({ dataType: DataType.Double, value: 7 }),
    });

    // A folder tree to browse: Plant/Line1/{Temp,Speed}, Plant/Line2/Temp.
    const plant = ns.addFolder(objects, { browseName: "Plant", nodeId: "s=Plant" });
    for (const line of ["Line1", "Line2"]) {
        const f = ns.addFolder(plant, { browseName: line, nodeId: "s=Plant." + line });
        ns.addVariable({ organizedBy: f, browseName: "Temp", nodeId: "s=Plant." + line + ".Temp", dataType: "Double",
            value: new Variant({ dataType: DataType.Double, value: 21.5 }) });
        if (line === "Line1") {
            ns.addVariable({ organizedBy: f, browseName: "Speed", nodeId: "s=Plant.Line1.Speed", dataType: "Int32",
                value: new Variant({ dataType: DataType.Int32, value: 1200 }) });
        }
    }

    // A method: Add(a, b) -> sum.
    const add = ns.addMethod(dev, {
        browseName: "Add", nodeId: "s=Add",
        inputArguments: [
            { name: "a", dataType: DataType.Double },
            { name: "b", dataType: DataType.Double },
        ],
        outputArguments: [{ name: "sum", dataType: DataType.Double }],
    });
    add.bindMethod((inputArguments, context, callback) => {
        const sum = inputArguments[0].value + inputArguments[1].value;
        callback(null, { statusCode: StatusCodes.Good, outputArguments: [{ dataType: DataType.Double, value: sum }] });
    });

    // Events: the Device object notifies a BaseEventType event every 200 ms.
    dev.setEventNotifier(1);
    const baseEventType = server.engine.addressSpace.findEventType("BaseEventType");
    let seq = 0;
    setInterval(() => {
        seq++;
        dev.raiseEvent(baseEventType, {
            message: { dataType: DataType.LocalizedText, value: { text: "tick " + seq } },
            severity: { dataType: DataType.UInt16, value: 500 },
        });
    }, 200);

    // Many changing Doubles for the benchmarks: Bench.0 .. Bench.N-1.
    if (benchItems > 0) {
        const bf = ns.addFolder(objects, { browseName: "Bench", nodeId: "s=Bench" });
        const vars = [];
        for (let i = 0; i < benchItems; i++) {
            vars.push(ns.addVariable({ organizedBy: bf, browseName: "B" + i, nodeId: "s=Bench." + i, dataType: "Double",
                minimumSamplingInterval: 0,
                value: new Variant({ dataType: DataType.Double, value: 0 }) }));
        }
        let tick = 0;
        setInterval(() => {
            tick++;
            const now = new Date();
            for (let i = 0; i < vars.length; i++) {
                vars[i].setValueFromSource(new Variant({ dataType: DataType.Double, value: tick + i / 1e6 }), StatusCodes.Good, now);
            }
        }, benchRate);
    }

    await server.start();
    const shutdown = () => server.shutdown(0).then(() => process.exit(0), () => process.exit(0));
    process.on("SIGTERM", shutdown);
    process.on("SIGINT", shutdown);
    console.log("READY opc.tcp://127.0.0.1:" + port);
}

main().catch((err) => { console.error(err); process.exit(1); });
