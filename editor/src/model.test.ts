import { describe, expect, it } from "vitest";
import * as M from "./model";

const specs: M.Specs = {
  inject: { type: "inject", category: "common", inputs: 0, outputs: 1, props: [{ name: "name", default: null }, { name: "payloadType", default: "date" }] },
  debug: { type: "debug", category: "common", inputs: 1, outputs: 0, props: [{ name: "active", kind: "bool", default: true }] },
  switch: { type: "switch", category: "function", inputs: 1, outputs: 1, props: [] },
  "mqtt-broker": { type: "mqtt-broker", category: "config", inputs: 0, outputs: 0, config: true, props: [{ name: "broker", default: "localhost" }] },
};

const flow: M.FlowNode[] = [
  { id: "t1", type: "tab", label: "One", info: "keep me", env: [{ name: "A", value: "1", type: "str" }] },
  { id: "a", type: "inject", z: "t1", x: 100, y: 80, wires: [["b", "c"]], future: { nested: [1, 2] } },
  { id: "b", type: "switch", z: "t1", x: 300, y: 80, outputs: 3, wires: [["c"], [], []], g: "g1" },
  { id: "c", type: "debug", z: "t1", x: 500, y: 80, wires: [] },
  { id: "g1", type: "group", z: "t1", x: 250, y: 40, w: 120, h: 80, nodes: ["b"], style: { stroke: "#f00" } },
  { id: "j", type: "junction", z: "t1", x: 400, y: 200, wires: [[]] },
  { id: "lo", type: "link out", z: "t1", x: 100, y: 300, links: ["li"], wires: [] },
  { id: "li", type: "link in", z: "t1", x: 300, y: 300, links: ["lo"], wires: [[]] },
  { id: "sf", type: "subflow", name: "SF", in: [{ x: 0, y: 0, wires: [] }], out: [{}, {}] },
  { id: "s1", type: "subflow:sf", z: "t1", x: 200, y: 400, wires: [[], []] },
  { id: "br", type: "mqtt-broker", broker: "example" },
  { id: "m", type: "mqtt out", z: "t1", x: 600, y: 400, broker: "br", wires: [] },
];

describe("model", () => {
  it("creates nodes with spec defaults and one wire list per output", () => {
    const n = M.createNode(specs.inject, "t1", 10.4, 20.6);
    expect(n).toMatchObject({ type: "inject", z: "t1", x: 10, y: 21, payloadType: "date", name: "", wires: [[]] });
    expect(n.id).toMatch(/^[0-9a-f]{16}$/);
    const c = M.createNode(specs["mqtt-broker"], "t1", 0, 0);
    expect(c.z).toBeUndefined();
    expect(c.x).toBeUndefined();
  });

  it("takes ports from the node, the subflow template or the wires", () => {
    expect(M.ports(flow[2], specs, flow)).toEqual({ inputs: 1, outputs: 3 });
    expect(M.ports(flow[9], specs, flow)).toEqual({ inputs: 1, outputs: 2 });
    expect(M.ports(flow[11], specs, flow)).toEqual({ inputs: 1, outputs: 0 });
  });

  it("connects and disconnects without duplicating wires", () => {
    let d = M.connect(flow, "a", 0, "b");
    expect(d.find((n) => n.id === "a")!.wires).toEqual([["b", "c"]]);
    d = M.connect(d, "b", 2, "c");
    expect(d.find((n) => n.id === "b")!.wires).toEqual([["c"], [], ["c"]]);
    d = M.disconnect(d, "a", 0, "c");
    expect(d.find((n) => n.id === "a")!.wires).toEqual([["b"]]);
    expect(flow.find((n) => n.id === "a")!.wires).toEqual([["b", "c"]]); // immutable
  });

  it("removes nodes with every wire, link and group entry pointing at them", () => {
    const d = M.remove(flow, new Set(["c", "b", "li"]));
    expect(d.find((n) => n.id === "a")!.wires).toEqual([[]]);
    expect(d.find((n) => n.id === "lo")!.links).toEqual([]);
    expect(d.find((n) => n.id === "g1")!.nodes).toEqual([]);
  });

  it("keeps properties it does not understand through edits", () => {
    let d = M.update(flow, "a", { x: 120 });
    d = M.connect(d, "a", 0, "j");
    const a = d.find((n) => n.id === "a")!;
    expect(a.future).toEqual({ nested: [1, 2] });
    expect(d.find((n) => n.id === "t1")).toBe(flow[0]);
    expect(JSON.parse(JSON.stringify(d)).length).toBe(flow.length);
  });

  it("imports with fresh ids when they clash, rewiring inside the import", () => {
    const out = M.exportNodes(flow, new Set(["a", "c", "m"]));
    expect(out.map((n) => n.id)).toEqual(["a", "c", "m", "br"]);
    expect(out[0].wires).toEqual([["c"]]);
    const r = M.importNodes(flow, out, "t2", 20);
    const added = r.doc.slice(flow.length);
    expect(added.every((n) => !flow.some((f) => f.id === n.id))).toBe(true);
    const [a, c, m, br] = added;
    expect(a.wires).toEqual([[c.id]]);
    expect(m.broker).toBe(br.id);
    expect(a.z).toBe("t2");
    expect(br.z).toBeUndefined();
    expect(a.x).toBe(120);
  });

  it("keeps ids that do not clash and tabs of the import", () => {
    const r = M.importNodes(flow, [{ id: "t9", type: "tab", label: "x" }, { id: "n9", type: "nope", z: "t9", x: 1, y: 2, wires: [] }], "t1");
    expect(r.added).toEqual(["t9", "n9"]);
    expect(r.doc.at(-1)!.z).toBe("t9");
  });

  it("refuses bad import text with a reason", () => {
    expect(() => M.parseImport("[{")).toThrow(/not valid JSON/);
    expect(() => M.parseImport("[1]")).toThrow(/entry 0 is not a node object/);
    expect(() => M.parseImport('[{"id":"x"}]')).toThrow(/no string id and type/);
    expect(M.parseImport('{"id":"x","type":"weird"}')).toEqual([{ id: "x", type: "weird" }]);
  });

  it("undoes and redoes whole documents", () => {
    const h = new M.History();
    const d1 = M.update(flow, "a", { x: 1 });
    h.push(flow);
    expect(h.undo(d1)).toBe(flow);
    expect(h.redo(flow)).toBe(d1);
    expect(h.redo(d1)).toBeUndefined();
  });

  it("marks changed nodes against the deployed snapshot", () => {
    const snap = M.snapshot(flow);
    const d = M.update(flow, "c", { name: "x" });
    expect([...M.changedIds(d, snap)]).toEqual(["c"]);
  });

  it("trims wires when outputs shrink", () => {
    expect(M.setOutputs(flow[2], 1).wires).toEqual([["c"]]);
    expect(M.setOutputs(flow[2], 4).wires!.length).toBe(4);
  });

  it("groups the palette by category and filters it", () => {
    const cats = M.categories(Object.values(specs), "");
    expect(cats.map((c) => c[0])).toEqual(["common", "function"]);
    expect(M.categories(Object.values(specs), "deb")[0][1].map((s) => s.type)).toEqual(["debug"]);
  });
});
