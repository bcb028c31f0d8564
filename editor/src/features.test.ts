import { describe, expect, it } from "vitest";
import * as M from "./model";
import { mergeFlows } from "./merge";
const { exportNodes } = M;
import { createSubflow, connectPort, disconnectPort, setPorts, SubflowError } from "./subflow";
import { fitGroups, groupSelection, membersOf, ungroup } from "./group";
import { searchNodes } from "./search";
import { renderMarkdown } from "./help";

const byId = (d: M.FlowNode[], id: string) => d.find((n) => n.id === id)!;

describe("merge after a version mismatch", () => {
  const base: M.FlowNode[] = [
    { id: "t", type: "tab", label: "T" },
    { id: "a", type: "inject", z: "t", x: 1, y: 1, wires: [["b"]] },
    { id: "b", type: "function", z: "t", x: 2, y: 2, wires: [["c"]] },
    { id: "c", type: "debug", z: "t", x: 3, y: 3, wires: [] },
    { id: "d", type: "debug", z: "t", x: 4, y: 4, wires: [] },
  ];
  const snap = M.snapshot(base);

  it("keeps local edits on top of the server's changes, node by node", () => {
    let local = M.update(base, "b", { name: "mine" });
    local = [...local, { id: "n", type: "debug", z: "t", x: 9, y: 9, wires: [] }];
    local = M.remove(local, new Set(["d"]));
    const remote = [...M.update(base, "c", { name: "theirs" }), { id: "r", type: "debug", z: "t", x: 8, y: 8, wires: [] }];
    const r = mergeFlows(snap, local, remote);
    expect(byId(r.doc, "b").name).toBe("mine");
    expect(byId(r.doc, "c").name).toBe("theirs");
    expect(r.doc.map((n) => n.id)).toEqual(["t", "a", "b", "c", "r", "n"]);
    expect(r.conflicts).toEqual([]);
  });

  it("reports nodes changed on both sides and keeps the local version", () => {
    const local = M.update(base, "b", { name: "mine" });
    const remote = M.update(base, "b", { name: "theirs" });
    const r = mergeFlows(snap, local, remote);
    expect(byId(r.doc, "b").name).toBe("mine");
    expect(r.conflicts).toEqual(["b"]);
  });

  it("drops wires to nodes the server deleted, keeps nodes edited here but deleted there", () => {
    const local = M.update(base, "c", { name: "edited" });
    const remote = M.remove(base, new Set(["b", "c"]));
    const r = mergeFlows(snap, local, remote);
    expect(r.doc.find((n) => n.id === "b")).toBeUndefined();
    expect(byId(r.doc, "a").wires).toEqual([[]]);
    expect(byId(r.doc, "c").name).toBe("edited");
    expect(r.conflicts).toEqual(["c"]);
  });
});

