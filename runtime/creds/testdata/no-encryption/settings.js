module.exports = {uiHost:"127.0.0.1", flowFile:"flows.json", credentialSecret:false}
