package flow

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// ValidateOptions tune validation.
type ValidateOptions struct {
	// Exclude is the deny list of node types (settings nodesExcludes).
	Exclude map[string]bool
	// Build constructs a node from its definition to surface the errors
	// only the node type can find (bad expressions, bad rules); nil skips it.
	Build func(d *Def, spec *node.Spec) error
}

// Validate checks the set against the registered node specs and returns
// every problem, parse problems included.
func (s *Set) Validate(opts ValidateOptions) []node.Problem {
	ps := append([]node.Problem(nil), s.Problems...)
	for _, d := range s.Defs {
		if IsContainer(d.Type) {
			if d.Type == "group" || d.Type == "subflow" {
				ps = append(ps, checkEnvList(d)...)
			}
			continue
		}
		if strings.HasPrefix(d.Type, "subflow:") {
			sfID := strings.TrimPrefix(d.Type, "subflow:")
			if _, ok := s.Subflows[sfID]; !ok {
				ps = append(ps, node.Problem{Severity: "error", Code: "unknown-type", ID: d.ID, Type: d.Type,
					Message: fmt.Sprintf("subflow %q is not in the file", sfID)})
			}
			continue
		}
		if opts.Exclude[d.Type] {
			ps = append(ps, node.Problem{Severity: "error", Code: "excluded-type", ID: d.ID, Type: d.Type,
				Message: fmt.Sprintf("node type %q is not allowed on this runtime (settings nodesExcludes)", d.Type)})
			continue
		}
		spec, ok := node.Lookup(d.Type)
		if !ok {
			ps = append(ps, node.Problem{Severity: "error", Code: "unknown-type", ID: d.ID, Type: d.Type,
				Message: fmt.Sprintf("unknown node type %q", d.Type)})
			continue
		}
		ps = append(ps, s.checkProps(d, spec)...)
		if d.Disabled || s.tabDisabled(d) {
			continue
		}
		if opts.Build != nil && !hasErrorsFor(ps, d.ID) {
			if err := opts.Build(d, spec); err != nil {
				ps = append(ps, problemOf(d, err))
			}
		}
	}
	return ps
}

func (s *Set) tabDisabled(d *Def) bool {
	if t, ok := s.Tabs[d.Z]; ok {
		return t.Disabled
	}
	return false
}

func hasErrorsFor(ps []node.Problem, id string) bool {
	for _, p := range ps {
		if p.ID == id && p.Severity == "error" {
			return true
		}
	}
	return false
}

func problemOf(d *Def, err error) node.Problem {
	p := node.Problem{Severity: "error", Code: "bad-property", ID: d.ID, Type: d.Type, Message: err.Error()}
	var pe *node.PropError
	if errors.As(err, &pe) {
		p.Property = pe.Property
		p.Message = pe.Msg
		if pe.Value != nil {
			p.Message += " (value " + string(msg.Marshal(pe.Value)) + ")"
		}
	} else {
		p.Code = "bad-node"
	}
	return p
}

func kindOK(k node.Kind, v any) bool {
	switch k {
	case node.KindAny:
		return true
	case node.KindString:
		switch v.(type) {
		case string, float64, bool: // Node-RED editors write numbers into text fields
			return true
		}
	case node.KindNumber:
		switch t := v.(type) {
		case float64:
			return true
		case string:
			if strings.TrimSpace(t) == "" {
				return true
			}
			_, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
			return err == nil || strings.Contains(t, "${")
		}
	case node.KindBool:
		switch t := v.(type) {
		case bool:
			return true
		case string:
			return t == "true" || t == "false" || t == "" || strings.Contains(t, "${")
		}
	case node.KindArray:
		_, ok := v.([]any)
		return ok
	case node.KindObject:
		_, ok := v.(*msg.Object)
		return ok
	}
	return false
}

func (s *Set) checkProps(d *Def, spec *node.Spec) []node.Problem {
	var ps []node.Problem
	cfg := &node.Config{Raw: d.Raw}
	for _, p := range spec.Props {
		v, present := d.Raw.Get(p.Name)
		if !present || v == nil {
			// Node-RED fills a missing property with its default at run
			// time, so only a required property without one is an error.
			if p.Required && p.Default == nil {
				ps = append(ps, node.Problem{Severity: "error", Code: "missing-property", ID: d.ID, Type: d.Type, Property: p.Name,
					Message: "required property is missing"})
			}
			continue
		}
		if !kindOK(p.Kind, v) {
			ps = append(ps, node.Problem{Severity: "error", Code: "bad-property", ID: d.ID, Type: d.Type, Property: p.Name,
				Message: fmt.Sprintf("must be a %s, got %s", p.Kind, msg.Marshal(v))})
			continue
		}
		if len(p.Options) > 0 {
			sv := msg.ToString(v)
			found := false
			for _, o := range p.Options {
				if o == sv {
					found = true
					break
				}
			}
			if !found && !(sv == "" && !p.Required) {
				ps = append(ps, node.Problem{Severity: "error", Code: "bad-property", ID: d.ID, Type: d.Type, Property: p.Name,
					Message: fmt.Sprintf("must be one of %s, got %s", strings.Join(p.Options, ", "), msg.Marshal(v))})
				continue
			}
		}
		if p.ConfigType != "" {
			if id, _ := v.(string); id != "" {
				ref, ok := s.ByID[id]
				switch {
				case !ok:
					ps = append(ps, node.Problem{Severity: "warning", Code: "missing-config", ID: d.ID, Type: d.Type, Property: p.Name,
						Message: fmt.Sprintf("refers to %s config node %q, which is not in the file", p.ConfigType, id)})
				case ref.Type != p.ConfigType:
					ps = append(ps, node.Problem{Severity: "error", Code: "bad-property", ID: d.ID, Type: d.Type, Property: p.Name,
						Message: fmt.Sprintf("refers to node %q of type %q, expected a %s config node", id, ref.Type, p.ConfigType)})
				}
			}
		}
		if p.Check != nil {
			if err := p.Check(v, cfg); err != nil {
				ps = append(ps, node.Problem{Severity: "error", Code: "bad-property", ID: d.ID, Type: d.Type, Property: p.Name, Message: err.Error()})
			}
		}
	}
	if spec.Validate != nil {
		for _, p := range spec.Validate(cfg) {
			if p.ID == "" {
				p.ID = d.ID
			}
			if p.Type == "" {
				p.Type = d.Type
			}
			ps = append(ps, p)
		}
	}
	return ps
}

// checkEnvList validates the env list of groups and subflows.
func checkEnvList(d *Def) []node.Problem {
	v, ok := d.Raw.Get("env")
	if !ok || v == nil {
		return nil
	}
	if _, ok := v.([]any); !ok {
		return []node.Problem{{Severity: "error", Code: "bad-property", ID: d.ID, Type: d.Type, Property: "env",
			Message: fmt.Sprintf("must be an array of {name, type, value}, got %s", msg.Marshal(v))}}
	}
	return nil
}

// UnknownTypes groups unknown-type problems: type → ids of nodes using it.
func UnknownTypes(ps []node.Problem) map[string][]string {
	out := map[string][]string{}
	for _, p := range ps {
		if p.Code == "unknown-type" {
			out[p.Type] = append(out[p.Type], p.ID)
		}
	}
	for _, ids := range out {
		sort.Strings(ids)
	}
	return out
}
