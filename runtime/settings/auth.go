package settings

import (
	"fmt"
	"strings"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
)

// Auth is adminAuth in Node-RED's "credentials" form, decoded: who may use
// the editor and the admin API, and with which permissions.
type Auth struct {
	// Users log in with a password checked against a bcrypt hash.
	Users []AuthUser
	// Default is the permission of a client without a token: "" (none),
	// "read" or "*" (adminAuth.default.permissions).
	Default string
	// SessionExpiry is how long an access token lasts (sessionExpiryTime,
	// default 7 days as in Node-RED).
	SessionExpiry time.Duration
}

// AuthUser is one entry of adminAuth.users.
type AuthUser struct {
	Username string
	Password string // bcrypt hash ($2a$, $2b$, $2y$)
	// Permissions is "*" (everything) or "read" (look, no deploy).
	Permissions string
}

// decodeAdminAuth checks adminAuth as Sluice enforces it. What it cannot
// honour (a strategy, fine-grained scopes, a tokens function) is an error:
// a half-applied auth setting is worse than none.
func decodeAdminAuth(d *dec, path string, o *msg.Object) {
	a := &Auth{SessionExpiry: 7 * 24 * time.Hour}
	typ := ""
	d.fields(path, o, map[string]func(string, any){
		"type": func(fp string, v any) {
			if s, ok := d.str(fp, v, `"credentials"`); ok {
				typ = s
				if s != "credentials" {
					d.fail(fp, "is %s; Sluice supports only \"credentials\" (users with bcrypt passwords)", msg.Quote(s))
				}
			}
		},
		"users": func(fp string, v any) {
			list, ok := v.([]any)
			if !ok {
				d.typeErr(fp, "a list of {username, password, permissions}", v)
				return
			}
			for i, u := range list {
				up := fmt.Sprintf("%s[%d]", fp, i)
				uo, ok := d.object(up, u)
				if !ok {
					continue
				}
				user := AuthUser{}
				d.fields(up, uo, map[string]func(string, any){
					"username": func(p string, v any) { user.Username, _ = d.nonEmpty(p, v) },
					"password": func(p string, v any) {
						s, ok := d.nonEmpty(p, v)
						if ok && !isBcrypt(s) {
							d.fail(p, "must be a bcrypt hash ($2b$...); make one with `sluice hash-password` or node-red admin hash-pw")
							return
						}
						user.Password = s
					},
					"permissions": func(p string, v any) { user.Permissions = d.permissions(p, v) },
				}, true)
				if user.Username == "" || user.Password == "" {
					if !uo.Has("username") || !uo.Has("password") {
						d.fail(up, "needs a username and a password")
					}
					continue
				}
				if user.Permissions == "" && !uo.Has("permissions") {
					user.Permissions = "*"
				}
				a.Users = append(a.Users, user)
			}
		},
		"default": func(fp string, v any) {
			if isOff(v) {
				return
			}
			do, ok := d.object(fp, v)
			if !ok {
				return
			}
			d.fields(fp, do, map[string]func(string, any){
				"permissions": func(p string, v any) { a.Default = d.permissions(p, v) },
			}, true)
		},
		"sessionExpiryTime": func(fp string, v any) {
			if n, ok := d.integer(fp, v, 1, 1<<40, "a number of seconds"); ok {
				a.SessionExpiry = time.Duration(n) * time.Second
			}
		},
	}, true)
	if typ == "" && !o.Has("type") {
		d.fail(path, `needs type: "credentials"`)
		return
	}
	d.s.Auth = a
}

// permissions maps Node-RED's permission forms onto the two Sluice
// enforces: "*" and "read" (a list of *.read scopes is "read").
func (d *dec) permissions(path string, v any) string {
	switch t := v.(type) {
	case string:
		if t == "*" || t == "read" {
			return t
		}
	case []any:
		all, read := false, len(t) > 0
		for _, x := range t {
			s, _ := x.(string)
			if s == "*" {
				all = true
			}
			if s != "read" && !strings.HasSuffix(s, ".read") {
				read = false
			}
		}
		if all {
			return "*"
		}
		if read {
			return "read"
		}
	}
	d.fail(path, "is %s; Sluice supports \"*\" (everything) or \"read\" (read only)", describe(v))
	return ""
}

func isBcrypt(s string) bool {
	return len(s) == 60 && (strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$"))
}

func decodeFlowsReadonly(d *dec, path string, v any) {
	if b, ok := d.boolean(path, v); ok {
		d.s.FlowsReadonly = b
	}
}

// decodeAPIMaxLength reads Node-RED's size limit of admin API requests
// ("5mb", "512kb", or a number of bytes); Sluice applies it to deploys and
// editor websocket messages.
func decodeAPIMaxLength(d *dec, path string, v any) {
	n, err := parseSize(v)
	if err != nil {
		d.fail(path, "is %s: %v", describe(v), err)
		return
	}
	d.s.APIMaxLength = n
}

func parseSize(v any) (int64, error) {
	if f, ok := v.(float64); ok {
		if f < 1 || f != float64(int64(f)) {
			return 0, fmt.Errorf("want a whole number of bytes, at least 1")
		}
		return int64(f), nil
	}
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf(`want a size such as "5mb" or a number of bytes`)
	}
	s = strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"b", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			mult = u.m
			s = strings.TrimSpace(strings.TrimSuffix(s, u.suffix))
			break
		}
	}
	n := msg.StringToNumber(s)
	if s == "" || n != n || n < 1 || n*float64(mult) > 1<<40 {
		return 0, fmt.Errorf(`want a size such as "5mb", "512kb" or a number of bytes`)
	}
	return int64(n * float64(mult)), nil
}
