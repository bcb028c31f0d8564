package opcua

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gopcua/opcua/ua"
	"github.com/sluicehq/sluice/runtime/msg"
)

// isoTime prints t as JavaScript's Date.toISOString, which is what a Date
// becomes when a flow serialises it.
func isoTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// int64Words is node-opcua's representation of 64-bit integers: the high
// and the low 32-bit words, both unsigned, so no precision is lost in a
// JavaScript number.
func int64Words(u uint64) []any {
	return []any{float64(u >> 32), float64(u & 0xffffffff)}
}

// toMsg converts a decoded OPC UA value to the message value node-opcua
// hands to flows.
func toMsg(v any) any {
	switch t := v.(type) {
	case nil:
		return nil
	case bool, string:
		return t
	case int8:
		return float64(t)
	case uint8:
		return float64(t)
	case int16:
		return float64(t)
	case uint16:
		return float64(t)
	case int32:
		return float64(t)
	case uint32:
		return float64(t)
	case int64:
		return int64Words(uint64(t))
	case uint64:
		return int64Words(t)
	case float32:
		return float64(t)
	case float64:
		return t
	case time.Time:
		return isoTime(t)
	case []byte:
		return append([]byte(nil), t...)
	case ua.XMLElement:
		return string(t)
	case *ua.GUID:
		return strings.ToLower(t.String())
	case *ua.NodeID:
		return nodeIDString(t)
	case *ua.ExpandedNodeID:
		return expandedString(t)
	case ua.StatusCode:
		return statusObject(t)
	case *ua.QualifiedName:
		o := msg.NewObject(2)
		o.Set("namespaceIndex", float64(t.NamespaceIndex))
		o.Set("name", t.Name)
		return o
	case *ua.LocalizedText:
		return localizedText(t)
	case *ua.Variant:
		if t == nil {
			return nil
		}
		return toMsg(t.Value())
	case *ua.DataValue:
		return dataValueObject(t)
	case *ua.ExtensionObject:
		if t == nil {
			return nil
		}
		return structToMsg(t.Value)
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice {
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = toMsg(rv.Index(i).Interface())
		}
		return out
	}
	return structToMsg(v)
}

func localizedText(t *ua.LocalizedText) any {
	if t == nil {
		return nil
	}
	o := msg.NewObject(2)
	if t.Locale == "" {
		o.Set("locale", nil)
	} else {
		o.Set("locale", t.Locale)
	}
	o.Set("text", t.Text)
	return o
}

// structToMsg renders decoded structures (extension objects) through their
// JSON form, keys as node-opcua names them (lower camel case).
func structToMsg(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	out, err := msg.Unmarshal(b)
	if err != nil {
		return string(b)
	}
	return lowerKeys(out)
}

func lowerKeys(v any) any {
	switch t := v.(type) {
	case *msg.Object:
		o := msg.NewObject(t.Len())
		for _, k := range t.Keys() {
			nk := k
			if nk != "" {
				nk = strings.ToLower(nk[:1]) + nk[1:]
			}
			o.Set(nk, lowerKeys(t.Value(k)))
		}
		return o
	case []any:
		for i := range t {
			t[i] = lowerKeys(t[i])
		}
	}
	return v
}

// statusObject is a StatusCode as node-opcua's ConstantStatusCode shows
// it to code: value, name and description.
func statusObject(s ua.StatusCode) *msg.Object {
	o := msg.NewObject(3)
	o.Set("value", float64(uint32(s)))
	name, text := statusName(s)
	o.Set("description", text)
	o.Set("name", name)
	return o
}

func statusName(s ua.StatusCode) (name, text string) {
	if s == ua.StatusOK {
		return "Good", "No Error"
	}
	if d, ok := ua.StatusCodes[s]; ok {
		return specName(d.Name), d.Text
	}
	// Info bits (overflow, limits) on a known code.
	if d, ok := ua.StatusCodes[s&0xffff0000]; ok {
		return specName(d.Name), d.Text
	}
	return fmt.Sprintf("0x%08X", uint32(s)), ""
}

