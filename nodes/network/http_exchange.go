package network

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/sluicehq/sluice/runtime/msg"
)

// An exchange is one request to an http in node: msg.req is a plain object
// holding what Express's req offers flows (so change, switch and templates
// read msg.req.params.id as in Node-RED), msg.res an opaque handle on the
// response that the http response node answers through.

// httpRes is msg.res. Copies of a message share it, as Node-RED shares
// res between clones.
type httpRes struct {
	w   http.ResponseWriter
	r   *http.Request
	raw *msg.Object // msg.req, whose query names a JSONP callback

	mu     sync.Mutex
	sent   bool // an answer was written
	closed bool // the handler returned: w must not be touched
	done   chan struct{}
}

func newRes(w http.ResponseWriter, r *http.Request, req *msg.Object) *httpRes {
	return &httpRes{w: w, r: r, raw: req, done: make(chan struct{})}
}

// errHeadersSent is what Node says when a response is answered twice.
var errHeadersSent = errors.New("Error [ERR_HTTP_HEADERS_SENT]: Cannot set headers after they are sent to the client")

// answer runs write with the response locked, once. It reports
// errHeadersSent for a second answer; an answer after the client went away
// is dropped silently, as writing to a closed socket is in Node.
func (x *httpRes) answer(write func(w http.ResponseWriter) error) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil
	}
	if x.sent {
		return errHeadersSent
	}
	if err := write(x.w); err != nil {
		return err
	}
	x.sent = true
	close(x.done)
	return nil
}

// finish is called by the handler before it returns: from then on w is
// dead. It reports whether an answer was written.
func (x *httpRes) finish(fallback func(w http.ResponseWriter)) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.sent && fallback != nil {
		fallback(x.w)
	}
	x.closed = true
	return x.sent
}

// --- msg.req ---

// singleHeaders keep their first value when repeated, as Node's
// IncomingMessage does; set-cookie is a list, cookie joins with "; ",
// every other header with ", ".
var singleHeaders = map[string]bool{
	"age": true, "authorization": true, "content-length": true, "content-type": true, "etag": true,
	"expires": true, "from": true, "host": true, "if-modified-since": true, "if-unmodified-since": true,
	"last-modified": true, "location": true, "max-forwards": true, "proxy-authorization": true,
	"referer": true, "retry-after": true, "server": true, "user-agent": true,
}

