package settings

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/creds"
	"github.com/sluicehq/sluice/runtime/msg"
)

// Node-RED's own default settings.js must load, with warnings only for what
// Sluice does not do.
func TestNodeRedDefaultSettingsJS(t *testing.T) {
	dir := os.Getenv("SLUICE_NODE_RED")
	if dir == "" {
		dir = "/work/nr"
	}
	path := filepath.Join(dir, "node_modules/node-red/settings.js")
	if _, err := os.Stat(path); err != nil {
		t.Skip("Node-RED not installed (set SLUICE_NODE_RED)")
	}
	s, err := loadFile(path, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"diagnostics: Sluice has no diagnostics report",
		"editorTheme: the Sluice editor has its own theme and options",
		"functionExternalModules: function nodes cannot load npm modules in Sluice",
	}
	if !reflect.DeepEqual(s.Ignored, want) {
		t.Errorf("ignored:\n%s", strings.Join(s.Ignored, "\n"))
	}
	if s.UIPort != 1880 || s.FlowFile != "flows.json" || !s.FlowFilePretty || s.Logging.Level != "info" || s.FunctionTimeout != 0 {
		t.Errorf("values: %+v", s)
	}
	if got := get(t, s, "debugMaxLength"); got != "1000" {
		t.Errorf("debugMaxLength for the debug node = %s", got)
	}
	// uiPort: process.env.PORT || 1880 gives a string when PORT is set.
	s, err = loadFile(path, "", []string{"PORT=8081"})
	if err != nil || s.UIPort != 8081 || get(t, s, "uiPort") != "8081" {
		t.Fatalf("PORT=8081: %v %v", s, err)
	}
}

func TestSettingsJS(t *testing.T) {
	s, err := loadFile("testdata/settings.js", "", []string{"NODE_RED_CREDENTIAL_SECRET=from-env", "PORT=1999"})
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	abs, _ := filepath.Abs("testdata")
	if s.UIPort != 1999 || s.CredentialSecret != (creds.Secret{Value: "from-env"}) || s.HTTPAdminRoot != "" ||
		s.FlowFile != filepath.Join(abs, "flows_"+host+".json") || s.Logging.Level != "warn" {
		t.Errorf("values: %+v", s)
	}
	key, _ := os.ReadFile("testdata/tls/key.pem")
	cert, _ := os.ReadFile("testdata/tls/cert.pem")
	if s.HTTPS == nil || string(s.HTTPS.Key) != string(key) || string(s.HTTPS.Cert) != string(cert) || s.HTTPS.KeyFile != "" {
		t.Errorf("https from fs.readFileSync: %+v", s.HTTPS)
	}
	if cs := s.ContextStorage; cs.Default != "disk" || len(cs.Stores) != 1 || cs.Stores[0].Module != "localfilesystem" ||
		msg.ToString(cs.Stores[0].Config.Value("dir")) != filepath.Join(abs, "context") {
		t.Errorf("context storage: %+v", cs)
	}
	if got := string(msg.Marshal(s.FunctionGlobalContext)); got != `{"answer":42,"hasTLS":true,"hasNope":false,"list":[1,null,null]}` {
		t.Errorf("global context data: %s", got)
	}
	want := []string{
		`logging.console.metrics: metrics logging is not supported`,
		`logging.myLogger: custom loggers are not supported; only logging.console is used`,
		`lang: Sluice's messages are in English`,
		`uiPrt: not a setting Sluice or Node-RED knows (did you mean "uiPort"?)`,
		`functionGlobalContext.os: is the os module; function nodes will not see it (only plain data is passed on)`,
		`functionGlobalContext.greet: is a function; function nodes will not see it (only plain data is passed on)`,
		`functionGlobalContext.started: is a Date; function nodes will not see it (only plain data is passed on)`,
		`functionGlobalContext.list[2]: is a function; function nodes will not see it (only plain data is passed on)`,
		`logging.myLogger.handler: is a function; custom log handlers are not supported`,
	}
	if !reflect.DeepEqual(s.Ignored, want) {
		t.Errorf("ignored:\n%s", strings.Join(s.Ignored, "\n"))
	}
	if got := get(t, s, "debugMaxLength"); got != "2000" {
		t.Errorf("Get(debugMaxLength) = %s", got)
	}
}

