package settings

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/runtime/creds"
	"github.com/sluicehq/sluice/runtime/msg"
)

func get(t *testing.T, s *Settings, name string) string {
	t.Helper()
	v, ok := s.Get(name)
	if !ok {
		t.Fatalf("Get(%q): not found", name)
	}
	return string(msg.Marshal(v))
}

func TestDefault(t *testing.T) {
	s := Default()
	if s.UIPort != 1880 || s.UIHost != "127.0.0.1" || s.FlowFile != "flows.json" ||
		s.HTTPAdminRoot != "/" || s.HTTPNodeRoot != "/" || s.FunctionTimeout != 0 ||
		s.MaxInflight != 10000 || s.Logging.Level != "info" || s.CredentialSecret.IsSet() ||
		s.FlowFilePretty || s.HTTPS != nil || s.HTTPNodeCors != nil || s.DisableEditor {
		t.Fatalf("defaults: %+v", s)
	}
	if !reflect.DeepEqual(s.ContextStorage.Stores, []ContextStore{{Name: "memory", Module: "memory", Config: msg.NewObject(0)}}) || s.ContextStorage.Default != "memory" {
		t.Fatalf("default context storage: %+v", s.ContextStorage)
	}
	if s.FunctionGlobalContext == nil || s.FunctionGlobalContext.Len() != 0 || len(s.Ignored) != 0 || s.Raw.Len() != 0 {
		t.Fatal("defaults should have an empty global context, no warnings, no raw data")
	}
	for name, want := range map[string]string{
		"uiPort": "1880", "uiHost": `"127.0.0.1"`, "httpAdminRoot": `"/"`, "maxInflight": "10000",
		"logging.console.level": `"info"`, "functionTimeout": "0", "flowFilePretty": "false",
	} {
		if got := get(t, s, name); got != want {
			t.Errorf("Get(%q) = %s, want %s", name, got, want)
		}
	}
	if _, ok := s.Get("credentialSecret"); ok {
		t.Error("credentialSecret has no default")
	}
}

func TestLoadYAMLFull(t *testing.T) {
	s, err := LoadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.UIPort != 8080 || s.UIHost != "0.0.0.0" || s.FlowFile != "my-flows.json" || !s.FlowFilePretty ||
		s.UserDir != "/var/lib/sluice" || s.CredentialSecret != (creds.Secret{Value: "correct horse battery staple"}) ||
		s.HTTPAdminRoot != "/admin/" || s.HTTPNodeRoot != "/api/" || s.FunctionTimeout != 2.5 ||
		s.Logging.Level != "debug" || s.MaxInflight != 500 || s.File != "testdata/full.yaml" {
		t.Fatalf("scalars: %+v", s)
	}
	wantCORS := &CORS{Origin: []string{"*"}, Methods: []string{"GET", "PUT", "POST", "DELETE"}, Credentials: true, MaxAge: 600, OptionsSuccessStatus: 204}
	if !reflect.DeepEqual(s.HTTPNodeCors, wantCORS) {
		t.Errorf("cors = %+v", s.HTTPNodeCors)
	}
	if want := []Static{{"/srv/public", "/static/"}, {"/srv/docs", "/static/docs/"}}; !reflect.DeepEqual(s.HTTPStatic, want) {
		t.Errorf("static = %+v", s.HTTPStatic)
	}
	if s.ContextStorage.Default != "default" || len(s.ContextStorage.Stores) != 2 ||
		s.ContextStorage.Stores[1].Name != "file" || s.ContextStorage.Stores[1].Module != "localfilesystem" ||
		string(msg.Marshal(s.ContextStorage.Stores[1].Config)) != `{"flushInterval":30}` {
		t.Errorf("context storage = %+v", s.ContextStorage)
	}
	if got := string(msg.Marshal(s.FunctionGlobalContext)); got != `{"site":"plant-7","limits":{"max":10,"min":-2}}` {
		t.Errorf("global context = %s", got)
	}
	// A relative key path is relative to the settings file.
	if s.HTTPS == nil || s.HTTPS.KeyFile != filepath.Join("testdata", "tls/key.pem") || s.HTTPS.CertFile != "/etc/ssl/cert.pem" || s.HTTPS.Key != nil {
		t.Errorf("https = %+v", s.HTTPS)
	}
	if !reflect.DeepEqual(s.NodesExcludes, []string{"exec", "file in"}) {
		t.Errorf("nodesExcludes = %q", s.NodesExcludes)
	}
	if s.AdminAuth == nil || msg.ToString(s.AdminAuth.Value("type")) != "credentials" {
		t.Errorf("adminAuth = %v", s.AdminAuth)
	}
	if want := []string{"editorTheme: the Sluice editor has its own theme and options"}; !reflect.DeepEqual(s.Ignored, want) {
		t.Errorf("ignored = %q", s.Ignored)
	}
	// Raw keeps the file's order and its values as written.
	if keys := s.Raw.Keys(); keys[0] != "uiPort" || keys[1] != "uiHost" || keys[len(keys)-1] != "mqttReconnectTime" {
		t.Errorf("raw order %q", keys)
	}
	if got := string(msg.Marshal(s.Raw.Value("httpAdminRoot"))); got != `"admin"` {
		t.Errorf("raw httpAdminRoot = %s", got)
	}
	for name, want := range map[string]string{
		"httpAdminRoot":                            `"/admin/"`,
		"mqttReconnectTime":                        "5000",
		"contextStorage.file.config.flushInterval": "30",
		"httpStatic":                               `[{"path":"/srv/public","root":"/static/"},{"path":"/srv/docs","root":"/static/docs/"}]`,
		"editorTheme.projects.enabled":             "true",
	} {
		if got := get(t, s, name); got != want {
			t.Errorf("Get(%q) = %s, want %s", name, got, want)
		}
	}
	// Get hands out copies.
	v, _ := s.Get("functionGlobalContext")
	v.(*msg.Object).Set("site", "changed")
	if got := get(t, s, "functionGlobalContext.site"); got != `"plant-7"` {
		t.Errorf("Get returned shared state: %s", got)
	}
	if _, ok := s.Get("uiPort.x"); ok {
		t.Error("path through a number found something")
	}
}

