package node

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/sluicehq/sluice/runtime/msg"
)

// Router mounts HTTP handlers for nodes; the returned func removes the route.
type Router interface {
	Handle(method, path string, h http.Handler) (remove func(), err error)
}

// Kind is the JSON type a property must have.
type Kind string

const (
	KindAny    Kind = ""
	KindString Kind = "string"
	KindNumber Kind = "number" // a number, or a string holding one (Node-RED writes both)
	KindBool   Kind = "bool"   // a boolean, or "true"/"false"
	KindArray  Kind = "array"
	KindObject Kind = "object"
)

// Prop describes one property of a node type: its default and validation,
// the editor builds its form from these and `sluice validate` checks them.
type Prop struct {
	Name     string `json:"name"`
	Kind     Kind   `json:"kind,omitempty"`
	Default  any    `json:"default,omitempty"`
	Required bool   `json:"required,omitempty"`
	// Options lists the allowed values of an enumeration.
	Options []string `json:"options,omitempty"`
	// TypeProp names the companion property holding the typed-input type
	// ("payloadType" for "payload"); Types lists the types allowed.
	TypeProp string   `json:"typeProp,omitempty"`
	Types    []string `json:"types,omitempty"`
	// ConfigType is the type of config node this property refers to.
	ConfigType string `json:"configType,omitempty"`
	Label      string `json:"label,omitempty"`
	// Check is extra validation; the error is reported against this property.
	Check func(v any, cfg *Config) error `json:"-"`
}

// Cred is a credential field.
type Cred struct {
	Name     string `json:"name"`
	Password bool   `json:"password,omitempty"`
}

// Spec is one node type.
type Spec struct {
	Type     string `json:"type"`
	Category string `json:"category"`
	Color    string `json:"color,omitempty"`
	Icon     string `json:"icon,omitempty"`
	Inputs   int    `json:"inputs"`
	Outputs  int    `json:"outputs"`
	// OutputsOf computes the outputs from the config (switch rules, function
	// outputs); nil means Outputs.
	OutputsOf   func(cfg *Config) int `json:"-"`
	Props       []Prop                `json:"props"`
	Credentials []Cred                `json:"credentials,omitempty"`
	Help        string                `json:"help,omitempty"`
	Label       string                `json:"label,omitempty"`
	// Config marks config nodes (mqtt-broker, websocket-listener, ...).
	Config bool `json:"config,omitempty"`
	// NameAlways: the node keeps an empty name (Node-RED nodes that copy
	// n.name themselves), so error/status/complete sources show "name":"".
	NameAlways bool `json:"-"`
	// NoComplete: complete nodes never fire for this type (in Node-RED its
	// input handler takes no done callback).
	NoComplete bool `json:"-"`
	// Validate is whole-node validation beyond single properties.
	Validate func(cfg *Config) []Problem `json:"-"`
	// New builds an instance. Errors should be *PropError when a property is
	// at fault.
	New func(cfg *Config) (Node, error) `json:"-"`
}

// Problem is one validation finding.
type Problem struct {
	Severity string `json:"severity"` // error | warning
	Code     string `json:"code"`
	ID       string `json:"id,omitempty"`
	Type     string `json:"type,omitempty"`
	Property string `json:"property,omitempty"`
	Message  string `json:"message"`
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Severity)
	if p.ID != "" {
		fmt.Fprintf(&b, ": node %s", p.ID)
		if p.Type != "" {
			fmt.Fprintf(&b, " (%s)", p.Type)
		}
	}
	if p.Property != "" {
		fmt.Fprintf(&b, " property %q", p.Property)
	}
	b.WriteString(": ")
	b.WriteString(p.Message)
	b.WriteString(" [" + p.Code + "]")
	return b.String()
}

// PropError is a construction error caused by one property.
type PropError struct {
	Property string
	Value    any
	Msg      string
}

