package opcua

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/ua"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// supported are the OpcUa-Client actions Sluice implements; packageOnly the
// package's other actions, refused at validation with a clear message.
var supported = map[string]bool{
	"read": true, "write": true, "subscribe": true, "monitor": true, "unsubscribe": true,
	"deletesubscription": true, "deletesubscribtion": true, "browse": true, "readmultiple": true,
	"writemultiple": true, "method": true, "events": true, "info": true,
}

var packageOnly = []string{"build", "register", "unregister", "acknowledge", "history", "readfile", "writefile",
	"connect", "disconnect", "reconnect"}

func supportedList() string {
	var l []string
	for a := range supported {
		if a != "deletesubscribtion" {
			l = append(l, a)
		}
	}
	sort.Strings(l)
	return strings.Join(l, ", ")
}

func checkAction(v any, _ *node.Config) error {
	a, _ := v.(string)
	if supported[a] {
		return nil
	}
	for _, p := range packageOnly {
		if p == a {
			return fmt.Errorf("action %q of node-red-contrib-opcua is not supported by Sluice (supported: %s)", a, supportedList())
		}
	}
	return fmt.Errorf("unknown action %q (supported: %s)", a, supportedList())
}

func init() {
	node.Register(&node.Spec{
		Type: "OpcUa-Client", Category: "opcua", Color: "#3FADB5", Icon: "opcuanodeLogo.png",
		Inputs: 1, Outputs: 3,
		Props: []node.Prop{
			{Name: "endpoint", Kind: node.KindString, ConfigType: "OpcUa-Endpoint", Required: true, Label: "Endpoint"},
			{Name: "action", Kind: node.KindString, Default: "read", Required: true, Label: "Action", Check: checkAction},
			{Name: "deadbandtype", Kind: node.KindString, Default: "a", Options: []string{"a", "p"}, Label: "Deadband type"},
			{Name: "deadbandvalue", Kind: node.KindNumber, Default: 1, Label: "Deadband"},
			{Name: "time", Kind: node.KindNumber, Default: 10, Label: "Interval"},
			{Name: "timeUnit", Kind: node.KindString, Default: "s", Options: []string{"ms", "s", "m", "h"}},
			{Name: "certificate", Kind: node.KindString, Default: "n"},
			{Name: "localfile", Kind: node.KindString, Default: ""},
			{Name: "localkeyfile", Kind: node.KindString, Default: ""},
			{Name: "securitymode", Kind: node.KindString, Default: "None"},
			{Name: "securitypolicy", Kind: node.KindString, Default: "None"},
			{Name: "useTransport", Kind: node.KindBool, Default: false},
			{Name: "maxChunkCount", Kind: node.KindNumber, Default: 1},
			{Name: "maxMessageSize", Kind: node.KindNumber, Default: 8192},
			{Name: "receiveBufferSize", Kind: node.KindNumber, Default: 8192},
			{Name: "sendBufferSize", Kind: node.KindNumber, Default: 8192},
			{Name: "setstatusandtime", Kind: node.KindBool, Default: false},
			{Name: "keepsessionalive", Kind: node.KindBool, Default: false},
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "applicationName", Kind: node.KindString, Default: ""},
			{Name: "applicationUri", Kind: node.KindString, Default: ""},
			{Name: "folderName4PKI", Kind: node.KindString, Default: ""},
		},
		Help: "Talks to the OPC UA server of its endpoint. `msg.topic` is the node id (`ns=2;s=Tag`, also " +
			"`ns=2;s=Tag;datatype=Double`); `msg.action` or `msg.payload.action` overrides the action. Actions: read, " +
			"write (`msg.payload` converted to `msg.datatype`, or to the variable's own type), subscribe and monitor " +
			"(every change on output 1; `msg.payload` may be an array of node ids, or topic `multiple` with " +
			"`[{nodeId}]`), unsubscribe, deletesubscription, browse, readmultiple, writemultiple, method " +
			"(`msg.objectId`, `msg.methodId`, `msg.inputArguments`), events (`msg.eventTypeIds`), info. Output 2 " +
			"carries connection status (`{error, endpoint, status}`), output 3 raw results of readmultiple. " +
			"Int64/UInt64 values are `[high, low]` as in node-opcua; DateTime values are ISO strings; ByteString a Buffer.",
		New: newClient,
	})
}

