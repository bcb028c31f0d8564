package engine

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/sluicehq/sluice/runtime/flow"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// deployment is one running flow set.
type deployment struct {
	eng           *Engine
	set           *flow.Set
	nodes         map[string]*instance // runtime id → instance
	order         []*instance
	flows         map[string]*flowScope
	pressure      *pressure
	globalEnvList envList
	creds         map[string]map[string]string
	problems      []node.Problem
	// extra wires added by subflow output ports: instance → port → targets.
	extra     map[*instance]map[int][]*instance
	lateWires []lateWire
	// prev and restart drive a "nodes" or "flows" deploy: instances whose
	// root is not in restart take over from prev's (see adopt); restart
	// nil restarts everything.
	prev    *deployment
	restart map[string]bool
}

func (e *Engine) newDeployment(set *flow.Set, creds map[string]map[string]string) *deployment {
	return &deployment{
		eng: e, set: set, nodes: map[string]*instance{}, flows: map[string]*flowScope{},
		pressure: e.pressure, creds: creds, extra: map[*instance]map[int][]*instance{},
	}
}

func (d *deployment) fail(def *flow.Def, prop, format string, args ...any) {
	d.problems = append(d.problems, node.Problem{Severity: "error", Code: "bad-property", ID: def.ID, Type: def.Type, Property: prop, Message: fmt.Sprintf(format, args...)})
}

// build creates every instance of the set without starting anything. It
// reports construction problems in d.problems.
func (d *deployment) build() {
	set := d.set
	for _, def := range set.Defs {
		if def.Type == "global-config" {
			d.globalEnvList = evalEnv(def.Raw.Value("env"), d.creds[def.ID], func(string) (any, bool) { return nil, false })
		}
	}
	global := &flowScope{d: d, id: "global", name: "global", nodes: map[string]*instance{}, completers: map[string][]*instance{}}
	global.ctxScope = d.eng.global()
	d.flows["global"] = global
	for _, def := range set.Defs {
		if def.Type != "tab" || def.Disabled {
			continue
		}
		f := &flowScope{d: d, id: def.ID, name: def.Name, nodes: map[string]*instance{}, completers: map[string][]*instance{}, path: def.ID}
		f.env = evalEnv(def.Raw.Value("env"), d.creds[def.ID], func(n string) (any, bool) { return d.globalEnv(n) })
		f.ctxScope = d.eng.flowContext(def.ID, "global")
		f.groups = d.buildGroups(def.ID, f)
		d.flows[def.ID] = f
	}
	// Config nodes first so the others can find them when they start.
	for pass := 0; pass < 2; pass++ {
		for _, def := range set.Defs {
			if flow.IsContainer(def.Type) || def.Disabled {
				continue
			}
			if _, inSubflow := set.Subflows[def.Z]; inSubflow {
				continue
			}
			spec, _ := node.Lookup(def.Type)
			isConfig := spec != nil && spec.Config
			if (pass == 0) != isConfig {
				continue
			}
			scope := global
			if def.Z != "" {
				f, ok := d.flows[def.Z]
				if !ok {
					continue // on a disabled tab
				}
				scope = f
			}
			if strings.HasPrefix(def.Type, "subflow:") {
				d.expandSubflow(def, scope, 0)
				continue
			}
			d.instantiate(def, scope, "")
		}
	}
	d.wire()
}

func (d *deployment) buildGroups(z string, f *flowScope) map[string]*groupScope {
	groups := map[string]*groupScope{}
	for _, def := range d.set.Defs {
		if def.Type == "group" && def.Z == z {
			groups[def.ID] = &groupScope{id: def.ID, name: def.Name}
		}
	}
	for _, def := range d.set.Defs {
		if def.Type != "group" || def.Z != z {
			continue
		}
		g := groups[def.ID]
		g.parent = groups[def.G]
		g.env = evalEnv(def.Raw.Value("env"), d.creds[def.ID], func(n string) (any, bool) {
			if g.parent != nil {
				return d.groupEnv(g.parent, f, n)
			}
			return d.flowEnv(f, n)
		})
	}
	return groups
}

