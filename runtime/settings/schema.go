package settings

import "sort"

// kind is how Apply turns a command-line or environment string into a
// setting's value.
type kind int

const (
	kAny           kind = iota // JSON when it parses, else the string (Node-RED's -D)
	kString                    // as is
	kNumber                    // a number
	kBool                      // true/false
	kStringOrFalse             // "false" is false, anything else the string
	kStringList                // comma-separated, or a JSON/YAML list
	kObject                    // YAML or JSON text (YAML flow style: {a: 1})
	kStringOrList              // a path, or a JSON/YAML list
)

// setting is one setting Sluice acts on.
type setting struct {
	kind   kind
	decode func(d *dec, path string, v any)
}

// sluiceSettings are the settings Sluice acts on, by Node-RED name. Filled
// in init because the decoders refer to the table (via unknown-field
// suggestions).
var sluiceSettings map[string]setting

func init() {
	sluiceSettings = map[string]setting{
		"uiPort":                    {kNumber, decodeUIPort},
		"uiHost":                    {kString, decodeUIHost},
		"flowFile":                  {kString, decodeFlowFile},
		"flowFilePretty":            {kBool, decodeFlowFilePretty},
		"userDir":                   {kString, decodeUserDir},
		"credentialSecret":          {kStringOrFalse, decodeCredentialSecret},
		"httpRoot":                  {kStringOrFalse, decodeRoot},
		"httpAdminRoot":             {kStringOrFalse, decodeRoot},
		"httpNodeRoot":              {kStringOrFalse, decodeRoot},
		"disableEditor":             {kBool, decodeDisableEditor},
		"httpNodeCors":              {kObject, decodeCORS},
		"httpStatic":                {kStringOrList, decodeStatic},
		"httpStaticRoot":            {kString, decodeStaticRoot},
		"https":                     {kObject, decodeHTTPS},
		"adminAuth":                 {kObject, decodeAuth},
		"httpAdminAuth":             {kObject, decodeAuth},
		"httpNodeAuth":              {kObject, decodeAuth},
		"httpStaticAuth":            {kObject, decodeAuth},
		"httpAuth":                  {kObject, decodeAuth},
		"httpAdminMiddleware":       {kAny, decodeCodeOnly},
		"httpNodeMiddleware":        {kAny, decodeCodeOnly},
		"webSocketNodeVerifyClient": {kAny, decodeCodeOnly},
		"contextStorage":            {kObject, decodeContextStorage},
		"functionGlobalContext":     {kObject, decodeGlobalContext},
		"functionTimeout":           {kNumber, decodeFunctionTimeout},
		"logging":                   {kObject, decodeLogging},
		"nodesExcludes":             {kStringList, decodeNodesExcludes},
		"maxInflight":               {kNumber, decodeMaxInflight},
		"mqttListen":                {kStringList, decodeMQTTListen},
		"flowsReadonly":             {kBool, decodeFlowsReadonly},
		"apiMaxLength":              {kAny, decodeAPIMaxLength},
	}
}

// noCode are settings where a JavaScript function or module object cannot
// be dropped with a warning: losing it would weaken security (auth, TLS,
// middleware that may authenticate) or silently change where data lives
// (a custom context store). Such values fail the load.
var noCode = map[string]string{
	"adminAuth":                 "dropping it could leave the admin API unprotected",
	"httpAdminAuth":             "dropping it could leave the admin API unprotected",
	"httpNodeAuth":              "dropping it could leave http in endpoints unprotected",
	"httpStaticAuth":            "dropping it could leave static files unprotected",
	"httpAuth":                  "dropping it could leave HTTP endpoints unprotected",
	"https":                     "dropping it would serve plain HTTP; give key and cert as file paths or PEM text",
	"httpAdminMiddleware":       "Express middleware cannot run in Sluice; if it authenticated requests, protect the admin API another way",
	"httpNodeMiddleware":        "Express middleware cannot run in Sluice; if it authenticated requests, protect http in endpoints another way",
	"webSocketNodeVerifyClient": "websocket clients would no longer be verified",
	"httpNodeCors":              "dropping it could allow every origin",
	"contextStorage":            "Sluice has the built-in memory and localfilesystem stores only",
}

// nodeSettings are Node-RED settings read by nodes (RED.settings in a
// node). They are accepted without warning and available through Get, for
// Sluice's nodes to honour as the corresponding Node-RED node does.
var nodeSettings = map[string]bool{
	"debugMaxLength":             true,
	"debugStatusLength":          true,
	"debugUseColors":             true,
	"execMaxBufferSize":          true,
	"fileWorkingDirectory":       true,
	"globalFunctionTimeout":      true,
	"httpRequestTimeout":         true,
	"httpRequestTimingLog":       true,
	"inboundWebSocketTimeout":    true,
	"mqttReconnectTime":          true,
	"nodeCloseTimeout":           true,
	"nodeMessageBufferMaxLength": true,
	"runtimeSyncDelivery":        true,
	"serialReconnectTime":        true,
	"socketReconnectTime":        true,
	"socketTimeout":              true,
	"tcpMsgQueueSize":            true,
	"tlsConfigDisableLocalFiles": true,
	"webSocketKeepAliveTime":     true,
	"settingsFile":               true, // Node-RED sets it itself
}

// nodeRedUnused are Node-RED settings Sluice has no use for, with the
// reason given in the warning. A value that asks for nothing (false, 0, an
// empty object) gives no warning: nothing is lost.
var nodeRedUnused = map[string]string{
	"autoInstallModules":      "Sluice does not install npm modules",
	"autoInstallModulesRetry": "Sluice does not install npm modules",
	"coreNodesDir":            "Sluice's nodes are built in; node directories are not loaded",
	"diagnostics":             "Sluice has no diagnostics report",
	"editorTheme":             "the Sluice editor has its own theme and options",
	"envVarExcludes":          "not supported: flows can read every environment variable",
	"exportGlobalContextKeys": "not supported",
	"externalModules":         "Sluice does not install npm modules",
	"functionExternalModules": "function nodes cannot load npm modules in Sluice",
	"httpAdminCookieOptions":  "these are Express options",
	"httpAdminCors":           "the admin API sends no CORS headers",
	"httpServerOptions":       "these are Express options",
	"httpStaticCors":          "static files are served without CORS headers",
	"httpsRefreshInterval":    "the certificate is read once at start",
	"lang":                    "Sluice's messages are in English",
	"nodeDefaults":            "the Sluice editor has its own node defaults",
	"nodesDir":                "Sluice's nodes are built in; node directories are not loaded",
	"nodesIncludes":           "Sluice's nodes are built in; node directories are not loaded",
	"paletteCategories":       "the Sluice editor orders its palette itself",
	"proxyOptions":            "not supported",
	"readOnly":                "not supported: Sluice writes the flow file on deploy (flowsReadonly refuses deploys instead)",
	"requireHttps":            "Sluice serves HTTP or HTTPS on one port, not both",
	"runtimeMetricInterval":   "metrics logging is not supported",
	"runtimeState":            "Sluice always serves GET/POST /flows/state (POST needs the \"*\" permission)",
	"safeMode":                "not supported",
	"storageModule":           "Sluice keeps flows in the flow file",
	"telemetry":               "Sluice sends no telemetry",
	"ui":                      "node-red-dashboard is not part of Sluice",
	"verbose":                 "use logging: {console: {level: debug}}",
}

// knownNames lists every top-level name, for suggestions.
func knownNames() []string {
	var names []string
	for n := range sluiceSettings {
		names = append(names, n)
	}
	for n := range nodeSettings {
		names = append(names, n)
	}
	for n := range nodeRedUnused {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
