// Subflows: a selection becomes a subflow template on its own tab and one
// instance where the selection was. Wires that crossed the selection's
// boundary become the template's ports and the instance's wires.
import { NODE_HEIGHT, newId, nodeWidth, type FlowNode, type Specs } from "./model";

export class SubflowError extends Error {}

export function subflowName(doc: FlowNode[]): string {
  const names = new Set(doc.filter((n) => n.type === "subflow").map((n) => n.name));
  let i = 1;
  while (names.has("Subflow " + i)) i++;
  return "Subflow " + i;
}

export function newSubflow(doc: FlowNode[]): FlowNode {
  return { id: newId(), type: "subflow", name: subflowName(doc), info: "", category: "", in: [], out: [], env: [], color: "#DDAA99" };
}

// createInstance is a node of a subflow template, for the palette.
export function createInstance(sf: FlowNode, z: string, x: number, y: number): FlowNode {
  return { id: newId(), type: "subflow:" + sf.id, z, name: "", env: [], x: Math.round(x), y: Math.round(y), wires: (sf.out ?? []).map(() => []) };
}

export function createSubflow(doc: FlowNode[], ids: Set<string>, tab: string, specs: Specs = {}): { doc: FlowNode[]; subflow: FlowNode; instance: FlowNode } {
  const sel = doc.filter((n) => ids.has(n.id) && n.z === tab && typeof n.x === "number" && n.type !== "group");
  if (!sel.length) throw new SubflowError("select the nodes to put into the subflow first");
  const inSel = new Set(sel.map((n) => n.id));
  if (sel.some((n) => n.type === "subflow:" + tab)) throw new SubflowError("a subflow cannot contain itself");

  // Wires entering the selection: a subflow has at most one input, so they
  // must all end at one node (otherwise a message would reach nodes it
  // never reached before).
  const inTargets = new Set<string>();
  for (const n of doc) {
    if (n.z !== tab || inSel.has(n.id)) continue;
    for (const w of n.wires ?? []) for (const t of w) if (inSel.has(t)) inTargets.add(t);
  }
  if (inTargets.size > 1) throw new SubflowError(`wires enter the selection at ${inTargets.size} nodes (${[...inTargets].join(", ")}); a subflow has one input`);

  // Wires leaving the selection: one subflow output per source port.
  const outs: { src: string; port: number; targets: string[] }[] = [];
  for (const n of sel) {
    (n.wires ?? []).forEach((w, port) => {
      const targets = w.filter((t) => !inSel.has(t));
      if (targets.length) outs.push({ src: n.id, port, targets });
    });
  }

  const xs = sel.map((n) => n.x!), ys = sel.map((n) => n.y!);
  const minX = Math.min(...sel.map((n) => n.x! - nodeWidth(n, specs[n.type]) / 2));
  const maxX = Math.max(...sel.map((n) => n.x! + nodeWidth(n, specs[n.type]) / 2));
  const minY = Math.min(...ys);
  const dx = 180 - minX, dy = 60 - minY;
  const sf = newSubflow(doc);
  sf.in = inTargets.size ? [{ x: 60, y: 60, wires: [{ id: [...inTargets][0] }] }] : [];
  sf.out = outs.map((o, i) => ({ x: Math.round(maxX + dx + 120), y: 60 + i * (NODE_HEIGHT + 30), wires: [{ id: o.src, port: o.port }] }));
  const instance: FlowNode = {
    id: newId(),
    type: "subflow:" + sf.id,
    z: tab,
    name: "",
    env: [],
    x: Math.round(xs.reduce((a, b) => a + b, 0) / xs.length),
    y: Math.round(ys.reduce((a, b) => a + b, 0) / ys.length),
    wires: outs.map((o) => [...o.targets]),
  };

  const groupsLosing = new Set(sel.map((n) => n.g).filter(Boolean));
  const out: FlowNode[] = [];
  for (const n of doc) {
    if (inSel.has(n.id)) {
      const m: FlowNode = { ...n, z: sf.id, x: Math.round(n.x! + dx), y: Math.round(n.y! + dy) };
      if (m.wires) m.wires = m.wires.map((w) => w.filter((t) => inSel.has(t)));
      if (m.g && !inSel.has(m.g)) delete m.g;
      out.push(m);
      continue;
    }
    let m = n;
    if (n.z === tab && n.wires?.some((w) => w.some((t) => inSel.has(t)))) {
      // Wires into the selection now go to the instance, once per port.
      m = { ...n, wires: n.wires.map((w) => {
        const kept = w.filter((t) => !inSel.has(t));
        return w.length !== kept.length && !kept.includes(instance.id) ? [...kept, instance.id] : kept;
      }) };
    }
    if (n.type === "group" && groupsLosing.has(n.id)) m = { ...m, nodes: (m.nodes ?? []).filter((t: string) => !inSel.has(t)) };
    out.push(m);
  }
  // The template goes before its nodes, as Node-RED writes it.
  const firstTab = out.findIndex((n) => n.type === "tab" || n.type === "subflow");
  out.splice(firstTab < 0 ? 0 : firstTab, 0, sf);
  out.push(instance);
  return { doc: out, subflow: sf, instance };
}