type clientNode struct {
	endpointID string
	action     string
	interval   time.Duration
	dbType     string
	dbValue    float64
	name       string

	c      node.Ctx
	ep     *Endpoint
	ctx    context.Context
	cancel context.CancelFunc

	mu         sync.Mutex
	sub        *subscription
	readItems  []readItem
	writeItems []writeItem
	state      string // endpoint state, for output 2
}

// intervalOf is the package's calc_milliseconds_by_time_and_unit.
func intervalOf(cfg *node.Config) (time.Duration, error) {
	t, err := cfg.Num("time", 10)
	if err != nil {
		return 0, err
	}
	unit := cfg.StrOr("timeUnit", "s")
	var ms float64
	switch unit {
	case "ms":
		ms = t
	case "s":
		ms = t * 1000
	case "m":
		ms = t * 60000
	case "h":
		ms = t * 3600000
	default:
		ms = 10000
	}
	if ms <= 0 {
		ms = 100
	}
	return time.Duration(ms * float64(time.Millisecond)), nil
}

func newClient(cfg *node.Config) (node.Node, error) {
	n := &clientNode{endpointID: cfg.Str("endpoint"), action: cfg.StrOr("action", "read"),
		dbType: cfg.StrOr("deadbandtype", "a"), name: cfg.Name()}
	if err := checkAction(n.action, cfg); err != nil {
		return nil, node.BadProp("action", n.action, "node %s: %v", cfg.ID(), err)
	}
	var err error
	if n.interval, err = intervalOf(cfg); err != nil {
		return nil, err
	}
	if n.dbValue, err = cfg.Num("deadbandvalue", 1); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *clientNode) Start(c node.Ctx) error {
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
	ep.watch(c.ID(), n.onState)
	return nil
}

func (n *clientNode) Close(ctx context.Context, removed bool) error {
	if n.cancel != nil {
		n.cancel()
	}
	if n.ep == nil {
		return nil
	}
	n.ep.unwatch(n.c.ID())
	n.mu.Lock()
	sub := n.sub
	n.sub = nil
	n.mu.Unlock()
	if sub != nil {
		sub.close(ctx)
	}
	return nil
}

// onState mirrors the endpoint's session in the node's status and sends
// the package's status message on output 2.
func (n *clientNode) onState(st string, err error) {
	n.mu.Lock()
	changed := n.state != st
	n.state = st
	sub := n.sub
	n.mu.Unlock()
	if st == "connected" {
		if sub != nil {
			n.c.Status(node.Status{Fill: "green", Shape: "ring", Text: fmt.Sprintf("connected, subscribing %d items", sub.count())})
		} else {
			n.c.Status(node.Status{Fill: "green", Shape: "dot", Text: "session active"})
		}
	} else {
		n.c.Status(stateStatus(st, err))
	}
	if changed && st != "closed" {
		o := msg.New()
		if err != nil {
			o.Set("error", err.Error())
		} else {
			o.Set("error", nil)
		}
		o.Set("endpoint", n.ep.url)
		o.Set("status", st)
		n.c.SendTo(1, o)
	}
}

