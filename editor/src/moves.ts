// Applying canvas drags to the document: xyflow reports top-left corners,
// Node-RED stores node centres; a dragged group carries its members, and
// groups refit around members that moved.
import { fitGroups, membersOf } from "./group";
import { NODE_HEIGHT, nodeWidth, type FlowNode, type Specs } from "./model";
import { parsePortId, portId } from "./subflow";

export type Moves = Record<string, { x: number; y: number }>;

// applyMoves takes new top-left positions by canvas id (node ids, or the
// subflow port ids of the template shown on tab).
export function applyMoves(doc: FlowNode[], mv: Moves, tab: string, specs: Specs = {}): FlowNode[] {
  const byId = new Map(doc.map((n) => [n.id, n]));
  const extra: Record<string, { dx: number; dy: number }> = {};
  for (const id of Object.keys(mv)) {
    const g = byId.get(id);
    if (g?.type !== "group") continue;
    const dx = Math.round(mv[id].x) - (g.x ?? 0), dy = Math.round(mv[id].y) - (g.y ?? 0);
    if (dx || dy) for (const m of membersOf(doc, id)) if (!mv[m.id] && !extra[m.id]) extra[m.id] = { dx, dy };
  }
  const portsMoved = Object.keys(mv).some((k) => parsePortId(k));
  let out = doc.map((n) => {
    if (n.id === tab && n.type === "subflow") {
      if (!portsMoved) return n;
      const port = (kind: "in" | "out") => (p: any, i: number) => {
        const q = mv[portId(kind, i)];
        return q ? { ...p, x: Math.round(q.x + 20), y: Math.round(q.y + 15) } : p;
      };
      return { ...n, in: (n.in ?? []).map(port("in")), out: (n.out ?? []).map(port("out")) };
    }
    const e = extra[n.id];
    if (e) return { ...n, x: (n.x ?? 0) + e.dx, y: (n.y ?? 0) + e.dy };
    const p = mv[n.id];
    if (!p) return n;
    if (n.type === "group") return { ...n, x: Math.round(p.x), y: Math.round(p.y) };
    if (n.type === "junction") return { ...n, x: Math.round(p.x + 5), y: Math.round(p.y + 5) };
    const w = nodeWidth(n, specs[n.type]);
    return { ...n, x: Math.round(p.x + w / 2), y: Math.round(p.y + NODE_HEIGHT / 2) };
  });
  const touched = [...Object.keys(mv), ...Object.keys(extra)].filter((id) => !parsePortId(id));
  if (touched.some((id) => byId.get(id)?.g || byId.get(id)?.type === "group")) out = fitGroups(out, specs, touched);
  return out;
}