// specName spells a status name as the OPC UA specification and
// node-opcua do ("BadNodeIdUnknown"; gopcua writes "ID").
func specName(n string) string {
	return strings.ReplaceAll(strings.TrimPrefix(n, "Status"), "ID", "Id")
}

func statusText(s ua.StatusCode) string {
	name, text := statusName(s)
	if text == "" {
		return name
	}
	return name + " (" + text + ")"
}

func isGood(s ua.StatusCode) bool { return uint32(s)&0xC0000000 == 0 }

// dataValueObject is a DataValue as node-opcua's object reads from code:
// value is a Variant {dataType, arrayType, value}.
func dataValueObject(dv *ua.DataValue) *msg.Object {
	o := msg.NewObject(6)
	vv := msg.NewObject(3)
	if dv.Value != nil {
		vv.Set("dataType", float64(dv.Value.Type()))
		arr := 0.0
		if dv.Value.ArrayLength() > 0 || len(dv.Value.ArrayDimensions()) > 0 {
			arr = 1
		}
		vv.Set("arrayType", arr)
		vv.Set("value", toMsg(dv.Value.Value()))
	} else {
		vv.Set("dataType", 0.0)
		vv.Set("arrayType", 0.0)
		vv.Set("value", nil)
	}
	o.Set("value", vv)
	o.Set("statusCode", statusObject(dv.Status))
	o.Set("sourceTimestamp", timeOrNil(dv.SourceTimestamp))
	o.Set("sourcePicoseconds", float64(dv.SourcePicoseconds))
	o.Set("serverTimestamp", timeOrNil(dv.ServerTimestamp))
	o.Set("serverPicoseconds", float64(dv.ServerPicoseconds))
	return o
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return isoTime(t)
}

// typeNames maps the datatype names flows use (OpcUa-Item's list, the
// ";datatype=" suffix, method arguments) to OPC UA built-in types.
var typeNames = map[string]ua.TypeID{
	"Boolean": ua.TypeIDBoolean, "SByte": ua.TypeIDSByte, "Int8": ua.TypeIDSByte,
	"Byte": ua.TypeIDByte, "UInt8": ua.TypeIDByte, "Int16": ua.TypeIDInt16, "UInt16": ua.TypeIDUint16,
	"Int32": ua.TypeIDInt32, "UInt32": ua.TypeIDUint32, "Int64": ua.TypeIDInt64, "UInt64": ua.TypeIDUint64,
	"Float": ua.TypeIDFloat, "Double": ua.TypeIDDouble, "String": ua.TypeIDString,
	"DateTime": ua.TypeIDDateTime, "UtcTime": ua.TypeIDDateTime, "ByteString": ua.TypeIDByteString,
	"LocalizedText": ua.TypeIDLocalizedText, "NodeId": ua.TypeIDNodeID, "Guid": ua.TypeIDGUID,
	"QualifiedName": ua.TypeIDQualifiedName, "XmlElement": ua.TypeIDXMLElement,
}

// typeName is the node-opcua DataType name of a built-in type.
func typeName(t ua.TypeID) string {
	switch t {
	case ua.TypeIDUint16:
		return "UInt16"
	case ua.TypeIDUint32:
		return "UInt32"
	case ua.TypeIDUint64:
		return "UInt64"
	case ua.TypeIDNodeID:
		return "NodeId"
	case ua.TypeIDGUID:
		return "Guid"
	case ua.TypeIDXMLElement:
		return "XmlElement"
	case ua.TypeIDExpandedNodeID:
		return "ExpandedNodeId"
	case ua.TypeIDNull:
		return "Null"
	}
	return strings.TrimPrefix(t.String(), "TypeID")
}

// parseDatatype reads "Double", "Double Array", "DoubleArray".
func parseDatatype(s string) (t ua.TypeID, array bool, err error) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "Array") {
		array = true
		s = strings.TrimSpace(strings.TrimSuffix(s, "Array"))
	}
	t, ok := typeNames[s]
	if !ok {
		return 0, false, fmt.Errorf("datatype %q is not supported", s)
	}
	return t, array, nil
}

