package flowfile

import (
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
)

// MergeResult is a three-way merge of flow files.
type MergeResult struct {
	// Data is the merged flow file in canonical form. With conflicts it holds
	// ours where the sides disagree, plus a sluice-conflicts node listing them.
	Data      []byte
	Conflicts []Conflict
}

// absent stands for a property or node that one side does not have.
type absentT struct{}

var absent any = absentT{}

func isAbsent(v any) bool { _, ok := v.(absentT); return ok }

// codeProps hold text that merges line by line (diff3) rather than as one
// value: function code, templates, comments.
var codeProps = map[string]bool{"func": true, "initialize": true, "finalize": true, "template": true, "info": true}

// Merge merges the changes from base to ours and from base to theirs, node by
// node and property by property: edits to different nodes or different
// properties merge cleanly, as do nodes added on either side, wires added or
// removed on either side, and edits to different lines of function code or
// templates. A property changed differently on both sides, or a node changed
// on one side and deleted on the other, is a conflict. Positions (x, y)
// moved differently on both sides take ours without a conflict.
func Merge(base, ours, theirs []byte) (*MergeResult, error) {
	var fs [3]*file
	for i, in := range [][]byte{base, ours, theirs} {
		f, err := parseFile(in)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", [...]string{"base", "ours", "theirs"}[i], err)
		}
		fs[i] = f
	}
	_, bm, _ := keyed(fs[0].entries)
	oIDs, om, oExtras := keyed(fs[1].entries)
	tIDs, tm, _ := keyed(fs[2].entries)

	mg := &merger{}
	var out []any
	for _, id := range mergeOrder(oIDs, tIDs) {
		b, o, t := lookup(bm, id), lookup(om, id), lookup(tm, id)
		r := mg.value(id, nodeType(o, t, b), "", b, o, t)
		if !isAbsent(r) {
			out = append(out, r)
		}
	}
	out = append(out, oExtras...)
	if len(mg.conflicts) > 0 {
		out = addConflicts(out, mg.conflicts)
	}
	res := &file{wrapper: fs[1].wrapper, entries: out}
	if res.wrapper == nil && len(fs[1].entries) == 0 {
		res.wrapper = fs[2].wrapper
	}
	if res.wrapper != nil {
		res.wrapper = res.wrapper.Clone()
		res.wrapper.Set("flows", out)
	}
	return &MergeResult{Data: res.encode(), Conflicts: mg.conflicts}, nil
}

func lookup(m map[string]*msg.Object, id string) any {
	if o, ok := m[id]; ok {
		return o
	}
	return absent
}

func nodeType(vs ...any) string {
	for _, v := range vs {
		if s := str(v, "type"); s != "" {
			return s
		}
	}
	return ""
}

// mergeOrder is ours' order with the ids only theirs has inserted after the
// entry that precedes them in theirs, so a tab added in theirs lands where
// theirs put it in the tab bar.
func mergeOrder(ours, theirs []string) []string {
	inOurs := make(map[string]bool, len(ours))
	for _, id := range ours {
		inOurs[id] = true
	}
	after := map[string][]string{}
	prev := ""
	for _, id := range theirs {
		if !inOurs[id] {
			after[prev] = append(after[prev], id)
		}
		prev = id
	}
	out := make([]string, 0, len(ours)+len(theirs))
	var emit func(id string)
	emit = func(id string) {
		out = append(out, id)
		for _, x := range after[id] {
			emit(x)
		}
	}
	for _, x := range after[""] {
		emit(x)
	}
	for _, id := range ours {
		emit(id)
	}
	return out
}

type merger struct {
	conflicts []Conflict
}

func same(a, b any) bool {
	if isAbsent(a) || isAbsent(b) {
		return isAbsent(a) && isAbsent(b)
	}
	return msg.Equal(a, b)
}