// headerObject is req.headers: lower-case names. Go does not keep the
// order headers arrived in, so after host they are sorted by name.
func headerObject(r *http.Request) *msg.Object {
	names := make([]string, 0, len(r.Header)+1)
	for k := range r.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	o := msg.NewObject(len(names) + 2)
	if r.Host != "" {
		o.Set("host", r.Host)
	}
	for _, k := range names {
		vs := r.Header[k]
		lk := strings.ToLower(k)
		if lk == "host" || len(vs) == 0 {
			continue
		}
		switch {
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
	if len(r.TransferEncoding) > 0 {
		o.Set("transfer-encoding", strings.Join(r.TransferEncoding, ", "))
	}
	return o
}

// cookieParse is the cookie module's parse: name=value pairs split on ';',
// the first of each name wins, quotes are stripped and values URI-decoded
// when they decode.
func cookieParse(header string) *msg.Object {
	o := msg.NewObject(4)
	for _, part := range strings.Split(header, ";") {
		eq := strings.IndexByte(part, '=')
		if eq < 0 {
			continue
		}
		k := strings.TrimSpace(part[:eq])
		if k == "" || o.Has(k) {
			continue
		}
		v := strings.TrimSpace(part[eq+1:])
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		if strings.Contains(v, "%") {
			if d, err := decodeURIComponent(v); err == nil {
				v = d
			}
		}
		o.Set(k, v)
	}
	return o
}

// parseCookies is cookie-parser: cookieParse, then "j:" values parsed as
// JSON when that gives something truthy.
func parseCookies(header string) *msg.Object {
	o := cookieParse(header)
	for i := 0; i < o.Len(); i++ {
		k, v := o.At(i)
		if s, _ := v.(string); strings.HasPrefix(s, "j:") {
			if j, err := msg.UnmarshalString(s[2:]); err == nil && msg.Truthy(j) {
				o.Set(k, j)
			}
		}
	}
	return o
}

func decodeURIComponent(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", fmt.Errorf("URIError: URI malformed")
		}
		b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
		i += 2
	}
	out := b.String()
	if !utf8.ValidString(out) {
		return "", fmt.Errorf("URIError: URI malformed")
	}
	return out, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// requestObject builds msg.req. baseURL is the httpNodeRoot the router is
// mounted under ("" at the root); files is nil unless uploads were parsed.
func requestObject(r *http.Request, params []string, baseURL string, body any, files []any) *msg.Object {
	ps := msg.NewObject(len(params) / 2)
	for i := 0; i+1 < len(params); i += 2 {
		ps.Set(params[i], params[i+1])
	}
	headers := headerObject(r)
	original := r.RequestURI
	if original == "" {
		original = r.URL.RequestURI()
	}
	rel := r.URL.EscapedPath()
	if rel == "" {
		rel = "/"
	}
	relURL := rel
	if r.URL.RawQuery != "" || r.URL.ForceQuery {
		relURL += "?" + r.URL.RawQuery
	}
	var cookies *msg.Object
	if c, ok := headers.Value("cookie").(string); ok {
		cookies = parseCookies(c)
	} else {
		cookies = msg.NewObject(0)
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") {
		host = strings.Trim(host, "[]")
	}
	ip := r.RemoteAddr
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	o := msg.NewObject(20)
	o.Set("url", relURL)
	o.Set("method", r.Method)
	o.Set("httpVersion", fmt.Sprintf("%d.%d", r.ProtoMajor, r.ProtoMinor))
	o.Set("baseUrl", baseURL)
	o.Set("originalUrl", original)
	o.Set("params", ps)
	o.Set("query", parseQS(r.URL.RawQuery, queryQS))
	o.Set("body", body)
	if files != nil {
		o.Set("files", files)
	}
	o.Set("cookies", cookies)
	o.Set("signedCookies", msg.NewObject(0))
	o.Set("headers", headers)
	o.Set("path", rel)
	o.Set("hostname", host)
	o.Set("ip", ip)
	o.Set("ips", []any{})
	o.Set("protocol", proto)
	o.Set("secure", r.TLS != nil)
	o.Set("xhr", strings.EqualFold(r.Header.Get("X-Requested-With"), "xmlhttprequest"))
	return o
}

// --- bodies ---

// httpError is a request the body parsers refuse: Express's final handler
// answers it with the status and the error's text.
type httpError struct {
	status int
	text   string
}

func (e *httpError) Error() string { return e.text }

func (e *httpError) write(w http.ResponseWriter) {
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(e.status)
	_, _ = io.WriteString(w, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>"+
		html.EscapeString(e.text)+"</pre>\n</body>\n</html>\n")
}

// bodyOptions are an http in node's parsing choices.
type bodyOptions struct {
	raw    bool  // skipBodyParsing: the body as a Buffer, whatever its type
	upload bool  // multipart bodies become msg.req.files (POST only)
	limit  int64 // apiMaxLength, for JSON and urlencoded bodies
}

func readAll(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	if limit <= 0 {
		return io.ReadAll(r.Body)
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &httpError{http.StatusRequestEntityTooLarge, "PayloadTooLargeError: request entity too large"}
	}
	return b, nil
}

func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || len(r.TransferEncoding) > 0 || r.Header.Get("Content-Length") != ""
}

