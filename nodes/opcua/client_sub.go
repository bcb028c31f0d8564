package opcua

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/gopcua/opcua/ua"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// maxReported bounds the per-item failures logged after one (re)create.
const maxReported = 10

// ensureSub returns the node's subscription, creating it with the node's
// interval (or msg.interval) on first use, as the package does.
func (n *clientNode) ensureSub(ctx context.Context, m *msg.Msg) *subscription {
	n.mu.Lock()
	if n.sub != nil {
		defer n.mu.Unlock()
		return n.sub
	}
	iv := n.interval
	if ms, ok := positive(m.Value("interval")); ok {
		iv = time.Duration(ms * float64(time.Millisecond))
	}
	s := newSubscription(n.ep, iv)
	s.acquire = n.c.Acquire
	s.data = n.onData
	s.events = n.onEvent
	reported := 0
	s.failed = func(err error) {
		if reported < maxReported {
			n.c.Error(n.fail("%v", err), nil)
		}
		reported++
		n.c.Status(node.Status{Fill: "red", Shape: "ring", Text: "subscription error: " + err.Error()})
	}
	s.created = func(total, bad int) {
		reported = 0
		n.subStatus(s, bad)
	}
	n.sub = s
	n.mu.Unlock()
	s.start(ctx)
	return s
}

func (n *clientNode) subStatus(s *subscription, bad int) {
	cnt := s.count()
	if bad > 0 {
		n.c.Status(node.Status{Fill: "yellow", Shape: "dot", Text: fmt.Sprintf("subscribed %d items, %d failed", cnt-bad, bad)})
		return
	}
	n.c.Status(node.Status{Fill: "green", Shape: "dot", Text: fmt.Sprintf("subscribed %d items", cnt)})
}

func positive(v any) (float64, bool) {
	var f float64
	switch t := v.(type) {
	case float64:
		f = t
	case string:
		p, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return 0, false
		}
		f = p
	default:
		return 0, false
	}
	return f, f > 0
}

// subscribe handles subscribe and monitor: one node id in msg.topic, the
// package's topic "multiple" with [{nodeId}], or (Sluice) an array of node
// ids in msg.payload, all in the node's one subscription.
func (n *clientNode) subscribe(ctx context.Context, m *msg.Msg, monitor bool) error {
	topic, _ := m.Value("topic").(string)
	arr, isArr := m.Payload().([]any)
	// Sampling interval: the node's interval (subscribe) or 100 ms (monitor),
	// msg.payload or msg.interval above 100 ms overriding it.
	sampling := float64(n.interval / time.Millisecond)
	if monitor {
		sampling = 100
	}
	if !isArr {
		if f, ok := positive(m.Payload()); ok && f > 100 && f < 1608935031227 {
			sampling = f
		}
	}
	if f, ok := positive(m.Value("interval")); ok && f > 100 {
		sampling = f
	}
	queue := uint32(10)
	if f, ok := positive(m.Value("queueSize")); ok {
		queue = uint32(f)
	}
	var filter *ua.ExtensionObject
	if monitor {
		dbt := n.dbType
		if s, ok := m.Value("deadbandType").(string); ok && s != "" {
			dbt = s
		}
		dbv := n.dbValue
		if f, ok := positive(m.Value("deadbandValue")); ok {
			dbv = f
		}
		kind := uint32(ua.DeadbandTypeAbsolute)
		if dbt == "p" {
			kind = uint32(ua.DeadbandTypePercent)
		}
		filter = ua.NewExtensionObject(&ua.DataChangeFilter{Trigger: ua.DataChangeTriggerStatusValue, DeadbandType: kind, DeadbandValue: dbv})
	}
	suffix := ""
	if monitor {
		suffix = "|monitor"
	}
	var items []*monItem
	mk := func(idStr string, multiple bool, base *msg.Object) error {
		id, err := parseNodeID(idStr)
		if err != nil {
			return err
		}
		q := queue
		if multiple {
			q = 1
		}
		items = append(items, &monItem{key: idStr + suffix, id: id, topic: idStr, interval: sampling, queue: q,
			filter: filter, base: base, multiple: multiple})
		return nil
	}
	switch {
	case isArr:
		multiple := topic == "multiple"
		for i, v := range arr {
			s := msg.ToString(v)
			if o, ok := v.(*msg.Object); ok {
				s = msg.ToString(o.Value("nodeId"))
			}
			idStr, _ := splitTopic(s)
			var base *msg.Object
			if !multiple {
				base = msg.NewObject(0)
			}
			if err := mk(idStr, multiple, base); err != nil {
				return n.fail("%s: msg.payload[%d]: %v", actionName(monitor), i, err)
			}
		}
	default:
		idStr, _, err := n.topicOf(m)
		if err != nil {
			return err
		}
		base := msg.NewObject(0)
		if !monitor {
			base = m.Object.Clone()
		}
		if err := mk(idStr, false, base); err != nil {
			return n.fail("%s: %v", actionName(monitor), err)
		}
	}
	s := n.ensureSub(ctx, m)
	if err := s.add(ctx, items); err != nil {
		return n.fail("%s: %v", actionName(monitor), err)
	}
	if s.count() > 0 {
		n.subStatus(s, 0)
	}
	return nil
}

func actionName(monitor bool) string {
	if monitor {
		return "monitor"
	}
	return "subscribe"
}

