package network

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/textproto"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// The http request node's request, prepared once per message and replayed
// for each redirect hop, as got does for Node-RED.

// headerList is an ordered header object whose names keep the case the
// flow gave them (some servers care).
type headerList struct {
	names []string
	vals  []any
}

func (h *headerList) index(exact string) int {
	for i, n := range h.names {
		if n == exact {
			return i
		}
	}
	return -1
}

func (h *headerList) get(exact string) (any, bool) {
	if i := h.index(exact); i >= 0 {
		return h.vals[i], true
	}
	return nil, false
}

func (h *headerList) del(exact string) {
	if i := h.index(exact); i >= 0 {
		h.names = append(h.names[:i], h.names[i+1:]...)
		h.vals = append(h.vals[:i], h.vals[i+1:]...)
	}
}

func (h *headerList) delFold(name string) {
	for i := 0; i < len(h.names); {
		if strings.EqualFold(h.names[i], name) {
			h.names = append(h.names[:i], h.names[i+1:]...)
			h.vals = append(h.vals[:i], h.vals[i+1:]...)
			continue
		}
		i++
	}
}

// set replaces any header of that name, whatever its case, and appends.
func (h *headerList) set(name string, v any) {
	h.delFold(name)
	h.names = append(h.names, name)
	h.vals = append(h.vals, v)
}

// update is Node-RED's updateHeader: a falsy value removes the header.
func (h *headerList) update(name string, v any) {
	h.delFold(name)
	if msg.Truthy(v) && !msg.IsUndefined(v) {
		h.names = append(h.names, name)
		h.vals = append(h.vals, v)
	}
}

func (h *headerList) clone() *headerList {
	return &headerList{names: append([]string(nil), h.names...), vals: append([]any(nil), h.vals...)}
}

// outgoing is one message's request.
type outgoing struct {
	method   string
	url      *url.URL
	urlText  string // as Node-RED quotes it in error payloads
	headers  *headerList
	body     []byte
	hasBody  bool
	jar      *cookiejar.Jar
	timeout  time.Duration
	follow   bool
	insecure bool
	digest   bool
	user     string
	password string
	userinfo *url.Userinfo // from the URL, shown again in msg.responseUrl
}

// knownHeader lower-cases content-type and content-length so the body
// logic finds them, remembering the flow's spelling for the wire.
type knownNames struct{ ct, cl string }

func (k *knownNames) normalise(name string) string {
	switch l := strings.ToLower(name); l {
	case "content-type":
		k.ct = name
		return l
	case "content-length":
		k.cl = name
		return l
	}
	return name
}