describe("subflow from a selection", () => {
  // a → b → c → d, b also → e; selection {b, c}
  const flow: M.FlowNode[] = [
    { id: "t", type: "tab", label: "T" },
    { id: "a", type: "inject", z: "t", x: 100, y: 100, wires: [["b"]] },
    { id: "a2", type: "inject", z: "t", x: 100, y: 200, wires: [["b", "d"]] },
    { id: "b", type: "function", z: "t", x: 300, y: 100, wires: [["c", "e"]] },
    { id: "c", type: "change", z: "t", x: 500, y: 100, wires: [["d"]], g: "g" },
    { id: "d", type: "debug", z: "t", x: 700, y: 100, wires: [] },
    { id: "e", type: "debug", z: "t", x: 700, y: 200, wires: [] },
    { id: "g", type: "group", z: "t", nodes: ["c", "d"], x: 0, y: 0, w: 10, h: 10 },
  ];

  it("turns boundary wires into ports and instance wires", () => {
    const r = createSubflow(flow, new Set(["b", "c"]), "t");
    const sf = r.subflow, inst = r.instance;
    expect(sf.in).toEqual([{ x: 60, y: 60, wires: [{ id: "b" }] }]);
    expect(sf.out.map((o: any) => o.wires)).toEqual([[{ id: "b", port: 0 }], [{ id: "c", port: 0 }]]);
    expect(inst.type).toBe("subflow:" + sf.id);
    expect(inst.z).toBe("t");
    expect(inst.wires).toEqual([["e"], ["d"]]);
    expect(byId(r.doc, "a").wires).toEqual([[inst.id]]);
    expect(byId(r.doc, "a2").wires).toEqual([["d", inst.id]]);
    const b = byId(r.doc, "b");
    expect(b.z).toBe(sf.id);
    expect(b.wires).toEqual([["c"]]);
    expect(byId(r.doc, "c").wires).toEqual([[]]);
    expect(byId(r.doc, "c").g).toBeUndefined();
    expect(byId(r.doc, "g").nodes).toEqual(["d"]);
    expect(M.ports(inst, {}, r.doc)).toEqual({ inputs: 1, outputs: 2 });
    // the template precedes the tab contents, the instance is last
    expect(r.doc.findIndex((n) => n.id === sf.id)).toBe(0);
    expect(r.doc.at(-1)).toBe(inst);
  });

  it("refuses a selection entered at two nodes", () => {
    expect(() => createSubflow(flow, new Set(["b", "d"]), "t")).toThrow(SubflowError);
    expect(() => createSubflow(flow, new Set([]), "t")).toThrow(/select/);
  });

  it("edits port wires and port counts", () => {
    const r = createSubflow(flow, new Set(["c"]), "t");
    const sfid = r.subflow.id;
    let d = disconnectPort(r.doc, sfid, "sf-in:0", 0, "c");
    expect(byId(d, sfid).in[0].wires).toEqual([]);
    d = connectPort(d, sfid, "sf-in:0", 0, "c");
    d = connectPort(d, sfid, "sf-in:0", 0, "c");
    expect(byId(d, sfid).in[0].wires).toEqual([{ id: "c" }]);
    d = setPorts(d, sfid, 1, 3);
    expect(byId(d, sfid).out.length).toBe(3);
    expect(byId(d, r.instance.id).wires).toEqual([["d"], [], []]);
    d = connectPort(d, sfid, "c", 0, "sf-out:2");
    expect(byId(d, sfid).out[2].wires).toEqual([{ id: "c", port: 0 }]);
    d = setPorts(d, sfid, 0, 1);
    expect(byId(d, sfid).in).toEqual([]);
    expect(byId(d, r.instance.id).wires).toEqual([["d"]]);
  });
});

describe("groups", () => {
  const flow: M.FlowNode[] = [
    { id: "t", type: "tab" },
    { id: "a", type: "inject", z: "t", x: 100, y: 100, wires: [] },
    { id: "b", type: "debug", z: "t", x: 300, y: 200, wires: [] },
    { id: "c", type: "debug", z: "t", x: 300, y: 300, wires: [] },
  ];

  it("groups the selection in a box that fits it, and ungroups", () => {
    const r = groupSelection(flow, new Set(["a", "b"]), "t");
    const g = r.group!;
    expect(g.nodes).toEqual(["a", "b"]);
    expect(byId(r.doc, "a").g).toBe(g.id);
    expect(byId(r.doc, "c").g).toBeUndefined();
    expect(g.x).toBeLessThan(100 - 50);
    expect(g.x + g.w).toBeGreaterThan(300 + 50);
    expect(g.y).toBeLessThan(100 - 15);
    expect(g.y + g.h).toBeGreaterThan(200 + 15);
    const u = ungroup(r.doc, new Set([g.id]));
    expect(u.find((n) => n.type === "group")).toBeUndefined();
    expect(byId(u, "a").g).toBeUndefined();
  });

  it("nests groups and refits the ones whose members moved", () => {
    const inner = groupSelection(flow, new Set(["a", "b"]), "t");
    const outer = groupSelection(inner.doc, new Set([inner.group!.id, "c"]), "t");
    const og = outer.group!;
    expect([...og.nodes].sort()).toEqual([inner.group!.id, "c"].sort());
    expect(membersOf(outer.doc, og.id).map((n) => n.id).sort()).toEqual(["a", "b", "c", inner.group!.id].sort());
    const moved = fitGroups(M.update(outer.doc, "c", { x: 900 }), {}, ["c"]);
    expect(byId(moved, og.id).w).toBeGreaterThan(og.w + 500);
    expect(byId(moved, inner.group!.id)).toBe(byId(outer.doc, inner.group!.id));
    const u = ungroup(outer.doc, new Set([inner.group!.id]));
    expect(byId(u, "a").g).toBe(og.id);
    expect(byId(u, og.id).nodes.sort()).toEqual(["a", "b", "c"]);
  });

  it("deleting a group leaves no member pointing at it", () => {
    const r = groupSelection(flow, new Set(["a"]), "t");
    const d = M.remove(r.doc, new Set([r.group!.id]));
    expect(byId(d, "a").g).toBeUndefined();
  });
});

