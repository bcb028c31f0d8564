package flowfile

import (
	"bytes"
	"sort"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// Format returns the canonical form of a flow file (see the package doc).
func Format(data []byte) ([]byte, error) {
	f, err := parseFile(data)
	if err != nil {
		return nil, err
	}
	return f.encode(), nil
}

// IsCanonical reports whether data is already in canonical form.
func IsCanonical(data []byte) (bool, error) {
	out, err := Format(data)
	if err != nil {
		return false, err
	}
	return bytes.Equal(out, data), nil
}

const indentUnit = "    "

func (f *file) encode() []byte {
	var b strings.Builder
	entries := order(f.entries)
	if f.wrapper == nil {
		writeEntries(&b, entries, "")
		b.WriteByte('\n')
		return []byte(b.String())
	}
	b.WriteString("{\n")
	keys := f.wrapper.Keys()
	for i, k := range keys {
		b.WriteString(indentUnit)
		msg.QuoteTo(&b, k)
		b.WriteString(": ")
		if k == "flows" {
			writeEntries(&b, entries, indentUnit)
		} else {
			b.Write(msg.Marshal(f.wrapper.Value(k)))
		}
		if i < len(keys)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

func writeEntries(b *strings.Builder, entries []any, indent string) {
	if len(entries) == 0 {
		b.WriteString("[]")
		return
	}
	b.WriteString("[\n")
	inner := indent + indentUnit
	for i, e := range entries {
		writeEntry(b, e, inner)
		if i < len(entries)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(indent)
	b.WriteByte(']')
}

func writeEntry(b *strings.Builder, e any, indent string) {
	o, ok := e.(*msg.Object)
	if !ok || o.Len() == 0 {
		b.WriteString(indent)
		b.Write(msg.Marshal(e))
		return
	}
	b.WriteString(indent)
	b.WriteString("{\n")
	keys := nodeKeys(o)
	for i, k := range keys {
		b.WriteString(indent)
		b.WriteString(indentUnit)
		msg.QuoteTo(b, k)
		b.WriteString(": ")
		b.Write(msg.Marshal(o.Value(k)))
		if i < len(keys)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(indent)
	b.WriteByte('}')
}

var (
	leadKeys = []string{"id", "type", "z", "g", "name"}
	tailKeys = []string{"x", "y", "wires"}
)

// nodeKeys is the canonical key order of one node.
func nodeKeys(o *msg.Object) []string {
	placed := make(map[string]bool, o.Len())
	out := make([]string, 0, o.Len())
	add := func(k string) {
		if !placed[k] && o.Has(k) {
			placed[k] = true
			out = append(out, k)
		}
	}
	for _, k := range tailKeys {
		placed[k] = true // reserved for the end
	}
	for _, k := range leadKeys {
		add(k)
	}
	if typ, ok := o.Value("type").(string); ok {
		if spec, ok := node.Lookup(typ); ok {
			for _, p := range spec.Props {
				add(p.Name)
			}
		}
	}
	for _, k := range o.Keys() {
		add(k)
	}
	for _, k := range tailKeys {
		if o.Has(k) {
			out = append(out, k)
		}
	}
	return out
}

type placedEntry struct {
	v   any
	id  string
	idx int
}

func sortByID(es []placedEntry) {
	sort.SliceStable(es, func(i, j int) bool { return es[i].id < es[j].id })
}

// order is the canonical entry order (see the package doc).
func order(entries []any) []any {
	var tabs, subflows, config, extras []placedEntry
	var nodes []placedEntry
	for i, e := range entries {
		id := str(e, "id")
		if _, ok := e.(*msg.Object); !ok || id == "" {
			extras = append(extras, placedEntry{v: e, idx: i})
			continue
		}
		pe := placedEntry{v: e, id: id, idx: i}
		switch str(e, "type") {
		case "tab":
			tabs = append(tabs, pe)
		case "subflow":
			subflows = append(subflows, pe)
		default:
			nodes = append(nodes, pe)
		}
	}
	byZ := map[string][]placedEntry{}
	for _, pe := range nodes {
		if z := str(pe.v, "z"); z != "" {
			byZ[z] = append(byZ[z], pe)
		} else {
			config = append(config, pe)
		}
	}
	out := make([]any, 0, len(entries))
	emitFlow := func(c placedEntry) {
		out = append(out, c.v)
		members, ok := byZ[c.id]
		if !ok {
			return
		}
		delete(byZ, c.id)
		sortByID(members)
		for _, m := range members {
			out = append(out, m.v)
		}
	}
	for _, t := range tabs {
		emitFlow(t)
	}
	for _, s := range subflows {
		emitFlow(s)
	}
	orphans := make([]string, 0, len(byZ))
	for z := range byZ {
		orphans = append(orphans, z)
	}
	sort.Strings(orphans)
	for _, z := range orphans {
		members := byZ[z]
		sortByID(members)
		for _, m := range members {
			out = append(out, m.v)
		}
	}
	sortByID(config)
	for _, c := range config {
		out = append(out, c.v)
	}
	for _, x := range extras {
		out = append(out, x.v)
	}
	return out
}