func (e *PropError) Error() string {
	if e.Value != nil {
		return fmt.Sprintf("property %q: %s (value %s)", e.Property, e.Msg, msg.Marshal(e.Value))
	}
	return fmt.Sprintf("property %q: %s", e.Property, e.Msg)
}

// BadProp returns a PropError.
func BadProp(prop string, value any, format string, args ...any) *PropError {
	return &PropError{Property: prop, Value: value, Msg: fmt.Sprintf(format, args...)}
}

var (
	regMu    sync.RWMutex
	registry = map[string]*Spec{}
)

// Register adds a node type; a second registration of a type panics, as
// database/sql does for drivers.
func Register(s *Spec) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[s.Type]; dup {
		panic("node: type registered twice: " + s.Type)
	}
	if s.Category == "" {
		s.Category = "common"
	}
	registry[s.Type] = s
}

// Lookup returns the spec of a type.
func Lookup(typ string) (*Spec, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	s, ok := registry[typ]
	return s, ok
}

// Types returns every registered spec, sorted by type.
func Types() []*Spec {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]*Spec, 0, len(registry))
	for _, s := range registry {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// Config is one node's configuration as in the flow file, after ${ENV}
// substitution, with its decrypted credentials.
type Config struct {
	Raw   *msg.Object
	Creds map[string]string
	// Env resolves environment variables for this node at construction
	// (typed inputs of type env evaluated once).
	Env func(name string) (any, bool)
}

func (c *Config) ID() string   { return c.Str("id") }
func (c *Config) Type() string { return c.Str("type") }
func (c *Config) Name() string { return c.Str("name") }

// Has reports whether the property is present.
func (c *Config) Has(name string) bool { return c.Raw.Has(name) }

// Get returns a raw property.
func (c *Config) Get(name string) any { return c.Raw.Value(name) }

// Str returns a property as a string ("" when absent; numbers printed).
func (c *Config) Str(name string) string {
	v, ok := c.Raw.Get(name)
	if !ok || v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return msg.ToString(v)
}

// StrOr returns the property, or def when it is absent or empty.
func (c *Config) StrOr(name, def string) string {
	if s := c.Str(name); s != "" {
		return s
	}
	return def
}

// Num returns a numeric property (numbers or numeric strings), def when
// absent or empty; a non-numeric value is a PropError.
func (c *Config) Num(name string, def float64) (float64, error) {
	v, ok := c.Raw.Get(name)
	if !ok || v == nil || v == "" {
		return def, nil
	}
	switch t := v.(type) {
	case float64:
		return t, nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		if err != nil {
			return def, BadProp(name, v, "not a number")
		}
		return f, nil
	case bool:
		if t {
			return 1, nil
		}
		return 0, nil
	}
	return def, BadProp(name, v, "not a number")
}

// Bool returns a boolean property; Node-RED writes booleans and "true"/"false".
func (c *Config) Bool(name string, def bool) bool {
	v, ok := c.Raw.Get(name)
	if !ok || v == nil {
		return def
	}
	switch t := v.(type) {
	case bool:
		return t
	case string:
		switch t {
		case "true":
			return true
		case "false", "":
			return false
		}
		return def
	case float64:
		return t != 0
	}
	return def
}

// Outputs is the number of outputs of a node with this config.
func (s *Spec) OutputCount(cfg *Config) int {
	if s.OutputsOf != nil {
		return s.OutputsOf(cfg)
	}
	return s.Outputs
}

// JSError is an error as JavaScript throws it: Node-RED reports it as
// "Name: message" and catch nodes also get a stack.
type JSError struct {
	Name    string // Error, TypeError, SyntaxError, ...
	Message string
}

func (e *JSError) Error() string { return e.Name + ": " + e.Message }

// Stack is the error's stack text (msg.error.stack); Go code has no
// JavaScript frames to show, so it is the error line alone.
func (e *JSError) Stack() string { return e.Error() }
