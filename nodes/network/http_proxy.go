package network

import (
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "http proxy", Category: "config", Config: true,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString},
			{Name: "url", Kind: node.KindString, Label: "URL"},
			{Name: "noproxy", Kind: node.KindArray, Default: []any{}, Label: "Ignore hosts"},
		},
		Credentials: []node.Cred{{Name: "username"}, {Name: "password", Password: true}},
		Validate:    validateProxy,
		Help: "A proxy for `http request` nodes: `url` is the proxy (`http://host:port`), `noproxy` lists hosts (or `.domain` suffixes, " +
			"`host:port`, `*`) to reach directly, and the credentials authenticate with the proxy.",
		New: func(cfg *node.Config) (node.Node, error) {
			p := &httpProxy{url: cfg.Str("url"), user: cfg.Creds["username"], password: cfg.Creds["password"]}
			if l, ok := cfg.Get("noproxy").([]any); ok {
				for _, h := range l {
					if s := str(h); s != "" {
						p.noproxy = append(p.noproxy, s)
					}
				}
			}
			return p, nil
		},
	})
}

func validateProxy(cfg *node.Config) []node.Problem {
	u := cfg.Str("url")
	if u == "" || !strings.Contains(u, "://") || !strings.HasPrefix(strings.TrimSpace(u), "http") {
		return []node.Problem{{Severity: "warning", Code: "bad-property", Property: "url",
			Message: "invalid url " + strconvQuote(u) + ": the Node-RED editor wants http://host:port"}}
	}
	return nil
}

func strconvQuote(s string) string { return strconv.Quote(s) }

// httpProxy is an http proxy config node.
type httpProxy struct {
	url            string
	noproxy        []string
	user, password string
}

// proxyEnv is where proxy settings come from: a proxy config node, or the
// process environment.
type proxyEnv func(name string) string

func (p *httpProxy) env() proxyEnv {
	vars := map[string]string{"no_proxy": strings.Join(p.noproxy, ","), "http_proxy": p.url, "https_proxy": p.url}
	return func(name string) string { return vars[name] }
}

// osProxyEnv reads lower-case variables first, then upper-case ones, as
// Node-RED's proxy helper does.
func osProxyEnv(name string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return os.Getenv(strings.ToUpper(name))
}

var defaultPorts = map[string]int{"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}

// proxyFor picks the proxy for a URL as Node-RED's strict mode does:
// no_proxy first, then <scheme>_proxy, then all_proxy (and npm's
// variables). A proxy without a scheme takes the URL's. "" means direct.
func proxyFor(target *url.URL, env proxyEnv) string {
	if target == nil || target.Host == "" {
		return ""
	}
	proto := target.Scheme
	host := strings.ToLower(target.Host)
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		host = host[:i]
	}
	port, _ := strconv.Atoi(target.Port())
	if port == 0 {
		port = defaultPorts[proto]
	}
	noProxy := env("npm_config_no_proxy")
	if noProxy == "" {
		noProxy = env("no_proxy")
	}
	if !shouldProxy(host, port, noProxy) {
		return ""
	}
	p := env("npm_config_" + proto + "_proxy")
	if p == "" {
		p = env(proto + "_proxy")
	}
	if p == "" {
		p = env("npm_config_proxy")
	}
	if p == "" {
		p = env("all_proxy")
	}
	if p != "" && !strings.Contains(p, "://") {
		p = proto + "://" + p
	}
	return p
}

// shouldProxy applies a NO_PROXY list: "*" disables proxies; an entry
// starting with "." or "*" matches host suffixes, any other matches the
// host exactly; "host:port" entries only apply to that port.
func shouldProxy(host string, port int, noProxy string) bool {
	noProxy = strings.ToLower(noProxy)
	if noProxy == "" {
		return true
	}
	if noProxy == "*" {
		return false
	}
	for _, entry := range strings.FieldsFunc(noProxy, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		entryHost := entry
		if m := hostPort.FindStringSubmatch(entry); m != nil {
			entryHost = m[1]
			if p, _ := strconv.Atoi(m[2]); p != 0 && p != port {
				continue
			}
		}
		if !strings.HasPrefix(entryHost, ".") && !strings.HasPrefix(entryHost, "*") {
			if host == entryHost {
				return false
			}
			continue
		}
		if strings.HasSuffix(host, strings.TrimPrefix(entryHost, "*")) {
			return false
		}
	}
	return true
}

var hostPort = regexp.MustCompile(`^(.+):(\d+)$`)
