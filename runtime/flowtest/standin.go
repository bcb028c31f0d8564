package flowtest

import (
	"fmt"
	"sync"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// Stand-in node types. A test's flow has the types of its edge nodes
// replaced by these before deploy; the original type is kept in the config
// under typeKey and the test run is found through runKey.
const (
	SourceType = "sluice-test-source"
	SinkType   = "sluice-test-sink"
	ConfigType = "sluice-test-config"

	runKey  = "_sluiceTestRun"
	typeKey = "_sluiceTestType"
)

// defaultReplace is which node types a test replaces, and with what.
var defaultReplace = map[string]string{
	"mqtt in":       "source",
	"kafka in":      "source",
	"http in":       "source",
	"websocket in":  "source",
	"tcp in":        "source",
	"udp in":        "source",
	"mqtt out":      "sink",
	"kafka out":     "sink",
	"http request":  "sink",
	"http response": "sink",
	"websocket out": "sink",
	"tcp out":       "sink",
	"tcp request":   "sink",
	"udp out":       "sink",
}

// runs maps a run token to its run, for stand-ins built by the engine.
var runs sync.Map

func runOf(cfg *node.Config) (*run, error) {
	tok := cfg.Str(runKey)
	if r, ok := runs.Load(tok); ok && tok != "" {
		return r.(*run), nil
	}
	return nil, fmt.Errorf("node type %s only runs under `sluice test`", cfg.Type())
}

func outputs(cfg *node.Config) int {
	w, _ := cfg.Get("wires").([]any)
	return len(w)
}

func init() {
	node.Register(&node.Spec{
		Type: SourceType, Category: "test", Inputs: 0, OutputsOf: outputs,
		Help: "Stands in for a network input node under `sluice test`: it sends what the test injects.",
		New: func(cfg *node.Config) (node.Node, error) {
			r, err := runOf(cfg)
			if err != nil {
				return nil, err
			}
			return &source{r: r}, nil
		},
	})
	node.Register(&node.Spec{
		Type: SinkType, Category: "test", Inputs: 1, OutputsOf: outputs,
		Help: "Stands in for a network output or request node under `sluice test`: it records what it gets and answers with the test's responses.",
		New: func(cfg *node.Config) (node.Node, error) {
			r, err := runOf(cfg)
			if err != nil {
				return nil, err
			}
			return &sink{r: r, orig: cfg.Str(typeKey)}, nil
		},
	})
	node.Register(&node.Spec{
		Type: ConfigType, Category: "test", Config: true,
		Help: "Stands in for a config node that only replaced nodes used, under `sluice test`.",
		New:  func(*node.Config) (node.Node, error) { return struct{}{}, nil },
	})
}

type source struct{ r *run }

func (s *source) Start(c node.Ctx) error {
	s.r.addSource(c)
	return nil
}

type sink struct {
	r    *run
	orig string
}

func (s *sink) Input(c node.Ctx, m *msg.Msg) error {
	resp, ok := s.r.nextResponse(c.Alias())
	if !ok {
		if s.orig == "http request" || s.orig == "tcp request" {
			err := fmt.Errorf("%s node %q got a message but the test gives no respond entry for it", s.orig, c.Alias())
			s.r.fail(err.Error())
			return err
		}
		return nil
	}
	for _, k := range resp.Keys() {
		m.Set(k, msg.Clone(resp.Value(k)))
	}
	c.Send(m)
	return nil
}