// substitute replaces properties whose whole value is ${VAR} (or the old
// $(VAR)) by the variable's value, as Node-RED does when it creates a node.
func substitute(v any, get func(string) (any, bool)) any {
	switch t := v.(type) {
	case string:
		if len(t) > 3 && t[0] == '$' && ((t[1] == '{' && t[len(t)-1] == '}') || (t[1] == '(' && t[len(t)-1] == ')')) {
			name := t[2 : len(t)-1]
			if name != "" && !strings.ContainsAny(name, " \t\n") {
				if r, ok := get(name); ok {
					return r
				}
			}
		}
		return t
	case []any:
		for i := range t {
			t[i] = substitute(t[i], get)
		}
		return t
	case *msg.Object:
		for i := 0; i < t.Len(); i++ {
			k, val := t.At(i)
			nv := substitute(val, get)
			if s, ok := val.(string); !ok || nv != any(s) {
				t.Set(k, nv)
			}
		}
		return t
	}
	return v
}

var structural = map[string]bool{"id": true, "type": true, "z": true, "wires": true, "x": true, "y": true, "g": true, "d": true}

func (d *deployment) instantiate(def *flow.Def, scope *flowScope, prefix string) *instance {
	spec, ok := node.Lookup(def.Type)
	if !ok {
		d.problems = append(d.problems, node.Problem{Severity: "error", Code: "unknown-type", ID: def.ID, Type: def.Type, Message: fmt.Sprintf("unknown node type %q", def.Type)})
		return nil
	}
	id := def.ID
	if prefix != "" {
		id = prefix + "-" + def.ID
	}
	in := &instance{
		d: d, def: def, id: id, alias: def.ID, typ: def.Type, name: def.Name, flow: scope, spec: spec,
		creds: d.creds[def.ID],
	}
	if def.G != "" && scope.groups != nil {
		in.group = scope.groups[def.G]
	}
	in.path = scope.path + "/" + def.ID
	if scope.path == "" {
		in.path = def.ID
	}
	attrs := []any{"node", in.alias, "type", in.typ}
	if in.name != "" {
		attrs = append(attrs, "name", in.name)
	}
	if prefix != "" {
		attrs = append(attrs, "flow", scope.id)
	}
	in.log = d.eng.log.With(attrs...)
	in.nodeCtx = d.eng.nodeContext(def.ID, scope.id)

	raw := def.Raw.Clone()
	for i := 0; i < raw.Len(); i++ {
		k, v := raw.At(i)
		if structural[k] {
			continue
		}
		nv := substitute(v, func(n string) (any, bool) { return d.env(in, n) })
		if s, ok := v.(string); !ok || nv != any(s) {
			raw.Set(k, nv)
		}
	}
	cfg := &node.Config{Raw: raw, Creds: in.creds, Env: func(n string) (any, bool) { return d.env(in, n) }}
	if o := d.adopt(in, rootOf(def.ID, scope)); o != nil {
		in.node = o.node
		in.input, _ = o.node.(node.Inputter)
		in.deferred = o.deferred
		scope.nodes[def.ID] = in
		d.nodes[id] = in
		d.order = append(d.order, in)
		d.register(in, def, scope)
		return in
	}
	n, err := func() (n node.Node, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic while building the node: %v", r)
			}
		}()
		return spec.New(cfg)
	}()
	if err != nil {
		d.problems = append(d.problems, problemOf(def, err))
		return nil
	}
	in.node = n
	in.input, _ = n.(node.Inputter)
	_, in.deferred = n.(node.Deferred)
	scope.nodes[def.ID] = in
	d.nodes[id] = in
	d.order = append(d.order, in)
	d.register(in, def, scope)
	return in
}

// register lists catch, status and complete nodes with their scope.
func (d *deployment) register(in *instance, def *flow.Def, scope *flowScope) {
	switch def.Type {
	case "catch":
		scope.catchers = append(scope.catchers, in)
	case "status":
		scope.statusers = append(scope.statusers, in)
	case "complete":
		if ids, ok := def.Raw.Value("scope").([]any); ok {
			for _, x := range ids {
				if s, ok := x.(string); ok {
					scope.completers[s] = append(scope.completers[s], in)
				}
			}
		}
	}
}

func problemOf(def *flow.Def, err error) node.Problem {
	p := node.Problem{Severity: "error", Code: "bad-node", ID: def.ID, Type: def.Type, Message: err.Error()}
	if pe, ok := err.(*node.PropError); ok {
		p.Code = "bad-property"
		p.Property = pe.Property
		p.Message = pe.Msg
		if pe.Value != nil {
			p.Message += " (value " + string(msg.Marshal(pe.Value)) + ")"
		}
	}
	return p
}

const maxSubflowDepth = 32

