// Merging after a version_mismatch: the server's flows win wherever this
// editor did not touch a node; every node this editor added, changed or
// deleted since it loaded keeps the editor's version.
import { type FlowNode } from "./model";

export interface MergeResult {
  doc: FlowNode[];
  // conflicts are nodes changed (or deleted) on both sides: the local
  // version was kept, the user should look at them.
  conflicts: string[];
}

// base is the snapshot (id → JSON) the editor started from.
export function mergeFlows(base: Map<string, string>, local: FlowNode[], remote: FlowNode[]): MergeResult {
  const localById = new Map(local.map((n) => [n.id, n]));
  const remoteById = new Map(remote.map((n) => [n.id, n]));
  const touched = (n: FlowNode) => base.get(n.id) !== JSON.stringify(n);
  const deletedLocally = new Set([...base.keys()].filter((id) => !localById.has(id)));
  const conflicts: string[] = [];
  const out: FlowNode[] = [];
  for (const r of remote) {
    const l = localById.get(r.id);
    const remoteChanged = base.get(r.id) !== JSON.stringify(r);
    if (deletedLocally.has(r.id)) {
      if (remoteChanged) conflicts.push(r.id);
      continue;
    }
    if (l && touched(l)) {
      if (remoteChanged) conflicts.push(r.id);
      out.push(l);
    } else out.push(r);
  }
  for (const l of local) {
    if (remoteById.has(l.id)) continue;
    if (!base.has(l.id)) out.push(l); // added here
    else if (touched(l)) {
      conflicts.push(l.id); // deleted there, edited here: keep the edit
      out.push(l);
    }
  }
  return { doc: dropDangling(out), conflicts };
}

// dropDangling removes wires, links and group entries that point at nodes
// neither side kept.
function dropDangling(doc: FlowNode[]): FlowNode[] {
  const ids = new Set(doc.map((n) => n.id));
  return doc.map((n) => {
    let o = n;
    if (n.wires?.some((w) => w.some((t) => !ids.has(t)))) o = { ...o, wires: n.wires.map((w) => w.filter((t) => ids.has(t))) };
    if (Array.isArray(n.links) && n.links.some((t: string) => !ids.has(t))) o = { ...o, links: n.links.filter((t: string) => ids.has(t)) };
    if (n.type === "group" && Array.isArray(n.nodes) && n.nodes.some((t: string) => !ids.has(t))) o = { ...o, nodes: n.nodes.filter((t: string) => ids.has(t)) };
    if (n.g && !ids.has(n.g)) {
      o = { ...o };
      delete o.g;
    }
    return o;
  });
}