// build prepares the request; nil without an error means the message was
// dealt with (a warning was given).
func (n *httpRequest) build(c node.Ctx, m *msg.Msg, method, rawURL string) (*outgoing, error) {
	out := &outgoing{method: method, timeout: n.timeout, follow: true, headers: &headerList{}}
	if v, ok := m.Get("requestTimeout"); ok && !msg.IsUndefined(v) {
		f := msg.ToNumber(v)
		switch {
		case f != f:
			c.Warn("Timeout value is not a valid number, ignoring")
		case f < 1:
			c.Warn("Timeout value is negative, ignoring")
		default:
			out.timeout = time.Duration(f * float64(time.Millisecond))
		}
	}
	known := &knownNames{ct: "Content-Type", cl: "Content-Length"}
	if mh, ok := m.Value("headers").(*msg.Object); ok {
		if tag, ok := mh.Get(requestNodeHeader); ok {
			mh.Delete(requestNodeHeader)
			if tag == headerHash(mh) {
				m.Delete("headers")
				mh = nil
			}
		}
		if mh != nil {
			for i := 0; i < mh.Len(); i++ {
				k, v := mh.At(i)
				out.headers.update(known.normalise(k), v)
			}
		}
	}
	for _, h := range n.headers {
		name := headerPart(m, h.keyType, h.keyValue)
		if name == nil || !msg.Truthy(name) {
			continue
		}
		val := headerPart(m, h.valueType, h.valueValue)
		out.headers.update(known.normalise(msg.ToString(name)), val)
	}
	if v, ok := m.Get("followRedirects"); ok {
		out.follow = msg.Truthy(v)
	}

	u, err := parseRequestURL(rawURL)
	if err != nil {
		return nil, &node.JSError{Name: "TypeError", Message: "Invalid URL"}
	}
	out.jar, _ = cookiejar.New(nil)
	if v, ok := out.headers.get("cookie"); ok {
		var cs []*http.Cookie
		for _, p := range strings.Split(headerString(v), ";") {
			if k, val, ok := strings.Cut(p, "="); ok && strings.TrimSpace(k) != "" {
				cs = append(cs, &http.Cookie{Name: strings.TrimSpace(k), Value: strings.TrimSpace(val), Quoted: false})
			}
		}
		setJarCookies(out.jar, u, cs)
		out.headers.del("cookie")
	}
	if mc, ok := m.Value("cookies").(*msg.Object); ok {
		var cs []*http.Cookie
		for i := 0; i < mc.Len(); i++ {
			name, v := mc.At(i)
			if v == nil {
				continue
			}
			if o, isObj := v.(*msg.Object); isObj {
				val, has := o.Get("value")
				if has && val == nil {
					continue // clears a cookie for http response; ignored here
				}
				s := cookieValue(val)
				if o.Value("encode") != false {
					s = encodeURIComponent(s)
				}
				cs = append(cs, &http.Cookie{Name: name, Value: s})
				continue
			}
			cs = append(cs, &http.Cookie{Name: name, Value: encodeURIComponent(msg.ToString(v))})
		}
		setJarCookies(out.jar, u, cs)
	}

	user, password := n.creds["user"], n.creds["password"]
	if u.User != nil {
		if user == "" {
			user = u.User.Username()
		}
		if p, ok := u.User.Password(); ok && password == "" {
			password = p
		}
		out.userinfo = u.User
		u.User = nil
	}
	if len(n.creds) > 0 || user != "" || password != "" {
		switch n.authType {
		case "basic", "":
			if user != "" || password != "" {
				out.headers.set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+password)))
			}
		case "digest":
			out.digest, out.user, out.password = true, user, password
		case "bearer":
			out.headers.set("Authorization", "Bearer "+password)
		}
	}

	payload, hasPayload := m.Get("payload")
	if msg.IsUndefined(payload) {
		hasPayload = false
	}
	if method != "GET" && method != "HEAD" && hasPayload {
		ct, _ := out.headers.get("content-type")
		if po, isObj := payload.(*msg.Object); isObj && ct == "multipart/form-data" {
			body, ctype, err := formData(po)
			if err != nil {
				return nil, err
			}
			out.headers.del("content-type")
			out.headers.set("content-type", ctype)
			out.body, out.hasBody = body, true
		} else {
			switch p := payload.(type) {
			case string:
				out.body = []byte(p)
			case []byte:
				out.body = p
			case float64:
				out.body = []byte(msg.FormatNumber(p))
			default:
				if ct == "application/x-www-form-urlencoded" {
					out.body = []byte(stringifyAny(p))
				} else {
					out.body = msg.Marshal(p)
					if ct == nil {
						out.headers.set(known.ct, "application/json")
					}
				}
			}
			out.hasBody = true
			if _, ok := out.headers.get("content-length"); !ok {
				out.headers.set(known.cl, len(out.body))
			}
		}
	}
	if method == "GET" && hasPayload && n.paytoqs {
		switch p := payload.(type) {
		case *msg.Object, []any, nil:
			qs := stringifyAny(p)
			if strings.Contains(rawURL, "?") {
				if !strings.HasSuffix(rawURL, "?") {
					qs = "&" + qs
				}
				u.RawQuery += qs
			} else {
				u.RawQuery = qs
				u.ForceQuery = true
				rawURL += "?"
			}
			rawURL += qs
		default:
			return nil, fmt.Errorf("Invalid payload")
		}
	} else if method == "GET" && hasPayload && n.paytobody {
		switch p := payload.(type) {
		case string:
			out.body, out.hasBody = []byte(p), true
		case []byte:
			out.body, out.hasBody = p, true
		case float64:
			out.body, out.hasBody = []byte(msg.FormatNumber(p)), true
		case bool:
		default:
			out.body, out.hasBody = msg.Marshal(p), true
		}
	}
	// Back to the flow's spelling of the two headers normalised above.
	if v, ok := out.headers.get("content-type"); ok && known.ct != "content-type" {
		out.headers.del("content-type")
		out.headers.names, out.headers.vals = append(out.headers.names, known.ct), append(out.headers.vals, v)
	}
	if v, ok := out.headers.get("content-length"); ok && known.cl != "content-length" {
		out.headers.del("content-length")
		out.headers.names, out.headers.vals = append(out.headers.names, known.cl), append(out.headers.vals, v)
	}

	if n.tlsConf == nil {
		if v, ok := m.Get("rejectUnauthorized"); ok {
			switch t := v.(type) {
			case bool:
				out.insecure = !t
			case string:
				switch strings.ToLower(t) {
				case "true":
				case "false":
					out.insecure = true
				default:
					c.Warn("msg.rejectUnauthorized should be a boolean")
				}
			default:
				c.Warn("msg.rejectUnauthorized should be a boolean")
			}
		}
	}
	out.url = u
	out.urlText = rawURL
	return out, nil
}

