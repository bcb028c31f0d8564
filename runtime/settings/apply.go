package settings

import (
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
	"go.yaml.in/yaml/v3"
)

// nestedKinds are the parts of object settings that have a kind of their
// own when set alone (SLUICE_HTTPS_KEY, logging.console.level).
var nestedKinds = map[string]kind{
	"logging.console.level": kString,
	"https.key":             kString,
	"https.cert":            kString,
}

// kindOf returns how to parse a value for name, and whether name is a
// setting at all.
func kindOf(name string) (kind, bool) {
	top := topName(name)
	if name != top {
		if k, ok := nestedKinds[name]; ok {
			return k, true
		}
		_, known := sluiceSettings[top]
		return kAny, known || nodeSettings[top] || nodeRedUnused[top] != ""
	}
	if st, ok := sluiceSettings[name]; ok {
		return st.kind, true
	}
	return kAny, nodeSettings[name] || nodeRedUnused[name] != ""
}

// Apply overrides one setting, by its Node-RED name or a dotted path into
// one (logging.console.level), with a value given as text, as the command
// line and the environment give it. The text is parsed for the setting's
// type: numbers, true/false, "false" for credentialSecret and the roots,
// comma-separated lists, YAML or JSON for objects ({default: {module:
// memory}}); inside objects, JSON when it parses, else the string. The
// result is validated with everything else; on error nothing changes.
func (s *Settings) Apply(name, value string) error {
	k, known := kindOf(name)
	if !known || strings.Contains(name, "[") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
		return fmt.Errorf("unknown setting %q%s", name, suggest(topName(name), knownNames()))
	}
	v, err := parseValue(k, value)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	raw := s.Raw.Clone()
	if err := setPath(raw, name, v); err != nil {
		return err
	}
	src := s.src
	src.overridden = maps.Clone(src.overridden)
	if src.overridden == nil {
		src.overridden = map[string]bool{}
	}
	src.overridden[name] = true
	src.nonData = nil
	for _, nd := range s.src.nonData {
		if nd.path != name && !strings.HasPrefix(nd.path, name+".") && !strings.HasPrefix(nd.path, name+"[") {
			src.nonData = append(src.nonData, nd)
		}
	}
	ns, err := build(raw, src)
	if err != nil {
		return err
	}
	*s = *ns
	return nil
}

func parseValue(k kind, text string) (any, error) {
	switch k {
	case kString:
		return text, nil
	case kNumber:
		f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil {
			return nil, fmt.Errorf("expected a number, got %s", msg.Quote(text))
		}
		return f, nil
	case kBool:
		switch strings.ToLower(strings.TrimSpace(text)) {
		case "true", "1", "yes", "on":
			return true, nil
		case "false", "0", "no", "off":
			return false, nil
		}
		return nil, fmt.Errorf("expected true or false, got %s", msg.Quote(text))
	case kStringOrFalse:
		if text == "false" {
			return false, nil
		}
		return text, nil
	case kStringList:
		if strings.HasPrefix(strings.TrimSpace(text), "[") {
			return parseYAMLValue(text)
		}
		var l []any
		for _, p := range strings.Split(text, ",") {
			if p = strings.TrimSpace(p); p != "" {
				l = append(l, p)
			}
		}
		if l == nil {
			l = []any{}
		}
		return l, nil
	case kObject:
		return parseYAMLValue(text)
	case kStringOrList:
		if t := strings.TrimSpace(text); strings.HasPrefix(t, "[") || strings.HasPrefix(t, "{") {
			return parseYAMLValue(text)
		}
		return text, nil
	}
	if v, err := msg.UnmarshalString(text); err == nil {
		return v, nil
	}
	return text, nil
}

// parseYAMLValue reads YAML (or JSON, which YAML contains) text of any
// shape.
func parseYAMLValue(text string) (any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return nil, fmt.Errorf("not valid YAML or JSON: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	c := yamlConv{file: "value", lines: map[string]int{}}
	return c.value(doc.Content[0], "", 0)
}

// setPath sets a dotted path, creating objects on the way.
func setPath(o *msg.Object, name string, v any) error {
	parts := strings.Split(name, ".")
	for i, p := range parts[:len(parts)-1] {
		next, ok := o.Get(p)
		if !ok || next == nil {
			n := msg.NewObject(1)
			o.Set(p, n)
			o = n
			continue
		}
		if o, ok = next.(*msg.Object); !ok {
			at := strings.Join(parts[:i+1], ".")
			return fmt.Errorf("%s: cannot set %s: %s is %s, not an object", name, name, at, describe(next))
		}
	}
	o.Set(parts[len(parts)-1], v)
	return nil
}

// EnvPrefix starts the environment variables that override settings.
const EnvPrefix = "SLUICE_"

// envName is the variable for a setting: uiPort is SLUICE_UI_PORT,
// logging.console.level is SLUICE_LOGGING_CONSOLE_LEVEL.
func envName(name string) string {
	var b strings.Builder
	b.WriteString(EnvPrefix)
	for i, r := range name {
		switch {
		case r == '.':
			b.WriteByte('_')
		case r >= 'A' && r <= 'Z':
			if i > 0 && name[i-1] != '.' {
				b.WriteByte('_')
			}
			b.WriteRune(r)
		default:
			b.WriteString(strings.ToUpper(string(r)))
		}
	}
	return b.String()
}

// envSettings maps each environment variable to its setting.
func envSettings() map[string]string {
	m := map[string]string{}
	for n, st := range sluiceSettings {
		if st.kind != kAny { // kAny settings are the code-only ones
			m[envName(n)] = n
		}
	}
	for n := range nodeSettings {
		m[envName(n)] = n
	}
	for n := range nestedKinds {
		m[envName(n)] = n
	}
	return m
}

// ApplyEnv applies the SLUICE_* variables of environ (as os.Environ gives
// it). Object settings are applied before their parts, so SLUICE_HTTPS and
// SLUICE_HTTPS_KEY combine. A SLUICE_ variable that names no setting but
// is close to one is reported in Ignored (others may belong to someone
// else); a value that does not parse is an error naming the variable.
func (s *Settings) ApplyEnv(environ []string) error {
	known := envSettings()
	var names []string
	for n := range known {
		names = append(names, n)
	}
	type kv struct{ env, name, value string }
	var todo []kv
	for _, e := range environ {
		k, v, ok := strings.Cut(e, "=")
		if !ok || !strings.HasPrefix(k, EnvPrefix) {
			continue
		}
		if name, ok := known[k]; ok {
			todo = append(todo, kv{k, name, v})
			continue
		}
		if hint := suggest(k, names); hint != "" {
			s.src.envIgnored = append(s.src.envIgnored, k+": not a setting"+hint)
			s.Ignored = append(s.Ignored, k+": not a setting"+hint)
		}
	}
	sort.SliceStable(todo, func(i, j int) bool {
		return strings.Count(todo[i].name, ".") < strings.Count(todo[j].name, ".")
	})
	for _, t := range todo {
		if err := s.Apply(t.name, t.value); err != nil {
			return fmt.Errorf("environment variable %s: %w", t.env, err)
		}
	}
	return nil
}
