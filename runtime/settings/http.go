package settings

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
)

// formatRoot gives a URL prefix a leading and a trailing slash, as Node-RED
// does with its roots.
func formatRoot(root string) string {
	if !strings.HasPrefix(root, "/") {
		root = "/" + root
	}
	if !strings.HasSuffix(root, "/") {
		root += "/"
	}
	return root
}

// finish applies the rules that span settings: httpRoot as the fallback of
// the admin and node roots, the static root, httpAuth as the fallback of
// the admin and node auth.
func (d *dec) finish() {
	s := d.s
	root := func(r rootSetting) string {
		if d.httpRoot.off || r.off {
			return ""
		}
		switch {
		case r.set:
			return formatRoot(r.path)
		case d.httpRoot.set:
			return formatRoot(d.httpRoot.path)
		}
		return "/"
	}
	s.HTTPAdminRoot = root(d.adminRoot)
	s.HTTPNodeRoot = root(d.nodeRoot)
	if s.HTTPAdminRoot == "" {
		s.DisableEditor = true
	}
	if len(d.statics) > 0 {
		d.staticRoot = formatRoot(d.staticRoot)
		s.HTTPStatic = make([]Static, len(d.statics))
		for i, st := range d.statics {
			s.HTTPStatic[i] = Static{Path: st.Path, Root: formatRoot(path.Join(d.staticRoot, formatRoot(st.Root)))}
		}
	}
	if d.httpAuth != nil {
		if s.HTTPAdminAuth == nil {
			s.HTTPAdminAuth = d.httpAuth
		}
		if s.HTTPNodeAuth == nil {
			s.HTTPNodeAuth = d.httpAuth.Clone()
		}
	}
}

func decodeStaticRoot(d *dec, path string, v any) {
	if s, ok := d.str(path, v, "a URL path"); ok {
		d.staticRoot = s
	}
}

// decodeStatic takes a directory, or a list of directories and
// {path, root} objects.
func decodeStatic(d *dec, p string, v any) {
	if isOff(v) {
		return
	}
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	for i, it := range items {
		ip := p
		if _, list := v.([]any); list {
			ip = fmt.Sprintf("%s[%d]", p, i)
		}
		switch t := it.(type) {
		case string:
			if t == "" {
				d.typeErr(ip, "a directory path", it)
				continue
			}
			d.statics = append(d.statics, Static{Path: t})
		case *msg.Object:
			st := Static{}
			d.fields(ip, t, map[string]func(string, any){
				"path": func(fp string, v any) {
					if s, ok := d.nonEmpty(fp, v); ok {
						st.Path = s
					}
				},
				"root": func(fp string, v any) {
					if s, ok := d.str(fp, v, "a URL path"); ok {
						st.Root = s
					}
				},
				"options": func(fp string, v any) {
					if !isOff(v) {
						d.ignore(fp, "express.static options are not supported")
					}
				},
			}, false)
			if st.Path == "" {
				if !t.Has("path") {
					d.fail(ip, "has no path (the directory to serve)")
				}
				continue
			}
			d.statics = append(d.statics, st)
		default:
			d.typeErr(ip, "a directory path or an object {path, root}", it)
		}
	}
}

func decodeCORS(d *dec, p string, v any) {
	if v == nil || v == false {
		return
	}
	o, ok := d.object(p, v)
	if !ok {
		return
	}
	c := &CORS{
		Origin:               []string{"*"},
		Methods:              []string{"GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"},
		MaxAge:               -1,
		OptionsSuccessStatus: 204,
	}
	list := func(fp string, v any) []string {
		l, _ := d.strList(fp, v)
		return l
	}
	d.fields(p, o, map[string]func(string, any){
		"origin": func(fp string, v any) {
			switch t := v.(type) {
			case bool:
				c.Origin, c.ReflectOrigin = nil, t
				if !t {
					c = nil // origin: false turns CORS off
				}
			default:
				c.Origin = list(fp, t)
			}
		},
		"methods":        func(fp string, v any) { setIf(c, func() { c.Methods = list(fp, v) }) },
		"allowedHeaders": func(fp string, v any) { setIf(c, func() { c.AllowedHeaders = list(fp, v) }) },
		"exposedHeaders": func(fp string, v any) { setIf(c, func() { c.ExposedHeaders = list(fp, v) }) },
		"credentials": func(fp string, v any) {
			b, _ := d.boolean(fp, v)
			setIf(c, func() { c.Credentials = b })
		},
		"maxAge": func(fp string, v any) {
			n, _ := d.integer(fp, v, 0, 1<<31-1, "a number of seconds")
			setIf(c, func() { c.MaxAge = n })
		},
		"preflightContinue": func(fp string, v any) {
			b, _ := d.boolean(fp, v)
			setIf(c, func() { c.PreflightContinue = b })
		},
		"optionsSuccessStatus": func(fp string, v any) {
			n, _ := d.integer(fp, v, 200, 299, "an HTTP success status (200-299)")
			setIf(c, func() { c.OptionsSuccessStatus = n })
		},
	}, true)
	d.s.HTTPNodeCors = c
}

func setIf(c *CORS, f func()) {
	if c != nil {
		f()
	}
}

// decodeHTTPS takes key and cert, each a file path or PEM text. Unknown
// fields are errors even in a settings.js: a dropped TLS option (a client
// CA, a passphrase) changes what the server accepts.
func decodeHTTPS(d *dec, p string, v any) {
	if isOff(v) {
		return
	}
	o, ok := d.object(p, v)
	if !ok {
		return
	}
	h := &HTTPS{}
	pem := func(fp string, v any, file *string, text *[]byte) {
		s, ok := d.nonEmpty(fp, v)
		if !ok {
			return
		}
		if strings.Contains(s, "-----BEGIN") {
			*text = []byte(s)
			return
		}
		if !filepath.IsAbs(s) && d.fromFile(fp) {
			s = filepath.Join(filepath.Dir(d.src.file), s)
		}
		*file = s
	}
	d.fields(p, o, map[string]func(string, any){
		"key":  func(fp string, v any) { pem(fp, v, &h.KeyFile, &h.Key) },
		"cert": func(fp string, v any) { pem(fp, v, &h.CertFile, &h.Cert) },
	}, true)
	if !o.Has("key") || !o.Has("cert") {
		d.fail(p, "needs both key and cert")
		return
	}
	d.s.HTTPS = h
}
