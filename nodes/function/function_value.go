package function

import (
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/dop251/goja"
	"github.com/dop251/goja_nodejs/buffer"

	"github.com/sluicehq/sluice/runtime/msg"
)

// Messages cross into JavaScript without a copy: a *msg.Object is seen
// through an objProxy, a []any through an arrProxy, a []byte as a Buffer over
// the same bytes. Primitives are converted when read. So msg.payload ===
// msg.payload, msg.payload.arr.push(1) changes the Go message, and key order
// is the Go object's (JavaScript's) order.
//
// Values the code creates (object and array literals, Dates) are stored in
// the Go tree as they are (a goja.Value) and converted when a message leaves
// the node, so `const o = {}; msg.payload = o; o.x = 1` behaves as in
// Node-RED. The containers that hold such values are listed as dirty so that
// converting in place visits only them.

var (
	tInt64    = reflect.TypeOf(int64(0))
	tFloat64  = reflect.TypeOf(float64(0))
	tString   = reflect.TypeOf("")
	tBool     = reflect.TypeOf(false)
	tBigInt   = reflect.TypeOf((*big.Int)(nil))
	tBytes    = reflect.TypeOf([]byte(nil))
	tTime     = reflect.TypeOf(time.Time{})
	tObjProxy = reflect.TypeOf((*objProxy)(nil))
	tArrProxy = reflect.TypeOf((*arrProxy)(nil))
	tSlice    = reflect.TypeOf([]any(nil))
	tMap      = reflect.TypeOf(map[string]any(nil))
	tPromise  = reflect.TypeOf((*goja.Promise)(nil))
)

// jsFunc stands for a JavaScript function that was put in a message: Go
// code cannot call it, JSON.stringify leaves it out.
type jsFunc struct{}

// sameSlice is JavaScript identity for arrays and Buffers held as slices.
func sameSlice[T any](a, b []T) bool {
	return len(a) == len(b) && unsafe.SliceData(a) == unsafe.SliceData(b)
}

// kid caches the proxy made for a child value, so reading the same property
// twice gives the same JavaScript object. The entry is only used while the
// container still holds that very value.
type kid struct {
	key string
	idx int
	obj *goja.Object
}

type kids struct {
	list  []kid
	byKey map[string]int // past a few entries
	byIdx map[int]int
}

const kidsLinear = 8

func (k *kids) findKey(key string) int {
	if k.byKey != nil {
		if i, ok := k.byKey[key]; ok {
			return i
		}
		return -1
	}
	for i := range k.list {
		if k.list[i].key == key {
			return i
		}
	}
	return -1
}

func (k *kids) findIdx(idx int) int {
	if k.byIdx != nil {
		if i, ok := k.byIdx[idx]; ok {
			return i
		}
		return -1
	}
	for i := range k.list {
		if k.list[i].idx == idx {
			return i
		}
	}
	return -1
}

func (k *kids) putKey(key string, obj *goja.Object) {
	if i := k.findKey(key); i >= 0 {
		k.list[i].obj = obj
		return
	}
	k.list = append(k.list, kid{key: key, obj: obj})
	if k.byKey != nil {
		k.byKey[key] = len(k.list) - 1
	} else if len(k.list) > kidsLinear {
		k.byKey = make(map[string]int, len(k.list))
		for i, e := range k.list {
			k.byKey[e.key] = i
		}
	}
}

func (k *kids) putIdx(idx int, obj *goja.Object) {
	if i := k.findIdx(idx); i >= 0 {
		k.list[i].obj = obj
		return
	}
	k.list = append(k.list, kid{idx: idx, obj: obj})
	if k.byIdx != nil {
		k.byIdx[idx] = len(k.list) - 1
	} else if len(k.list) > kidsLinear {
		k.byIdx = make(map[int]int, len(k.list))
		for i, e := range k.list {
			k.byIdx[e.idx] = i
		}
	}
}

// holds reports whether the proxy obj stands for the Go value v.
func holds(obj *goja.Object, v any) bool {
	switch t := v.(type) {
	case *msg.Object:
		p, ok := obj.Export().(*objProxy)
		return ok && p.o == t
	case []any:
		p, ok := obj.Export().(*arrProxy)
		return ok && sameSlice(p.s, t)
	case []byte:
		b, ok := obj.Export().([]byte)
		return ok && sameSlice(b, t)
	}
	return false
}