// expandSubflow creates the nodes of one subflow instance: a flow scope of
// its own, an input port (the instance node itself), output ports and a
// status port, all as pass-through instances.
func (d *deployment) expandSubflow(def *flow.Def, parent *flowScope, depth int) *instance {
	sfID := strings.TrimPrefix(def.Type, "subflow:")
	sf, ok := d.set.Subflows[sfID]
	if !ok {
		d.problems = append(d.problems, node.Problem{Severity: "error", Code: "unknown-type", ID: def.ID, Type: def.Type, Message: fmt.Sprintf("subflow %q is not in the file", sfID)})
		return nil
	}
	if depth > maxSubflowDepth {
		d.fail(def, "type", "subflows nested more than %d deep (a subflow that contains itself?)", maxSubflowDepth)
		return nil
	}
	id := def.ID
	if parent.instance != nil {
		id = parent.id + "-" + def.ID
	}
	name := def.Name
	port := &instance{d: d, def: def, id: id, alias: def.ID, typ: def.Type, name: name, flow: parent, creds: d.creds[def.ID]}
	if def.G != "" && parent.groups != nil {
		port.group = parent.groups[def.G]
	}
	port.path = parent.path + "/" + def.ID
	port.log = d.eng.log.With("node", def.ID, "type", def.Type)
	scope := &flowScope{d: d, id: id, name: name, parent: parent, instance: port, nodes: map[string]*instance{}, completers: map[string][]*instance{}, subflowID: sfID, path: port.path}
	envs := append([]any{}, asList(sf.Raw.Value("env"))...)
	envs = append(envs, asList(def.Raw.Value("env"))...)
	scope.env = evalEnv(envs, d.creds[def.ID], func(n string) (any, bool) {
		if port.group != nil {
			return d.groupEnv(port.group, parent, n)
		}
		return d.flowEnv(parent, n)
	})
	scope.ctxScope = d.eng.flowContext(id, parent.id)
	scope.groups = d.buildGroups(sfID, scope)
	d.flows[id] = scope
	parent.nodes[def.ID] = port
	d.nodes[id] = port
	d.order = append(d.order, port)

	for _, t := range d.set.Defs {
		if t.Z != sfID || flow.IsContainer(t.Type) || t.Disabled {
			continue
		}
		if strings.HasPrefix(t.Type, "subflow:") {
			d.expandSubflow(t, scope, depth+1)
		} else {
			d.instantiate(t, scope, id)
		}
	}
	// Input port: forwards to the nodes wired from the subflow's input.
	var inTargets []*instance
	for _, w := range portWires(sf.Raw.Value("in"), 0) {
		if t := scope.nodes[w.id]; t != nil {
			inTargets = append(inTargets, t)
		}
	}
	port.wires = [][]*instance{inTargets}
	port.passthrough = func(m *msg.Msg) { port.Send(m) }
	// Output ports: nodes inside wire to them; they forward on the
	// instance's own wires in the parent flow.
	outs := asList(sf.Raw.Value("out"))
	for k := range outs {
		op := &instance{d: d, def: def, id: fmt.Sprintf("%s:out%d", id, k), alias: def.ID, typ: def.Type, name: name, flow: parent, log: port.log, path: port.path}
		var targets []*instance
		if k < len(def.Wires) {
			for _, tid := range def.Wires[k] {
				if t := parent.nodes[tid]; t != nil {
					targets = append(targets, t)
				} else {
					d.pendingParentWire(op, parent, tid)
				}
			}
		}
		op.wires = [][]*instance{targets}
		op.passthrough = func(m *msg.Msg) { op.Send(m) }
		d.nodes[op.id] = op
		d.order = append(d.order, op)
		port.outPorts = append(port.outPorts, op)
		for _, w := range portWires(outs, k) {
			var src *instance
			if w.id == sfID {
				src = port
			} else {
				src = scope.nodes[w.id]
			}
			switch {
			case src == nil:
			case src != port && src.outPorts != nil:
				// A nested subflow instance: its output port feeds ours.
				if w.port < len(src.outPorts) {
					inner := src.outPorts[w.port]
					inner.wires[0] = append(inner.wires[0], op)
				}
			default:
				d.addExtra(src, w.port, op)
			}
		}
	}
	// Status port: messages arriving there set the instance's status.
	if st, ok := sf.Raw.Value("status").(*msg.Object); ok {
		scope.statusPort = true
		sp := &instance{d: d, def: def, id: id + ":status", alias: def.ID, typ: def.Type, name: name, flow: parent, log: port.log, path: port.path}
		sp.passthrough = func(m *msg.Msg) { port.Status(statusOf(m)) }
		d.nodes[sp.id] = sp
		d.order = append(d.order, sp)
		for _, w := range portWires([]any{st}, 0) {
			if src := scope.nodes[w.id]; src != nil {
				d.addExtra(src, w.port, sp)
			}
		}
	}
	return port
}

