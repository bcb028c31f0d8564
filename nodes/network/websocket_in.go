package network

import (
	"context"
	"fmt"

	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "websocket in", Category: "network", Color: "rgb(215, 215, 160)", Icon: "white-globe.svg",
		Inputs: 0, Outputs: 1,
		Props: wsRefProps,
		Help: "Sends a message for every frame received on a websocket: a listener's connections (`server`) or a client's connection (`client`).\n\n" +
			"By default the frame is `msg.payload`: a string for a text frame, a Buffer for a binary one. " +
			"When the config node sends whole messages, a frame holding a JSON object becomes the message itself. " +
			"`msg._session` (`{type: \"websocket\", id}`) names the connection, so a `websocket out` node can answer it alone. " +
			"The node's status follows the connections (`connected N`, or the error and disconnect states).",
		New: func(cfg *node.Config) (node.Node, error) { return &wsIn{ref: refOf(cfg)}, nil },
	})
}

// wsRefProps are the properties of websocket in and out: the config node is
// client when set, else server.
var wsRefProps = []node.Prop{
	{Name: "name", Kind: node.KindString},
	{Name: "server", Kind: node.KindString, ConfigType: "websocket-listener", Label: "Path"},
	{Name: "client", Kind: node.KindString, ConfigType: "websocket-client", Label: "URL"},
}

type wsRef struct{ id, prop string }

func refOf(cfg *node.Config) wsRef {
	if id := cfg.Str("client"); id != "" {
		return wsRef{id, "client"}
	}
	return wsRef{cfg.Str("server"), "server"}
}

// endpointOf finds the running config node; Node-RED only logs "Missing
// server configuration" and leaves the node idle, we also fail its start so
// the deploy reports it.
func endpointOf(c node.Ctx, ref wsRef) (*endpoint, error) {
	if ref.id == "" {
		return nil, fmt.Errorf("missing server configuration: neither \"server\" nor \"client\" names a websocket-listener or websocket-client node")
	}
	n, ok := c.ConfigNode(ref.id)
	if !ok {
		return nil, fmt.Errorf("missing server configuration: property %q names node %q, which is not deployed", ref.prop, ref.id)
	}
	ep, ok := n.(endpointer)
	if !ok {
		return nil, fmt.Errorf("property %q names node %q, which is not a websocket-listener or websocket-client", ref.prop, ref.id)
	}
	return ep.wsEndpoint(), nil
}

// wsIn is a websocket in node: a source fed by its config node.
type wsIn struct {
	ref wsRef
	ep  *endpoint
	c   node.Ctx
}

func (n *wsIn) Start(c node.Ctx) error {
	ep, err := endpointOf(c, n.ref)
	if err != nil {
		return err
	}
	n.ep, n.c = ep, c
	ep.attach(c, true)
	return nil
}

func (n *wsIn) Close(context.Context, bool) error {
	if n.ep != nil {
		n.ep.detach(n.c)
		n.c.Status(node.Status{})
	}
	return nil
}
