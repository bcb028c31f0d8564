package opcua

import (
	"context"
	"fmt"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type: "OpcUa-Browser", Category: "opcua", Color: "#3FADB5", Icon: "opcuanodeLogo.png",
		Inputs: 1, Outputs: 1,
		Props: []node.Prop{
			{Name: "endpoint", Kind: node.KindString, ConfigType: "OpcUa-Endpoint", Required: true, Label: "Endpoint"},
			{Name: "item", Kind: node.KindString, Default: ""},
			{Name: "datatype", Kind: node.KindString, Default: ""},
			{Name: "topic", Kind: node.KindString, Default: "", Label: "Topic"},
			{Name: "items", Kind: node.KindArray, Default: []any{}},
			{Name: "name", Kind: node.KindString, Default: ""},
		},
		Help: "Browses the node in `msg.topic` (else the node's topic, else the Objects folder `ns=0;i=85`): " +
			"`msg.payload` is `[{item: {nodeId, browseName, displayName, nodeClass, typeDefinition, referenceTypeId, " +
			"isForward, value, dataType}}]`, `msg.endpoint` the server's URL.",
		New: func(cfg *node.Config) (node.Node, error) {
			return &browserNode{endpointID: cfg.Str("endpoint"), topic: cfg.Str("topic")}, nil
		},
	})
}

type browserNode struct {
	endpointID, topic string
	c                 node.Ctx
	ep                *Endpoint
	ctx               context.Context
	cancel            context.CancelFunc
}

func (n *browserNode) Start(c node.Ctx) error {
	n.c = c
	n.ctx, n.cancel = context.WithCancel(context.Background())
	cfgNode, _ := c.ConfigNode(n.endpointID)
	ep, ok := cfgNode.(*Endpoint)
	if !ok {
		c.Status(node.Status{Fill: "red", Shape: "ring", Text: "no endpoint"})
		c.Error(fmt.Errorf("node %s: property \"endpoint\": OpcUa-Endpoint %q not found", c.ID(), n.endpointID), nil)
		return nil
	}
	n.ep = ep
	ep.watch(c.ID(), func(st string, err error) { c.Status(stateStatus(st, err)) })
	return nil
}

func (n *browserNode) Close(ctx context.Context, removed bool) error {
	if n.cancel != nil {
		n.cancel()
	}
	if n.ep != nil {
		n.ep.unwatch(n.c.ID())
	}
	return nil
}

func (n *browserNode) Input(c node.Ctx, m *msg.Msg) error {
	if n.ep == nil {
		return fmt.Errorf("node %s: property \"endpoint\": no OpcUa-Endpoint", c.ID())
	}
	target, _ := m.Value("topic").(string)
	if target == "" {
		target = n.topic
	}
	if target == "" {
		target = "ns=0;i=85"
	}
	id, err := parseNodeID(target)
	if err != nil {
		return fmt.Errorf("node %s: browse: %v", c.ID(), err)
	}
	ctx, cancel := context.WithTimeout(n.ctx, requestTimeout+connectWait)
	defer cancel()
	cl, err := n.ep.client(ctx)
	if err != nil {
		c.Status(node.Status{Fill: "red", Shape: "dot", Text: "Error Items: 0"})
		return fmt.Errorf("node %s: %v", c.ID(), err)
	}
	items, err := browseItems(ctx, cl, id)
	if err != nil {
		c.Status(node.Status{Fill: "yellow", Shape: "ring", Text: "browse error"})
		return fmt.Errorf("node %s: browse %s: %v", c.ID(), target, err)
	}
	c.Status(node.Status{Fill: "green", Shape: "dot", Text: fmt.Sprintf("Items: %d", len(items))})
	m.Set("endpoint", n.ep.url)
	m.Set("payload", items)
	c.Send(m)
	return nil
}