func writeYAML(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "settings.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestYAMLErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"uiPrt: 1880\n", `:1: uiPrt: unknown setting (did you mean "uiPort"?)`},
		{"uiPort: 1880\nUIHOST: x\n", `:2: UIHOST: unknown setting (did you mean "uiHost"?)`},
		{"wibble: 1\n", `:1: wibble: unknown setting`},
		{"uiPort: abc\n", `:1: uiPort: expected a port number (0-65535), got "abc"`},
		{"uiPort: 70000\n", `:1: uiPort: expected a port number (0-65535), got 70000`},
		{"uiPort: 80.5\n", `:1: uiPort: expected a port number (0-65535), got 80.5`},
		{"uiHost: \"\"\n", `:1: uiHost: expected a non-empty string, got ""`},
		{"flowFilePretty: yes please\n", `:1: flowFilePretty: expected true or false, got "yes please"`},
		{"credentialSecret: \"\"\n", `:1: credentialSecret: expected a non-empty string or false, got ""`},
		{"credentialSecret: true\n", `:1: credentialSecret: expected a non-empty string or false, got true`},
		{"httpAdminRoot: true\n", `:1: httpAdminRoot: expected a path such as "/admin", or false, got true`},
		{"functionTimeout: -1\n", `:1: functionTimeout: expected a number of seconds (0 for none), got -1`},
		{"maxInflight: 0\n", `:1: maxInflight: expected a whole number of messages, at least 1, got 0`},
		{"nodesExcludes: [exec, 3]\n", `:1: nodesExcludes[1]: expected a string, got 3`},
		{"logging:\n  console:\n    level: loud\n", `:3: logging.console.level: expected one of off, fatal, error, warn, info, debug, trace, got "loud"`},
		{"logging:\n  console:\n    levle: info\n", `:3: logging.console.levle: unknown field (known: audit, handler, level, metrics) (did you mean "level"?)`},
		{"functionGlobalContext: [1]\n", `:1: functionGlobalContext: expected an object, got a list [1]`},
		{"contextStorage:\n  default:\n    module: redis\n", `:3: contextStorage.default.module: expected "memory" or "localfilesystem" (Sluice has no other context stores), got "redis"`},
		{"contextStorage:\n  default: disk\n", `:2: contextStorage.default: names the store "disk", which is not configured`},
		{"contextStorage:\n  my-store:\n    module: memory\n", `:2: contextStorage.my-store: invalid store name: use letters, digits and _ only`},
		{"contextStorage:\n  file:\n    config: {}\n", `:2: contextStorage.file: has no module ("memory" or "localfilesystem")`},
		{"https:\n  key: k.pem\n", `:1: https: needs both key and cert`},
		{"https:\n  key: k.pem\n  cert: c.pem\n  ca: ca.pem\n", `:4: https.ca: unknown field (known: cert, key)`},
		{"httpNodeCors:\n  orign: '*'\n", `:2: httpNodeCors.orign: unknown field (known: allowedHeaders, credentials, exposedHeaders, maxAge, methods, optionsSuccessStatus, origin, preflightContinue) (did you mean "origin"?)`},
		{"httpStatic:\n  - root: /x\n", `:2: httpStatic[0]: has no path (the directory to serve)`},
		{"httpNodeMiddleware: x\n", `:1: httpNodeMiddleware: is not supported by Sluice: Express middleware cannot run in Sluice`},
		{"uiPort: 1\nuiPort: 2\n", `:2: uiPort: duplicate key (first at line 1)`},
		{"- uiPort\n", `:1: expected a mapping of setting names to values`},
		{"uiPort: [\n", `yaml: line 1: did not find expected node content`},
		{"uiPort: !port 1\n", `:1: uiPort: unsupported YAML tag !port`},
	} {
		p := writeYAML(t, tc.yaml)
		_, err := LoadFile(p)
		if err == nil {
			t.Errorf("%q: no error, want %q", tc.yaml, tc.want)
			continue
		}
		if !strings.HasPrefix(err.Error(), p) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %q\nwant %q", tc.yaml, err, p+tc.want)
		}
	}
}