// Port nodes of a subflow template are drawn on its tab; their ids encode
// which port they are.
export const portId = (kind: "in" | "out", i: number) => `sf-${kind}:${i}`;
export function parsePortId(id: string): { kind: "in" | "out"; index: number } | undefined {
  const m = /^sf-(in|out):(\d+)$/.exec(id);
  return m ? { kind: m[1] as "in" | "out", index: +m[2] } : undefined;
}

// connectPort wires a template's input port to a node, or a node's output
// to a template's output port.
export function connectPort(doc: FlowNode[], sfId: string, src: string, port: number, tgt: string): FlowNode[] {
  const ps = parsePortId(src), pt = parsePortId(tgt);
  return doc.map((n) => {
    if (n.id !== sfId) return n;
    if (ps?.kind === "in" && !pt) {
      const ins = (n.in ?? []).map((p: any, i: number) => (i === ps.index && !p.wires.some((w: any) => w.id === tgt) ? { ...p, wires: [...p.wires, { id: tgt }] } : p));
      return { ...n, in: ins };
    }
    if (pt?.kind === "out" && !ps) {
      const outs = (n.out ?? []).map((p: any, i: number) => (i === pt.index && !p.wires.some((w: any) => w.id === src && (w.port ?? 0) === port) ? { ...p, wires: [...p.wires, { id: src, port }] } : p));
      return { ...n, out: outs };
    }
    return n;
  });
}

export function disconnectPort(doc: FlowNode[], sfId: string, src: string, port: number, tgt: string): FlowNode[] {
  const ps = parsePortId(src), pt = parsePortId(tgt);
  return doc.map((n) => {
    if (n.id !== sfId) return n;
    if (ps?.kind === "in") return { ...n, in: n.in.map((p: any, i: number) => (i === ps.index ? { ...p, wires: p.wires.filter((w: any) => w.id !== tgt) } : p)) };
    if (pt?.kind === "out") return { ...n, out: n.out.map((p: any, i: number) => (i === pt.index ? { ...p, wires: p.wires.filter((w: any) => !(w.id === src && (w.port ?? 0) === port)) } : p)) };
    return n;
  });
}

// setPorts changes a template's input (0 or 1) and output counts; every
// instance's wires follow the output count.
export function setPorts(doc: FlowNode[], sfId: string, inputs: number, outputs: number): FlowNode[] {
  return doc.map((n) => {
    if (n.id === sfId) {
      const ins = inputs > 0 ? (n.in?.length ? n.in.slice(0, 1) : [{ x: 60, y: 60, wires: [] }]) : [];
      const outs = (n.out ?? []).slice(0, outputs);
      while (outs.length < outputs) outs.push({ x: 460, y: 60 + outs.length * 60, wires: [] });
      return { ...n, in: ins, out: outs };
    }
    if (n.type === "subflow:" + sfId) {
      const wires = (n.wires ?? []).slice(0, outputs);
      while (wires.length < outputs) wires.push([]);
      return { ...n, wires };
    }
    return n;
  });
}
