package opcua

import (
	"context"
	"fmt"
	"strings"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/ua"
	"github.com/sluicehq/sluice/runtime/msg"
)

type readItem struct {
	id         *ua.NodeID
	topic      string
	browseName any
}

type writeItem struct {
	id    *ua.NodeID
	value *ua.Variant
	err   error
}

// setValue puts a read result on m as the package does.
func setValue(m *msg.Msg, dv *ua.DataValue) {
	var v any
	if dv.Value != nil {
		v = toMsg(dv.Value.Value())
	}
	m.Set("payload", v)
	m.Set("statusCode", statusObject(dv.Status))
	m.Set("serverTimestamp", timeOrNil(dv.ServerTimestamp))
	m.Set("sourceTimestamp", timeOrNil(dv.SourceTimestamp))
}

func (n *clientNode) read(ctx context.Context, m *msg.Msg) error {
	idStr, dt, err := n.topicOf(m)
	if err != nil {
		return err
	}
	id, err := n.resolve(ctx, idStr)
	if err != nil {
		return n.fail("read: %v", err)
	}
	rv := &ua.ReadValueID{NodeID: id, AttributeID: ua.AttributeIDValue}
	if p, ok := m.Payload().(*msg.Object); ok {
		if r, ok := p.Get("range"); ok && r != nil {
			rv.IndexRange = msg.ToString(r)
		}
	}
	cl, err := n.session(ctx)
	if err != nil {
		return err
	}
	res, err := cl.Read(ctx, &ua.ReadRequest{NodesToRead: []*ua.ReadValueID{rv}, TimestampsToReturn: ua.TimestampsToReturnBoth})
	if err != nil {
		return n.fail("read %s: %v", idStr, err)
	}
	if len(res.Results) != 1 {
		return n.fail("read %s: server returned %d results", idStr, len(res.Results))
	}
	dv := res.Results[0]
	if !isGood(dv.Status) {
		return n.fail("read %s: %s", idStr, statusText(dv.Status))
	}
	if strings.HasPrefix(idStr, "br=") {
		idStr = nodeIDString(id) // the package replaces the path by the node id
	}
	m.Set("topic", idStr)
	if dt != "" {
		m.Set("datatype", dt)
	}
	setValue(m, dv)
	n.c.Send(m)
	return nil
}

// variantOf converts a message value for writing: to datatype when given,
// else to the type the variable holds now.
func (n *clientNode) variantOf(ctx context.Context, cl *opcua.Client, id *ua.NodeID, datatype string, v any) (*ua.Variant, error) {
	if datatype != "" {
		t, arr, err := parseDatatype(datatype)
		if err != nil {
			return nil, err
		}
		return variantFor(t, arr, v)
	}
	t, err := n.ep.dataType(ctx, cl, id)
	if err != nil {
		return nil, fmt.Errorf("no datatype given and its type could not be read: %v", err)
	}
	_, isArr := v.([]any)
	return variantFor(t, isArr, v)
}

func (n *clientNode) write(ctx context.Context, m *msg.Msg) error {
	idStr, dt, err := n.topicOf(m)
	if err != nil {
		return err
	}
	id, err := n.resolve(ctx, idStr)
	if err != nil {
		return n.fail("write: %v", err)
	}
	cl, err := n.session(ctx)
	if err != nil {
		return err
	}
	payload := m.Payload()
	val, err := n.variantOf(ctx, cl, id, dt, payload)
	if err != nil {
		return n.fail("write %s: %v", idStr, err)
	}
	wv := &ua.WriteValue{NodeID: id, AttributeID: ua.AttributeIDValue,
		Value: &ua.DataValue{EncodingMask: ua.DataValueValue, Value: val}}
	if r, ok := m.Value("range").(string); ok && r != "" {
		wv.IndexRange = r
	}
	res, err := cl.Write(ctx, &ua.WriteRequest{NodesToWrite: []*ua.WriteValue{wv}})
	if err != nil {
		return n.fail("write %s: %v", idStr, err)
	}
	if len(res.Results) != 1 {
		return n.fail("write %s: server returned %d results", idStr, len(res.Results))
	}
	st := res.Results[0]
	m.Set("payload", statusObject(st))
	n.c.Send(m)
	if !isGood(st) {
		return n.fail("write %s value %s as %s: %s", idStr, msg.Marshal(payload), typeName(val.Type()), statusText(st))
	}
	return nil
}