// slot is where an array lives, so that growing it (a new slice header) can
// be written back: a key of an object, an index of an array, or a context
// key.
type slot struct {
	obj *msg.Object
	key string
	arr *arrProxy
	idx int
	ctx func(old, cur []any) // context write-back
}

// objProxy shows a *msg.Object to JavaScript.
type objProxy struct {
	b     *bridge
	o     *msg.Object
	kids  kids
	dirty bool
}

func (p *objProxy) Get(key string) goja.Value {
	v, ok := p.o.Get(key)
	if !ok {
		return nil
	}
	switch t := v.(type) {
	case *msg.Object, []any, []byte:
		if i := p.kids.findKey(key); i >= 0 && holds(p.kids.list[i].obj, v) {
			return p.kids.list[i].obj
		}
		obj := p.b.wrapRef(t, slot{obj: p.o, key: key})
		p.kids.putKey(key, obj)
		return obj
	}
	return p.b.toJS(v)
}

func (p *objProxy) Set(key string, val goja.Value) bool {
	gv, obj := p.b.fromJS(val, slot{obj: p.o, key: key})
	p.o.Set(key, gv)
	if obj != nil {
		p.kids.putKey(key, obj)
	}
	if _, native := gv.(goja.Value); native && !p.dirty {
		p.dirty = true
		p.b.dirtyObjs = append(p.b.dirtyObjs, p)
	}
	return true
}

func (p *objProxy) Has(key string) bool    { return p.o.Has(key) }
func (p *objProxy) Delete(key string) bool { p.o.Delete(key); return true }
func (p *objProxy) Keys() []string {
	// A copy: code that adds keys while iterating must not disturb goja.
	return append([]string(nil), p.o.Keys()...)
}

// arrProxy shows a []any to JavaScript. A push may move the elements to a
// new slice; the slots that held the old one are updated.
type arrProxy struct {
	b       *bridge
	s       []any
	kids    kids
	parents []slot
	dirty   bool
}

func (a *arrProxy) Len() int { return len(a.s) }

func (a *arrProxy) Get(idx int) goja.Value {
	if idx < 0 || idx >= len(a.s) {
		return nil
	}
	v := a.s[idx]
	switch t := v.(type) {
	case *msg.Object, []any, []byte:
		if i := a.kids.findIdx(idx); i >= 0 && holds(a.kids.list[i].obj, v) {
			return a.kids.list[i].obj
		}
		obj := a.b.wrapRef(t, slot{arr: a, idx: idx})
		a.kids.putIdx(idx, obj)
		return obj
	}
	return a.b.toJS(v)
}

func (a *arrProxy) Set(idx int, val goja.Value) bool {
	if idx < 0 {
		return false
	}
	gv, obj := a.b.fromJS(val, slot{arr: a, idx: idx})
	if idx >= len(a.s) {
		a.resize(idx + 1)
	}
	a.s[idx] = gv
	if obj != nil {
		a.kids.putIdx(idx, obj)
	}
	if _, native := gv.(goja.Value); native && !a.dirty {
		a.dirty = true
		a.b.dirtyArrs = append(a.b.dirtyArrs, a)
	}
	return true
}

func (a *arrProxy) SetLen(n int) bool {
	if n < 0 {
		return false
	}
	a.resize(n)
	return true
}

// resize changes the length; new elements are holes (undefined).
func (a *arrProxy) resize(n int) {
	old := a.s
	var ns []any
	switch {
	case n <= len(old):
		clear(old[n:])
		ns = old[:n]
	case n <= cap(old):
		ns = old[:n]
		for i := len(old); i < n; i++ {
			ns[i] = msg.Undefined{}
		}
	default:
		ns = make([]any, n, n+n/2+4)
		copy(ns, old)
		for i := len(old); i < n; i++ {
			ns[i] = msg.Undefined{}
		}
	}
	a.s = ns
	live := a.parents[:0]
	for _, s := range a.parents {
		if s.writeBack(old, ns) {
			live = append(live, s)
		}
	}
	clear(a.parents[len(live):])
	a.parents = live
}

// writeBack replaces old with cur where s still holds old; it reports
// whether the slot still holds the array.
func (s slot) writeBack(old, cur []any) bool {
	switch {
	case s.ctx != nil:
		s.ctx(old, cur)
		return true
	case s.obj != nil:
		if v, ok := s.obj.Value(s.key).([]any); ok && sameSlice(v, old) {
			s.obj.Set(s.key, cur)
			return true
		}
	case s.arr != nil:
		if s.idx < len(s.arr.s) {
			if v, ok := s.arr.s[s.idx].([]any); ok && sameSlice(v, old) {
				s.arr.s[s.idx] = cur
				return true
			}
		}
	}
	return false
}