// parseBody reads the body as Node-RED's middleware chain does for POST,
// PUT, PATCH and DELETE: raw capture when asked, else JSON and urlencoded
// bodies are parsed, multipart ones give files when uploads are on, and
// anything else is text (text/*, XML, most application/* types and no type
// at all) or a Buffer.
func parseBody(r *http.Request, opt bodyOptions) (body any, files []any, err error) {
	if opt.raw {
		b, err := readAll(r, 0)
		if b == nil {
			b = []byte{}
		}
		return b, nil, err
	}
	ctype := r.Header.Get("Content-Type")
	media := ""
	var params map[string]string
	if ctype != "" {
		media, params, _ = mime.ParseMediaType(ctype)
		media = strings.ToLower(media)
	}
	switch {
	case media == "application/json" && hasBody(r):
		if cs := strings.ToLower(params["charset"]); cs != "" && !strings.HasPrefix(cs, "utf-") {
			return nil, nil, &httpError{http.StatusUnsupportedMediaType, fmt.Sprintf("UnsupportedMediaTypeError: unsupported charset %q", strings.ToUpper(cs))}
		}
		b, err := readAll(r, opt.limit)
		if err != nil {
			return nil, nil, err
		}
		v, err := parseStrictJSON(b)
		return v, nil, err
	case media == "application/x-www-form-urlencoded" && hasBody(r):
		b, err := readAll(r, opt.limit)
		if err != nil {
			return nil, nil, err
		}
		return parseQS(string(b), formQS), nil, nil
	case opt.upload && r.Method == http.MethodPost:
		if strings.HasPrefix(media, "multipart/") {
			return parseMultipart(r)
		}
		// multer marks every body read, so nothing after it parses one.
		return msg.NewObject(0), nil, nil
	}
	b, err := readAll(r, 0)
	if err != nil {
		return nil, nil, err
	}
	if isTextType(media, ctype != "") {
		return decodeUTF8(b), nil, nil
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil, nil
}

func isTextType(media string, present bool) bool {
	if !present || media == "" {
		return true
	}
	typ, sub, _ := strings.Cut(media, "/")
	switch {
	case typ == "text", sub == "xml", strings.HasSuffix(sub, "+xml"):
		return true
	case typ != "application":
		return false
	}
	return sub != "octet-stream" && sub != "cbor" && sub != "x-protobuf"
}

var (
	jsonFirst = regexp.MustCompile(`^[\x20\x09\x0a\x0d]*([^\x20\x09\x0a\x0d])`)
	hashRun   = regexp.MustCompile(`#+`)
)

// parseStrictJSON is body-parser's strict JSON: an empty body is {}, only
// an object or array is accepted, and errors read as JSON.parse's.
func parseStrictJSON(b []byte) (any, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if len(b) == 0 {
		return msg.NewObject(0), nil
	}
	s := decodeUTF8(b)
	if m := jsonFirst.FindStringSubmatchIndex(s); m != nil {
		first := s[m[2]:m[3]]
		if first != "{" && first != "[" {
			// Parse a copy with '#' from the offending character on, and put
			// the original text back into the error, as body-parser does.
			idx := m[2]
			partial := s[:idx] + strings.Repeat("#", len([]rune(s[idx:])))
			_, err := msg.UnmarshalString(partial)
			text := "Unexpected token"
			if err != nil {
				text = err.Error()
			}
			text = hashRun.ReplaceAllStringFunc(text, func(h string) string {
				r := []rune(s[idx:])
				if len(h) > len(r) {
					return string(r)
				}
				return string(r[:len(h)])
			})
			return nil, &httpError{http.StatusBadRequest, "SyntaxError: " + text}
		}
	}
	v, err := msg.UnmarshalString(s)
	if err != nil {
		return nil, &httpError{http.StatusBadRequest, "SyntaxError: " + err.Error()}
	}
	return v, nil
}

// parseMultipart is multer with memory storage: fields into the body
// (bracketed names nest), files into a list.
func parseMultipart(r *http.Request) (any, []any, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, &httpError{http.StatusBadRequest, "Error: " + err.Error()}
	}
	var body any = msg.NewObject(4)
	files := []any{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, &httpError{http.StatusBadRequest, "Error: Unexpected end of form"}
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, nil, &httpError{http.StatusBadRequest, "Error: " + err.Error()}
		}
		if p.FileName() == "" {
			body = qsMerge(body, qsBuild(p.FormName(), decodeUTF8(data), formQS), formQS)
			continue
		}
		enc := p.Header.Get("Content-Transfer-Encoding")
		if enc == "" {
			enc = "7bit"
		}
		mt := p.Header.Get("Content-Type")
		if mt == "" {
			mt = "text/plain"
		}
		files = append(files, msg.ObjectOf(
			"fieldname", p.FormName(), "originalname", p.FileName(), "encoding", enc,
			"mimetype", mt, "buffer", data, "size", float64(len(data))))
	}
	return qsCompact(body), files, nil
}

// parseBytes reads a size as the bytes library does ("5mb", "100kb", 1024).
func parseBytes(v any, def int64) int64 {
	switch t := v.(type) {
	case float64:
		if t > 0 {
			return int64(t)
		}
	case string:
		s := strings.ToLower(strings.TrimSpace(t))
		mult := int64(1)
		for _, u := range []struct {
			suffix string
			m      int64
		}{{"pb", 1 << 50}, {"tb", 1 << 40}, {"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"b", 1}} {
			if strings.HasSuffix(s, u.suffix) {
				s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.m
				break
			}
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 {
			return int64(f * float64(mult))
		}
	}
	return def
}
