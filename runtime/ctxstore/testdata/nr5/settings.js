module.exports = {
    uiPort: 0,
    flowFile: 'flows.json',
    credentialSecret: false,
    functionGlobalContext: { seeded: "from-settings" },
    contextStorage: {
        default: "file",
        file: { module: "localfilesystem", config: { flushInterval: 1 } },
        mem: { module: "memory" }
    },
    logging: { console: { level: "debug" } }
};