// onData sends one change as the package does: a copy of the subscribing
// message with the value and its status and timestamps.
func (n *clientNode) onData(it *monItem, dv *ua.DataValue) {
	if dv == nil {
		n.c.Release()
		return
	}
	if it.multiple {
		om := msg.New()
		om.Set("topic", it.topic)
		om.Set("payload", dataValueObject(dv))
		n.c.Send(om)
		return
	}
	var om *msg.Msg
	if it.base != nil {
		om = msg.Wrap(it.base.Clone())
	} else {
		om = msg.New()
	}
	if !om.Has("_msgid") {
		om.Set("_msgid", msg.NewID())
	}
	om.Set("statusCode", statusObject(dv.Status))
	om.Set("topic", it.topic)
	now := isoTime(time.Now())
	if dv.ServerTimestamp.IsZero() {
		om.Set("serverTimestamp", now)
	} else {
		om.Set("serverTimestamp", isoTime(dv.ServerTimestamp))
	}
	om.Set("serverPicoseconds", float64(dv.ServerPicoseconds))
	if dv.SourceTimestamp.IsZero() {
		om.Set("sourceTimestamp", now)
	} else {
		om.Set("sourceTimestamp", isoTime(dv.SourceTimestamp))
	}
	om.Set("sourcePicoseconds", float64(dv.SourcePicoseconds))
	var v any
	if dv.Value != nil {
		v = toMsg(dv.Value.Value())
	}
	om.Set("payload", v)
	n.c.Send(om)
}

func (n *clientNode) unsubscribe(ctx context.Context, m *msg.Msg) error {
	idStr, _, err := n.topicOf(m)
	if err != nil {
		return err
	}
	n.mu.Lock()
	s := n.sub
	n.mu.Unlock()
	if s == nil || !(s.remove(ctx, idStr) || s.remove(ctx, idStr+"|monitor")) {
		return n.fail("unsubscribe: node id %s is not subscribed", idStr)
	}
	n.subStatus(s, 0)
	return nil
}

func (n *clientNode) deleteSubscription(ctx context.Context) error {
	n.mu.Lock()
	s := n.sub
	n.sub = nil
	n.mu.Unlock()
	if s == nil {
		n.c.Warn("Cannot delete, no subscription existing!")
		return nil
	}
	s.close(ctx)
	n.c.Status(node.Status{Fill: "green", Shape: "dot", Text: "subscription deleted"})
	return nil
}

// baseEventFields are the BaseEventType fields every event carries.
var baseEventFields = []string{"EventId", "EventType", "SourceNode", "SourceName", "Time", "ReceiveTime", "Message", "Severity"}

func (n *clientNode) subscribeEvents(ctx context.Context, m *msg.Msg) error {
	idStr, _, err := n.topicOf(m)
	if err != nil {
		return err
	}
	id, err := parseNodeID(idStr)
	if err != nil {
		return n.fail("events: %v", err)
	}
	typeID := ua.NewNumericNodeID(0, 2041)
	if s, ok := m.Value("eventTypeIds").(string); ok && s != "" {
		if typeID, err = parseNodeID(s); err != nil {
			return n.fail("events: msg.eventTypeIds: %v", err)
		}
	}
	fields := append([]string{}, baseEventFields...)
	if extra, ok := m.Value("customEventFields").([]any); ok {
		for _, f := range extra {
			fields = append(fields, msg.ToString(f))
		}
	}
	sel := make([]*ua.SimpleAttributeOperand, len(fields))
	for i, f := range fields {
		sel[i] = &ua.SimpleAttributeOperand{TypeDefinitionID: ua.NewNumericNodeID(0, 2041),
			BrowsePath: []*ua.QualifiedName{{Name: f}}, AttributeID: ua.AttributeIDValue}
	}
	ef := &ua.EventFilter{SelectClauses: sel, WhereClause: &ua.ContentFilter{}}
	if !(typeID.Namespace() == 0 && typeID.IntID() == 2041) {
		ef.WhereClause.Elements = []*ua.ContentFilterElement{{FilterOperator: ua.FilterOperatorOfType,
			FilterOperands: []*ua.ExtensionObject{ua.NewExtensionObject(&ua.LiteralOperand{Value: ua.MustVariant(typeID)})}}}
	}
	it := &monItem{key: idStr + "|events", id: id, topic: idStr, interval: 0, queue: 1000,
		filter: ua.NewExtensionObject(ef), event: true, fields: fields}
	s := n.ensureSub(ctx, m)
	if err := s.add(ctx, []*monItem{it}); err != nil {
		return n.fail("events: %v", err)
	}
	n.subStatus(s, 0)
	return nil
}

// onEvent sends one event as the package's __dumpEvent does: the fields
// by name, skipping empty ones; EventId as "0x" hex.
func (n *clientNode) onEvent(it *monItem, vals []*ua.Variant) {
	om := msg.New()
	p := msg.NewObject(len(vals))
	for i, v := range vals {
		if i >= len(it.fields) || v == nil || v.Type() == ua.TypeIDNull {
			continue
		}
		name := it.fields[i]
		val := toMsg(v.Value())
		if !msg.Truthy(val) {
			continue
		}
		if b, ok := v.Value().([]byte); ok && name == "EventId" {
			p.Set("EventId", "0x"+hex.EncodeToString(b))
			p.Set("_EventId", append([]byte(nil), b...))
			continue
		}
		p.Set(name, val)
	}
	switch {
	case len(vals) == 0:
		om.Set("topic", "No EventFields")
	case p.Has("ConditionId"):
		om.Set("topic", msg.ToString(p.Value("ConditionId")))
	case p.Has("EventId"):
		om.Set("topic", msg.ToString(p.Value("EventId")))
	case p.Has("EventType"):
		om.Set("topic", msg.ToString(p.Value("EventType")))
	}
	om.Set("payload", p)
	n.c.Send(om)
}