// pendingParentWire resolves a wire from a subflow output to a node of the
// parent flow that is created later (file order).
func (d *deployment) pendingParentWire(op *instance, parent *flowScope, id string) {
	d.lateWires = append(d.lateWires, lateWire{op, parent, id})
}

type lateWire struct {
	from   *instance
	parent *flowScope
	id     string
}

func statusOf(m *msg.Msg) node.Status {
	var s node.Status
	if so, ok := m.Value("status").(*msg.Object); ok {
		s.Fill, _ = so.Value("fill").(string)
		s.Shape, _ = so.Value("shape").(string)
		if t, ok := so.Get("text"); ok {
			s.Text = msg.ToString(t)
		}
		return s
	}
	switch p := m.Payload().(type) {
	case string:
		s.Text = p
	case *msg.Object:
		if p.Has("fill") || p.Has("shape") || p.Has("text") {
			s.Fill, _ = p.Value("fill").(string)
			s.Shape, _ = p.Value("shape").(string)
			if t, ok := p.Get("text"); ok {
				s.Text = msg.ToString(t)
			}
		} else {
			s.Text = msg.Inspect(p)
		}
	default:
		if p != nil {
			s.Text = msg.ToString(p)
		}
	}
	return s
}

func (d *deployment) addExtra(src *instance, port int, to *instance) {
	m := d.extra[src]
	if m == nil {
		m = map[int][]*instance{}
		d.extra[src] = m
	}
	m[port] = append(m[port], to)
}

type portWire struct {
	id   string
	port int
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// portWires reads Node-RED's subflow port form [{x, y, wires: [{id, port}]}].
func portWires(ports any, k int) []portWire {
	list := asList(ports)
	if k >= len(list) {
		return nil
	}
	o, ok := list[k].(*msg.Object)
	if !ok {
		return nil
	}
	var out []portWire
	for _, w := range asList(o.Value("wires")) {
		wo, ok := w.(*msg.Object)
		if !ok {
			continue
		}
		id, _ := wo.Value("id").(string)
		p, _ := msg.Num(wo.Value("port"))
		out = append(out, portWire{id, int(p)})
	}
	return out
}

// wire resolves every node's wires to instances of its own scope.
func (d *deployment) wire() {
	for _, in := range d.order {
		if in.node == nil {
			// Ports were wired when created; a subflow wired straight from
			// input to output adds to its input port here.
			for p, ts := range d.extra[in] {
				for len(in.wires) <= p {
					in.wires = append(in.wires, nil)
				}
				in.wires[p] = append(in.wires[p], ts...)
			}
			continue
		}
		n := len(in.def.Wires)
		if in.spec != nil {
			if c := in.spec.OutputCount(&node.Config{Raw: in.def.Raw}); c > n {
				n = c
			}
		}
		for p := range d.extra[in] {
			if p+1 > n {
				n = p + 1
			}
		}
		in.wires = make([][]*instance, n)
		wires := in.def.Wires
		if in.typ == "link out" && in.def.Raw.Value("mode") != "return" {
			// A link out's links are its wires, to any flow.
			var ids []string
			for _, l := range asList(in.def.Raw.Value("links")) {
				if s, ok := l.(string); ok {
					ids = append(ids, s)
				}
			}
			wires = [][]string{ids}
			if len(in.wires) == 0 {
				in.wires = make([][]*instance, 1)
			}
		}
		for p, ids := range wires {
			for _, id := range ids {
				if t := in.flow.lookup(id); t != nil {
					in.wires[p] = append(in.wires[p], t)
				}
			}
		}
		for p, ts := range d.extra[in] {
			in.wires[p] = append(in.wires[p], ts...)
		}
	}
	for _, f := range d.flows {
		for alias := range f.completers {
			if t := f.nodes[alias]; t != nil {
				t.watched = true
			}
		}
	}
	for _, lw := range d.lateWires {
		if t := lw.parent.nodes[lw.id]; t != nil {
			lw.from.wires[0] = append(lw.from.wires[0], t)
		}
	}
	for _, in := range d.order {
		if in.log == nil {
			in.log = slog.Default()
		}
	}
}
