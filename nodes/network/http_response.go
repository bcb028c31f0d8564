package network

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "http response", Category: "network", Color: "rgb(231, 231, 174)", Icon: "white-globe.svg",
		Inputs: 1, Outputs: 0,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString},
			{Name: "statusCode", Kind: node.KindString, Label: "Status code", Check: checkStatusCode},
			{Name: "headers", Kind: node.KindObject, Default: msg.NewObject(0), Label: "Headers"},
		},
		Help: "Answers the request of the `http in` node a message came from (`msg.res`).\n\n" +
			"The status is the node's `statusCode`, else `msg.statusCode`, else 200. Headers are the node's, plus those of `msg.headers` " +
			"the node does not set (headers that came unchanged from an `http request` node are left out). `msg.cookies` sets cookies " +
			"(`{name: value}` or `{name: {value, maxAge, path, domain, httpOnly, secure, sameSite}}`) and clears those that are `null` or have a `null` value.\n\n" +
			"An object or array payload is sent as JSON, a Buffer as is, a string as text/html unless a content type is set, a number as its text. " +
			"A weak ETag is added and a matching `If-None-Match` gets 304, as Express does.",
		New: newHTTPResponse,
	})
}

func checkStatusCode(v any, _ *node.Config) error {
	s := strings.TrimSpace(msg.ToString(v))
	if v == nil || s == "" {
		return nil
	}
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return fmt.Errorf("status code %q is not a number", s)
	}
	return nil
}

type httpResponse struct {
	status  int
	headers *msg.Object
}

func newHTTPResponse(cfg *node.Config) (node.Node, error) {
	n := &httpResponse{headers: msg.NewObject(0)}
	if st, ok := parseIntJS(cfg.Str("statusCode")); ok {
		n.status = st
	}
	switch h := cfg.Get("headers").(type) {
	case *msg.Object:
		n.headers = h
	case nil:
	default:
		return nil, node.BadProp("headers", h, "must be an object of header names and values")
	}
	return n, nil
}

func (n *httpResponse) Input(c node.Ctx, m *msg.Msg) error {
	rv, _ := m.Get("res")
	res, ok := rv.(*httpRes)
	if !ok {
		if msg.Truthy(rv) && !msg.IsUndefined(rv) {
			return &node.JSError{Name: "TypeError", Message: "msg.res is not the response of an http in node"}
		}
		c.Warn("No response object")
		return nil
	}
	headers := n.headers.Clone()
	if mh, ok := m.Value("headers").(*msg.Object); ok {
		if tag, ok := mh.Get(requestNodeHeader); ok {
			mh.Delete(requestNodeHeader)
			if tag == headerHash(mh) {
				// The headers came unchanged from an http request node: they
				// describe another response, not this one.
				m.Delete("headers")
				mh = nil
			}
		}
		if mh != nil {
			for i := 0; i < mh.Len(); i++ {
				k, v := mh.At(i)
				if !headers.Has(k) {
					headers.Set(k, v)
				}
			}
		}
	}
	status := n.status
	if status == 0 {
		if st, ok := parseIntJS(msg.ToString(m.Value("statusCode"))); ok && st != 0 {
			status = st
		}
	}
	if status == 0 {
		status = 200
	}
	payload, has := m.Get("payload")
	if b, isBool := payload.(bool); isBool {
		// Node-RED measures the payload with Buffer.byteLength, which throws
		// on a boolean; the request stays unanswered for a catch flow.
		return &node.JSError{Name: "TypeError [ERR_INVALID_ARG_TYPE]",
			Message: fmt.Sprintf(`The "string" argument must be of type string or an instance of Buffer or ArrayBuffer. Received type boolean (%t)`, b)}
	}
	if status < 100 || status > 999 {
		return &node.JSError{Name: "RangeError [ERR_HTTP_INVALID_STATUS_CODE]", Message: fmt.Sprintf("Invalid status code: %d", status)}
	}
	cookies, _ := m.Value("cookies").(*msg.Object)
	return res.answer(func(w http.ResponseWriter) error {
		h := w.Header()
		for i := 0; i < headers.Len(); i++ {
			k, v := headers.At(i)
			if err := setHeader(h, k, v); err != nil {
				return err
			}
		}
		if cookies != nil {
			setCookies(h, cookies)
		}
		switch p := payload.(type) {
		case string:
			presetLength(h, len(p))
			return res.sendString(w, status, p)
		case float64:
			s := msg.FormatNumber(p)
			presetLength(h, len(s))
			return res.sendString(w, status, s)
		case []byte:
			presetLength(h, len(p))
			return res.sendBytes(w, status, p, false)
		case msg.Undefined:
			has = false
		}
		if !has {
			presetLength(h, 0)
			return res.sendBytes(w, status, nil, true)
		}
		return res.jsonp(w, status, payload)
	})
}

// presetLength is the node's own Content-Length, kept when msg.headers
// already has one.
func presetLength(h http.Header, n int) {
	if h.Get("Content-Length") == "" {
		h.Set("Content-Length", strconv.Itoa(n))
	}
}

// requestNodeHeader marks msg.headers an http request node produced.
const requestNodeHeader = "x-node-red-request-node"

