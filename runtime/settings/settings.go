// Package settings loads Sluice's runtime settings.
//
// Settings use Node-RED's names. They come from a YAML file (settings.yaml
// in the user directory by default) or from a Node-RED settings.js, which is
// evaluated in a small JavaScript sandbox so existing installs keep working.
// Environment variables (SLUICE_UI_PORT, ...) and command-line flags
// (Apply) override the file.
//
// What Sluice does not act on is reported, never silently dropped: a
// Node-RED setting Sluice has no use for, or a JavaScript function in a
// settings.js, lands in Settings.Ignored with the reason, for the CLI to
// print as a warning. A setting whose loss would weaken security (a
// function in adminAuth, an https function, HTTP middleware) is an error
// instead. Unknown names in a YAML file are errors that suggest the nearest
// known name; in a settings.js, which Node-RED lets carry settings of
// third-party nodes, they are warnings with the same suggestion.
//
// Overrides: Apply(name, text) takes a Node-RED name or a dotted path
// (logging.console.level) and parses text for the setting's type;
// ApplyEnv maps SLUICE_<UPPER_SNAKE> variables onto the same names
// (SLUICE_UI_PORT, SLUICE_CREDENTIAL_SECRET, SLUICE_LOGGING_CONSOLE_LEVEL).
//
// Settings read by Node-RED's nodes (mqttReconnectTime, debugMaxLength,
// httpRequestTimeout, ...) are accepted without warning and available
// through Get for Sluice's nodes to honour.
package settings

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/sluicehq/sluice/runtime/creds"
	"github.com/sluicehq/sluice/runtime/msg"
)

// DefaultMaxInflight is how many messages may be in flight before sources
// pause.
const DefaultMaxInflight = 10000

// Settings are the runtime settings, typed. Zero values of the optional
// parts (nil pointers, empty slices) mean "not configured".
type Settings struct {
	UIPort int    // uiPort, default 1880 (0 picks a free port)
	UIHost string // uiHost, default "127.0.0.1": Sluice listens on loopback unless told otherwise (Node-RED: 0.0.0.0)

	FlowFile       string // flowFile, default "flows.json"; see FlowPath
	FlowFilePretty bool   // flowFilePretty
	UserDir        string // userDir; Load fills it with the directory searched when the file does not set it

	CredentialSecret creds.Secret // credentialSecret: a string, false, or unset

	// HTTPAdminRoot is where the admin API and editor are served, formatted
	// as Node-RED does ("/", "/admin/"); "" when httpAdminRoot (or
	// httpRoot) is false: no admin API, no editor.
	HTTPAdminRoot string
	// DisableEditor keeps the admin API but serves no editor.
	DisableEditor bool
	// HTTPNodeRoot is the prefix of http in routes, formatted like
	// HTTPAdminRoot; "" when httpNodeRoot is false.
	HTTPNodeRoot string
	HTTPNodeCors *CORS    // httpNodeCors; nil: no CORS headers
	HTTPStatic   []Static // httpStatic with httpStaticRoot applied

	// Authentication settings, kept as written for the web layer, which must
	// honour them or refuse to start. Their non-data parts (functions) are
	// load errors, never silently dropped.
	AdminAuth *msg.Object // adminAuth
	// Auth is AdminAuth decoded; nil when no admin auth is configured.
	Auth           *Auth
	HTTPAdminAuth  *msg.Object // httpAdminAuth (or the deprecated httpAuth)
	HTTPNodeAuth   *msg.Object // httpNodeAuth (or httpAuth)
	HTTPStaticAuth *msg.Object // httpStaticAuth

	HTTPS *HTTPS // https; nil: plain HTTP

	// FlowsReadonly refuses deploys through the admin API and the editor;
	// the flows still run (a Sluice setting, flowsReadonly).
	FlowsReadonly bool
	// APIMaxLength bounds a deploy request and an editor websocket
	// message, in bytes (apiMaxLength, "5mb" in Node-RED's form); 0 means
	// Sluice's defaults.
	APIMaxLength int64

	ContextStorage        ContextStorage
	FunctionGlobalContext *msg.Object // functionGlobalContext, data only; never nil
	FunctionTimeout       float64     // functionTimeout in seconds, 0: none

	Logging Logging

	// NodesExcludes lists node types that may not be used (a Sluice
	// extension; Node-RED's setting of that name lists node files).
	NodesExcludes []string
	// MaxInflight is how many messages may be in flight before sources
	// pause (a Sluice setting).
	MaxInflight int
	// MQTTListen lists the addresses of the embedded MQTT broker
	// ("host:port" for MQTT over TCP, "ws://host:port" for websockets); none
	// runs no broker (a Sluice setting).
	MQTTListen []string

	// Raw is the data as written in the file, with Apply/ApplyEnv overrides
	// merged in: no defaults, no normalisation. Get gives effective values.
	Raw *msg.Object
	// Ignored lists what was read but will not be acted on, one
	// "name: reason" per entry, for the CLI to print as warnings.
	Ignored []string
	// File is the settings file loaded, "" when only defaults apply.
	File string

	src       source
	effective *msg.Object
}

