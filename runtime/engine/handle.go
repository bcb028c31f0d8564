package engine

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// handle is the node.Ctx a node is given. A node keeps its context (in
// Start, for timers and sources); when a "nodes" or "flows" deploy keeps the
// node running, the handle is pointed at the node's instance in the new
// deployment, so the kept node sends along the new wires.
type handle struct{ cur atomic.Pointer[instance] }

func newHandle(in *instance) *handle {
	h := &handle{}
	h.cur.Store(in)
	return h
}

func (h *handle) in() *instance { return h.cur.Load() }

func (h *handle) ID() string                             { return h.in().ID() }
func (h *handle) Alias() string                          { return h.in().Alias() }
func (h *handle) Type() string                           { return h.in().Type() }
func (h *handle) Name() string                           { return h.in().Name() }
func (h *handle) Z() string                              { return h.in().Z() }
func (h *handle) Path() string                           { return h.in().Path() }
func (h *handle) Send(m *msg.Msg)                        { h.in().Send(m) }
func (h *handle) SendTo(port int, m *msg.Msg)            { h.in().SendTo(port, m) }
func (h *handle) SendPorts(ports [][]*msg.Msg)           { h.in().SendPorts(ports) }
func (h *handle) Done(m *msg.Msg, err error)             { h.in().Done(m, err) }
func (h *handle) Error(err error, m *msg.Msg)            { h.in().Error(err, m) }
func (h *handle) Warn(text string)                       { h.in().Warn(text) }
func (h *handle) Status(s node.Status)                   { h.in().Status(s) }
func (h *handle) Log() *slog.Logger                      { return h.in().Log() }
func (h *handle) NodeContext() node.Scope                { return h.in().NodeContext() }
func (h *handle) FlowContext() node.Scope                { return h.in().FlowContext() }
func (h *handle) GlobalContext() node.Scope              { return h.in().GlobalContext() }
func (h *handle) Env(name string) (any, bool)            { return h.in().Env(name) }
func (h *handle) Credentials() map[string]string         { return h.in().Credentials() }
func (h *handle) ConfigNode(id string) (node.Node, bool) { return h.in().ConfigNode(id) }
func (h *handle) NodeByID(id string) (node.Node, bool)   { return h.in().NodeByID(id) }
func (h *handle) Acquire(ctx context.Context) error      { return h.in().Acquire(ctx) }
func (h *handle) Release()                               { h.in().Release() }
func (h *handle) Inject(m *msg.Msg)                      { h.in().Inject(m) }
func (h *handle) Stopping() <-chan struct{}              { return h.in().Stopping() }
func (h *handle) Setting(name string) (any, bool)        { return h.in().Setting(name) }
func (h *handle) Services() node.Services                { return h.in().Services() }

// Link nodes reach these through an interface of their own.
func (h *handle) DeliverTo(id string, m *msg.Msg) bool  { return h.in().DeliverTo(id, m) }
func (h *handle) FindNodes(typ, target string) []string { return h.in().FindNodes(typ, target) }
func (h *handle) FlowOf(id string) (string, bool)       { return h.in().FlowOf(id) }

var _ node.Ctx = (*handle)(nil)