func TestYAMLAllErrorsAtOnce(t *testing.T) {
	p := writeYAML(t, "uiPort: x\nmaxInflight: -3\nfoo: 1\n")
	_, err := LoadFile(p)
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], p+":1: uiPort") || !strings.HasPrefix(lines[1], p+":2: maxInflight") || !strings.HasPrefix(lines[2], p+":3: foo") {
		t.Fatalf("errors:\n%s", err)
	}
}

func TestYAMLAnchorsAndEmpty(t *testing.T) {
	p := writeYAML(t, `
base: &store
  module: localfilesystem
  config: {flushInterval: 5}
`)
	if _, err := LoadFile(p); err == nil || !strings.Contains(err.Error(), `:2: base: unknown setting`) {
		t.Fatalf("anchor host key is still a setting: %v", err)
	}
	p = writeYAML(t, `
contextStorage:
  default: &store
    module: localfilesystem
    config: {flushInterval: 5}
  other:
    <<: *store
    module: memory
`)
	s, err := LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	other := s.ContextStorage.Stores[1]
	if other.Module != "memory" || string(msg.Marshal(other.Config)) != `{"flushInterval":5}` {
		t.Fatalf("merge key: %+v", other)
	}
	for _, text := range []string{"", "# nothing\n", "---\n", "~\n"} {
		s, err := LoadFile(writeYAML(t, text))
		if err != nil || s.UIPort != 1880 {
			t.Fatalf("%q: %v", text, err)
		}
	}
}

func TestRoots(t *testing.T) {
	for _, tc := range []struct {
		yaml         string
		admin, node  string
		editorHidden bool
	}{
		{"httpRoot: /red\n", "/red/", "/red/", false},
		{"httpRoot: /red\nhttpAdminRoot: /admin/\n", "/admin/", "/red/", false},
		{"httpRoot: false\nhttpAdminRoot: /admin\n", "", "", true},
		{"httpAdminRoot: false\n", "", "/", true},
		{"httpNodeRoot: false\n", "/", "", false},
		{"httpAdminRoot: \"\"\n", "/", "/", false},
		{"disableEditor: true\n", "/", "/", true},
	} {
		s, err := LoadFile(writeYAML(t, tc.yaml))
		if err != nil {
			t.Fatal(err)
		}
		if s.HTTPAdminRoot != tc.admin || s.HTTPNodeRoot != tc.node || s.DisableEditor != tc.editorHidden || s.AdminEnabled() != (tc.admin != "") || s.HTTPNodesEnabled() != (tc.node != "") {
			t.Errorf("%q: admin %q node %q editor hidden %v", tc.yaml, s.HTTPAdminRoot, s.HTTPNodeRoot, s.DisableEditor)
		}
		if tc.admin == "" && get(t, s, "httpAdminRoot") != "false" {
			t.Errorf("%q: Get(httpAdminRoot) = %s", tc.yaml, get(t, s, "httpAdminRoot"))
		}
	}
}

func TestContextStorageForms(t *testing.T) {
	for _, tc := range []struct {
		yaml, def string
		stores    []string
	}{
		{"contextStorage: {}\n", "memory", []string{"memory"}},
		{"contextStorage:\n  disk: {module: localfilesystem}\n  mem: {module: memory}\n", "disk", []string{"disk", "mem"}},
		{"contextStorage:\n  default: mem\n  disk: {module: localfilesystem}\n  mem: {module: memory}\n", "mem", []string{"disk", "mem"}},
		{"contextStorage:\n  _: {module: localfilesystem}\n  default: {module: memory}\n", "default", []string{"default"}},
	} {
		s, err := LoadFile(writeYAML(t, tc.yaml))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, st := range s.ContextStorage.Stores {
			names = append(names, st.Name)
		}
		if s.ContextStorage.Default != tc.def || !reflect.DeepEqual(names, tc.stores) {
			t.Errorf("%q: default %q stores %q", tc.yaml, s.ContextStorage.Default, names)
		}
	}
}

