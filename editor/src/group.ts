// Groups: a named box around nodes of one tab. Members carry g (the group's
// id), the group lists them in nodes, and its box always fits them.
import { NODE_HEIGHT, newId, nodeWidth, type FlowNode, type Specs } from "./model";

const PAD = 20;

export function groupSelection(doc: FlowNode[], ids: Set<string>, tab: string, specs: Specs = {}): { doc: FlowNode[]; group?: FlowNode } {
  // The top-level items of the selection: a member of a selected group
  // stays in that group.
  const items = doc.filter((n) => ids.has(n.id) && n.z === tab && (typeof n.x === "number" || n.type === "group") && !(n.g && ids.has(n.g)));
  if (!items.length) return { doc };
  const parents = new Set(items.map((n) => n.g ?? ""));
  const parent = parents.size === 1 ? [...parents][0] : "";
  const g: FlowNode = { id: newId(), type: "group", z: tab, name: "", style: { label: true }, nodes: items.map((n) => n.id), x: 0, y: 0, w: 0, h: 0 };
  if (parent) g.g = parent;
  const members = new Set(g.nodes);
  let out = doc.map((n) => {
    if (members.has(n.id)) {
      const m = { ...n, g: g.id };
      return m;
    }
    if (n.type === "group" && Array.isArray(n.nodes) && n.nodes.some((t: string) => members.has(t))) {
      const kept = n.nodes.filter((t: string) => !members.has(t));
      return { ...n, nodes: n.id === parent ? [...kept, g.id] : kept };
    }
    return n;
  });
  out.push(g);
  out = fitGroups(out, specs, [g.id]);
  return { doc: out, group: out.find((n) => n.id === g.id) };
}

// ungroup dissolves groups; their members join the group's own parent.
export function ungroup(doc: FlowNode[], ids: Set<string>): FlowNode[] {
  const groups = new Map(doc.filter((n) => n.type === "group" && ids.has(n.id)).map((n) => [n.id, n]));
  if (!groups.size) return doc;
  const parentOf = (id: string): string | undefined => {
    let p = groups.get(id)?.g;
    while (p && groups.has(p)) p = groups.get(p)!.g;
    return p;
  };
  const out: FlowNode[] = [];
  for (const n of doc) {
    if (groups.has(n.id)) continue;
    let m = n;
    if (n.g && groups.has(n.g)) {
      m = { ...n };
      const p = parentOf(n.g);
      if (p) m.g = p;
      else delete m.g;
    }
    if (n.type === "group" && Array.isArray(n.nodes) && n.nodes.some((t: string) => groups.has(t))) {
      const nodes: string[] = [];
      for (const t of n.nodes) {
        if (!groups.has(t)) nodes.push(t);
        else for (const d of doc) if (d.g === t && !groups.has(d.id)) nodes.push(d.id);
      }
      m = { ...m, nodes };
    }
    out.push(m);
  }
  return out;
}

// fitGroups resizes groups to the box around their members (innermost
// groups first, so nested boxes nest). only limits it to the groups of
// those nodes (and the groups around them), so groups drawn by another
// editor keep their size until something in them moves.
export function fitGroups(doc: FlowNode[], specs: Specs = {}, only?: Iterable<string>): FlowNode[] {
  const byId = new Map(doc.map((n) => [n.id, n]));
  let want: Set<string> | undefined;
  if (only) {
    want = new Set();
    for (const id of only) {
      const n = byId.get(id);
      if (n?.type === "group") want.add(n.id);
      for (let p = n?.g, i = 0; p && i < 50; p = byId.get(p)?.g, i++) want.add(p);
    }
  }
  const groups = doc.filter((n) => n.type === "group" && (!want || want.has(n.id)));
  if (!groups.length) return doc;
  const depth = (g: FlowNode) => {
    let d = 0;
    for (let p = g.g; p && d < 50; p = byId.get(p)?.g) d++;
    return d;
  };
  const fitted = new Map<string, FlowNode>();
  for (const g of [...groups].sort((a, b) => depth(b) - depth(a))) {
    const members = doc.filter((n) => n.g === g.id).map((n) => fitted.get(n.id) ?? n);
    if (!members.length) continue;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const m of members as any[]) {
      if (m.type === "group") {
        x0 = Math.min(x0, m.x); y0 = Math.min(y0, m.y); x1 = Math.max(x1, m.x + m.w); y1 = Math.max(y1, m.y + m.h);
      } else {
        const w = m.type === "junction" ? 10 : nodeWidth(m, specs[m.type]);
        x0 = Math.min(x0, m.x - w / 2); x1 = Math.max(x1, m.x + w / 2);
        y0 = Math.min(y0, m.y - NODE_HEIGHT / 2); y1 = Math.max(y1, m.y + NODE_HEIGHT / 2);
      }
    }
    const top = g.name ? PAD + 12 : PAD;
    const box = { x: Math.round(x0 - PAD), y: Math.round(y0 - top), w: Math.round(x1 - x0 + 2 * PAD), h: Math.round(y1 - y0 + PAD + top) };
    if (box.x !== g.x || box.y !== g.y || box.w !== g.w || box.h !== g.h) fitted.set(g.id, { ...g, ...box });
  }
  return fitted.size ? doc.map((n) => fitted.get(n.id) ?? n) : doc;
}

// membersOf is every node inside a group, nested groups included.
export function membersOf(doc: FlowNode[], gid: string): FlowNode[] {
  const out: FlowNode[] = [];
  const walk = (id: string) => {
    for (const n of doc) if (n.g === id) {
      out.push(n);
      if (n.type === "group") walk(n.id);
    }
  };
  walk(gid);
  return out;
}
