// Package flowtest runs flow tests: YAML files that name a flow file,
// messages to inject at its nodes and what must arrive at other nodes
// (`sluice test`). Network edge nodes are replaced by stand-ins: sources
// (mqtt in, kafka in, http in, websocket in, tcp in, udp in) send what the
// test injects; sinks (mqtt out, kafka out, http request, http response,
// websocket out, tcp out/request, udp out) record what they get and, for
// request nodes, answer with the test's responses. Config nodes that only
// replaced nodes used (brokers, listeners) are replaced too, so a test never
// touches the network. Inject nodes fire only when a test injects at them
// (timers: true keeps their schedules).
//
// A test file (flows/NAME.test.yaml beside flows/NAME.json):
//
//	flow: hello.json          # relative to this file; default NAME.json
//	timeout: 5s               # per test; a test may set its own
//	tests:
//	  - name: an even second goes to the even log
//	    inject:               # in order; node is an id or a unique name
//	      - node: shape
//	        msg: {payload: 2000}
//	        after: 10ms       # optional pause before this injection
//	    respond:              # answers of sink stand-ins (http request)
//	      - node: lookup
//	        msg: {statusCode: 200, payload: {ok: true}}
//	    expect:               # messages arriving at a node's input
//	      - node: log-even
//	        messages:
//	          - payload: {at: 2000, even: true}      # exact value
//	          - msg: {topic: t, payload.at: 2000}    # property paths
//	          - jsonata: 'payload.at > 1000'         # must be true
//	        count: 3          # exact count (default: at least the listed)
//	        ordered: true     # default; false matches in any order
//	        within: 1s        # all expected messages by then
//
// Injecting at a source stand-in sends the message out of its output (port
// picks another output); injecting at any other node delivers the message
// to its input, which for an inject node is pressing its button.
package flowtest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/typed"
)

// File is one test file.
type File struct {
	// Flow is the flow file, relative to the test file; default: the test
	// file's name with .test.yaml replaced by .json.
	Flow string `yaml:"flow"`
	// Timeout bounds each test (default 5s); a test may set its own.
	Timeout Duration `yaml:"timeout"`
	// Settle is how long a test keeps listening once every expected message
	// has arrived, to catch extra messages (default 100ms).
	Settle Duration `yaml:"settle"`
	// Timers keeps inject nodes' own timers (once, repeat, crontab); by
	// default they fire only when a test injects at them.
	Timers bool `yaml:"timers"`
	// Replace adds or overrides stand-ins by node type: "source" (fed by
	// the test), "sink" (recorded, answers from respond) or "keep".
	Replace map[string]string `yaml:"replace"`
	Tests   []*Case           `yaml:"tests"`

	path string
}

// Case is one test.
type Case struct {
	Name    string     `yaml:"name"`
	Timeout Duration   `yaml:"timeout"`
	Inject  []*Inject  `yaml:"inject"`
	Respond []*Respond `yaml:"respond"`
	Expect  []*Expect  `yaml:"expect"`
}

// Inject sends a message: out of a source stand-in (on Port), or into any
// other node's input (for an inject node, that is pressing its button).
type Inject struct {
	Node  string    `yaml:"node"`
	Msg   yaml.Node `yaml:"msg"`
	Port  int       `yaml:"port"`
	After Duration  `yaml:"after"` // wait this long before injecting

	value *msg.Object
}

// Respond is what a sink stand-in (http request, ...) sends back: its
// properties are set on the message it received, which then leaves on
// output 0. Several responses for one node are used in turn, the last
// one repeatedly.
type Respond struct {
	Node string    `yaml:"node"`
	Msg  yaml.Node `yaml:"msg"`

	value *msg.Object
}

// Expect is what must arrive at a node's input.
type Expect struct {
	Node     string       `yaml:"node"`
	Messages []*MsgExpect `yaml:"messages"`
	// Count is the exact number of messages; without it, at least
	// len(Messages) must arrive.
	Count *int `yaml:"count"`
	// Ordered (default true): the n-th message must match the n-th
	// expectation; false: each expectation matches a different message.
	Ordered *bool `yaml:"ordered"`
	// Within: the expected messages must arrive within this time of the
	// test's start.
	Within Duration `yaml:"within"`
}

// MsgExpect matches one message. Msg gives exact values for the properties
// it names (keys are property paths such as payload.temp; other properties
// of the message are not compared); Payload is short for msg: {payload: …};
// JSONata is an expression over the message that must be true.
type MsgExpect struct {
	Msg     yaml.Node `yaml:"msg"`
	Payload yaml.Node `yaml:"payload"`
	JSONata string    `yaml:"jsonata"`

	props []propWant
	expr  *typed.Input
}

type propWant struct {
	path string
	want any
}

