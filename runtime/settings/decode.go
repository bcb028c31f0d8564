package settings

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
)

// source is where the raw settings came from, for error locations and for
// what the JavaScript evaluation could not turn into data.
type source struct {
	file  string         // settings file, "" for defaults
	js    bool           // a settings.js: unknown names warn instead of failing
	lines map[string]int // YAML line of each path ("a.b[0]")
	// nonData are values of a settings.js that are not data (functions,
	// RegExps, modules); they are absent from Raw.
	nonData []nonData
	// overridden paths were set by Apply/ApplyEnv: errors about them carry
	// no file location.
	overridden map[string]bool
	// userDir is the user directory searched, the default of UserDir.
	userDir string
	// envIgnored are warnings about SLUICE_ variables that look like
	// misspelt settings.
	envIgnored []string
}

type nonData struct{ path, what string }

// dec decodes raw settings into a Settings, collecting every problem.
type dec struct {
	s       *Settings
	src     *source
	errs    []error
	ignored map[string]bool

	httpRoot, adminRoot, nodeRoot rootSetting
	staticRoot                    string
	statics                       []Static // roots as written
	httpAuth                      *msg.Object
}

type rootSetting struct {
	set, off bool
	path     string
}

// build decodes raw (as written, no defaults) into settings.
func build(raw *msg.Object, src source) (*Settings, error) {
	s := &Settings{
		UIPort:                1880,
		UIHost:                "127.0.0.1",
		FlowFile:              "flows.json",
		FunctionGlobalContext: msg.NewObject(0),
		ContextStorage:        defaultContextStorage(),
		Logging:               Logging{Level: "info"},
		MaxInflight:           DefaultMaxInflight,
		Raw:                   raw,
		File:                  src.file,
		src:                   src,
	}
	d := &dec{s: s, src: &s.src, ignored: map[string]bool{}}
	for i := 0; i < raw.Len(); i++ {
		k, v := raw.At(i)
		switch {
		case sluiceSettings[k].decode != nil:
			sluiceSettings[k].decode(d, k, v)
		case nodeRedUnused[k] != "":
			if !isOff(v) {
				d.ignore(k, nodeRedUnused[k])
			}
		case nodeSettings[k]:
		default:
			d.unknownTop(k)
		}
	}
	for _, nd := range src.nonData {
		d.nonData(nd)
	}
	s.Ignored = append(s.Ignored, src.envIgnored...)
	if s.UserDir == "" {
		s.UserDir = src.userDir
	}
	d.finish()
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	s.effective = effective(s, d)
	return s, nil
}

func (d *dec) nonData(nd nonData) {
	top := topName(nd.path)
	if reason, ok := noCode[top]; ok {
		d.fail(nd.path, "is %s, which Sluice cannot use: %s", nd.what, reason)
		return
	}
	switch {
	case top == "functionGlobalContext":
		d.ignore(nd.path, "is "+nd.what+"; function nodes will not see it (only plain data is passed on)")
	case top == "logging":
		d.ignore(nd.path, "is "+nd.what+"; custom log handlers are not supported")
	case sluiceSettings[top].decode != nil:
		d.ignore(nd.path, "is "+nd.what+"; Sluice does not run code from settings files")
	case nodeRedUnused[top] != "":
		d.ignore(top, nodeRedUnused[top])
	case nodeSettings[top]:
		d.ignore(nd.path, "is "+nd.what+"; only plain data is passed on to nodes")
	default:
		d.unknownTop(top)
	}
}

func (d *dec) unknownTop(name string) {
	hint := suggest(name, knownNames())
	if d.src.js {
		d.ignore(name, "not a setting Sluice or Node-RED knows"+hint)
		return
	}
	d.fail(name, "unknown setting%s", hint)
}

// topName is the setting a path belongs to.
func topName(path string) string {
	if i := strings.IndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return path
}

// fromFile reports whether the value at path came from the settings file
// rather than an override.
func (d *dec) fromFile(path string) bool {
	if d.src.file == "" {
		return false
	}
	for p := path; ; {
		if d.src.overridden[p] {
			return false
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return true
		}
		p = p[:i]
	}
}

// where is the location prefix for an error about path.
func (d *dec) where(path string) string {
	if !d.fromFile(path) {
		return ""
	}
	for p := path; ; {
		if line, ok := d.src.lines[p]; ok {
			return fmt.Sprintf("%s:%d: ", d.src.file, line)
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return d.src.file + ": "
		}
		p = p[:i]
	}
}

func (d *dec) fail(path, format string, args ...any) {
	d.errs = append(d.errs, fmt.Errorf("%s%s: %s", d.where(path), path, fmt.Sprintf(format, args...)))
}

