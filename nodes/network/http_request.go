package network

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/mustache"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "http request", Category: "network", Color: "rgb(231, 231, 174)", Icon: "white-globe.svg",
		Inputs: 1, Outputs: 1,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString},
			{Name: "method", Kind: node.KindString, Default: "GET", Label: "Method"},
			{Name: "ret", Kind: node.KindString, Default: "txt", Options: []string{"txt", "bin", "obj"}, Label: "Return"},
			{Name: "paytoqs", Kind: node.KindAny, Default: false, Label: "Payload"},
			{Name: "url", Kind: node.KindString, Label: "URL"},
			{Name: "tls", Kind: node.KindString, ConfigType: "tls-config", Label: "TLS configuration"},
			{Name: "persist", Kind: node.KindBool, Default: false, Label: "Enable connection keep-alive"},
			{Name: "proxy", Kind: node.KindString, ConfigType: "http proxy", Label: "Proxy configuration"},
			{Name: "insecureHTTPParser", Kind: node.KindBool, Default: false},
			{Name: "authType", Kind: node.KindString, Default: "", Label: "Authentication type"},
			{Name: "senderr", Kind: node.KindBool, Default: false, Label: "Only send errors to Catch nodes"},
			{Name: "headers", Kind: node.KindArray, Default: []any{}, Label: "Headers"},
		},
		Credentials: []node.Cred{{Name: "user"}, {Name: "password", Password: true}},
		Validate:    validateHTTPRequest,
		Help: "Makes an HTTP request for each message and sends the response on.\n\n" +
			"`url` may use `{{{name}}}` mustache tags to take parts from the message; without a `url`, `msg.url` is used. " +
			"`method` `use` takes `msg.method`. Headers come from `msg.headers` and the node's list (which wins); `msg.cookies` adds cookies; " +
			"`msg.requestTimeout` (ms) overrides the `httpRequestTimeout` setting (120 s); `msg.followRedirects` false stops at a redirect; " +
			"`msg.rejectUnauthorized` false accepts any certificate when no TLS configuration is set.\n\n" +
			"For methods other than GET and HEAD the payload is the body: strings and Buffers as is, objects as JSON (or urlencoded, " +
			"or multipart with a `multipart/form-data` content type). For GET, `paytoqs` `query` appends an object payload to the query string " +
			"and `body` sends it as the body.\n\n" +
			"The response sets `msg.payload` (`ret`: a UTF-8 string, a Buffer, or parsed JSON), `msg.statusCode`, `msg.headers`, " +
			"`msg.responseUrl`, `msg.redirectList` and `msg.responseCookies`. Errors go to catch nodes and, unless `senderr` is set, " +
			"on as a message whose payload describes the error and whose statusCode is the error code (`ECONNREFUSED`, `ETIMEDOUT`, ...).",
		New: newHTTPRequest,
	})
}

func validateHTTPRequest(cfg *node.Config) []node.Problem {
	u := strings.TrimSpace(cfg.Str("url"))
	if u != "" && strings.Contains(u, "://") && !strings.HasPrefix(u, "http") {
		return []node.Problem{{Severity: "warning", Code: "bad-property", Property: "url",
			Message: fmt.Sprintf("invalid url %q: only http:// and https:// are requested", u)}}
	}
	return nil
}

// reqHeader is one row of the node's header list; a type of "other" takes
// the value as given, "msg" reads a message property, anything else is the
// header name (or value) itself.
type reqHeader struct {
	keyType, keyValue, valueType, valueValue string
}

// maxConcurrent bounds the requests one node has in flight; beyond it the
// node stops taking messages, which holds them in its inbox where the
// runtime's backpressure sees them.
const maxConcurrent = 128

