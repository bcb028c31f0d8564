// The editor's state logic, free of React: the flow document is the
// Node-RED flow JSON array itself, so properties the editor does not know
// survive every edit untouched.

export type FlowNode = { id: string; type: string; z?: string; x?: number; y?: number; wires?: string[][]; [k: string]: any };

export interface PropSpec {
  name: string;
  kind?: string;
  default: any;
  required?: boolean;
  options?: string[];
  typeProp?: string;
  types?: string[];
  configType?: string;
  label?: string;
}

export interface NodeSpec {
  type: string;
  category: string;
  color?: string;
  icon?: string;
  label?: string;
  inputs: number;
  outputs: number;
  config?: boolean;
  props: PropSpec[];
  credentials?: { name: string; password?: boolean }[];
  help?: string;
}

export type Specs = Record<string, NodeSpec>;

export const NODE_HEIGHT = 30;

export function newId(): string {
  const b = new Uint8Array(8);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export function isTab(n: FlowNode) {
  return n.type === "tab" || n.type === "subflow";
}

// Nodes drawn on a canvas have a z and a position; config nodes have
// neither (or a z but no position).
export function onCanvas(n: FlowNode, z: string) {
  return n.z === z && typeof n.x === "number" && typeof n.y === "number" && !isTab(n);
}

export function tabs(doc: FlowNode[]) {
  return doc.filter(isTab);
}

export function label(n: FlowNode, spec?: NodeSpec): string {
  if (n.type === "tab") return n.label || n.id;
  if (n.name) return String(n.name);
  if (n.type === "link in" || n.type === "link out") return n.type;
  if (n.type.startsWith("subflow:")) return n.type.slice(8);
  if (n.type === "inject" && n.props) {
    const p = (n.props as any[]).find((p) => p.p === "payload");
    if (p) {
      const t = p.vt ?? n.payloadType;
      const v = p.v ?? n.payload;
      if (t === "date") return "timestamp";
      if (v !== undefined && v !== "") return String(v).slice(0, 20);
    }
  }
  if (n.type === "debug") return n.complete === "true" ? "msg" : "msg." + (n.complete || "payload");
  return spec?.label || n.type;
}

export function nodeWidth(n: FlowNode, spec?: NodeSpec) {
  if (n.type === "junction") return 10;
  return Math.max(100, Math.min(300, label(n, spec).length * 7 + 50));
}

// ports gives a node's inputs and outputs; subflow instances take them from
// their template, unknown types from their wires.
export function ports(n: FlowNode, specs: Specs, doc: FlowNode[]): { inputs: number; outputs: number } {
  if (n.type.startsWith("subflow:")) {
    const sf = doc.find((d) => d.id === n.type.slice(8));
    return { inputs: sf?.in?.length ?? 0, outputs: sf?.out?.length ?? 0 };
  }
  const s = specs[n.type];
  const wired = Array.isArray(n.wires) ? n.wires.length : 0;
  if (!s) return { inputs: 1, outputs: wired };
  let outputs = s.outputs;
  if (typeof n.outputs === "number") outputs = n.outputs;
  else if (typeof n.outputs === "string" && n.outputs !== "" && !isNaN(+n.outputs)) outputs = +n.outputs;
  return { inputs: s.inputs, outputs };
}

export function defaults(spec: NodeSpec): Record<string, any> {
  const o: Record<string, any> = {};
  for (const p of spec.props) {
    if (p.default !== null && p.default !== undefined) o[p.name] = structuredClone(p.default);
    else if (p.name === "name") o.name = "";
  }
  return o;
}

export function createNode(spec: NodeSpec, z: string, x: number, y: number): FlowNode {
  const base: FlowNode = { id: newId(), type: spec.type, z, ...defaults(spec) };
  if (spec.config) {
    delete base.z;
    return base;
  }
  base.x = Math.round(x);
  base.y = Math.round(y);
  base.wires = Array.from({ length: spec.outputs }, () => []);
  return base;
}

export function update(doc: FlowNode[], id: string, patch: Partial<FlowNode>): FlowNode[] {
  return doc.map((n) => (n.id === id ? { ...n, ...patch } : n));
}

export function replace(doc: FlowNode[], node: FlowNode): FlowNode[] {
  return doc.map((n) => (n.id === node.id ? node : n));
}

export function connect(doc: FlowNode[], src: string, port: number, tgt: string): FlowNode[] {
  return doc.map((n) => {
    if (n.id !== src) return n;
    const wires = (n.wires ?? []).map((w) => [...w]);
    while (wires.length <= port) wires.push([]);
    if (!wires[port].includes(tgt)) wires[port].push(tgt);
    return { ...n, wires };
  });
}

export function disconnect(doc: FlowNode[], src: string, port: number, tgt: string): FlowNode[] {
  return doc.map((n) => {
    if (n.id !== src || !n.wires) return n;
    return { ...n, wires: n.wires.map((w, i) => (i === port ? w.filter((t) => t !== tgt) : w)) };
  });
}

// remove deletes nodes and every wire and link that points at them.
export function remove(doc: FlowNode[], ids: Set<string>): FlowNode[] {
  return doc
    .filter((n) => !ids.has(n.id))
    .map((n) => {
      let out = n;
      if (n.wires && n.wires.some((w) => w.some((t) => ids.has(t)))) {
        out = { ...out, wires: n.wires.map((w) => w.filter((t) => !ids.has(t))) };
      }
      if (Array.isArray(n.links) && n.links.some((t: string) => ids.has(t))) {
        out = { ...out, links: n.links.filter((t: string) => !ids.has(t)) };
      }
      if (Array.isArray(n.nodes) && n.type === "group" && n.nodes.some((t: string) => ids.has(t))) {
        out = { ...out, nodes: n.nodes.filter((t: string) => !ids.has(t)) };
      }
      if (n.g && ids.has(n.g)) {
        out = { ...out };
        delete out.g;
      }
      return out;
    });
}

// setOutputs changes a node's output count, dropping wires of lost ports.
export function setOutputs(n: FlowNode, count: number): FlowNode {
  const wires = (n.wires ?? []).slice(0, count);
  while (wires.length < count) wires.push([]);
  return { ...n, outputs: count, wires };
}

// parseImport reads clipboard or file JSON: an array of nodes or a single
// node object. Errors say what is wrong.
export function parseImport(text: string): FlowNode[] {
  let v: any;
  try {
    v = JSON.parse(text);
  } catch (e: any) {
    throw new Error("not valid JSON: " + e.message);
  }
  if (!Array.isArray(v)) v = [v];
  v.forEach((n: any, i: number) => {
    if (!n || typeof n !== "object" || Array.isArray(n)) throw new Error(`entry ${i} is not a node object`);
    if (typeof n.id !== "string" || typeof n.type !== "string") throw new Error(`entry ${i} has no string id and type`);
  });
  return v;
}

// importNodes gives imported nodes fresh ids (so a paste never clashes),
// rewires them among themselves, puts nodes without a tab of their own on
// the current tab, and shifts them by offset.
export function importNodes(doc: FlowNode[], nodes: FlowNode[], z: string, offset = 0): { doc: FlowNode[]; added: string[] } {
  const ids = new Map<string, string>();
  const existing = new Set(doc.map((n) => n.id));
  // A subflow template the document already has (a copy pasted back) is
  // not duplicated: its instances use the one in place.
  const known = new Set(nodes.filter((n) => n.type === "subflow" && existing.has(n.id)).map((n) => n.id));
  nodes = nodes.filter((n) => !known.has(n.id) && !(n.z && known.has(n.z)));
  for (const n of nodes) ids.set(n.id, existing.has(n.id) ? newId() : n.id);
  const tabIds = new Set(nodes.filter(isTab).map((n) => n.id));
  const map = (id: string) => ids.get(id) ?? id;
  const added = nodes.map((n) => {
    const c: FlowNode = structuredClone(n);
    c.id = map(n.id);
    if (c.z !== undefined || typeof c.x === "number") {
      c.z = c.z !== undefined && tabIds.has(c.z) ? map(c.z) : z;
    }
    if (c.wires) c.wires = c.wires.map((w) => w.filter((t) => ids.has(t) || existing.has(t)).map(map));
    if (Array.isArray(c.links)) c.links = c.links.map(map);
    if (c.g) c.g = ids.has(c.g) ? map(c.g) : undefined;
    if (c.type === "group" && Array.isArray(c.nodes)) c.nodes = c.nodes.map(map);
    if (c.type.startsWith("subflow:")) c.type = "subflow:" + map(c.type.slice(8));
    if (c.type === "subflow") {
      const port = (p: any) => ({ ...p, wires: (p.wires ?? []).map((w: any) => ({ ...w, id: map(w.id) })) });
      if (Array.isArray(c.in)) c.in = c.in.map(port);
      if (Array.isArray(c.out)) c.out = c.out.map(port);
    }
    if (typeof c.x === "number" && offset) {
      c.x += offset;
      c.y = (c.y ?? 0) + offset;
    }
    for (const k of Object.keys(c)) {
      // config node references (server, broker, ...) follow renamed ids.
      if (typeof c[k] === "string" && k !== "id" && k !== "type" && ids.has(c[k]) && ids.get(c[k]) !== c[k] && k !== "z") c[k] = map(c[k]);
    }
    if (c.g === undefined) delete c.g;
    return c;
  });
  return { doc: [...doc, ...added], added: added.map((n) => n.id) };
}

// exportNodes is the selection (with the config nodes and the subflow
// templates it uses) as Node-RED flow JSON, wires to nodes outside it
// dropped.
export function exportNodes(doc: FlowNode[], sel: Set<string>): FlowNode[] {
  const ids = new Set(sel);
  for (let grew = true; grew; ) {
    grew = false;
    for (const n of doc) {
      const sf = n.type.startsWith("subflow:") && ids.has(n.id) ? n.type.slice(8) : "";
      if ((sf && !ids.has(sf)) || (n.z && !ids.has(n.id) && ids.has(n.z) && doc.some((t) => t.id === n.z && t.type === "subflow"))) {
        ids.add(sf || n.id);
        grew = true;
      }
    }
  }
  const picked = doc.filter((n) => ids.has(n.id));
  const cfgIds = new Set<string>();
  const byId = new Map(doc.map((n) => [n.id, n]));
  for (const n of picked) {
    for (const [k, v] of Object.entries(n)) {
      if (k === "id" || k === "z" || k === "g" || typeof v !== "string") continue;
      const c = byId.get(v);
      if (c && c.z === undefined && !isTab(c) && !ids.has(c.id)) cfgIds.add(c.id);
    }
  }
  const out = picked.map((n) => (n.wires ? { ...n, wires: n.wires.map((w) => w.filter((t) => ids.has(t))) } : n));
  return [...out, ...doc.filter((n) => cfgIds.has(n.id))];
}

// History keeps whole documents: edits are immutable, so a snapshot costs
// one array of shared node objects.
export class History {
  past: FlowNode[][] = [];
  future: FlowNode[][] = [];
  push(doc: FlowNode[]) {
    this.past.push(doc);
    if (this.past.length > 200) this.past.shift();
    this.future = [];
  }
  undo(doc: FlowNode[]): FlowNode[] | undefined {
    const prev = this.past.pop();
    if (prev) this.future.push(doc);
    return prev;
  }
  redo(doc: FlowNode[]): FlowNode[] | undefined {
    const next = this.future.pop();
    if (next) this.past.push(doc);
    return next;
  }
}

// changedIds compares the document with what was last deployed.
export function changedIds(doc: FlowNode[], deployed: Map<string, string>): Set<string> {
  const out = new Set<string>();
  for (const n of doc) if (deployed.get(n.id) !== JSON.stringify(n)) out.add(n.id);
  return out;
}

export function snapshot(doc: FlowNode[]): Map<string, string> {
  return new Map(doc.map((n) => [n.id, JSON.stringify(n)]));
}

// configNodes lists config nodes of a type, for the picker.
export function configNodes(doc: FlowNode[], type: string) {
  return doc.filter((n) => n.type === type && typeof n.x !== "number");
}

export function categories(specs: NodeSpec[], filter: string): [string, NodeSpec[]][] {
  const f = filter.trim().toLowerCase();
  const m = new Map<string, NodeSpec[]>();
  for (const s of specs) {
    if (s.config || s.type === "unknown" || s.type === "tab") continue;
    if (f && !s.type.toLowerCase().includes(f) && !s.category.toLowerCase().includes(f)) continue;
    if (!m.has(s.category)) m.set(s.category, []);
    m.get(s.category)!.push(s);
  }
  const order = ["common", "function", "network", "sequence", "parser", "storage"];
  return [...m.entries()].sort((a, b) => {
    const ia = order.indexOf(a[0]), ib = order.indexOf(b[0]);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a[0].localeCompare(b[0]);
  });
}

// moveTab puts a tab (or subflow) before another in the document, which
// is the order the tab bar shows; before undefined moves it to the end.
export function moveTab(doc: FlowNode[], id: string, before?: string): FlowNode[] {
  const t = doc.find((n) => n.id === id);
  if (!t || id === before) return doc;
  const rest = doc.filter((n) => n.id !== id);
  const at = before ? rest.findIndex((n) => n.id === before) : -1;
  if (at < 0) {
    const lastTab = rest.reduce((i, n, j) => (isTab(n) ? j : i), -1);
    rest.splice(lastTab + 1, 0, t);
  } else rest.splice(at, 0, t);
  return rest;
}