// Duration is a Go duration string ("250ms", "5s") or a number of seconds.
type Duration time.Duration

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a duration must be a string such as 500ms or a number of seconds", n.Line)
	}
	if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
		*d = Duration(f * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: bad duration %q (use e.g. 500ms, 2s)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Load reads and checks a test file.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f := &File{path: path}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.Flow == "" {
		base := filepath.Base(path)
		for _, suf := range []string{".test.yaml", ".test.yml", ".yaml", ".yml"} {
			if strings.HasSuffix(base, suf) {
				base = strings.TrimSuffix(base, suf)
				break
			}
		}
		f.Flow = base + ".json"
	}
	if len(f.Tests) == 0 {
		return nil, fmt.Errorf("%s: no tests", path)
	}
	for kind, what := range f.Replace {
		switch what {
		case "source", "sink", "keep":
		default:
			return nil, fmt.Errorf("%s: replace %q: %q is not source, sink or keep", path, kind, what)
		}
	}
	for i, c := range f.Tests {
		if c.Name == "" {
			c.Name = fmt.Sprintf("test %d", i+1)
		}
		if err := c.prepare(); err != nil {
			return nil, fmt.Errorf("%s: test %q: %w", path, c.Name, err)
		}
	}
	return f, nil
}

// FlowPath is the flow file the tests run.
func (f *File) FlowPath() string {
	if filepath.IsAbs(f.Flow) {
		return f.Flow
	}
	return filepath.Join(filepath.Dir(f.path), f.Flow)
}

func (c *Case) prepare() error {
	for i, in := range c.Inject {
		if in.Node == "" {
			return fmt.Errorf("inject[%d]: no node", i)
		}
		o, err := objectOf(&in.Msg, fmt.Sprintf("inject[%d].msg", i))
		if err != nil {
			return err
		}
		in.value = o
	}
	for i, r := range c.Respond {
		if r.Node == "" {
			return fmt.Errorf("respond[%d]: no node", i)
		}
		o, err := objectOf(&r.Msg, fmt.Sprintf("respond[%d].msg", i))
		if err != nil {
			return err
		}
		r.value = o
	}
	for i, x := range c.Expect {
		if x.Node == "" {
			return fmt.Errorf("expect[%d]: no node", i)
		}
		if x.Count != nil && *x.Count < len(x.Messages) {
			return fmt.Errorf("expect[%d]: count %d is less than the %d messages listed", i, *x.Count, len(x.Messages))
		}
		if x.Count == nil && len(x.Messages) == 0 {
			return fmt.Errorf("expect[%d]: give messages, a count, or both", i)
		}
		for j, m := range x.Messages {
			where := fmt.Sprintf("expect[%d].messages[%d]", i, j)
			if m.Msg.Kind != 0 {
				o, err := objectOf(&m.Msg, where+".msg")
				if err != nil {
					return err
				}
				for _, k := range o.Keys() {
					if _, err := msg.ParsePath(k); err != nil {
						return fmt.Errorf("%s.msg: bad property path %q: %v", where, k, err)
					}
					m.props = append(m.props, propWant{k, o.Value(k)})
				}
			}
			if m.Payload.Kind != 0 {
				v, err := valueOf(&m.Payload)
				if err != nil {
					return fmt.Errorf("%s.payload: %w", where, err)
				}
				m.props = append(m.props, propWant{"payload", v})
			}
			if m.JSONata != "" {
				in, err := typed.Prepare(typed.JSONata, m.JSONata)
				if err != nil {
					return fmt.Errorf("%s.jsonata: %w", where, err)
				}
				m.expr = in
			}
			if len(m.props) == 0 && m.expr == nil {
				return fmt.Errorf("%s: give msg, payload or jsonata", where)
			}
		}
	}
	return nil
}

func objectOf(n *yaml.Node, where string) (*msg.Object, error) {
	if n.Kind == 0 {
		return msg.NewObject(0), nil
	}
	v, err := valueOf(n)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	o, ok := v.(*msg.Object)
	if !ok {
		return nil, fmt.Errorf("%s (line %d): must be a mapping of message properties", where, n.Line)
	}
	return o, nil
}

// valueOf turns YAML into message values, keeping the key order of
// mappings (it shows in JSON.stringify and $keys).
func valueOf(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return valueOf(n.Content[0])
	case yaml.AliasNode:
		return valueOf(n.Alias)
	case yaml.MappingNode:
		o := msg.NewObject(len(n.Content) / 2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: keys must be plain strings", k.Line)
			}
			v, err := valueOf(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			o.Set(k.Value, v)
		}
		return o, nil
	case yaml.SequenceNode:
		arr := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := valueOf(c)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		return arr, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, nil
		case "!!bool", "!!int", "!!float":
			var v any
			if err := n.Decode(&v); err != nil {
				return nil, fmt.Errorf("line %d: %v", n.Line, err)
			}
			switch t := v.(type) {
			case bool:
				return t, nil
			case int:
				return float64(t), nil
			case int64:
				return float64(t), nil
			case uint64:
				return float64(t), nil
			case float64:
				return t, nil
			}
			return n.Value, nil
		case "!!binary":
			var b []byte
			if err := n.Decode(&b); err != nil {
				return nil, fmt.Errorf("line %d: %v", n.Line, err)
			}
			return b, nil
		default:
			return n.Value, nil
		}
	}
	return nil, fmt.Errorf("line %d: unsupported YAML", n.Line)
}
