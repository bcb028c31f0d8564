// Package node is the contract between the runtime and node types: a node
// type registers a Spec (the database/sql driver pattern); the runtime builds
// instances from flow configs and hands them a Ctx.
package node

import (
	"context"
	"log/slog"

	"github.com/sluicehq/sluice/runtime/msg"
)

// Node is a running node instance. Nodes with inputs implement Input.
type Node interface{}

// Inputter handles one message at a time on the node's own goroutine.
// Unless the node implements Deferred, the runtime marks the message done
// when Input returns (with the returned error, routed to catch nodes).
type Inputter interface {
	Input(c Ctx, m *msg.Msg) error
}

// Deferred nodes finish their messages themselves with Ctx.Done (delay,
// trigger, anything that answers later).
type Deferred interface {
	DeferDone()
}

// Concurrent nodes accept messages on many goroutines at once.
type Concurrent interface {
	Concurrent() bool
}

// Starter is called once every node of the flow set has been built, before
// any message flows; sources start producing here.
type Starter interface {
	Start(c Ctx) error
}

// Closer is called on stop or redeploy; it must return by the deadline in ctx
// (a close that overruns is reported, not waited on forever). removed is true
// when the node is being deleted rather than restarted.
type Closer interface {
	Close(ctx context.Context, removed bool) error
}

// Status is a node status as Node-RED shows it under the node.
type Status struct {
	Fill  string `json:"fill,omitempty"`  // red, green, yellow, blue, grey
	Shape string `json:"shape,omitempty"` // dot, ring
	Text  string `json:"text,omitempty"`
	// Event and Session are what websocket nodes add so that status nodes
	// can tell connects from disconnects ("connect", "error", "disconnect").
	Event   string      `json:"event,omitempty"`
	Session *msg.Object `json:"_session,omitempty"`
}

// Scope is node, flow or global context for the current node.
type Scope interface {
	Get(key, store string) (any, error)
	Set(key string, value any, store string) error
	Keys(store string) ([]string, error)
}

// Ctx is what a node instance gets from the runtime.
type Ctx interface {
	ID() string    // runtime id (unique also inside subflow instances)
	Alias() string // id in the flow file (the template id inside a subflow)
	Type() string
	Name() string
	Z() string // flow (tab or subflow instance) id
	Path() string

	// Send delivers m on output 0. SendPorts sends one message list per
	// output (nil entries skip the output), as node.send([[a,b],c]) does.
	Send(m *msg.Msg)
	SendTo(port int, m *msg.Msg)
	SendPorts(ports [][]*msg.Msg)

	// Done finishes the handling of m (Deferred nodes); a non-nil err goes to
	// catch nodes with m.
	Done(m *msg.Msg, err error)
	// Error reports err for m to catch nodes without finishing m; m may be
	// nil (logged only).
	Error(err error, m *msg.Msg)
	Warn(text string)
	Status(s Status)
	Log() *slog.Logger

	NodeContext() Scope
	FlowContext() Scope
	GlobalContext() Scope

	// Env resolves an environment variable as Node-RED does: node, group,
	// flow, subflow instance, parent flows, global, process, with the NR_*
	// built-ins.
	Env(name string) (any, bool)
	// Credentials are this node's decrypted credentials.
	Credentials() map[string]string
	// ConfigNode returns the running instance of a config node by id.
	ConfigNode(id string) (Node, bool)
	// NodeByID returns the running instance of any node by id.
	NodeByID(id string) (Node, bool)

	// Acquire blocks a source until the flows have room for another message
	// (backpressure); it returns ctx's error if ctx ends first.
	Acquire(ctx context.Context) error
	// Release gives back a slot taken by Acquire when the message was not
	// sent after all.
	Release()
	// Inject delivers m to this node's own input, as if a wire brought it.
	Inject(m *msg.Msg)

	// Stopping is closed when the node is being stopped.
	Stopping() <-chan struct{}
	// Settings reads a runtime setting by its Node-RED name.
	Setting(name string) (any, bool)
	// Services gives shared runtime facilities (HTTP routes, ...).
	Services() Services
}

// Services are shared runtime facilities that some nodes need.
type Services interface {
	// HTTP returns the router that http in and websocket nodes hang off,
	// mounted under httpNodeRoot.
	HTTP() Router
	// Publish sends a runtime event (kind "debug", "notification", ...) to
	// subscribers such as the editor.
	Publish(kind, nodeID string, data any)
}