func TestCORSForms(t *testing.T) {
	s, _ := LoadFile(writeYAML(t, "httpNodeCors: {}\n"))
	if c := s.HTTPNodeCors; c == nil || c.Origin[0] != "*" || len(c.Methods) != 6 || c.MaxAge != -1 || c.OptionsSuccessStatus != 204 {
		t.Fatalf("middleware defaults: %+v", c)
	}
	s, _ = LoadFile(writeYAML(t, "httpNodeCors: {origin: true, methods: [GET], allowedHeaders: 'X-A, X-B'}\n"))
	if c := s.HTTPNodeCors; !c.ReflectOrigin || c.Origin != nil || !reflect.DeepEqual(c.Methods, []string{"GET"}) || !reflect.DeepEqual(c.AllowedHeaders, []string{"X-A", "X-B"}) {
		t.Fatalf("origin true: %+v", c)
	}
	for _, text := range []string{"httpNodeCors: false\n", "httpNodeCors: {origin: false}\n", "httpNodeCors: {methods: GET, origin: false}\n"} {
		s, err := LoadFile(writeYAML(t, text))
		if err != nil || s.HTTPNodeCors != nil {
			t.Fatalf("%q: %+v %v", text, s.HTTPNodeCors, err)
		}
	}
}

func TestHTTPSInlinePEM(t *testing.T) {
	s, err := LoadFile(writeYAML(t, "https:\n  key: |\n    -----BEGIN PRIVATE KEY-----\n    abc\n  cert: /c.pem\n"))
	if err != nil {
		t.Fatal(err)
	}
	if string(s.HTTPS.Key) != "-----BEGIN PRIVATE KEY-----\nabc\n" || s.HTTPS.KeyFile != "" || s.HTTPS.CertFile != "/c.pem" {
		t.Fatalf("%+v", s.HTTPS)
	}
}

func TestLoadFindsTheFile(t *testing.T) {
	dir := t.TempDir()
	s, err := load(dir, "", nil)
	if err != nil || s.File != "" || s.UserDir != dir || s.UIPort != 1880 {
		t.Fatalf("no file: %+v %v", s, err)
	}
	if got := get(t, s, "userDir"); got != msg.Quote(dir) {
		t.Fatalf("Get(userDir) = %s", got)
	}
	os.WriteFile(filepath.Join(dir, "settings.js"), []byte("module.exports = {uiPort: 1000}"), 0o600)
	if s, err = load(dir, "", nil); err != nil || s.UIPort != 1000 || s.File != filepath.Join(dir, "settings.js") {
		t.Fatalf("settings.js: %+v %v", s, err)
	}
	os.WriteFile(filepath.Join(dir, "settings.yaml"), []byte("uiPort: 2000\n"), 0o600)
	if s, err = load(dir, "", nil); err != nil || s.UIPort != 2000 {
		t.Fatalf("settings.yaml wins: %+v %v", s, err)
	}
	if s, err = load(dir, "testdata/full.yaml", nil); err != nil || s.UIPort != 8080 || s.UserDir != "/var/lib/sluice" {
		t.Fatalf("explicit file: %+v %v", s, err)
	}
	if _, err = load(dir, filepath.Join(dir, "missing.yaml"), nil); err == nil || !strings.Contains(err.Error(), "missing.yaml: no such file") {
		t.Fatalf("explicit missing file: %v", err)
	}
}

func TestFlowPath(t *testing.T) {
	cwd, _ := os.Getwd()
	s := Default()
	s.UserDir = "/data"
	for flow, want := range map[string]string{
		"/abs/flows.json":    "/abs/flows.json",
		"./here.json":        filepath.Join(cwd, "here.json"),
		"flows.json":         "/data/flows.json",
		"testdata/full.yaml": filepath.Join(cwd, "testdata/full.yaml"), // exists in the working directory
		"sub/dir/flows.json": "/data/sub/dir/flows.json",
	} {
		s.FlowFile = flow
		if got := s.FlowPath(); got != want {
			t.Errorf("FlowPath(%q) = %q, want %q", flow, got, want)
		}
	}
}