// value merges one node (path "") or one property path of a node.
func (mg *merger) value(id, typ, path string, b, o, t any) any {
	switch {
	case same(o, t), same(t, b):
		return o
	case same(o, b):
		return t
	}
	oo, okO := o.(*msg.Object)
	to, okT := t.(*msg.Object)
	bo, okB := b.(*msg.Object)
	if okO && okT && (okB || isAbsent(b)) && !(path == "" && str(o, "type") != str(t, "type") && isAbsent(b)) {
		return mg.object(id, typ, path, bo, oo, to)
	}
	if path == "wires" {
		if w, ok := mergeWires(b, o, t); ok {
			return w
		}
	}
	if (path == "x" || path == "y") && !isAbsent(o) && !isAbsent(t) {
		return o
	}
	bs, okB := b.(string)
	os, okO := o.(string)
	ts, okT := t.(string)
	if okB && okO && okT && (codeProps[lastKey(path)] || strings.Contains(bs+os+ts, "\n")) {
		if m, ok := MergeLines(bs, os, ts); ok {
			return m
		}
	}
	mg.conflicts = append(mg.conflicts, Conflict{
		ID: id, Type: typ, Property: path,
		Base: b, HasBase: !isAbsent(b),
		Ours: o, HasOurs: !isAbsent(o),
		Theirs: t, HasTheirs: !isAbsent(t),
	})
	if isAbsent(o) {
		// Deleted in ours, changed in theirs: keep the changed node so that
		// nothing is lost while the conflict is resolved.
		return t
	}
	return o
}

func lastKey(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// object merges key by key: ours' key order, then keys only theirs has.
func (mg *merger) object(id, typ, path string, b, o, t *msg.Object) *msg.Object {
	out := msg.NewObject(o.Len())
	get := func(x *msg.Object, k string) any {
		if x == nil {
			return absent
		}
		if v, ok := x.Get(k); ok {
			return v
		}
		return absent
	}
	seen := map[string]bool{}
	keys := append(append(append([]string(nil), o.Keys()...), t.Keys()...), b.Keys()...)
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		p := k
		if path != "" {
			p = path + "." + k
		}
		r := mg.value(id, typ, p, get(b, k), get(o, k), get(t, k))
		if !isAbsent(r) {
			out.Set(k, r)
		}
	}
	return out
}

// mergeWires merges wires port by port as sets: a wire either side added is
// added, a wire either side removed is removed. The number of ports follows
// the side that changed it; both changing it differently is a conflict.
func mergeWires(b, o, t any) (any, bool) {
	bw, okB := wireList(b)
	ow, okO := wireList(o)
	tw, okT := wireList(t)
	if !okB || !okO || !okT {
		return nil, false
	}
	var n int
	switch {
	case len(ow) == len(bw):
		n = len(tw)
	case len(tw) == len(bw), len(ow) == len(tw):
		n = len(ow)
	default:
		return nil, false
	}
	port := func(w [][]string, i int) []string {
		if i < len(w) {
			return w[i]
		}
		return nil
	}
	out := make([]any, n)
	for i := 0; i < n; i++ {
		bp, op, tp := toSet(port(bw, i)), port(ow, i), port(tw, i)
		ts := toSet(tp)
		os := toSet(op)
		ids := []any{}
		for _, id := range op {
			if ts[id] || !bp[id] {
				ids = append(ids, id)
			}
		}
		for _, id := range tp {
			if !bp[id] && !os[id] {
				ids = append(ids, id)
			}
		}
		out[i] = ids
	}
	return out, true
}

func wireList(v any) ([][]string, bool) {
	if isAbsent(v) {
		return nil, true
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([][]string, len(arr))
	for i, p := range arr {
		ids, ok := p.([]any)
		if !ok {
			return nil, false
		}
		for _, id := range ids {
			s, ok := id.(string)
			if !ok {
				return nil, false
			}
			out[i] = append(out[i], s)
		}
	}
	return out, true
}

func toSet(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// addConflicts records conflicts in the sluice-conflicts node, appending to
// one left by an earlier unresolved merge.
func addConflicts(entries []any, cs []Conflict) []any {
	list := make([]any, 0, len(cs))
	for _, c := range cs {
		list = append(list, c.object())
	}
	for i, e := range entries {
		if str(e, "id") == ConflictsID {
			o := e.(*msg.Object).Clone()
			prev, _ := o.Value("conflicts").([]any)
			o.Set("conflicts", append(append([]any(nil), prev...), list...))
			entries[i] = o
			return entries
		}
	}
	return append(entries, msg.ObjectOf("id", ConflictsID, "type", ConflictsType, "conflicts", list))
}