func writeJS(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "settings.js")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSettingsJSErrors(t *testing.T) {
	defer func(d time.Duration) { jsTimeout = d }(jsTimeout)
	jsTimeout = 500 * time.Millisecond
	for _, tc := range []struct{ js, want string }{
		{`const c = require("crypto"); module.exports = {}`,
			`require("crypto") is not available: Sluice evaluates settings files in a sandbox that has only the path, os and fs (existsSync, readFileSync) modules`},
		{`require("fs").writeFileSync("/tmp/x", "y")`, `TypeError: Object has no member 'writeFileSync'`},
		{`module.exports = { https: require("fs").readFileSync("/nonexistent/key.pem") }`, `open /nonexistent/key.pem: no such file or directory`},
		{"module.exports = {\n  uiPort: 1880,\n  uiHost: ,\n}", `settings.js: SyntaxError: `},
		{"module.exports = {}\nthrow new Error('boom')", `Error: boom at`},
		{`module.exports = 5`, `module.exports must be an object of settings`},
		{`module.exports = { uiPort: "eighty" }`, `settings.js: uiPort: expected a port number (0-65535), got "eighty"`},
		{`module.exports = { adminAuth: { type: "credentials", users: function (u) { return null } } }`,
			`settings.js: adminAuth.users: is a function, which Sluice cannot use: dropping it could leave the admin API unprotected`},
		{`module.exports = { https: function () { return {} } }`,
			`https: is a function, which Sluice cannot use: dropping it would serve plain HTTP; give key and cert as file paths or PEM text`},
		{`module.exports = { httpNodeMiddleware: function (req, res, next) { next() } }`,
			`httpNodeMiddleware: is a function, which Sluice cannot use: Express middleware cannot run in Sluice; if it authenticated requests, protect http in endpoints another way`},
		{`module.exports = { httpNodeCors: { origin: /example\.com$/ } }`, `httpNodeCors.origin: is a RegExp, which Sluice cannot use: dropping it could allow every origin`},
		{`module.exports = { contextStorage: { default: { module: require("os") } } }`, `contextStorage.default.module: is the os module, which Sluice cannot use`},
		{`module.exports = { https: { key: "k.pem", cert: "c.pem", passphrase: "x" } }`, `https.passphrase: unknown field (known: cert, key)`},
		{`module.exports = { get uiPort() { throw new Error("no port today") } }`, `reading module.exports: Error: no port today`},
		{`module.exports = { get uiPort() { for (;;) {} } }`, `reading module.exports: evaluation stopped: still running after`},
	} {
		p := writeJS(t, tc.js)
		_, err := loadFile(p, "", nil)
		if err == nil || !strings.HasPrefix(err.Error(), p) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant %s", tc.js, err, tc.want)
		}
	}
}

func TestSettingsJSSyntaxErrorHasLine(t *testing.T) {
	p := writeJS(t, "module.exports = {\n  uiPort: 1880,\n  uiHost: ,\n}")
	_, err := loadFile(p, "", nil)
	if err == nil || !strings.Contains(err.Error(), p+": Line 3:") {
		t.Fatalf("err = %v", err)
	}
}

func TestSettingsJSTimeout(t *testing.T) {
	defer func(d time.Duration) { jsTimeout = d }(jsTimeout)
	jsTimeout = 50 * time.Millisecond
	p := writeJS(t, `while (true) {}`)
	_, err := loadFile(p, "", nil)
	if err == nil || !strings.Contains(err.Error(), "evaluation stopped: still running after 50ms") {
		t.Fatalf("err = %v", err)
	}
}

func TestSettingsJSSandboxModules(t *testing.T) {
	p := writeJS(t, `
const path = require("path"), os = require("os");
module.exports = {
  functionGlobalContext: {
    join: path.join("a", "", "b/../c"),
    empty: path.join(),
    resolved: path.resolve("/x", "y", "../z"),
    resolvedAbs: path.resolve("/x", "/y", "z"),
    dir: path.dirname("/a/b/c.js"),
    base: path.basename("/a/b/c.js", ".js"),
    ext: path.extname("x/.hidden") + "|" + path.extname("a.b.json"),
    tmp: os.tmpdir(),
    home: os.homedir() !== "",
    file: __filename === require("path").join(__dirname, "settings.js"),
    exportsIsThis: this === exports,
    platform: process.platform,
    cwd: process.cwd() !== "",
    env: process.env.SLUICE_TEST_VALUE,
    same: require("path") === require("node:path"),
  },
};
console.log("console works and says nothing");
`)
	s, err := loadFile(p, "", []string{"SLUICE_TEST_VALUE=v=1"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"join":"a/c","empty":".","resolved":"/x/z","resolvedAbs":"/y/z","dir":"/a/b","base":"c","ext":"|.json","tmp":` +
		msg.Quote(strings.TrimSuffix(os.TempDir(), "/")) + `,"home":true,"file":true,"exportsIsThis":true,"platform":"linux","cwd":true,"env":"v=1","same":true}`
	if got := string(msg.Marshal(s.FunctionGlobalContext)); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestSettingsJSExportsForms(t *testing.T) {
	for _, js := range []string{
		`exports.uiPort = 1234`,
		`module.exports.uiPort = 1234`,
		`module.exports = Object.assign({}, { uiPort: 1234 })`,
		"#!/usr/bin/env node\nmodule.exports = { uiPort: 1234 }",
	} {
		s, err := loadFile(writeJS(t, js), "", nil)
		if err != nil || s.UIPort != 1234 {
			t.Errorf("%s: %v", js, err)
		}
	}
	// A circular structure is reported, not followed forever.
	s, err := loadFile(writeJS(t, `const a = {}; a.self = a; module.exports = { functionGlobalContext: { a } }`), "", nil)
	if err != nil || !reflect.DeepEqual(s.Ignored, []string{"functionGlobalContext.a.self: is a circular reference; function nodes will not see it (only plain data is passed on)"}) {
		t.Fatalf("%v %q", err, s.Ignored)
	}
}
