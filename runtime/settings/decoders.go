package settings

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/runtime/creds"
	"github.com/sluicehq/sluice/runtime/msg"
)

func decodeUIPort(d *dec, path string, v any) {
	if n, ok := d.integer(path, v, 0, 65535, "a port number (0-65535)"); ok {
		d.s.UIPort = n
	}
}

func decodeUIHost(d *dec, path string, v any) {
	if s, ok := d.nonEmpty(path, v); ok {
		d.s.UIHost = s
	}
}

func decodeFlowFile(d *dec, path string, v any) {
	if s, ok := d.nonEmpty(path, v); ok {
		d.s.FlowFile = s
	}
}

func decodeFlowFilePretty(d *dec, path string, v any) {
	if b, ok := d.boolean(path, v); ok {
		d.s.FlowFilePretty = b
	}
}

func decodeUserDir(d *dec, path string, v any) {
	if s, ok := d.str(path, v, "a directory path"); ok {
		d.s.UserDir = s
	}
}

// decodeCredentialSecret refuses "": Node-RED would quietly encrypt with
// sha256(""), which protects nothing and is almost always an unset
// variable.
func decodeCredentialSecret(d *dec, path string, v any) {
	switch t := v.(type) {
	case nil:
		d.s.CredentialSecret = creds.Secret{}
		return
	case bool:
		if !t {
			d.s.CredentialSecret = creds.Secret{Disabled: true}
			return
		}
	case string:
		if t != "" {
			d.s.CredentialSecret = creds.Secret{Value: t}
			return
		}
	}
	d.typeErr(path, "a non-empty string or false", v)
}

func decodeRoot(d *dec, path string, v any) {
	r := rootSetting{}
	switch t := v.(type) {
	case nil:
	case bool:
		if t {
			d.typeErr(path, `a path such as "/admin", or false`, v)
			return
		}
		r = rootSetting{set: true, off: true}
	case string:
		// "" falls back to the next setting, as Node-RED's || does.
		r = rootSetting{set: t != "", path: t}
	default:
		d.typeErr(path, `a path such as "/admin", or false`, v)
		return
	}
	switch path {
	case "httpRoot":
		d.httpRoot = r
	case "httpAdminRoot":
		d.adminRoot = r
	case "httpNodeRoot":
		d.nodeRoot = r
	}
}

func decodeDisableEditor(d *dec, path string, v any) {
	if b, ok := d.boolean(path, v); ok {
		d.s.DisableEditor = b
	}
}

func decodeAuth(d *dec, path string, v any) {
	if isOff(v) {
		return
	}
	o, ok := d.object(path, v)
	if !ok {
		return
	}
	o = o.Clone()
	switch path {
	case "adminAuth":
		d.s.AdminAuth = o
		decodeAdminAuth(d, path, o)
	case "httpAdminAuth":
		d.s.HTTPAdminAuth = o
	case "httpNodeAuth":
		d.s.HTTPNodeAuth = o
	case "httpStaticAuth":
		d.s.HTTPStaticAuth = o
	case "httpAuth":
		d.httpAuth = o
	}
}

// decodeCodeOnly handles settings that can only be functions in Node-RED:
// as data they can only be off.
func decodeCodeOnly(d *dec, path string, v any) {
	if !isOff(v) {
		d.fail(path, "is not supported by Sluice: %s", noCode[path])
	}
}

func decodeGlobalContext(d *dec, path string, v any) {
	if v == nil {
		return
	}
	if o, ok := d.object(path, v); ok {
		d.s.FunctionGlobalContext = o.Clone()
	}
}

func decodeFunctionTimeout(d *dec, path string, v any) {
	n, ok := d.number(path, v, "a number of seconds (0 for none)")
	if ok && n < 0 {
		d.typeErr(path, "a number of seconds (0 for none)", v)
		return
	}
	d.s.FunctionTimeout = n
}

func decodeMaxInflight(d *dec, path string, v any) {
	if n, ok := d.integer(path, v, 1, 1<<31-1, "a whole number of messages, at least 1"); ok {
		d.s.MaxInflight = n
	}
}

