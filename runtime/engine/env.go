package engine

import (
	"os"
	"strings"
	"time"

	"github.com/sluicehq/sluice/runtime/jsonata"
	"github.com/sluicehq/sluice/runtime/msg"
)

// envList is the evaluated env of a group, tab or subflow instance.
type envList map[string]any

// evalEnv evaluates a Node-RED env list ([{name, type, value}]) the way
// Node-RED does when it creates a flow: plain types first, then env-type
// entries, which may refer to entries of the same list or to the parent.
func evalEnv(raw any, creds map[string]string, parent func(string) (any, bool)) envList {
	list, _ := raw.([]any)
	if len(list) == 0 {
		return nil
	}
	out := envList{}
	type ref struct{ name, value string }
	var refs []ref
	for _, e := range list {
		o, ok := e.(*msg.Object)
		if !ok {
			continue
		}
		name := msg.ToString(o.Value("name"))
		typ, _ := o.Value("type").(string)
		val := o.Value("value")
		sv, _ := val.(string)
		switch typ {
		case "env":
			refs = append(refs, ref{name, sv})
			continue
		case "bool":
			out[name] = val == true || sv == "true"
		case "num":
			if f, ok := val.(float64); ok {
				out[name] = f
			} else {
				out[name] = msg.StringToNumber(sv)
			}
		case "json":
			if v, err := msg.UnmarshalString(sv); err == nil {
				out[name] = v
			} else if sv == "" {
				out[name] = val
			}
		case "bin":
			if v, err := msg.UnmarshalString(sv); err == nil {
				if arr, ok := v.([]any); ok {
					b := make([]byte, len(arr))
					for i, x := range arr {
						b[i] = byte(msg.ToNumber(x))
					}
					out[name] = b
				}
			}
		case "cred":
			if c, ok := creds[name]; ok {
				out[name] = c
			} else {
				out[name] = val
			}
		case "date":
			out[name] = float64(time.Now().UnixMilli())
		case "jsonata":
			// Evaluated once when the flow starts, without a message.
			e, err := jsonata.CompileNodeRED(sv)
			if err != nil {
				out[name] = msg.Undefined{}
				break
			}
			v, err := e.Eval(nil, nil)
			if err != nil {
				v = msg.Undefined{}
			}
			out[name] = v
		default: // str and anything else taken as written
			if val == nil {
				out[name] = ""
			} else {
				out[name] = val
			}
		}
	}
	for _, r := range refs {
		target := r.value
		if target == r.name {
			target = "$parent." + r.name
		}
		if v, ok := out[target]; ok && !strings.HasPrefix(target, "$parent.") {
			out[r.name] = v
			continue
		}
		v := substituteEnv(target, func(n string) (any, bool) {
			if v, ok := out[n]; ok {
				return v, true
			}
			return parent(strings.TrimPrefix(n, "$parent."))
		})
		out[r.name] = v
	}
	return out
}

// substituteEnv is Node-RED's evaluateEnvProperty: "${X}" or "X" yields X's
// value, "a${X}b" substitutes every ${...}; undefined becomes "".
func substituteEnv(value string, get func(string) (any, bool)) any {
	if strings.HasPrefix(value, "${") && strings.HasSuffix(value, "}") && strings.Count(value, "${") == 1 && !strings.Contains(value[2:len(value)-1], "}") {
		if v, ok := get(value[2 : len(value)-1]); ok {
			return v
		}
		return ""
	}
	if !strings.Contains(value, "${") {
		if v, ok := get(value); ok {
			return v
		}
		return ""
	}
	var b strings.Builder
	rest := value
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			b.WriteString(rest)
			break
		}
		j := strings.Index(rest[i:], "}")
		if j < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:i])
		if v, ok := get(rest[i+2 : i+j]); ok {
			b.WriteString(msg.ToString(v))
		}
		rest = rest[i+j+1:]
	}
	return b.String()
}

// env resolves name for a node: node built-ins, its groups, its flow and
// the flows above it, the global env, then the process environment.
func (d *deployment) env(in *instance, name string) (any, bool) {
	switch name {
	case "NR_NODE_ID":
		return in.id, true
	case "NR_NODE_NAME":
		return in.name, true
	case "NR_NODE_PATH":
		return in.path, true
	}
	return d.groupEnv(in.group, in.flow, name)
}

func (d *deployment) groupEnv(g *groupScope, f *flowScope, name string) (any, bool) {
	for ; g != nil; g = g.parent {
		switch name {
		case "NR_GROUP_NAME":
			return g.name, true
		case "NR_GROUP_ID":
			return g.id, true
		}
		if strings.HasPrefix(name, "$parent.") {
			name = strings.TrimPrefix(name, "$parent.")
			continue
		}
		if v, ok := g.env[name]; ok {
			return msg.Clone(v), true
		}
	}
	return d.flowEnv(f, name)
}

func (d *deployment) flowEnv(f *flowScope, name string) (any, bool) {
	if f == nil {
		return d.globalEnv(name)
	}
	if f.instance != nil {
		switch name {
		case "NR_NODE_NAME", "NR_SUBFLOW_NAME":
			return f.instance.name, true
		case "NR_NODE_ID", "NR_SUBFLOW_ID":
			return f.instance.id, true
		case "NR_NODE_PATH", "NR_SUBFLOW_PATH":
			return f.instance.path, true
		}
	} else {
		switch name {
		case "NR_FLOW_NAME":
			return f.name, true
		case "NR_FLOW_ID":
			return f.id, true
		}
	}
	if strings.HasPrefix(name, "$parent.") {
		name = strings.TrimPrefix(name, "$parent.")
	} else if v, ok := f.env[name]; ok {
		return msg.Clone(v), true
	}
	if f.instance != nil && f.instance.group != nil {
		return d.groupEnv(f.instance.group, f.parent, name)
	}
	return d.flowEnv(f.parent, name)
}

func (d *deployment) globalEnv(name string) (any, bool) {
	if v, ok := d.globalEnvList[name]; ok {
		return msg.Clone(v), true
	}
	return os.LookupEnv(name)
}