func cookieValue(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case msg.Undefined:
		return "undefined"
	case *msg.Object:
		return "[object Object]"
	}
	return msg.ToString(v)
}

// setJarCookies stores cookies for the request URL as tough-cookie does
// for a Set-Cookie without attributes.
func setJarCookies(jar *cookiejar.Jar, u *url.URL, cs []*http.Cookie) {
	if len(cs) > 0 {
		jar.SetCookies(u, cs)
	}
}

// headerPart evaluates one side of a header row.
func headerPart(m *msg.Msg, typ, value string) any {
	switch typ {
	case "other":
		return value
	case "msg":
		v, ok, err := msg.Get(m.Object, value)
		if err != nil || !ok {
			return nil
		}
		return v
	}
	return typ
}

// stringifyAny is querystring.stringify for any payload: arrays by index,
// anything but an object or array gives "".
func stringifyAny(v any) string {
	switch t := v.(type) {
	case *msg.Object:
		return stringifyQS(t)
	case []any:
		o := msg.NewObject(len(t))
		for i, e := range t {
			o.Set(fmt.Sprint(i), e)
		}
		return stringifyQS(o)
	}
	return ""
}

// parseRequestURL parses as WHATWG URL would accept: spaces become %20.
func parseRequestURL(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, " ", "%20")
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("invalid URL %q", s)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u, nil
}