// variantFor builds the value to write from a message value, converting as
// the package's build_new_dataValue does; values that do not fit the type
// are errors (the package clamps them silently).
func variantFor(t ua.TypeID, array bool, v any) (*ua.Variant, error) {
	if array {
		items, err := arrayItems(v)
		if err != nil {
			return nil, err
		}
		return arrayVariant(t, items)
	}
	x, err := scalarFor(t, v)
	if err != nil {
		return nil, err
	}
	return ua.NewVariant(x)
}

func arrayItems(v any) ([]any, error) {
	switch t := v.(type) {
	case []any:
		return t, nil
	case string:
		parts := strings.Split(t, ",")
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = strings.TrimSpace(p)
		}
		return out, nil
	case []byte:
		out := make([]any, len(t))
		for i, b := range t {
			out[i] = float64(b)
		}
		return out, nil
	case *msg.Object:
		if inner, ok := t.Get("value"); ok {
			return arrayItems(inner)
		}
	}
	return nil, fmt.Errorf("value %s is not an array", msg.Marshal(v))
}

func arrayVariant(t ua.TypeID, items []any) (*ua.Variant, error) {
	conv := func(i int) (any, error) { return scalarFor(t, items[i]) }
	var slice reflect.Value
	for i := range items {
		x, err := conv(i)
		if err != nil {
			return nil, fmt.Errorf("item %d: %v", i, err)
		}
		if i == 0 {
			slice = reflect.MakeSlice(reflect.SliceOf(reflect.TypeOf(x)), len(items), len(items))
		}
		slice.Index(i).Set(reflect.ValueOf(x))
	}
	if len(items) == 0 {
		x, _ := scalarFor(t, zeroFor(t))
		slice = reflect.MakeSlice(reflect.SliceOf(reflect.TypeOf(x)), 0, 0)
	}
	if t == ua.TypeIDByte {
		// []byte would go out as a ByteString.
		b := slice.Interface().([]byte)
		return ua.NewVariant(ua.ByteArray(b))
	}
	return ua.NewVariant(slice.Interface())
}

func zeroFor(t ua.TypeID) any {
	switch t {
	case ua.TypeIDString, ua.TypeIDLocalizedText, ua.TypeIDXMLElement:
		return ""
	case ua.TypeIDBoolean:
		return false
	case ua.TypeIDDateTime:
		return 0.0
	case ua.TypeIDByteString:
		return []byte{}
	case ua.TypeIDNodeID:
		return "i=0"
	}
	return 0.0
}

func scalarFor(t ua.TypeID, v any) (any, error) {
	switch t {
	case ua.TypeIDBoolean:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			return b != "" && b != "false", nil
		}
		return msg.Truthy(v), nil
	case ua.TypeIDFloat:
		f, err := number(v)
		return float32(f), err
	case ua.TypeIDDouble:
		return number(v)
	case ua.TypeIDSByte:
		n, err := integer(v, math.MinInt8, math.MaxInt8)
		return int8(n), err
	case ua.TypeIDByte:
		n, err := integer(v, 0, math.MaxUint8)
		return uint8(n), err
	case ua.TypeIDInt16:
		n, err := integer(v, math.MinInt16, math.MaxInt16)
		return int16(n), err
	case ua.TypeIDUint16:
		n, err := integer(v, 0, math.MaxUint16)
		return uint16(n), err
	case ua.TypeIDInt32:
		n, err := integer(v, math.MinInt32, math.MaxInt32)
		return int32(n), err
	case ua.TypeIDUint32:
		n, err := integer(v, 0, math.MaxUint32)
		return uint32(n), err
	case ua.TypeIDInt64:
		u, err := wide(v, true)
		return int64(u), err
	case ua.TypeIDUint64:
		return wide(v, false)
	case ua.TypeIDString:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return msg.ToString(v), nil
	case ua.TypeIDXMLElement:
		return ua.XMLElement(msg.ToString(v)), nil
	case ua.TypeIDLocalizedText:
		if o, ok := v.(*msg.Object); ok {
			return &ua.LocalizedText{Locale: msg.ToString(o.Value("locale")), Text: msg.ToString(o.Value("text")),
				EncodingMask: ua.LocalizedTextText | ua.LocalizedTextLocale}, nil
		}
		return &ua.LocalizedText{Locale: "en", Text: msg.ToString(v), EncodingMask: ua.LocalizedTextText | ua.LocalizedTextLocale}, nil
	case ua.TypeIDDateTime:
		return dateFrom(v)
	case ua.TypeIDByteString:
		switch b := v.(type) {
		case []byte:
			return b, nil
		case string:
			return []byte(b), nil
		case []any:
			out := make([]byte, len(b))
			for i, x := range b {
				n, err := integer(x, 0, 255)
				if err != nil {
					return nil, err
				}
				out[i] = byte(n)
			}
			return out, nil
		}
		return nil, fmt.Errorf("value %s is not a Buffer", msg.Marshal(v))
	case ua.TypeIDNodeID:
		return parseNodeID(msg.ToString(v))
	case ua.TypeIDQualifiedName:
		return &ua.QualifiedName{Name: msg.ToString(v)}, nil
	}
	return nil, fmt.Errorf("writing %s values is not supported", typeName(t))
}

