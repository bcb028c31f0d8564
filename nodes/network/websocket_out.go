package network

import (
	"context"
	"sync/atomic"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "websocket out", Category: "network", Color: "rgb(215, 215, 160)", Icon: "white-globe.svg",
		Inputs: 1, Outputs: 0,
		Props: wsRefProps,
		Help: "Sends each message over a websocket: a listener's connections (`server`) or a client's connection (`client`).\n\n" +
			"By default `msg.payload` is sent: a Buffer as a binary frame, anything else as text (objects as JSON); " +
			"an empty string sends nothing. When the config node sends whole messages, the message without `msg._session` " +
			"is sent as JSON.\n\n" +
			"A message carrying `msg._session` of type `websocket` goes only to that connection of a listener, and nowhere " +
			"when the connection is gone or the config node is a client. Any other message goes to every connection. " +
			"Delete `msg._session` to broadcast a message that came from a `websocket in` node.",
		New: func(cfg *node.Config) (node.Node, error) { return &wsOut{ref: refOf(cfg)}, nil },
	})
}

// wsOut is a websocket out node.
type wsOut struct {
	ref wsRef
	c   node.Ctx
	// ep is set by Start, which may still be running when the first message
	// arrives from a source that started earlier.
	ep atomic.Pointer[endpoint]
}

func (n *wsOut) Start(c node.Ctx) error {
	ep, err := endpointOf(c, n.ref)
	if err != nil {
		return err
	}
	n.c = c
	n.ep.Store(ep)
	ep.attach(c, false)
	return nil
}

func (n *wsOut) Input(c node.Ctx, m *msg.Msg) error {
	ep := n.ep.Load()
	if ep == nil {
		var err error
		if ep, err = endpointOf(c, n.ref); err != nil {
			return err
		}
	}
	ep.send(c, m)
	return nil
}

func (n *wsOut) Close(context.Context, bool) error {
	if ep := n.ep.Load(); ep != nil {
		ep.detach(n.c)
		n.c.Status(node.Status{})
	}
	return nil
}