// headerHash fingerprints a headers object so an http response node can
// tell whether a flow changed the headers an http request node returned.
// Node-RED uses hash-sum; only Sluice's own nodes compare the values.
func headerHash(o *msg.Object) string {
	h := fnv.New32a()
	_, _ = h.Write(msg.Marshal(o))
	return fmt.Sprintf("%08x", h.Sum32())
}

// --- Express's res.set, res.cookie, res.send and res.jsonp ---

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func headerString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case *msg.Object:
		return "[object Object]"
	case []byte:
		return string(t)
	}
	return msg.ToString(v)
}

var charsetParam = regexp.MustCompile(`(?i);\s*charset\s*=`)

// setHeader is res.set(name, value): arrays give repeated headers, and a
// text or JSON content type without a charset gets charset=utf-8.
func setHeader(h http.Header, name string, v any) error {
	if !isToken(name) {
		return &node.JSError{Name: "TypeError [ERR_INVALID_HTTP_TOKEN]", Message: fmt.Sprintf("Header name must be a valid HTTP token [%q]", name)}
	}
	var vals []string
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			vals = append(vals, headerString(e))
		}
	} else {
		vals = []string{headerString(v)}
	}
	for _, s := range vals {
		if !validHeaderValue(s) {
			return &node.JSError{Name: "TypeError [ERR_INVALID_CHAR]", Message: fmt.Sprintf("Invalid character in header content [%q]", name)}
		}
	}
	if strings.EqualFold(name, "Content-Type") && len(vals) == 1 && !charsetParam.MatchString(vals[0]) {
		base := strings.ToLower(strings.TrimSpace(strings.SplitN(vals[0], ";", 2)[0]))
		if strings.HasPrefix(base, "text/") || strings.HasPrefix(base, "application/javascript") || strings.HasPrefix(base, "application/json") {
			vals[0] += "; charset=utf-8"
		}
	}
	h[http.CanonicalHeaderKey(name)] = vals
	return nil
}

// setCookies applies msg.cookies as the http response node does with
// res.cookie and res.clearCookie.
func setCookies(h http.Header, cookies *msg.Object) {
	for i := 0; i < cookies.Len(); i++ {
		name, v := cookies.At(i)
		opts, isObj := v.(*msg.Object)
		switch {
		case v == nil || isObj && opts.Has("value") && opts.Value("value") == nil:
			o := msg.NewObject(4)
			o.Set("expires", time.UnixMilli(1))
			o.Set("path", "/")
			if isObj {
				for j := 0; j < opts.Len(); j++ {
					k, ov := opts.At(j)
					o.Set(k, ov)
				}
			}
			h.Add("Set-Cookie", serializeCookie(name, "", o))
		case isObj:
			val := opts.Value("value")
			var s string
			switch t := val.(type) {
			case *msg.Object, []any:
				s = "j:" + string(msg.Marshal(t))
			case nil:
				s = "undefined"
			default:
				s = msg.ToString(t)
			}
			h.Add("Set-Cookie", serializeCookie(name, s, opts))
		default:
			h.Add("Set-Cookie", serializeCookie(name, msg.ToString(v), nil))
		}
	}
}

// serializeCookie is res.cookie: maxAge (ms) gives Max-Age (s) and
// Expires, path defaults to "/", attributes in the cookie module's order.
func serializeCookie(name, value string, opts *msg.Object) string {
	if opts == nil {
		opts = msg.NewObject(0)
	}
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('=')
	b.WriteString(encodeURIComponent(value))
	var expires time.Time
	hasExpires := false
	if e, ok := opts.Get("expires"); ok && e != nil {
		switch t := e.(type) {
		case time.Time:
			expires, hasExpires = t, true
		case float64:
			expires, hasExpires = time.UnixMilli(int64(t)), true
		case string:
			if tm, err := http.ParseTime(t); err == nil {
				expires, hasExpires = tm, true
			} else if tm, err := time.Parse(time.RFC3339, t); err == nil {
				expires, hasExpires = tm, true
			}
		}
	}
	if ma, ok := opts.Get("maxAge"); ok && ma != nil && !msg.IsUndefined(ma) {
		f := msg.ToNumber(ma)
		if f == f {
			expires, hasExpires = time.Now().Add(time.Duration(f)*time.Millisecond), true
			fmt.Fprintf(&b, "; Max-Age=%d", int64(floorDiv(f, 1000)))
		}
	}
	if d := str(opts.Value("domain")); d != "" {
		b.WriteString("; Domain=" + d)
	}
	path := "/"
	if p, ok := opts.Get("path"); ok && p != nil {
		path = str(p)
	}
	b.WriteString("; Path=" + path)
	if hasExpires {
		b.WriteString("; Expires=" + expires.UTC().Format(http.TimeFormat))
	}
	if msg.Truthy(opts.Value("httpOnly")) {
		b.WriteString("; HttpOnly")
	}
	if msg.Truthy(opts.Value("secure")) {
		b.WriteString("; Secure")
	}
	if msg.Truthy(opts.Value("partitioned")) {
		b.WriteString("; Partitioned")
	}
	if p, ok := opts.Value("priority").(string); ok {
		switch strings.ToLower(p) {
		case "low":
			b.WriteString("; Priority=Low")
		case "medium":
			b.WriteString("; Priority=Medium")
		case "high":
			b.WriteString("; Priority=High")
		}
	}
	switch ss := opts.Value("sameSite").(type) {
	case bool:
		if ss {
			b.WriteString("; SameSite=Strict")
		}
	case string:
		switch strings.ToLower(ss) {
		case "lax":
			b.WriteString("; SameSite=Lax")
		case "strict":
			b.WriteString("; SameSite=Strict")
		case "none":
			b.WriteString("; SameSite=None")
		}
	}
	return b.String()
}