func (n *clientNode) Input(c node.Ctx, m *msg.Msg) error {
	if n.ep == nil {
		return fmt.Errorf("node %s: property \"endpoint\": no OpcUa-Endpoint", c.ID())
	}
	action := n.action
	if a, ok := m.Value("action").(string); ok && a != "" {
		action = a
	}
	if p, ok := m.Payload().(*msg.Object); ok {
		if a, ok := p.Value("action").(string); ok && a != "" {
			action = a
		}
	}
	if !supported[action] {
		return fmt.Errorf("node %s: %v", c.ID(), checkAction(action, nil))
	}
	ctx, cancel := context.WithTimeout(n.ctx, requestTimeout+connectWait)
	defer cancel()
	switch action {
	case "read":
		return n.read(ctx, m)
	case "write":
		return n.write(ctx, m)
	case "readmultiple":
		return n.readMultiple(ctx, m)
	case "writemultiple":
		return n.writeMultiple(ctx, m)
	case "info":
		return n.info(ctx, m)
	case "browse":
		return n.browse(ctx, m)
	case "method":
		return n.method(ctx, m)
	case "subscribe":
		return n.subscribe(ctx, m, false)
	case "monitor":
		return n.subscribe(ctx, m, true)
	case "events":
		return n.subscribeEvents(ctx, m)
	case "unsubscribe":
		return n.unsubscribe(ctx, m)
	case "deletesubscription", "deletesubscribtion":
		return n.deleteSubscription(ctx)
	}
	return nil
}

// stateStatus is the status of a node whose endpoint is in state st.
func stateStatus(st string, err error) node.Status {
	switch st {
	case "connected":
		return node.Status{Fill: "green", Shape: "dot", Text: "connected"}
	case "error":
		t := "error"
		if err != nil {
			t = "error: " + err.Error()
		}
		return node.Status{Fill: "red", Shape: "ring", Text: t}
	case "closed":
		return node.Status{Fill: "yellow", Shape: "dot", Text: "closed"}
	}
	return node.Status{Fill: "yellow", Shape: "ring", Text: st}
}

// session returns the endpoint's client for one request.
func (n *clientNode) session(ctx context.Context) (*opcua.Client, error) {
	cl, err := n.ep.client(ctx)
	if err != nil {
		return nil, fmt.Errorf("node %s: %v", n.c.ID(), err)
	}
	return cl, nil
}

// topicOf is msg.topic split into the node id and the datatype suffix.
func (n *clientNode) topicOf(m *msg.Msg) (id string, datatype string, err error) {
	t, ok := m.Value("topic").(string)
	if !ok || t == "" {
		return "", "", fmt.Errorf("node %s: msg.topic must hold an OPC UA node id (ns=2;s=Tag)", n.c.ID())
	}
	id, datatype = splitTopic(t)
	if dt, ok := m.Value("datatype").(string); ok && dt != "" {
		datatype = dt
	}
	return id, datatype, nil
}

// resolve parses a node id, translating the package's "br=" browse paths
// on the server.
func (n *clientNode) resolve(ctx context.Context, s string) (*ua.NodeID, error) {
	if !strings.HasPrefix(s, "br=") {
		return parseNodeID(s)
	}
	bp, err := browsePathOf(s)
	if err != nil {
		return nil, err
	}
	cl, err := n.session(ctx)
	if err != nil {
		return nil, err
	}
	r, err := translate(ctx, cl, bp)
	if err != nil {
		return nil, fmt.Errorf("browse path %s: %v", s, err)
	}
	return r, nil
}

func translate(ctx context.Context, cl *opcua.Client, bp *ua.BrowsePath) (*ua.NodeID, error) {
	req := &ua.TranslateBrowsePathsToNodeIDsRequest{BrowsePaths: []*ua.BrowsePath{bp}}
	var res *ua.TranslateBrowsePathsToNodeIDsResponse
	err := cl.Send(ctx, req, func(v ua.Response) error {
		r, ok := v.(*ua.TranslateBrowsePathsToNodeIDsResponse)
		if !ok {
			return fmt.Errorf("unexpected response %T", v)
		}
		res = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(res.Results) != 1 {
		return nil, fmt.Errorf("server returned %d results", len(res.Results))
	}
	r := res.Results[0]
	if !isGood(r.StatusCode) {
		return nil, fmt.Errorf("%s", statusText(r.StatusCode))
	}
	if len(r.Targets) == 0 || r.Targets[0].TargetID == nil {
		return nil, fmt.Errorf("no target")
	}
	return r.Targets[0].TargetID.NodeID, nil
}

func (n *clientNode) fail(format string, args ...any) error {
	return fmt.Errorf("node %s: "+format, append([]any{n.c.ID()}, args...)...)
}