func (n *clientNode) readMultiple(ctx context.Context, m *msg.Msg) error {
	topic, _ := m.Value("topic").(string)
	switch topic {
	case "clearitems":
		n.mu.Lock()
		n.readItems = nil
		n.mu.Unlock()
		return nil
	case "readmultiple":
	default:
		idStr, _, err := n.topicOf(m)
		if err != nil {
			return err
		}
		id, err := parseNodeID(idStr)
		if err != nil {
			return n.fail("readmultiple: %v", err)
		}
		n.mu.Lock()
		n.readItems = append(n.readItems, readItem{id: id, topic: idStr, browseName: m.Value("browseName")})
		n.mu.Unlock()
		return nil
	}
	var items []readItem
	if arr, ok := m.Payload().([]any); ok {
		for i, v := range arr {
			s := msg.ToString(v)
			if o, ok := v.(*msg.Object); ok {
				s = msg.ToString(o.Value("nodeId"))
			}
			idStr, _ := splitTopic(s)
			id, err := parseNodeID(idStr)
			if err != nil {
				return n.fail("readmultiple: msg.payload[%d]: %v", i, err)
			}
			items = append(items, readItem{id: id, topic: idStr})
		}
		n.mu.Lock()
		n.readItems = items
		n.mu.Unlock()
	} else {
		n.mu.Lock()
		items = append(items, n.readItems...)
		n.mu.Unlock()
	}
	if len(items) == 0 {
		return n.fail("readmultiple: no items to read")
	}
	cl, err := n.session(ctx)
	if err != nil {
		return err
	}
	rvs := make([]*ua.ReadValueID, len(items))
	for i, it := range items {
		rvs[i] = &ua.ReadValueID{NodeID: it.id, AttributeID: ua.AttributeIDValue}
	}
	res, err := cl.Read(ctx, &ua.ReadRequest{NodesToRead: rvs, TimestampsToReturn: ua.TimestampsToReturnBoth})
	if err != nil {
		return n.fail("readmultiple: %v", err)
	}
	all := make([]any, len(res.Results))
	for i, dv := range res.Results {
		all[i] = dataValueObject(dv)
	}
	itemList := make([]any, len(items))
	for i, it := range items {
		o := msg.NewObject(4)
		o.Set("nodeId", it.topic)
		if it.browseName != nil {
			o.Set("browseName", it.browseName)
		}
		o.Set("attributeId", float64(ua.AttributeIDValue))
		o.Set("TimestampsToReturn", float64(ua.TimestampsToReturnBoth))
		itemList[i] = o
	}
	if p, ok := m.Payload().(string); ok && p == "ALL" {
		m.Set("payload", all)
		m.Set("items", itemList)
		n.c.Send(m)
		return nil
	}
	out := make([]*msg.Msg, 0, len(res.Results))
	for i, dv := range res.Results {
		if i >= len(items) {
			break
		}
		om := m.Clone()
		om.Set("topic", items[i].topic)
		setValue(om, dv)
		out = append(out, om)
	}
	m.Set("topic", itemList)
	m.Set("payload", all)
	n.c.SendPorts([][]*msg.Msg{out, nil, {m}})
	return nil
}