func floorDiv(f, d float64) float64 {
	q := f / d
	if q < 0 && q != float64(int64(q)) {
		return float64(int64(q) - 1)
	}
	return float64(int64(q))
}

var jsonpCallbackJunk = regexp.MustCompile(`[^\[\]\w$.]`)

// jsonp is res.jsonp: JSON, or a JavaScript callback call when the query
// names one in "callback".
func (x *httpRes) jsonp(w http.ResponseWriter, status int, v any) error {
	body := string(msg.Marshal(v))
	h := w.Header()
	if h.Get("Content-Type") == "" {
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Type", "application/json")
	}
	var cb string
	if q, ok := x.raw.Value("query").(*msg.Object); ok {
		switch t := q.Value("callback").(type) {
		case string:
			cb = t
		case []any:
			if len(t) > 0 {
				cb, _ = t[0].(string)
			}
		}
	}
	if cb != "" {
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Type", "text/javascript")
		cb = jsonpCallbackJunk.ReplaceAllString(cb, "")
		body = strings.NewReplacer("\u2028", `\u2028`, "\u2029", `\u2029`).Replace(body)
		body = "/**/ typeof " + cb + " === 'function' && " + cb + "(" + body + ");"
	}
	return x.sendString(w, status, body)
}

// sendString is res.send(string): text/html unless a type is set, and the
// charset made utf-8.
func (x *httpRes) sendString(w http.ResponseWriter, status int, s string) error {
	h := w.Header()
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/html"
	}
	h.Set("Content-Type", withCharset(ct, "utf-8"))
	return x.sendBytes(w, status, []byte(s), false)
}

func withCharset(ct, cs string) string {
	if !strings.ContainsAny(ct, "; \t\"") {
		return strings.ToLower(ct) + "; charset=" + cs
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return ct
	}
	params["charset"] = cs
	if out := mime.FormatMediaType(mt, params); out != "" {
		return out
	}
	return ct
}

// sendBytes is the rest of res.send: a Buffer defaults to
// application/octet-stream, a body gets a weak ETag and Content-Length, a
// fresh conditional GET gets 304, and 204/304 carry no body. undef is
// res.send(undefined): no type, no ETag, no body.
func (x *httpRes) sendBytes(w http.ResponseWriter, status int, b []byte, undef bool) error {
	h := w.Header()
	if !undef {
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "application/octet-stream")
		}
		if h.Get("ETag") == "" {
			h.Set("ETag", weakETag(b))
		}
		h.Set("Content-Length", strconv.Itoa(len(b)))
	}
	if (status >= 200 && status < 300 || status == 304) && fresh(x.r, h) {
		status = http.StatusNotModified
	}
	if status == http.StatusNoContent || status == http.StatusNotModified {
		h.Del("Content-Type")
		h.Del("Content-Length")
		h.Del("Transfer-Encoding")
		b = nil
	}
	w.WriteHeader(status)
	if x.r.Method != http.MethodHead && len(b) > 0 {
		_, _ = w.Write(b)
	}
	return nil
}

// weakETag is Express's default ETag: W/"<length in hex>-<27 characters of
// the base64 SHA-1>".
func weakETag(b []byte) string {
	sum := sha1.Sum(b)
	return `W/"` + strconv.FormatInt(int64(len(b)), 16) + "-" + base64.StdEncoding.EncodeToString(sum[:])[:27] + `"`
}

var noCache = regexp.MustCompile(`(?:^|,)\s*?no-cache\s*?(?:,|$)`)

// fresh is the fresh module: a GET or HEAD whose validators match the
// response's ETag or Last-Modified.
func fresh(r *http.Request, h http.Header) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	since, match := r.Header.Get("If-Modified-Since"), r.Header.Get("If-None-Match")
	if since == "" && match == "" {
		return false
	}
	if noCache.MatchString(r.Header.Get("Cache-Control")) {
		return false
	}
	if match != "" && match != "*" {
		etag := h.Get("ETag")
		if etag == "" {
			return false
		}
		ok := false
		for _, t := range strings.Split(match, ",") {
			t = strings.TrimSpace(t)
			if t == etag || t == "W/"+etag || "W/"+t == etag {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if since != "" {
		lm := h.Get("Last-Modified")
		lt, err1 := http.ParseTime(lm)
		st, err2 := http.ParseTime(since)
		if lm == "" || err1 != nil || err2 != nil || lt.After(st) {
			return false
		}
	}
	return true
}
