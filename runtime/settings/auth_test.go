package settings

import (
	"strings"
	"testing"
	"time"
)

const hashAdmin = "$2b$08$wuAqPiKJlVN27eF5qJp.RuQYuy6ZYONW7a/UWYxDTtwKFCdB8F19y"

func TestAdminAuthDecoded(t *testing.T) {
	p := writeYAML(t, `adminAuth:
  type: credentials
  users:
    - username: admin
      password: "`+hashAdmin+`"
      permissions: "*"
    - username: viewer
      password: "`+hashAdmin+`"
      permissions: [flows.read, nodes.read]
    - username: implicit
      password: "`+hashAdmin+`"
  default:
    permissions: read
  sessionExpiryTime: 3600
flowsReadonly: true
apiMaxLength: 2mb
`)
	s, err := LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	a := s.Auth
	if a == nil || len(a.Users) != 3 || a.Default != "read" || a.SessionExpiry != time.Hour {
		t.Fatalf("auth = %+v", a)
	}
	if a.Users[0].Permissions != "*" || a.Users[1].Permissions != "read" || a.Users[2].Permissions != "*" || a.Users[1].Password != hashAdmin {
		t.Fatalf("users = %+v", a.Users)
	}
	if !s.FlowsReadonly || s.APIMaxLength != 2<<20 {
		t.Fatalf("flowsReadonly %v apiMaxLength %d", s.FlowsReadonly, s.APIMaxLength)
	}
	if err := s.Apply("flowsReadonly", "false"); err != nil || s.FlowsReadonly {
		t.Fatalf("apply flowsReadonly: %v %v", err, s.FlowsReadonly)
	}
	if d := Default(); d.Auth != nil || d.FlowsReadonly || d.APIMaxLength != 0 {
		t.Fatalf("defaults: %+v %v %d", d.Auth, d.FlowsReadonly, d.APIMaxLength)
	}
}

func TestAdminAuthErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"adminAuth:\n  type: strategy\n", `adminAuth.type: is "strategy"; Sluice supports only "credentials"`},
		{"adminAuth:\n  default:\n    permissions: read\n", `adminAuth: needs type: "credentials"`},
		{"adminAuth:\n  type: credentials\n  users:\n    - username: a\n      password: secret\n", `adminAuth.users[0].password: must be a bcrypt hash`},
		{"adminAuth:\n  type: credentials\n  users:\n    - username: a\n", `adminAuth.users[0]: needs a username and a password`},
		{"adminAuth:\n  type: credentials\n  users:\n    - username: a\n      password: \"" + hashAdmin + "\"\n      permissions: [flows.write]\n", `adminAuth.users[0].permissions: is a list ["flows.write"]; Sluice supports "*"`},
		{"adminAuth:\n  type: credentials\n  tokens: x\n", `adminAuth.tokens: unknown field`},
		{"apiMaxLength: lots\n", `apiMaxLength: is "lots": want a size such as "5mb"`},
		{"flowsReadonly: maybe\n", `flowsReadonly: expected true or false`},
	} {
		_, err := LoadFile(writeYAML(t, tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant %q", tc.yaml, err, tc.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[any]int64{"5mb": 5 << 20, "512KB": 512 << 10, "100": 100, 4096.0: 4096, "1gb": 1 << 30, "10 b": 10} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("%v: %d %v, want %d", in, got, err, want)
		}
	}
}