type httpRequest struct {
	url       string
	tmpl      *mustache.Template
	tmplErr   error
	method    string
	ret       string
	paytoqs   bool
	paytobody bool
	senderr   bool
	authType  string
	headers   []reqHeader
	tlsID     string
	proxyID   string

	c        node.Ctx
	creds    map[string]string
	timeout  time.Duration
	tlsConf  *tls.Config
	proxyCfg *httpProxy

	mu         sync.Mutex
	transports map[bool]*http.Transport // by "skip certificate checks"
	sem        chan struct{}
	count      atomic.Int64
	inflight   sync.WaitGroup
	ctx        context.Context
	cancel     context.CancelFunc
}

func newHTTPRequest(cfg *node.Config) (node.Node, error) {
	n := &httpRequest{
		url:      cfg.Str("url"),
		method:   cfg.StrOr("method", "GET"),
		ret:      cfg.StrOr("ret", "txt"),
		senderr:  msg.Truthy(cfg.Get("senderr")),
		authType: cfg.StrOr("authType", "basic"),
		tlsID:    cfg.Str("tls"),
		proxyID:  cfg.Str("proxy"),
		creds:    cfg.Creds,
		sem:      make(chan struct{}, maxConcurrent),
	}
	switch p := cfg.Get("paytoqs"); {
	case p == true || p == "query":
		n.paytoqs = true
	case p == "body":
		n.paytobody = true
	}
	if strings.Contains(n.url, "{{") {
		n.tmpl, n.tmplErr = mustache.Parse(n.url)
	}
	if raw, ok := cfg.Get("headers").([]any); ok {
		for i, r := range raw {
			o, ok := r.(*msg.Object)
			if !ok {
				return nil, node.BadProp(fmt.Sprintf("headers[%d]", i), r, "must be an object {keyType, keyValue, valueType, valueValue}")
			}
			n.headers = append(n.headers, reqHeader{
				keyType: str(o.Value("keyType")), keyValue: str(o.Value("keyValue")),
				valueType: str(o.Value("valueType")), valueValue: str(o.Value("valueValue")),
			})
		}
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	return n, nil
}

func (n *httpRequest) DeferDone() {}

func (n *httpRequest) Start(c node.Ctx) error {
	n.c = c
	n.timeout = 120 * time.Second
	if v, ok := c.Setting("httpRequestTimeout"); ok {
		if ms, ok := parseIntJS(msg.ToString(v)); ok && ms > 0 {
			n.timeout = time.Duration(ms) * time.Millisecond
		}
	}
	if n.tlsID != "" {
		conf, err := node.TLSConfigOf(c, n.tlsID)
		if err != nil {
			return err
		}
		n.tlsConf = conf
	}
	if n.proxyID != "" {
		if cn, ok := c.ConfigNode(n.proxyID); ok {
			n.proxyCfg, _ = cn.(*httpProxy)
		}
		if n.proxyCfg == nil {
			// Node-RED uses an empty proxy configuration: no proxy at all.
			n.proxyCfg = &httpProxy{}
		}
	}
	return nil
}

func (n *httpRequest) Close(ctx context.Context, _ bool) error {
	n.cancel()
	done := make(chan struct{})
	go func() { n.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	n.mu.Lock()
	for _, t := range n.transports {
		t.CloseIdleConnections()
	}
	n.mu.Unlock()
	if n.c != nil {
		n.c.Status(node.Status{})
	}
	return nil
}

// transport returns the node's connection pool; insecure pools skip
// certificate checks (msg.rejectUnauthorized false).
func (n *httpRequest) transport(insecure bool) *http.Transport {
	n.mu.Lock()
	defer n.mu.Unlock()
	if t := n.transports[insecure]; t != nil {
		return t
	}
	t := &http.Transport{
		Proxy:                 n.proxyURL,
		DisableCompression:    true, // Node-RED asks got not to decompress
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   30 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	if n.tlsConf != nil {
		t.TLSClientConfig = n.tlsConf.Clone()
	} else if insecure {
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	if n.transports == nil {
		n.transports = map[bool]*http.Transport{}
	}
	n.transports[insecure] = t
	return t
}

func (n *httpRequest) proxyURL(r *http.Request) (*url.URL, error) {
	env := proxyEnv(osProxyEnv)
	if n.proxyCfg != nil {
		env = n.proxyCfg.env()
	}
	p := proxyFor(r.URL, env)
	if p == "" {
		return nil, nil
	}
	u, err := url.Parse(p)
	if err != nil || u.Host == "" {
		n.c.Warn("Bad proxy url: " + p)
		return nil, nil
	}
	if n.proxyCfg != nil && (n.proxyCfg.user != "" || n.proxyCfg.password != "") {
		u.User = url.UserPassword(n.proxyCfg.user, n.proxyCfg.password)
	}
	return u, nil
}

var strayPercent = regexp.MustCompile(`%.?.?`)
var hexEscape = regexp.MustCompile(`^%[a-fA-F0-9]{2}`)

func (n *httpRequest) Input(c node.Ctx, m *msg.Msg) error {
	c.Status(node.Status{Fill: "blue", Shape: "dot", Text: "httpin.status.requesting"})
	n.count.Add(1)
	u := n.url
	if u == "" {
		if mu, ok := m.Get("url"); ok && mu != nil && !msg.IsUndefined(mu) {
			u = msg.ToString(mu)
		}
	}
	if mu, ok := m.Get("url"); ok && msg.Truthy(mu) && n.url != "" && msg.ToString(mu) != n.url {
		c.Warn("Warning: msg properties can no longer override set node properties. See bit.ly/nr-override-msg-props")
	}
	if n.tmpl != nil {
		s, err := n.tmpl.Render(m.Object, nil)
		if err == nil {
			err = n.tmplErr
		}
		if err != nil {
			n.count.Add(-1)
			return err
		}
		u = s
	} else if n.tmplErr != nil {
		n.count.Add(-1)
		return n.tmplErr
	}
	finish := func(err error) error {
		n.count.Add(-1)
		if err != nil {
			c.Error(err, m)
		}
		c.Done(m, nil)
		return nil
	}
	if u == "" {
		return finish(fmt.Errorf("No url specified"))
	}
	if strings.Contains(u, "://") && !strings.HasPrefix(u, "http") {
		c.Warn("non-http transport requested")
		c.Status(node.Status{Fill: "red", Shape: "ring", Text: "httpin.errors.invalid-transport"})
		return finish(nil)
	}
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		if n.tlsConf != nil {
			u = "https://" + u
		} else {
			u = "http://" + u
		}
	}
	// got refuses partly encoded query strings that Node-RED 1 accepted:
	// a '%' not followed by two hex digits is escaped.
	if i := strings.IndexByte(u, '?'); i >= 0 && i < len(u)-1 {
		q := strayPercent.ReplaceAllStringFunc(u[i+1:], func(v string) string {
			if hexEscape.MatchString(v) {
				return v
			}
			return strings.Replace(v, "%", "%25", 1)
		})
		u = u[:i+1] + q
	}
	method := strings.ToUpper(n.method)
	if mm, ok := m.Get("method"); ok && msg.Truthy(mm) && n.method != "" {
		if n.method == "use" {
			method = strings.ToUpper(msg.ToString(mm))
		} else {
			c.Warn("Warning: msg properties can no longer override set node properties. See bit.ly/nr-override-msg-props")
		}
	}
	req, err := n.build(c, m, method, u)
	if err != nil {
		return finish(err)
	}
	if req == nil {
		return finish(nil)
	}
	select {
	case n.sem <- struct{}{}:
	case <-n.ctx.Done():
		return finish(errStopping)
	}
	n.inflight.Add(1)
	go func() {
		defer func() { <-n.sem; n.inflight.Done() }()
		n.run(c, m, req)
	}()
	return nil
}

var errStopping = fmt.Errorf("the node is stopping")
