package settings

import (
	"regexp"

	"github.com/sluicehq/sluice/runtime/msg"
)

// contextModules are the context store implementations Sluice has.
var contextModules = []string{"memory", "localfilesystem"}

var storeName = regexp.MustCompile(`^[a-zA-Z0-9_]+$`)

// defaultContextStorage is Node-RED's when contextStorage is not set: one
// memory store, named "memory".
func defaultContextStorage() ContextStorage {
	return ContextStorage{
		Default: "memory",
		Stores:  []ContextStore{{Name: "memory", Module: "memory", Config: msg.NewObject(0)}},
	}
}

// decodeContextStorage follows Node-RED's rules: each entry names a module;
// "default" may instead be the name of another entry; without a "default"
// the first entry is the default; "_" is reserved and skipped.
func decodeContextStorage(d *dec, p string, v any) {
	if v == nil {
		return
	}
	o, ok := d.object(p, v)
	if !ok || o.Len() == 0 {
		return
	}
	cs := ContextStorage{}
	alias := ""
	for i := 0; i < o.Len(); i++ {
		name, ev := o.At(i)
		ep := p + "." + name
		if name == "_" {
			d.ignore(ep, `"_" is a reserved store name`)
			continue
		}
		if !storeName.MatchString(name) {
			d.fail(ep, "invalid store name: use letters, digits and _ only")
			continue
		}
		if s, isAlias := ev.(string); isAlias && name == "default" {
			if !o.Has(s) || s == "default" {
				d.fail(ep, "names the store %q, which is not configured", s)
				continue
			}
			alias = s
			continue
		}
		entry, ok := ev.(*msg.Object)
		if !ok {
			want := "an object {module, config}"
			if name == "default" {
				want += " or the name of another store"
			}
			d.typeErr(ep, want, ev)
			continue
		}
		st := ContextStore{Name: name, Config: msg.NewObject(0)}
		d.fields(ep, entry, map[string]func(string, any){
			"module": func(fp string, v any) {
				s, ok := v.(string)
				if !ok || !contains(contextModules, s) {
					d.typeErr(fp, `"memory" or "localfilesystem" (Sluice has no other context stores)`, v)
					return
				}
				st.Module = s
			},
			"config": func(fp string, v any) {
				if v == nil {
					return
				}
				if c, ok := d.object(fp, v); ok {
					st.Config = c.Clone()
				}
			},
		}, false)
		if !entry.Has("module") {
			d.fail(ep, `has no module ("memory" or "localfilesystem")`)
			continue
		}
		if st.Module != "" {
			cs.Stores = append(cs.Stores, st)
		}
	}
	switch {
	case alias != "":
		cs.Default = alias
	case o.Has("default"):
		cs.Default = "default"
	case len(cs.Stores) > 0:
		cs.Default = cs.Stores[0].Name
	}
	if len(cs.Stores) > 0 {
		d.s.ContextStorage = cs
	}
}
