package opcua

import (
	"context"
	"fmt"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/ua"
	"github.com/sluicehq/sluice/runtime/msg"
)

// browseItems lists the forward references of id as the package does:
// [{item: {referenceTypeId, isForward, nodeId, browseName, displayName,
// nodeClass, typeDefinition, value, dataType}}].
func browseItems(ctx context.Context, cl *opcua.Client, id *ua.NodeID) ([]any, error) {
	res, err := cl.Browse(ctx, &ua.BrowseRequest{
		NodesToBrowse: []*ua.BrowseDescription{{NodeID: id, BrowseDirection: ua.BrowseDirectionForward,
			ReferenceTypeID: ua.NewNumericNodeID(0, 0), IncludeSubtypes: true, ResultMask: uint32(ua.BrowseResultMaskAll)}},
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
	refs := r.References
	for cp := r.ContinuationPoint; len(cp) > 0; {
		nr, err := cl.BrowseNext(ctx, &ua.BrowseNextRequest{ContinuationPoints: [][]byte{cp}})
		if err != nil || len(nr.Results) == 0 {
			break
		}
		refs = append(refs, nr.Results[0].References...)
		cp = nr.Results[0].ContinuationPoint
	}
	values := make([]*ua.DataValue, len(refs))
	if len(refs) > 0 {
		rvs := make([]*ua.ReadValueID, len(refs))
		for i, ref := range refs {
			rvs[i] = &ua.ReadValueID{NodeID: ref.NodeID.NodeID, AttributeID: ua.AttributeIDValue}
		}
		if rr, err := cl.Read(ctx, &ua.ReadRequest{NodesToRead: rvs}); err == nil {
			copy(values, rr.Results)
		}
	}
	items := make([]any, len(refs))
	for i, ref := range refs {
		o := msg.NewObject(9)
		o.Set("referenceTypeId", nodeIDString(ref.ReferenceTypeID))
		o.Set("isForward", ref.IsForward)
		o.Set("nodeId", expandedString(ref.NodeID))
		o.Set("browseName", toMsg(ref.BrowseName))
		o.Set("displayName", localizedText(ref.DisplayName))
		o.Set("nodeClass", float64(ref.NodeClass))
		o.Set("typeDefinition", expandedString(ref.TypeDefinition))
		var v any
		dt := "Null"
		if dv := values[i]; dv != nil && isGood(dv.Status) && dv.Value != nil {
			v = toMsg(dv.Value.Value())
			dt = typeName(dv.Value.Type())
		}
		o.Set("value", v)
		o.Set("dataType", dt)
		w := msg.NewObject(1)
		w.Set("item", o)
		items[i] = w
	}
	return items, nil
}

func (n *clientNode) browse(ctx context.Context, m *msg.Msg) error {
	idStr, _, err := n.topicOf(m)
	if err != nil {
		return err
	}
	id, err := n.resolve(ctx, idStr)
	if err != nil {
		return n.fail("browse: %v", err)
	}
	cl, err := n.session(ctx)
	if err != nil {
		return err
	}
	items, err := browseItems(ctx, cl, id)
	if err != nil {
		return n.fail("browse %s: %v", idStr, err)
	}
	m.Set("payload", items)
	n.c.Send(m)
	return nil
}

// method calls msg.methodId on msg.objectId with msg.inputArguments
// ([{dataType, value}]).
func (n *clientNode) method(ctx context.Context, m *msg.Msg) error {
	objStr, methStr := msg.ToString(m.Value("objectId")), msg.ToString(m.Value("methodId"))
	if m.Value("methodId") == nil || m.Value("objectId") == nil {
		return n.fail("method: msg.objectId and msg.methodId are required")
	}
	obj, err := parseNodeID(objStr)
	if err != nil {
		return n.fail("method: msg.objectId: %v", err)
	}
	meth, err := parseNodeID(methStr)
	if err != nil {
		return n.fail("method: msg.methodId: %v", err)
	}
	var args []*ua.Variant
	if in, ok := m.Value("inputArguments").([]any); ok {
		for i, a := range in {
			o, ok := a.(*msg.Object)
			if !ok {
				return n.fail("method: msg.inputArguments[%d] must be {dataType, value}", i)
			}
			t, arr, err := parseDatatype(msg.ToString(o.Value("dataType")))
			if err != nil {
				return n.fail("method: msg.inputArguments[%d]: %v", i, err)
			}
			if rank, ok := o.Value("valueRank").(float64); ok && rank >= 1 {
				arr = true
			}
			if _, isArr := o.Value("value").([]any); isArr {
				arr = true
			}
			v, err := variantFor(t, arr, o.Value("value"))
			if err != nil {
				return n.fail("method: msg.inputArguments[%d]: %v", i, err)
			}
			args = append(args, v)
		}
	}
	cl, err := n.session(ctx)
	if err != nil {
		return err
	}
	res, err := cl.Call(ctx, &ua.CallMethodRequest{ObjectID: obj, MethodID: meth, InputArguments: args})
	if err != nil {
		return n.fail("method %s on %s: %v", methStr, objStr, err)
	}
	if !isGood(res.StatusCode) {
		detail := ""
		for i, s := range res.InputArgumentResults {
			if !isGood(s) {
				detail += fmt.Sprintf("; input argument %d: %s", i, statusText(s))
			}
		}
		return n.fail("method %s on %s: %s%s", methStr, objStr, statusText(res.StatusCode), detail)
	}
	outs := make([]any, len(res.OutputArguments))
	vals := make([]any, len(res.OutputArguments))
	for i, v := range res.OutputArguments {
		o := msg.NewObject(3)
		o.Set("dataType", float64(v.Type()))
		arr := 0.0
		if v.ArrayLength() > 0 {
			arr = 1
		}
		o.Set("arrayType", arr)
		vals[i] = toMsg(v.Value())
		o.Set("value", vals[i])
		outs[i] = o
	}
	result := msg.NewObject(4)
	result.Set("statusCode", statusObject(res.StatusCode))
	ir := make([]any, len(res.InputArgumentResults))
	for i, s := range res.InputArgumentResults {
		ir[i] = statusObject(s)
	}
	result.Set("inputArgumentResults", ir)
	result.Set("outputArguments", msg.Clone(outs))
	m.Set("result", result)
	m.Set("output", outs)
	if len(vals) == 1 {
		m.Set("payload", vals[0])
	} else {
		m.Set("payload", vals)
	}
	n.c.Send(m)
	return nil
}