describe("search", () => {
  const flow: M.FlowNode[] = [
    { id: "t1", type: "tab", label: "Plant" },
    { id: "t2", type: "tab", label: "Office" },
    { id: "aa11", type: "mqtt in", z: "t1", topic: "plant/line1/temp", x: 1, y: 1, wires: [] },
    { id: "bb22", type: "function", z: "t2", name: "scale temp", func: "return msg;", x: 1, y: 1, wires: [] },
    { id: "cc33", type: "debug", z: "t2", x: 1, y: 1, wires: [] },
  ];
  it("finds by name, type, id and property text on every tab", () => {
    expect(searchNodes(flow, {}, "temp").map((h) => h.id)).toEqual(["bb22", "aa11"]);
    expect(searchNodes(flow, {}, "line1")[0]).toMatchObject({ id: "aa11", z: "t1", where: "topic" });
    expect(searchNodes(flow, {}, "DEBUG").map((h) => h.id)).toEqual(["cc33"]);
    expect(searchNodes(flow, {}, "cc33")[0].where).toBe("id");
    expect(searchNodes(flow, {}, "office")[0]).toMatchObject({ id: "t2", z: "t2" });
    expect(searchNodes(flow, {}, "  ")).toEqual([]);
  });
});

describe("import of unknown types", () => {
  it("keeps every node of an unknown type, with its wires and ports", () => {
    const text = JSON.stringify([
      { id: "t", type: "tab", label: "X" },
      { id: "u", type: "acme-widget", z: "t", x: 100, y: 100, foo: { bar: 1 }, wires: [["v"], ["w"]] },
      { id: "v", type: "debug", z: "t", x: 300, y: 100, wires: [] },
      { id: "w", type: "another-unknown", z: "t", x: 300, y: 200, wires: [] },
    ]);
    const nodes = M.parseImport(text);
    const r = M.importNodes([], nodes, "t0");
    expect(r.added).toEqual(["t", "u", "v", "w"]);
    const u = byId(r.doc, "u");
    expect(u.foo).toEqual({ bar: 1 });
    expect(M.ports(u, {}, r.doc)).toEqual({ inputs: 1, outputs: 2 });
    expect(r.doc.filter((n) => M.onCanvas(n, "t")).length).toBe(3);
  });
});

describe("help markdown", () => {
  it("renders markdown and neutralises HTML and script links", () => {
    const h = renderMarkdown("# Title\n\nSome **bold** `code`\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) [y](https://nodered.org)");
    expect(h).toContain("<h1>Title</h1>");
    expect(h).toContain("<strong>bold</strong>");
    expect(h).not.toContain("<script>");
    expect(h).toContain("&lt;script&gt;");
    expect(h).not.toContain("javascript:");
    expect(h).toContain('href="https://nodered.org"');
  });
});

describe("tab order", () => {
  it("moves a tab before another, or after the last tab", () => {
    const d: M.FlowNode[] = [{ id: "a", type: "tab" }, { id: "b", type: "tab" }, { id: "c", type: "tab" }, { id: "n", type: "debug", z: "a" }];
    expect(M.moveTab(d, "c", "a").map((n) => n.id)).toEqual(["c", "a", "b", "n"]);
    expect(M.moveTab(d, "a").map((n) => n.id)).toEqual(["b", "c", "a", "n"]);
    expect(M.moveTab(d, "a", "a")).toBe(d);
  });
});