// formData builds a multipart body as the form-data library does: strings
// and Buffers as parts, {value, options: {filename, contentType}} as files,
// anything else as JSON.
func formData(o *msg.Object) ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for i := 0; i < o.Len(); i++ {
		k, v := o.At(i)
		if v == nil || msg.IsUndefined(v) {
			continue
		}
		var data []byte
		filename, ctype := "", ""
		switch t := v.(type) {
		case string:
			data = []byte(t)
		case []byte:
			data, ctype = t, "application/octet-stream"
		case *msg.Object:
			if val, ok := t.Get("value"); ok {
				switch vv := val.(type) {
				case []byte:
					data = vv
					ctype = "application/octet-stream"
				default:
					data = []byte(msg.ToString(vv))
				}
				if opts, ok := t.Value("options").(*msg.Object); ok {
					filename = str(opts.Value("filename"))
					if ct := str(opts.Value("contentType")); ct != "" {
						ctype = ct
					} else if filename != "" {
						if ct := mime.TypeByExtension(path.Ext(filename)); ct != "" {
							ctype = ct
						} else {
							ctype = "application/octet-stream"
						}
					}
				}
			} else {
				data = msg.Marshal(t)
			}
		default:
			data = msg.Marshal(t)
		}
		h := textproto.MIMEHeader{}
		disp := fmt.Sprintf(`form-data; name=%q`, k)
		if filename != "" {
			disp += fmt.Sprintf(`; filename=%q`, filename)
		}
		h.Set("Content-Disposition", disp)
		if ctype != "" {
			h.Set("Content-Type", ctype)
		}
		pw, err := w.CreatePart(h)
		if err != nil {
			return nil, "", err
		}
		if _, err := pw.Write(data); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// --- sending ---

var redirectCodes = map[int]bool{300: true, 301: true, 302: true, 303: true, 304: true, 307: true, 308: true}

// maxRedirects is got's limit as Node-RED sets it.
const maxRedirects = 21

// requestError is an error as got reports it: a name, a message and a
// Node error code.
type requestError struct {
	name, message, code string
	timeout             bool
}

func (e *requestError) Error() string { return e.name + ": " + e.message }

// Code is msg.error.code for catch nodes.
func (e *requestError) Code() string { return e.code }

// Stack is msg.error.stack; there are no JavaScript frames to show.
func (e *requestError) Stack() string { return e.Error() }

type hopResult struct {
	resp *http.Response
	body []byte
	url  *url.URL
}

// run sends the request, follows redirects and sends the message on.
func (n *httpRequest) run(c node.Ctx, m *msg.Msg, out *outgoing) {
	res, redirects, err := n.exchange(c, out)
	if err != nil {
		n.fail(c, m, out, err)
		return
	}
	hdrs := responseHeaders(res.resp.Header)
	m.Set("statusCode", float64(res.resp.StatusCode))
	m.Set("headers", hdrs)
	final := *res.url
	if out.userinfo != nil && final.Host == out.url.Host {
		final.User = out.userinfo
	}
	m.Set("responseUrl", final.String())
	m.Set("payload", res.body)
	m.Set("redirectList", redirects)
	m.Set("retry", float64(0))
	if sc, ok := hdrs.Value("set-cookie").([]any); ok {
		m.Set("responseCookies", extractCookies(sc))
	}
	hdrs.Set(requestNodeHeader, headerHash(hdrs))
	if n.ret != "bin" {
		s := decodeUTF8(res.body)
		m.Set("payload", s)
		if n.ret == "obj" {
			if res.resp.StatusCode == http.StatusNoContent {
				s = "{}"
			}
			if v, err := msg.UnmarshalString(s); err == nil {
				m.Set("payload", v)
			} else {
				c.Warn("JSON parse error")
			}
		}
	}
	if n.count.Add(-1) == 0 {
		c.Status(node.Status{})
	}
	c.Send(m)
	c.Done(m, nil)
}

func (n *httpRequest) fail(c node.Ctx, m *msg.Msg, out *outgoing, err error) {
	re := classify(err, out.timeout)
	if re.timeout {
		c.Error(errors.New("no response from server"), m)
		c.Status(node.Status{Fill: "red", Shape: "ring", Text: "common.notification.errors.no-response"})
	} else {
		c.Error(re, m)
		c.Status(node.Status{Fill: "red", Shape: "ring", Text: re.code})
	}
	m.Set("payload", re.Error()+" : "+out.urlText)
	if re.code != "" {
		m.Set("statusCode", re.code)
	} else {
		m.Set("statusCode", msg.Undefined{})
	}
	if !n.senderr {
		c.Send(m)
	}
	n.count.Add(-1)
	c.Done(m, nil)
}

// exchange performs the hops of one request.
func (n *httpRequest) exchange(c node.Ctx, out *outgoing) (*hopResult, []any, error) {
	client := &http.Client{
		Transport:     n.transport(out.insecure),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	redirects := []any{}
	method, u, headers := out.method, out.url, out.headers.clone()
	body, hasBody := out.body, out.hasBody
	sentDigest := false
	for hop := 0; ; hop++ {
		res, err := n.hop(client, method, u, headers, body, hasBody, out)
		if err != nil {
			return nil, nil, err
		}
		resp := res.resp
		setJarCookies(out.jar, u, resp.Cookies())
		loc := resp.Header.Get("Location")
		if out.follow && loc != "" && redirectCodes[resp.StatusCode] {
			if hop >= maxRedirects {
				return nil, nil, &requestError{name: "MaxRedirectsError", message: fmt.Sprintf("Redirected %d times. Aborting.", maxRedirects), code: "ERR_TOO_MANY_REDIRECTS"}
			}
			info := msg.ObjectOf("location", loc)
			if sc := resp.Header.Values("Set-Cookie"); len(sc) > 0 {
				l := make([]any, len(sc))
				for i, s := range sc {
					l[i] = s
				}
				info.Set("cookies", extractCookies(l))
			}
			redirects = append(redirects, info)
			next, err := u.Parse(loc)
			if err != nil {
				return nil, nil, &requestError{name: "RequestError", message: "Invalid URL", code: "ERR_INVALID_URL"}
			}
			if resp.StatusCode == http.StatusSeeOther && method != "GET" && method != "HEAD" {
				method, body, hasBody = "GET", nil, false
				headers.delFold("content-length")
			}
			if next.Hostname() != u.Hostname() || next.Port() != u.Port() {
				headers.delFold("host")
				headers.delFold("cookie")
				headers.delFold("authorization")
				out.digest = false
			}
			u = next
			continue
		}
		if out.digest && resp.StatusCode == http.StatusUnauthorized && !sentDigest {
			sentDigest = true
			if challenge := resp.Header.Get("WWW-Authenticate"); challenge != "" {
				auth, err := digestHeader(out.user, out.password, method, u.RequestURI(), challenge)
				if err != nil {
					c.Warn("Digest authentication failed: " + err.Error())
					return res, redirects, nil
				}
				headers.set("Authorization", auth)
			}
			continue
		}
		return res, redirects, nil
	}
}

// hop sends one request and reads its whole response within the timeout.
func (n *httpRequest) hop(client *http.Client, method string, u *url.URL, headers *headerList, body []byte, hasBody bool, out *outgoing) (*hopResult, error) {
	ctx, cancel := context.WithTimeout(n.ctx, out.timeout)
	defer cancel()
	var rd io.Reader
	if hasBody {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	if !hasBody {
		req.Body, req.ContentLength = nil, 0
	}
	for i, name := range headers.names {
		v := headers.vals[i]
		if !isToken(name) {
			return nil, &requestError{name: "RequestError", message: fmt.Sprintf("Header name must be a valid HTTP token [%q]", name), code: "ERR_INVALID_HTTP_TOKEN"}
		}
		switch strings.ToLower(name) {
		case "host":
			req.Host = headerString(v)
			continue
		case "content-length":
			continue // Go sends the body's own length
		}
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				req.Header[name] = append(req.Header[name], headerString(e))
			}
			continue
		}
		req.Header[name] = append(req.Header[name], headerString(v))
	}
	if cs := out.jar.Cookies(u); len(cs) > 0 {
		parts := make([]string, len(cs))
		for i, ck := range cs {
			parts[i] = ck.Name + "=" + ck.Value
		}
		req.Header.Set("Cookie", strings.Join(parts, "; "))
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &hopResult{resp: resp, body: data, url: u}, nil
}

// responseHeaders is IncomingMessage.headers: lower-case names, repeated
// headers joined (set-cookie kept as a list). Go does not keep the order
// headers arrived in, so they are sorted by name.
func responseHeaders(h http.Header) *msg.Object {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	o := msg.NewObject(len(names) + 1)
	for _, k := range names {
		vs := h[k]
		lk := strings.ToLower(k)
		switch {
		case len(vs) == 0:
		case lk == "set-cookie":
			l := make([]any, len(vs))
			for i, v := range vs {
				l[i] = v
			}
			o.Set(lk, l)
		case singleHeaders[lk]:
			o.Set(lk, vs[0])
		case lk == "cookie":
			o.Set(lk, strings.Join(vs, "; "))
		default:
			o.Set(lk, strings.Join(vs, ", "))
		}
	}
	return o
}

// extractCookies turns Set-Cookie headers into {name: {attributes...,
// value}} as the http request node does.
func extractCookies(list []any) *msg.Object {
	out := msg.NewObject(len(list))
	for _, item := range list {
		s, ok := item.(string)
		if !ok {
			continue
		}
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			continue
		}
		key := strings.TrimSpace(s[:eq])
		if key == "" {
			continue
		}
		parsed := cookieParse(s)
		val := parsed.Value(key)
		parsed.Delete(key)
		parsed.Set("value", val)
		out.Set(key, parsed)
	}
	return out
}

// classify words a Go error as got and Node would.
func classify(err error, timeout time.Duration) *requestError {
	var re *requestError
	if errors.As(err, &re) {
		return re
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return &requestError{name: "TimeoutError", message: fmt.Sprintf("Timeout awaiting 'request' for %dms", timeout.Milliseconds()), code: "ETIMEDOUT", timeout: true}
	}
	var op *net.OpError
	addr := ""
	if errors.As(err, &op) && op.Addr != nil {
		addr = op.Addr.String()
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		if dns.IsNotFound {
			return &requestError{name: "RequestError", message: "getaddrinfo ENOTFOUND " + dns.Name, code: "ENOTFOUND"}
		}
		return &requestError{name: "RequestError", message: "getaddrinfo EAI_AGAIN " + dns.Name, code: "EAI_AGAIN"}
	}
	for _, e := range []struct {
		errno syscall.Errno
		code  string
		verb  string
	}{
		{syscall.ECONNREFUSED, "ECONNREFUSED", "connect"},
		{syscall.EHOSTUNREACH, "EHOSTUNREACH", "connect"},
		{syscall.ENETUNREACH, "ENETUNREACH", "connect"},
		{syscall.ECONNRESET, "ECONNRESET", "read"},
		{syscall.EPIPE, "EPIPE", "write"},
	} {
		if errors.Is(err, e.errno) {
			text := e.verb + " " + e.code
			if e.verb == "connect" && addr != "" {
				text += " " + addr
			}
			return &requestError{name: "RequestError", message: text, code: e.code}
		}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &requestError{name: "RequestError", message: "socket hang up", code: "ECONNRESET"}
	}
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		if ua.Cert != nil && bytes.Equal(ua.Cert.RawIssuer, ua.Cert.RawSubject) {
			return &requestError{name: "RequestError", message: "self-signed certificate", code: "DEPTH_ZERO_SELF_SIGNED_CERT"}
		}
		return &requestError{name: "RequestError", message: "unable to verify the first certificate", code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE"}
	}
	var he x509.HostnameError
	if errors.As(err, &he) {
		return &requestError{name: "RequestError", message: "Hostname/IP does not match certificate's altnames: " + he.Error(), code: "ERR_TLS_CERT_ALTNAME_INVALID"}
	}
	var ci x509.CertificateInvalidError
	if errors.As(err, &ci) && ci.Reason == x509.Expired {
		return &requestError{name: "RequestError", message: "certificate has expired", code: "CERT_HAS_EXPIRED"}
	}
	text := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		text = ue.Err.Error()
	}
	if strings.Contains(text, "first record does not look like a TLS handshake") || strings.Contains(text, "tls:") {
		return &requestError{name: "RequestError", message: text, code: "EPROTO"}
	}
	return &requestError{name: "RequestError", message: text}
}