// decodeMQTTListen takes the embedded broker's addresses: host:port, with
// mqtt:// or tcp:// for MQTT over TCP, ws:// for websockets.
func decodeMQTTListen(d *dec, path string, v any) {
	if v == nil || v == false {
		d.s.MQTTListen = nil
		return
	}
	l, ok := d.strList(path, v)
	if !ok {
		return
	}
	for i, a := range l {
		hostPort := a
		if scheme, rest, found := strings.Cut(a, "://"); found {
			switch strings.ToLower(scheme) {
			case "mqtt", "tcp", "ws":
			default:
				d.fail(fmt.Sprintf("%s[%d]", path, i), "expected host:port, mqtt://host:port or ws://host:port, got %q", a)
				return
			}
			hostPort = strings.TrimSuffix(rest, "/")
		}
		_, port, err := net.SplitHostPort(hostPort)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
			d.fail(fmt.Sprintf("%s[%d]", path, i), "expected host:port, mqtt://host:port or ws://host:port, got %q", a)
			return
		}
	}
	d.s.MQTTListen = l
}

func decodeNodesExcludes(d *dec, path string, v any) {
	if v == nil {
		return
	}
	if l, ok := d.strList(path, v); ok {
		d.s.NodesExcludes = l
	}
}

var logLevels = []string{"off", "fatal", "error", "warn", "info", "debug", "trace"}

func decodeLogging(d *dec, path string, v any) {
	if v == nil {
		return
	}
	o, ok := d.object(path, v)
	if !ok {
		return
	}
	for i := 0; i < o.Len(); i++ {
		name, lv := o.At(i)
		p := path + "." + name
		if name != "console" {
			if !isOff(lv) {
				d.ignore(p, "custom loggers are not supported; only logging.console is used")
			}
			continue
		}
		if lv == nil {
			continue
		}
		console, ok := d.object(p, lv)
		if !ok {
			continue
		}
		d.fields(p, console, map[string]func(string, any){
			"level": func(p string, v any) {
				s, ok := v.(string)
				if !ok || !contains(logLevels, s) {
					d.typeErr(p, "one of off, fatal, error, warn, info, debug, trace", v)
					return
				}
				d.s.Logging.Level = s
			},
			"metrics": func(p string, v any) {
				if !isOff(v) {
					d.ignore(p, "metrics logging is not supported")
				}
			},
			"audit": func(p string, v any) {
				if !isOff(v) {
					d.ignore(p, "audit logging is not supported")
				}
			},
			// A handler is code; as data it means nothing.
			"handler": func(p string, v any) {},
		}, false)
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// effective builds what Get returns: Raw with defaults and normalised
// values of the settings Sluice acts on.
func effective(s *Settings, d *dec) *msg.Object {
	e := s.Raw.Clone()
	e.Set("uiPort", float64(s.UIPort))
	e.Set("uiHost", s.UIHost)
	e.Set("flowFile", s.FlowFile)
	e.Set("flowFilePretty", s.FlowFilePretty)
	if s.UserDir != "" {
		e.Set("userDir", s.UserDir)
	}
	setRoot := func(name, root string) {
		if root == "" {
			e.Set(name, false)
		} else {
			e.Set(name, root)
		}
	}
	setRoot("httpAdminRoot", s.HTTPAdminRoot)
	setRoot("httpNodeRoot", s.HTTPNodeRoot)
	e.Set("disableEditor", s.DisableEditor)
	if len(s.HTTPStatic) > 0 {
		l := make([]any, len(s.HTTPStatic))
		for i, st := range s.HTTPStatic {
			l[i] = msg.ObjectOf("path", st.Path, "root", st.Root)
		}
		e.Set("httpStatic", l)
		e.Set("httpStaticRoot", d.staticRoot)
	}
	e.Set("functionGlobalContext", s.FunctionGlobalContext.Clone())
	e.Set("functionTimeout", s.FunctionTimeout)
	e.Set("maxInflight", float64(s.MaxInflight))
	if s.MQTTListen != nil {
		l := make([]any, len(s.MQTTListen))
		for i, a := range s.MQTTListen {
			l[i] = a
		}
		e.Set("mqttListen", l)
	}
	if s.NodesExcludes != nil {
		l := make([]any, len(s.NodesExcludes))
		for i, n := range s.NodesExcludes {
			l[i] = n
		}
		e.Set("nodesExcludes", l)
	}
	logging, _ := e.Value("logging").(*msg.Object)
	if logging == nil {
		logging = msg.NewObject(1)
		e.Set("logging", logging)
	}
	console, _ := logging.Value("console").(*msg.Object)
	if console == nil {
		console = msg.NewObject(1)
		logging.Set("console", console)
	}
	console.Set("level", s.Logging.Level)
	return e
}