func (n *clientNode) writeMultiple(ctx context.Context, m *msg.Msg) error {
	topic, _ := m.Value("topic").(string)
	arr, isArr := m.Payload().([]any)
	if topic == "clearitems" {
		n.mu.Lock()
		n.writeItems = nil
		n.mu.Unlock()
		return nil
	}
	cl, err := n.session(ctx)
	if err != nil {
		return err
	}
	if topic != "writemultiple" && !isArr {
		idStr, dt, err := n.topicOf(m)
		if err != nil {
			return err
		}
		id, err := parseNodeID(idStr)
		if err != nil {
			return n.fail("writemultiple: %v", err)
		}
		v, err := n.variantOf(ctx, cl, id, dt, m.Payload())
		if err != nil {
			return n.fail("writemultiple %s: %v", idStr, err)
		}
		n.mu.Lock()
		n.writeItems = append(n.writeItems, writeItem{id: id, value: v})
		n.mu.Unlock()
		return nil
	}
	var items []writeItem
	if isArr {
		for i, e := range arr {
			o, ok := e.(*msg.Object)
			if !ok {
				return n.fail("writemultiple: msg.payload[%d] must be {nodeId, datatype, value}", i)
			}
			idStr, dt := splitTopic(msg.ToString(o.Value("nodeId")))
			if s, ok := o.Value("datatype").(string); ok && s != "" {
				dt = s
			} else if s, ok := o.Value("dataType").(string); ok && s != "" {
				dt = s
			} else if s, ok := m.Value("datatype").(string); ok && dt == "" {
				dt = s
			}
			id, err := parseNodeID(idStr)
			if err != nil {
				return n.fail("writemultiple: msg.payload[%d]: %v", i, err)
			}
			val := o.Value("value")
			// node-opcua WriteValue form: value: {value: {dataType, value}}
			if vo, ok := val.(*msg.Object); ok {
				if inner, ok := vo.Value("value").(*msg.Object); ok && inner.Has("value") {
					val = inner.Value("value")
				} else if vo.Has("value") {
					val = vo.Value("value")
				}
			}
			v, err := n.variantOf(ctx, cl, id, dt, val)
			if err != nil {
				return n.fail("writemultiple %s: %v", idStr, err)
			}
			items = append(items, writeItem{id: id, value: v})
		}
	} else {
		n.mu.Lock()
		items = append(items, n.writeItems...)
		n.mu.Unlock()
	}
	if len(items) == 0 {
		return n.fail("writemultiple: no items to write")
	}
	wvs := make([]*ua.WriteValue, len(items))
	for i, it := range items {
		wvs[i] = &ua.WriteValue{NodeID: it.id, AttributeID: ua.AttributeIDValue,
			Value: &ua.DataValue{EncodingMask: ua.DataValueValue, Value: it.value}}
	}
	res, err := cl.Write(ctx, &ua.WriteRequest{NodesToWrite: wvs})
	if err != nil {
		return n.fail("writemultiple: %v", err)
	}
	codes := make([]any, len(res.Results))
	var bad error
	for i, st := range res.Results {
		codes[i] = statusObject(st)
		if !isGood(st) && bad == nil && i < len(items) {
			bad = n.fail("writemultiple %s: %s", nodeIDString(items[i].id), statusText(st))
		}
	}
	o := msg.New()
	o.Set("payload", codes)
	n.c.Send(o)
	return bad
}

// attrNames are the attributes readAllAttributes returns, by id.
var attrNames = []struct {
	id   ua.AttributeID
	name string
}{
	{ua.AttributeIDNodeID, "nodeId"}, {ua.AttributeIDNodeClass, "nodeClass"}, {ua.AttributeIDBrowseName, "browseName"},
	{ua.AttributeIDDisplayName, "displayName"}, {ua.AttributeIDDescription, "description"},
	{ua.AttributeIDWriteMask, "writeMask"}, {ua.AttributeIDUserWriteMask, "userWriteMask"},
	{ua.AttributeIDIsAbstract, "isAbstract"}, {ua.AttributeIDSymmetric, "symmetric"},
	{ua.AttributeIDInverseName, "inverseName"}, {ua.AttributeIDContainsNoLoops, "containsNoLoops"},
	{ua.AttributeIDEventNotifier, "eventNotifier"}, {ua.AttributeIDValue, "value"},
	{ua.AttributeIDDataType, "dataType"}, {ua.AttributeIDValueRank, "valueRank"},
	{ua.AttributeIDArrayDimensions, "arrayDimensions"}, {ua.AttributeIDAccessLevel, "accessLevel"},
	{ua.AttributeIDUserAccessLevel, "userAccessLevel"}, {ua.AttributeIDMinimumSamplingInterval, "minimumSamplingInterval"},
	{ua.AttributeIDHistorizing, "historizing"}, {ua.AttributeIDExecutable, "executable"},
	{ua.AttributeIDUserExecutable, "userExecutable"},
}

func (n *clientNode) info(ctx context.Context, m *msg.Msg) error {
	idStr, _, err := n.topicOf(m)
	if err != nil {
		return err
	}
	id, err := n.resolve(ctx, idStr)
	if err != nil {
		return n.fail("info: %v", err)
	}
	cl, err := n.session(ctx)
	if err != nil {
		return err
	}
	rvs := make([]*ua.ReadValueID, len(attrNames))
	for i, a := range attrNames {
		rvs[i] = &ua.ReadValueID{NodeID: id, AttributeID: a.id}
	}
	res, err := cl.Read(ctx, &ua.ReadRequest{NodesToRead: rvs})
	if err != nil {
		return n.fail("info %s: %v", idStr, err)
	}
	if len(res.Results) > 0 && !isGood(res.Results[0].Status) {
		return n.fail("info %s: %s", idStr, statusText(res.Results[0].Status))
	}
	for i, dv := range res.Results {
		if i >= len(attrNames) || !isGood(dv.Status) || dv.Value == nil {
			continue
		}
		v := toMsg(dv.Value.Value())
		m.Set(attrNames[i].name, v)
	}
	m.Set("statusCode", statusObject(ua.StatusOK))
	n.c.Send(m)
	return nil
}