// CORS is the subset of the cors middleware options Node-RED passes
// httpNodeCors to. Defaults are the middleware's.
type CORS struct {
	// Origin lists the allowed origins; "*" allows any.
	Origin []string
	// ReflectOrigin is origin: true: echo the request's Origin back.
	ReflectOrigin        bool
	Methods              []string // default GET,HEAD,PUT,PATCH,POST,DELETE
	AllowedHeaders       []string // nil: echo Access-Control-Request-Headers
	ExposedHeaders       []string
	Credentials          bool
	MaxAge               int // seconds; -1 when not set
	PreflightContinue    bool
	OptionsSuccessStatus int // default 204
}

// Static is one directory served over HTTP.
type Static struct {
	Path string // directory on disk
	Root string // URL prefix, formatted as Node-RED does ("/", "/files/")
}

// HTTPS holds the TLS key and certificate. A settings.js usually reads the
// files itself (fs.readFileSync), giving the PEM text; a YAML file names
// the files.
type HTTPS struct {
	KeyFile, CertFile string // paths, relative ones resolved against the settings file's directory
	Key, Cert         []byte // PEM text given inline
}

// ContextStorage is the configured context stores.
type ContextStorage struct {
	// Default names the store used when a flow names none.
	Default string
	// Stores in configuration order. Without contextStorage there is one
	// store, "memory", as in Node-RED.
	Stores []ContextStore
}

// ContextStore is one context store.
type ContextStore struct {
	Name   string
	Module string      // "memory" or "localfilesystem"
	Config *msg.Object // the store's config object, never nil
}

// Logging is the console logger's configuration.
type Logging struct {
	// Level is off, fatal, error, warn, info (default), debug or trace.
	Level string
}

// Default returns the settings used when there is no settings file.
func Default() *Settings {
	s, err := build(msg.NewObject(0), source{})
	if err != nil {
		panic("settings: defaults do not resolve: " + err.Error())
	}
	return s
}

// Get returns the effective value of a setting by its Node-RED name
// ("uiPort") or a dotted path into one ("logging.console.level"): what the
// file said, overridden by Apply/ApplyEnv, with defaults filled in and
// normalised as Node-RED normalises its settings (httpAdminRoot "admin" is
// "/admin/", uiPort is a number). The value is a copy.
func (s *Settings) Get(name string) (any, bool) {
	var cur any = s.effective
	for _, part := range strings.Split(name, ".") {
		o, ok := cur.(*msg.Object)
		if !ok {
			return nil, false
		}
		if cur, ok = o.Get(part); !ok {
			return nil, false
		}
	}
	return msg.Clone(cur), true
}

// FlowPath resolves FlowFile as Node-RED does: an absolute path as is, a
// "./" path against the working directory, otherwise the working
// directory when the file exists there, else the user directory.
func (s *Settings) FlowPath() string {
	f := s.FlowFile
	if filepath.IsAbs(f) {
		return f
	}
	cwd, _ := os.Getwd()
	if strings.HasPrefix(f, "./") {
		return filepath.Join(cwd, f)
	}
	if _, err := os.Stat(filepath.Join(cwd, f)); err == nil || s.UserDir == "" {
		return filepath.Join(cwd, f)
	}
	return filepath.Join(s.UserDir, f)
}

// AdminEnabled reports whether the admin API is served.
func (s *Settings) AdminEnabled() bool { return s.HTTPAdminRoot != "" }

// HTTPNodesEnabled reports whether http in routes are served.
func (s *Settings) HTTPNodesEnabled() bool { return s.HTTPNodeRoot != "" }