func (a *arrProxy) addParent(s slot) {
	if s.obj == nil && s.arr == nil && s.ctx == nil {
		return
	}
	for _, p := range a.parents {
		if p.obj == s.obj && p.key == s.key && p.arr == s.arr && p.idx == s.idx && s.ctx == nil {
			return
		}
	}
	a.parents = append(a.parents, s)
}

// bridge converts between Go message values and JavaScript values for one
// runtime.
type bridge struct {
	vm        *goja.Runtime
	buf       *buffer.Buffer
	dirtyObjs []*objProxy
	dirtyArrs []*arrProxy
	u8        *goja.Object
}

// wrapRef makes the proxy for a container.
func (b *bridge) wrapRef(v any, at slot) *goja.Object {
	switch t := v.(type) {
	case *msg.Object:
		return b.vm.NewDynamicObject(&objProxy{b: b, o: t})
	case []any:
		a := &arrProxy{b: b, s: t}
		a.addParent(at)
		return b.vm.NewDynamicArray(a)
	case []byte:
		return b.buf.WrapBytes(t)
	}
	return nil
}

// objectOf is the proxy for a top-level object (a message).
func (b *bridge) objectOf(o *msg.Object) *goja.Object {
	return b.vm.NewDynamicObject(&objProxy{b: b, o: o})
}

// toJS converts a Go value read from a message or a context store.
func (b *bridge) toJS(v any) goja.Value {
	switch t := v.(type) {
	case nil:
		return goja.Null()
	case msg.Undefined:
		return goja.Undefined()
	case bool:
		return b.vm.ToValue(t)
	case float64:
		return b.vm.ToValue(t)
	case string:
		return b.vm.ToValue(t)
	case int:
		return b.vm.ToValue(float64(t))
	case int64:
		return b.vm.ToValue(float64(t))
	case *msg.Object, []any, []byte:
		return b.wrapRef(t, slot{})
	case goja.Value:
		return t
	case time.Time:
		d, err := b.vm.New(b.vm.Get("Date"), b.vm.ToValue(float64(t.UnixMilli())))
		if err != nil {
			return goja.Undefined()
		}
		return d
	case jsFunc:
		return goja.Undefined()
	}
	return b.vm.ToValue(v)
}

// fromJS converts a value being stored into a Go container. Primitives
// become Go values; proxies give back the Go value they show (obj is then
// the proxy, to keep identity); new JavaScript objects are kept as they are
// until the message leaves.
func (b *bridge) fromJS(val goja.Value, at slot) (gv any, obj *goja.Object) {
	if val == nil {
		return msg.Undefined{}, nil
	}
	switch val.ExportType() {
	case tInt64:
		return float64(val.ToInteger()), nil
	case tFloat64:
		return val.ToFloat(), nil
	case tString:
		return val.String(), nil
	case tBool:
		return val.ToBoolean(), nil
	case nil:
		if goja.IsNull(val) {
			return nil, nil
		}
		if goja.IsUndefined(val) {
			return msg.Undefined{}, nil
		}
	case tBigInt:
		f, _ := new(big.Float).SetInt(val.Export().(*big.Int)).Float64()
		return f, nil
	}
	o, ok := val.(*goja.Object)
	if !ok {
		return msg.Undefined{}, nil // symbols
	}
	switch o.ExportType() {
	case tObjProxy:
		return o.Export().(*objProxy).o, o
	case tArrProxy:
		a := o.Export().(*arrProxy)
		a.addParent(at)
		return a.s, o
	case tBytes:
		if b.isUint8(o) {
			return o.Export().([]byte), o
		}
	default:
		if goValue(o.ExportType()) {
			// A Go value of the runtime's (an HTTP request or response, a
			// websocket session) read from a message: put back as itself.
			return o.Export(), nil
		}
	}
	return o, nil
}

// goValue reports whether t is the type of a Go value shown to the code
// through reflection, as opposed to a JavaScript object's export type.
func goValue(t reflect.Type) bool {
	if t == nil {
		return false
	}
	k := t.Kind()
	if k == reflect.Pointer {
		t = t.Elem()
		k = t.Kind()
	}
	if k != reflect.Struct {
		return false
	}
	pkg := t.PkgPath()
	return pkg != "" && !strings.HasPrefix(pkg, "github.com/dop251/") && pkg != "time" && pkg != "math/big"
}