// typeErr reports a value of the wrong type.
func (d *dec) typeErr(path, want string, got any) {
	d.fail(path, "expected %s, got %s", want, describe(got))
}

func (d *dec) ignore(path, reason string) {
	if d.ignored[path] {
		return
	}
	d.ignored[path] = true
	d.s.Ignored = append(d.s.Ignored, path+": "+reason)
}

// fields decodes an object's known fields. An unknown field is an error in
// a YAML file, or when strict (security settings); in a settings.js it is
// a warning.
func (d *dec) fields(path string, o *msg.Object, fs map[string]func(path string, v any), strict bool) {
	var names []string
	for n := range fs {
		names = append(names, n)
	}
	slices.Sort(names)
	for i := 0; i < o.Len(); i++ {
		k, v := o.At(i)
		p := path + "." + k
		if f, ok := fs[k]; ok {
			f(p, v)
			continue
		}
		hint := suggest(k, names)
		if strict || !d.src.js {
			d.fail(p, "unknown field (known: %s)%s", strings.Join(names, ", "), hint)
		} else {
			d.ignore(p, "not a field Sluice knows"+hint)
		}
	}
}

// describe renders a value for "got ..." in errors.
func describe(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case string:
		return msg.Quote(t)
	case bool, float64:
		return msg.ToString(t)
	case []any:
		return "a list " + truncate(string(msg.Marshal(t)))
	case *msg.Object:
		return "an object " + truncate(string(msg.Marshal(t)))
	}
	return fmt.Sprintf("%v", v)
}

func truncate(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

// isOff reports whether v asks for nothing: false, 0, "", null, or an
// empty or all-off object or list.
func isOff(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case bool:
		return !t
	case float64:
		return t == 0
	case string:
		return t == ""
	case []any:
		return len(t) == 0
	case *msg.Object:
		for i := 0; i < t.Len(); i++ {
			if _, e := t.At(i); !isOff(e) {
				return false
			}
		}
		return true
	}
	return false
}

func (d *dec) str(path string, v any, want string) (string, bool) {
	s, ok := v.(string)
	if !ok {
		d.typeErr(path, want, v)
	}
	return s, ok
}

func (d *dec) nonEmpty(path string, v any) (string, bool) {
	s, ok := v.(string)
	if !ok || s == "" {
		d.typeErr(path, "a non-empty string", v)
		return "", false
	}
	return s, true
}

func (d *dec) boolean(path string, v any) (bool, bool) {
	b, ok := v.(bool)
	if !ok {
		d.typeErr(path, "true or false", v)
	}
	return b, ok
}

// number accepts numbers and numeric strings: settings.js files commonly
// say uiPort: process.env.PORT || 1880.
func (d *dec) number(path string, v any, want string) (float64, bool) {
	switch t := v.(type) {
	case float64:
		if !math.IsNaN(t) && !math.IsInf(t, 0) {
			return t, true
		}
	case string:
		if strings.TrimSpace(t) != "" {
			if n := msg.StringToNumber(t); !math.IsNaN(n) && !math.IsInf(n, 0) {
				return n, true
			}
		}
	}
	d.typeErr(path, want, v)
	return 0, false
}

func (d *dec) integer(path string, v any, lo, hi float64, want string) (int, bool) {
	n, ok := d.number(path, v, want)
	if !ok {
		return 0, false
	}
	if n != math.Trunc(n) || n < lo || n > hi {
		d.typeErr(path, want, v)
		return 0, false
	}
	return int(n), true
}

func (d *dec) object(path string, v any) (*msg.Object, bool) {
	o, ok := v.(*msg.Object)
	if !ok {
		d.typeErr(path, "an object", v)
	}
	return o, ok
}

// strList accepts a list of strings, or one string of comma-separated
// items.
func (d *dec) strList(path string, v any) ([]string, bool) {
	switch t := v.(type) {
	case string:
		var out []string
		for _, p := range strings.Split(t, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out, true
	case []any:
		out := make([]string, 0, len(t))
		for i, e := range t {
			s, ok := e.(string)
			if !ok {
				d.typeErr(fmt.Sprintf("%s[%d]", path, i), "a string", e)
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	d.typeErr(path, "a list of strings", v)
	return nil, false
}

// suggest returns ` (did you mean "x"?)` for the candidate nearest to name,
// or "" when none is near.
func suggest(name string, candidates []string) string {
	norm := func(s string) string {
		return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(s))
	}
	n := norm(name)
	best, bestDist := "", math.MaxInt
	for _, c := range candidates {
		if dist := editDistance(n, norm(c)); dist < bestDist {
			best, bestDist = c, dist
		}
	}
	if best == "" || bestDist > max(1, len(n)/3) {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance counts insertions, deletions, substitutions and swaps of
// neighbours ("levle" is one edit from "level").
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