// --- digest authentication (RFC 2617 / 7616) ---

var challengeParam = regexp.MustCompile(`(?i)([a-z0-9_-]+)=(?:"([^"]+)"|([a-z0-9_-]+))`)
var qopAuth = regexp.MustCompile(`(^|,)\s*auth\s*($|,)`)

func digestHash(algorithm, s string) string {
	var h hash.Hash
	switch strings.TrimSuffix(strings.ToLower(algorithm), "-sess") {
	case "sha-256":
		h = sha256.New()
	case "sha-512-256":
		sum := sha512.Sum512([]byte(s))
		return hex.EncodeToString(sum[:])[:64]
	default:
		h = md5.New()
	}
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

// digestHeader answers a WWW-Authenticate digest challenge the way the
// http request node does.
func digestHeader(user, pass, method, uri, challenge string) (string, error) {
	params := map[string]string{}
	for _, m := range challengeParam.FindAllStringSubmatch(challenge, -1) {
		v := m[2]
		if v == "" {
			v = m[3]
		}
		params[m[1]] = v
	}
	if params["nonce"] == "" {
		return "", errors.New("Invalid digest challenge: missing nonce")
	}
	if params["realm"] == "" {
		return "", errors.New("Invalid digest challenge: missing realm")
	}
	alg := params["algorithm"]
	qop, nc, cnonce := "", "", ""
	if qopAuth.MatchString(params["qop"]) {
		qop, nc = "auth", "00000001"
		var b [16]byte
		_, _ = rand.Read(b[:])
		cnonce = hex.EncodeToString(b[:])
	}
	ha1 := digestHash(alg, user+":"+params["realm"]+":"+pass)
	if strings.HasSuffix(strings.ToLower(alg), "-sess") {
		ha1 = digestHash(alg, ha1+":"+params["nonce"]+":"+cnonce)
	}
	ha2 := digestHash(alg, method+":"+uri)
	var response string
	if qop != "" {
		response = digestHash(alg, ha1+":"+params["nonce"]+":"+nc+":"+cnonce+":"+qop+":"+ha2)
	} else {
		response = digestHash(alg, ha1+":"+params["nonce"]+":"+ha2)
	}
	fields := []struct{ k, v string }{
		{"username", user}, {"realm", params["realm"]}, {"nonce", params["nonce"]}, {"uri", uri},
		{"qop", qop}, {"response", response}, {"nc", nc}, {"cnonce", cnonce},
		{"algorithm", alg}, {"opaque", params["opaque"]},
	}
	var parts []string
	for _, f := range fields {
		if f.v == "" {
			continue
		}
		if f.k == "qop" || f.k == "nc" || f.k == "algorithm" {
			parts = append(parts, f.k+"="+f.v)
		} else {
			parts = append(parts, f.k+`="`+f.v+`"`)
		}
	}
	return "Digest " + strings.Join(parts, ", "), nil
}