// isUint8 tells Buffers and Uint8Arrays from other values exporting bytes.
func (b *bridge) isUint8(o *goja.Object) bool {
	if b.u8 == nil {
		b.u8, _ = b.vm.Get("Uint8Array").(*goja.Object)
	}
	return b.u8 != nil && b.vm.InstanceOf(o, b.u8)
}

// maxDepth bounds conversion of nested objects: deeper structures are
// almost certainly circular.
const maxDepth = 1000

// toGo converts a JavaScript value to a message value, recursively. Proxies
// give their Go values (the same objects, not copies).
func (b *bridge) toGo(val goja.Value) any {
	return b.conv(val, 0)
}

func (b *bridge) conv(val goja.Value, depth int) any {
	gv, _ := b.fromJS(val, slot{})
	o, ok := gv.(*goja.Object)
	if !ok {
		return gv
	}
	if depth > maxDepth {
		panic(b.vm.NewTypeError("Converting circular structure to a message"))
	}
	return b.convObject(o, depth)
}

func (b *bridge) convObject(o *goja.Object, depth int) any {
	et := o.ExportType()
	if et == tMap && o.ClassName() == "Object" {
		return b.convPlain(o, depth)
	}
	if _, isFn := goja.AssertFunction(o); isFn {
		return jsFunc{}
	}
	switch et {
	case tTime:
		return o.Export().(time.Time)
	case tSlice:
		n := int(o.Get("length").ToInteger())
		out := make([]any, n)
		for i := 0; i < n; i++ {
			out[i] = b.conv(o.Get(strconv.Itoa(i)), depth+1)
		}
		return out
	}
	if o.ClassName() == "Date" {
		// An invalid Date exports as no time at all; JSON.stringify writes null.
		return nil
	}
	// A value with toJSON (URL, a Date subclass, a class of the user's) is
	// kept as JSON.stringify would write it.
	if tj, ok := goja.AssertFunction(o.Get("toJSON")); ok {
		v, err := tj(o)
		if err == nil {
			return b.conv(v, depth+1)
		}
	}
	return b.convPlain(o, depth)
}

// convPlain converts an object by its own enumerable properties, in order.
func (b *bridge) convPlain(o *goja.Object, depth int) any {
	keys := o.Keys()
	out := msg.NewObject(len(keys))
	for _, k := range keys {
		out.Set(k, b.conv(o.Get(k), depth+1))
	}
	return out
}

// flush converts, in place, the JavaScript values stored in Go containers:
// before a message leaves without a copy, or finishes.
func (b *bridge) flush() {
	for len(b.dirtyObjs) > 0 || len(b.dirtyArrs) > 0 {
		objs, arrs := b.dirtyObjs, b.dirtyArrs
		b.dirtyObjs, b.dirtyArrs = nil, nil
		for _, p := range objs {
			p.dirty = false
			for i, n := 0, p.o.Len(); i < n; i++ {
				k, v := p.o.At(i)
				if jv, ok := v.(goja.Value); ok {
					p.o.Set(k, b.toGo(jv))
				}
			}
		}
		for _, a := range arrs {
			a.dirty = false
			for i, v := range a.s {
				if jv, ok := v.(goja.Value); ok {
					a.s[i] = b.toGo(jv)
				}
			}
		}
	}
}

// cloneGo deep-copies a message value, converting JavaScript values on the
// way: RED.util.cloneMessage, and node.send's copy of the first message.
func (b *bridge) cloneGo(v any) any {
	switch t := v.(type) {
	case *msg.Object:
		c := msg.NewObject(t.Len())
		for i, n := 0, t.Len(); i < n; i++ {
			k, e := t.At(i)
			c.Set(k, b.cloneGo(e))
		}
		return c
	case []any:
		c := make([]any, len(t))
		for i, e := range t {
			c[i] = b.cloneGo(e)
		}
		return c
	case []byte:
		return append([]byte{}, t...)
	case goja.Value:
		return b.cloneGo(b.toGo(t))
	}
	return v
}

// number converts a JavaScript number argument, NaN when it is not one.
func number(v goja.Value) float64 {
	if v == nil || goja.IsUndefined(v) {
		return math.NaN()
	}
	return v.ToFloat()
}
