// Search across every tab: a node matches when the query is found in its
// id, type, label or any of its string properties.
import { isTab, label, type FlowNode, type Specs } from "./model";

export interface Hit {
  id: string;
  z?: string;
  type: string;
  label: string;
  where: string; // which field matched
}

export function searchNodes(doc: FlowNode[], specs: Specs, query: string, limit = 100): Hit[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const hits: Hit[] = [];
  const rank = (h: Hit) => (h.where === "id" ? 0 : h.where === "label" ? 1 : h.where === "type" ? 2 : 3);
  for (const n of doc) {
    const l = label(n, specs[n.type]);
    let where = "";
    if (n.id.toLowerCase() === q) where = "id";
    else if (l.toLowerCase().includes(q)) where = "label";
    else if (n.type.toLowerCase().includes(q)) where = "type";
    else where = matchProp(n, q);
    if (!where) continue;
    hits.push({ id: n.id, z: isTab(n) ? n.id : n.z, type: n.type, label: l, where });
  }
  hits.sort((a, b) => rank(a) - rank(b));
  return hits.slice(0, limit);
}

function matchProp(n: FlowNode, q: string): string {
  for (const [k, v] of Object.entries(n)) {
    if (k === "wires" || k === "x" || k === "y" || k === "z") continue;
    if (k === "id" && String(v).toLowerCase().includes(q)) return "id";
    if (typeof v === "string" && v.toLowerCase().includes(q)) return k;
    if (v && typeof v === "object" && JSON.stringify(v).toLowerCase().includes(q)) return k;
  }
  return "";
}