func number(v any) (float64, error) {
	switch t := v.(type) {
	case float64:
		return t, nil
	case bool:
		if t {
			return 1, nil
		}
		return 0, nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		if err != nil {
			return 0, fmt.Errorf("value %q is not a number", t)
		}
		return f, nil
	}
	return 0, fmt.Errorf("value %s is not a number", msg.Marshal(v))
}

// integer truncates as parseInt does and refuses values out of range.
func integer(v any, lo, hi float64) (float64, error) {
	f, err := number(v)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(f) {
		return 0, fmt.Errorf("value %s is not a number", msg.Marshal(v))
	}
	f = math.Trunc(f)
	if f < lo || f > hi {
		return 0, fmt.Errorf("value %s is out of range %v..%v", msg.Marshal(v), lo, hi)
	}
	return f, nil
}

// wide reads a 64-bit integer from a decimal string (exact), a number
// (exact up to 2^53) or node-opcua's [high, low] words.
func wide(v any, signed bool) (uint64, error) {
	switch t := v.(type) {
	case string:
		s := strings.TrimSpace(t)
		if signed {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("value %q is not an Int64", t)
			}
			return uint64(n), nil
		}
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("value %q is not a UInt64", t)
		}
		return n, nil
	case []any:
		if len(t) == 2 {
			hi, err1 := integer(t[0], 0, math.MaxUint32)
			lo, err2 := integer(t[1], 0, math.MaxUint32)
			if err1 == nil && err2 == nil {
				return uint64(hi)<<32 | uint64(lo), nil
			}
		}
	case float64:
		if t != math.Trunc(t) || math.Abs(t) > 1<<53 {
			return 0, fmt.Errorf("value %v is not an exact integer (give a decimal string or [high, low])", t)
		}
		if !signed && t < 0 {
			return 0, fmt.Errorf("value %v is negative", t)
		}
		if t < 0 {
			return uint64(int64(t)), nil
		}
		return uint64(t), nil
	}
	return 0, fmt.Errorf("value %s is not a 64-bit integer", msg.Marshal(v))
}

var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z07:00", "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"}

func dateFrom(v any) (time.Time, error) {
	switch t := v.(type) {
	case float64:
		return time.UnixMilli(int64(t)).UTC(), nil
	case time.Time:
		return t, nil
	case string:
		s := strings.TrimSpace(t)
		if n, err := strconv.ParseFloat(s, 64); err == nil {
			return time.UnixMilli(int64(n)).UTC(), nil
		}
		for _, l := range dateLayouts {
			if d, err := time.Parse(l, s); err == nil {
				return d, nil
			}
		}
		return time.Time{}, fmt.Errorf("value %q is not a date", t)
	}
	return time.Time{}, fmt.Errorf("value %s is not a date", msg.Marshal(v))
}