describe("debug paths", async () => {
  const { childPath } = await import("./Debug");
  it("writes paths as RED.util does", () => {
    expect(childPath("payload", "a", false)).toBe("payload.a");
    expect(childPath("payload.a", "0", true)).toBe("payload.a[0]");
    expect(childPath("payload", "weird key", false)).toBe('payload["weird key"]');
    expect(childPath("", "topic", false)).toBe("topic");
  });
});

describe("moves from the canvas", async () => {
  const { applyMoves } = await import("./moves");
  const flow: M.FlowNode[] = [
    { id: "t", type: "tab" },
    { id: "a", type: "inject", z: "t", x: 100, y: 100, wires: [] },
    { id: "b", type: "debug", z: "t", x: 300, y: 100, wires: [] },
  ];
  it("stores centres, carries a dragged group's members and refits groups", () => {
    const { doc, group } = groupSelection(flow, new Set(["a", "b"]), "t");
    const g = group as any;
    // a's top-left moves to (0, 0): its centre is half its size in
    const w = M.nodeWidth(byId(doc, "a"));
    let d = applyMoves(doc, { a: { x: 0, y: 0 } }, "t");
    expect(byId(d, "a")).toMatchObject({ x: w / 2, y: M.NODE_HEIGHT / 2 });
    expect(byId(d, g.id).x).toBeLessThan(g.x);
    d = applyMoves(doc, { [g.id]: { x: g.x + 50, y: g.y + 40 } }, "t");
    expect(byId(d, "a")).toMatchObject({ x: 150, y: 140 });
    expect(byId(d, "b")).toMatchObject({ x: 350, y: 140 });
    expect(byId(d, g.id)).toMatchObject({ x: g.x + 50, y: g.y + 40, w: g.w, h: g.h });
  });
  it("moves a subflow template's ports", () => {
    const r = createSubflow(M.connect(flow, "a", 0, "b"), new Set(["b"]), "t");
    const d = applyMoves(r.doc, { "sf-in:0": { x: 0, y: 0 } }, r.subflow.id);
    expect(byId(d, r.subflow.id).in[0]).toMatchObject({ x: 20, y: 15 });
  });
});

describe("copying subflow instances", () => {
  const base: M.FlowNode[] = [
    { id: "t", type: "tab" },
    { id: "a", type: "inject", z: "t", x: 100, y: 100, wires: [["b"]] },
    { id: "b", type: "function", z: "t", x: 300, y: 100, wires: [["c"]] },
    { id: "c", type: "debug", z: "t", x: 500, y: 100, wires: [] },
  ];
  const r = createSubflow(base, new Set(["b"]), "t");
  it("exports the template and its nodes with the instance", () => {
    const out = exportNodes(r.doc, new Set([r.instance.id]));
    expect(out.map((n) => n.id).sort()).toEqual([r.instance.id, r.subflow.id, "b"].sort());
  });
  it("pasting into the same document reuses the template; into another, keeps it whole", () => {
    const out = exportNodes(r.doc, new Set([r.instance.id]));
    const same = M.importNodes(r.doc, out, "t", 20);
    expect(same.added.length).toBe(1);
    expect(same.doc.filter((n) => n.type === "subflow").length).toBe(1);
    expect(byId(same.doc, same.added[0]).type).toBe("subflow:" + r.subflow.id);
    // Into a document where the template's node id is taken by another
    // node: it is renamed, and the template's port wires follow.
    const other: M.FlowNode[] = [{ id: "t2", type: "tab" }, { id: "b", type: "debug", z: "t2", x: 0, y: 0, wires: [] }];
    const imp = M.importNodes(other, out, "t2");
    const sf = imp.doc.find((n) => n.type === "subflow")!;
    const inner = imp.doc.find((n) => n.z === sf.id)!;
    expect(inner.id).not.toBe("b");
    expect(sf.in[0].wires[0].id).toBe(inner.id);
    expect(imp.doc.find((n) => n.type === "subflow:" + sf.id)).toBeDefined();
  });
});
