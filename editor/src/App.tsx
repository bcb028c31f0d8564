import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type Node,
  type NodeChange,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import "./styles.css";
import * as api from "./api";
import { DebugSidebar, type DebugMsg } from "./Debug";
import { ConflictDialog, ExportDialog, ImportDialog, LoginDialog, SearchDialog } from "./Dialogs";
import { EditDialog } from "./EditDialog";
import { fitGroups, groupSelection, membersOf, ungroup } from "./group";
import { InfoSidebar } from "./Info";
import { Palette } from "./Palette";
import { mergeFlows } from "./merge";
import { applyMoves } from "./moves";
import { GroupBox, JunctionBox, NodeBox, PortBox, type NodeBoxData } from "./NodeBox";
import { RateEdge } from "./RateEdge";
import type { Hit } from "./search";
import * as SF from "./subflow";
import * as M from "./model";
import type { FlowNode, NodeSpec, Specs } from "./model";

// "nrgroup", not "group": xyflow styles its own group type.
const nodeTypes = { nr: NodeBox, nrgroup: GroupBox, junction: JunctionBox, sfport: PortBox };
const edgeTypes = { rate: RateEdge };
const deployLabels: Record<api.DeployType, string> = { full: "Full", flows: "Modified flows", nodes: "Modified nodes" };

type Stats = Record<string, [number, number, number, number]>;

function Editor() {
  const rf = useReactFlow();
  const [specs, setSpecs] = useState<Specs>({});
  const [specList, setSpecList] = useState<NodeSpec[]>([]);
  const [doc, setDocState] = useState<FlowNode[]>([]);
  const [rev, setRev] = useState<string>();
  const [deployed, setDeployed] = useState<Map<string, string>>(new Map());
  const [tab, setTab] = useState("");
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [selEdges, setSelEdges] = useState<Set<string>>(new Set());
  const [editing, setEditing] = useState<string>();
  const [problems, setProblems] = useState<api.Problem[]>([]);
  const [notice, setNotice] = useState<{ text: string; error?: boolean }>();
  const [debug, setDebug] = useState<DebugMsg[]>([]);
  const [status, setStatus] = useState<Record<string, any>>({});
  const [stats, setStats] = useState<Stats>({});
  const [rates, setRates] = useState<Record<string, number>>({});
  const [connected, setConnected] = useState(false);
  const [sidebar, setSidebar] = useState<"debug" | "info">("debug");
  const [theme, setTheme] = useState(() => localStorage.getItem("sluice-theme") || "light");
  const [importOpen, setImportOpen] = useState(false);
  const [exportOpen, setExportOpen] = useState(false);
  const [searchOpen, setSearchOpen] = useState(false);
  const [deployType, setDeployType] = useState<api.DeployType>(() => (localStorage.getItem("sluice-deploy-type") as api.DeployType) || "full");
  const [deployMenu, setDeployMenu] = useState(false);
  const [conflict, setConflict] = useState(false);
  const [auth, setAuth] = useState<{ prompts: api.LoginPrompt[] }>();
  const [needLogin, setNeedLogin] = useState(false);
  const [focus, setFocus] = useState<string>();
  const [dragTab, setDragTab] = useState<string>();
  const history = useRef(new M.History());
  const prevStats = useRef<{ at: number; s: Stats } | undefined>(undefined);
  const seq = useRef(0);
  const clipboard = useRef<FlowNode[]>([]);
  const dragging = useRef(false);
  const comms = useRef<api.Comms | undefined>(undefined);
  const revRef = useRef<string | undefined>(undefined);
  const deploying = useRef(false);
  // Sizes the canvas measured: handed back with every node, or xyflow
  // would hide and re-measure every node each time the node list is
  // rebuilt (each stats tick).
  const measured = useRef(new Map<string, { width: number; height: number }>());
  revRef.current = rev;
  const dirtyRef = useRef(false);
  const reload = useRef(() => {});

  const setDoc = useCallback((next: FlowNode[] | ((d: FlowNode[]) => FlowNode[]), record = true) => {
    setDocState((cur) => {
      const n = typeof next === "function" ? next(cur) : next;
      if (record && n !== cur) history.current.push(cur);
      return n;
    });
  }, []);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem("sluice-theme", theme);
  }, [theme]);
  useEffect(() => localStorage.setItem("sluice-deploy-type", deployType), [deployType]);

  // The browser test pans the canvas programmatically to time frames.
  useEffect(() => {
    (window as any).__sluiceFlow = rf;
  }, [rf]);

  const load = useCallback(async () => {
    const [nodes, flows] = await Promise.all([api.getNodes(), api.getFlows()]);
    setSpecList(nodes);
    setSpecs(Object.fromEntries(nodes.map((s) => [s.type, s])));
    let f = flows.flows;
    if (!M.tabs(f).some((t) => t.type === "tab")) f = [{ id: M.newId(), type: "tab", label: "Flow 1", disabled: false, info: "" }, ...f];
    setDocState(f);
    setDeployed(M.snapshot(flows.flows));
    setRev(flows.rev);
    setTab((t) => (f.some((n) => n.id === t) ? t : M.tabs(f).find((x) => x.type === "tab")!.id));
  }, []);

  reload.current = () => {
    api
      .getFlows()
      .then((f) => {
        if (dirtyRef.current) return setNotice({ text: "The flows were deployed from elsewhere; your next deploy will offer a merge" });
        history.current = new M.History(); // undo must not bring back flows the server replaced
        setDocState(f.flows);
        setDeployed(M.snapshot(f.flows));
        setRev(f.rev);
        revRef.current = f.rev;
        setTab((t) => (f.flows.some((n) => n.id === t) ? t : M.tabs(f.flows)[0]?.id ?? t));
        setNotice({ text: "Flows deployed from elsewhere were loaded" });
      })
      .catch((e) => e instanceof api.AuthError || setNotice({ text: "Could not load the new flows: " + e.message, error: true }));
  };

  const start = useCallback(async () => {
    const scheme = await api.authScheme().catch(() => undefined);
    setAuth(scheme);
    if (comms.current) comms.current.authRequired = !!scheme;
    if (scheme && !api.getToken()) {
      setNeedLogin(true);
      return;
    }
    await load();
  }, [load]);

  useEffect(() => {
    api.setUnauthorizedHandler(() => setNeedLogin(true));
    start().catch((e) => e instanceof api.AuthError || setNotice({ text: String(e), error: true }));
  }, [start]);

  useEffect(() => {
    const c = new api.Comms(
      (batch) => {
        const dbg: DebugMsg[] = [];
        const st: Record<string, any> = {};
        for (const m of batch) {
          if (m.topic === "debug") dbg.push({ ...m.data, seq: seq.current++, time: new Date().toLocaleTimeString() });
          else if (m.topic.startsWith("status/")) st[m.topic.slice(7)] = m.data;
          else if (m.topic === "stats") {
            const now = Date.now();
            const prev = prevStats.current;
            if (prev) {
              const dt = (now - prev.at) / 1000;
              const r: Record<string, number> = {};
              for (const [id, cnt] of Object.entries(m.data as Stats)) {
                const p = prev.s[id];
                r[id] = p && cnt[1] >= p[1] ? (cnt[1] - p[1]) / dt : 0;
              }
              setRates(r);
            }
            prevStats.current = { at: now, s: m.data };
            setStats(m.data);
          } else if (m.topic === "notification/runtime-deploy") {
            const r = m.data?.revision;
            if (revRef.current === undefined) setRev(r);
            else if (r && r !== revRef.current && !deploying.current) {
              // Without local changes there is nothing to merge: show the
              // new flows at once.
              if (!dirtyRef.current) reload.current();
              else setNotice({ text: "The flows were deployed from elsewhere; your next deploy will offer a merge" });
            }
          }
        }
        if (dbg.length) setDebug((d) => [...d, ...dbg].slice(-500));
        if (Object.keys(st).length) setStatus((s) => ({ ...s, ...st }));
      },
      setConnected,
      () => setNeedLogin(true),
    );
    comms.current = c;
    return () => c.close();
  }, []);

  const changed = useMemo(() => M.changedIds(doc, deployed), [doc, deployed]);
  const dirty = changed.size > 0 || [...deployed.keys()].some((id) => !doc.some((n) => n.id === id));
  dirtyRef.current = dirty;
  const changedTabs = useMemo(() => {
    const out = new Set<string>();
    for (const n of doc) if (changed.has(n.id)) out.add(M.isTab(n) ? n.id : n.z ?? "");
    return out;
  }, [doc, changed]);
  const problemOf = useMemo(() => {
    const m = new Map<string, string>();
    for (const p of problems) if (p.id) m.set(p.id, (m.get(p.id) ? m.get(p.id) + "\n" : "") + (p.property ? p.property + ": " : "") + p.message);
    return m;
  }, [problems]);

  const byId = useMemo(() => new Map(doc.map((n) => [n.id, n])), [doc]);
  const curTab = byId.get(tab);
  const subflow = curTab?.type === "subflow" ? curTab : undefined;

  // Canvas nodes and edges are rebuilt from the document on every change
  // and stats tick; reusing the objects whose inputs are unchanged keeps
  // React and xyflow from redrawing a thousand nodes a second.
  const nodeCache = useRef(new Map<string, { key: unknown[]; value: any }>());
  const reuse = <T,>(id: string, key: unknown[], make: () => T): T => {
    const c = nodeCache.current.get(id);
    if (c && c.key.length === key.length && c.key.every((v, i) => v === key[i])) return c.value as T;
    const value = make();
    nodeCache.current.set(id, { key, value });
    return value;
  };

  const nodes: Node[] = useMemo(() => {
    const out: Node[] = [];
    for (const n of doc) {
      if (!M.onCanvas(n, tab) && !(n.type === "group" && n.z === tab)) continue;
      if (n.type === "group") {
        out.push({
          id: n.id,
          type: "nrgroup",
          position: { x: n.x ?? 0, y: n.y ?? 0 },
          data: { w: n.w ?? 200, h: n.h ?? 100, label: n.name ?? "", stroke: n.style?.stroke ?? "#999", fill: n.style?.fill ? n.style.fill + "22" : "transparent" },
          zIndex: -1,
          selected: selected.has(n.id),
          connectable: false,
          measured: measured.current.get(n.id),
        });
        continue;
      }
      if (n.type === "junction") {
        out.push({ id: n.id, type: "junction", position: { x: n.x! - 5, y: n.y! - 5 }, data: {}, selected: selected.has(n.id), measured: measured.current.get(n.id) });
        continue;
      }
      const spec = specs[n.type];
      const pt = M.ports(n, specs, doc);
      const sfTemplate = n.type.startsWith("subflow:") ? byId.get(n.type.slice(8)) : undefined;
      const cnt = stats[n.id];
      const key = [n, spec, sfTemplate, pt.inputs, pt.outputs, status[n.id], cnt?.[0], cnt?.[1], cnt?.[2], cnt?.[3], changed.has(n.id), problemOf.get(n.id), selected.has(n.id), measured.current.get(n.id)];
      out.push(
        reuse(n.id, key, () => {
          const w = M.nodeWidth(n, spec);
          const data: NodeBoxData = {
            label: sfTemplate && !n.name ? sfTemplate.name ?? sfTemplate.id : M.label(n, spec),
            type: n.type,
            color: spec?.color ?? sfTemplate?.color ?? (n.type.startsWith("subflow:") ? "#ddaa99" : "#eee"),
            inputs: pt.inputs,
            outputs: pt.outputs,
            width: w,
            status: status[n.id],
            counts: cnt,
            changed: changed.has(n.id),
            invalid: problemOf.get(n.id),
            unknown: !spec && !sfTemplate,
            disabled: !!n.d,
          };
          if (n.type === "inject") data.onInject = () => api.inject(n.id).catch((e) => setNotice({ text: String(e.message ?? e), error: true }));
          if (n.type === "debug") {
            data.debugActive = n.active !== false && n.active !== "false";
            data.onDebugToggle = () => {
              const on = !data.debugActive;
              setDoc((d) => M.update(d, n.id, { active: on }));
              api.setDebug(n.id, on);
            };
          }
          return { id: n.id, type: "nr", position: { x: n.x! - w / 2, y: n.y! - M.NODE_HEIGHT / 2 }, data, selected: selected.has(n.id), measured: measured.current.get(n.id) } as Node;
        }),
      );
    }
    if (subflow) {
      (subflow.in ?? []).forEach((p: any, i: number) =>
        out.push({ id: SF.portId("in", i), type: "sfport", position: { x: (p.x ?? 60) - 20, y: (p.y ?? 60) - 15 }, data: { kind: "in", label: "in" }, selected: selected.has(SF.portId("in", i)), deletable: false, measured: measured.current.get(SF.portId("in", i)) }),
      );
      (subflow.out ?? []).forEach((p: any, i: number) =>
        out.push({ id: SF.portId("out", i), type: "sfport", position: { x: (p.x ?? 400) - 20, y: (p.y ?? 60) - 15 }, data: { kind: "out", label: String(i + 1) }, selected: selected.has(SF.portId("out", i)), deletable: false, measured: measured.current.get(SF.portId("out", i)) }),
      );
    }
    return out;
  }, [doc, tab, specs, status, stats, changed, problemOf, selected, setDoc, byId, subflow]);

  const edges: Edge[] = useMemo(() => {
    const out: Edge[] = [];
    for (const n of doc) {
      if (n.z !== tab) continue;
      (n.wires ?? []).forEach((ws, port) =>
        ws.forEach((t) => {
          const tgt = byId.get(t);
          if (!tgt || tgt.z !== tab) return;
          const id = `${n.id}:${port}>${t}`;
          const rate = rates[n.id] ?? 0;
          out.push(reuse("edge " + id, [rate, selEdges.has(id)], () => ({ id, source: n.id, sourceHandle: "o" + port, target: t, targetHandle: "in", type: "rate", data: { rate }, selected: selEdges.has(id) })));
        }),
      );
      if (n.type === "link out" && Array.isArray(n.links)) {
        for (const t of n.links) {
          const tgt = byId.get(t);
          if (!tgt || tgt.z !== tab) continue;
          out.push({ id: `link:${n.id}>${t}`, source: n.id, target: t, targetHandle: "in", type: "rate", data: { link: true }, deletable: false, selectable: false });
        }
      }
    }
    if (subflow) {
      (subflow.in ?? []).forEach((p: any, i: number) =>
        (p.wires ?? []).forEach((w: any) => {
          if (!byId.has(w.id)) return;
          const id = `${SF.portId("in", i)}:0>${w.id}`;
          out.push({ id, source: SF.portId("in", i), sourceHandle: "o0", target: w.id, targetHandle: "in", type: "rate", data: {}, selected: selEdges.has(id) });
        }),
      );
      (subflow.out ?? []).forEach((p: any, i: number) =>
        (p.wires ?? []).forEach((w: any) => {
          if (!byId.has(w.id)) return;
          const id = `${w.id}:${w.port ?? 0}>${SF.portId("out", i)}`;
          out.push({ id, source: w.id, sourceHandle: "o" + (w.port ?? 0), target: SF.portId("out", i), targetHandle: "in", type: "rate", data: {}, selected: selEdges.has(id) });
        }),
      );
    }
    return out;
  }, [doc, tab, byId, rates, selEdges, subflow]);

  const onNodesChange = useCallback(
    (changes: NodeChange[]) => {
      let moved: Record<string, { x: number; y: number }> | undefined;
      let sel: Set<string> | undefined;
      const removed = new Set<string>();
      for (const c of changes) {
        if (c.type === "position" && c.position) {
          if (c.dragging && !dragging.current) {
            dragging.current = true;
            history.current.push(doc);
          }
          if (!c.dragging) dragging.current = false;
          (moved ??= {})[c.id] = c.position;
        } else if (c.type === "select") {
          sel ??= new Set(selected);
          if (c.selected) sel.add(c.id);
          else sel.delete(c.id);
        } else if (c.type === "remove" && !SF.parsePortId(c.id)) removed.add(c.id);
        else if (c.type === "dimensions" && c.dimensions) measured.current.set(c.id, c.dimensions);
      }
      if (moved) {
        const mv = moved;
        setDoc((d) => applyMoves(d, mv, tab, specs), false);
      }
      if (sel) setSelected(sel);
      if (removed.size)
        setDoc((d) => {
          // A deleted group takes its contents with it, as in Node-RED.
          for (const id of [...removed]) if (d.find((n) => n.id === id)?.type === "group") for (const m of membersOf(d, id)) removed.add(m.id);
          return M.remove(d, removed);
        });
    },
    [doc, selected, setDoc, specs, tab],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) => {
      let sel: Set<string> | undefined;
      const gone: string[] = [];
      for (const c of changes) {
        if (c.type === "select") {
          sel ??= new Set(selEdges);
          if (c.selected) sel.add(c.id);
          else sel.delete(c.id);
        } else if (c.type === "remove") gone.push(c.id);
      }
      if (sel) setSelEdges(sel);
      if (gone.length)
        setDoc((d) => {
          for (const id of gone) {
            const m = /^(.*):(\d+)>(.*)$/.exec(id);
            if (!m) continue;
            if (SF.parsePortId(m[1]) || SF.parsePortId(m[3])) d = SF.disconnectPort(d, tab, m[1], +m[2], m[3]);
            else d = M.disconnect(d, m[1], +m[2], m[3]);
          }
          return d;
        });
    },
    [selEdges, setDoc, tab],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      if (!c.source || !c.target || c.source === c.target) return;
      const port = parseInt((c.sourceHandle ?? "o0").slice(1), 10) || 0;
      if (SF.parsePortId(c.source) || SF.parsePortId(c.target)) setDoc((d) => SF.connectPort(d, tab, c.source!, port, c.target!));
      else setDoc((d) => M.connect(d, c.source!, port, c.target!));
    },
    [setDoc, tab],
  );

  const onDrop = useCallback(
    (e: React.DragEvent) => {
      e.preventDefault();
      const type = e.dataTransfer.getData("application/x-sluice-node");
      const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      let n: FlowNode | undefined;
      if (type.startsWith("subflow:")) {
        const sf = byId.get(type.slice(8));
        if (!sf) return;
        if (sf.id === tab) return setNotice({ text: "a subflow cannot contain itself", error: true });
        n = SF.createInstance(sf, tab, p.x, p.y);
      } else if (specs[type]) n = M.createNode(specs[type], tab, p.x, p.y);
      if (!n) return;
      const node = n;
      setDoc((d) => [...d, node]);
      setSelected(new Set([node.id]));
    },
    [rf, specs, tab, setDoc, byId],
  );

  const doDeploy = useCallback(
    async (opts: { force?: boolean; flows?: FlowNode[]; fromRev?: string } = {}) => {
      const flows = opts.flows ?? doc;
      deploying.current = true;
      try {
        const r = await api.deploy(comms.current, flows, opts.fromRev ?? rev, deployType, !!opts.force);
        revRef.current = r;
        setRev(r);
        setDeployed(M.snapshot(flows));
        setProblems([]);
        if (deployType === "full") setStatus({});
        setNotice({ text: "Deployed" });
      } catch (e: any) {
        if (e instanceof api.AuthError) return;
        if (e instanceof api.DeployError && (e.status === 409 || e.code === "version_mismatch")) {
          setConflict(true);
          return;
        }
        if (e instanceof api.DeployError) setProblems(e.problems);
        const errs = e.problems?.filter((p: api.Problem) => p.severity === "error") ?? [];
        setNotice({ text: errs.length ? `Deploy refused: ${errs.length} problem(s) — see the marked nodes` : "Deploy failed: " + e.message, error: true });
        if (errs.length) setSidebar("info");
      } finally {
        deploying.current = false;
      }
    },
    [doc, rev, deployType],
  );

  const merge = useCallback(async () => {
    setConflict(false);
    try {
      const remote = await api.getFlows();
      const m = mergeFlows(deployed, doc, remote.flows);
      setDoc(m.doc);
      setDeployed(M.snapshot(remote.flows));
      setRev(remote.rev);
      await doDeploy({ flows: m.doc, fromRev: remote.rev });
      if (m.conflicts.length) setNotice({ text: `Merged and deployed; ${m.conflicts.length} node(s) changed on both sides kept your version: ${m.conflicts.join(", ")}` });
    } catch (e: any) {
      setNotice({ text: "Merge failed: " + e.message, error: true });
    }
  }, [deployed, doc, setDoc, doDeploy]);

  const undo = useCallback(() => {
    setDocState((cur) => history.current.undo(cur) ?? cur);
  }, []);
  const redo = useCallback(() => {
    setDocState((cur) => history.current.redo(cur) ?? cur);
  }, []);

  const selectionIds = useCallback(() => {
    const ids = new Set([...selected].filter((id) => !SF.parsePortId(id)));
    for (const g of [...ids]) if (byId.get(g)?.type === "group") for (const m of membersOf(doc, g)) ids.add(m.id);
    return ids;
  }, [doc, selected, byId]);

  const copy = useCallback(() => {
    const out = M.exportNodes(doc, selectionIds());
    if (!out.length) return;
    clipboard.current = out;
    navigator.clipboard?.writeText(JSON.stringify(out)).catch(() => {});
    setNotice({ text: `${out.length} node(s) copied` });
  }, [doc, selectionIds]);

  const paste = useCallback(
    (nodes: FlowNode[], offset = 20) => {
      const r = M.importNodes(doc, nodes, tab, offset);
      setDoc(r.doc);
      setSelected(new Set(r.added));
      const newTab = r.doc.find((n) => r.added.includes(n.id) && n.type === "tab") ?? r.doc.find((n) => r.added.includes(n.id) && M.isTab(n));
      if (newTab) setTab(newTab.id);
      const unknown = r.doc.filter((n) => r.added.includes(n.id) && !M.isTab(n) && n.type !== "group" && n.type !== "junction" && !specs[n.type] && !n.type.startsWith("subflow:"));
      if (unknown.length) setNotice({ text: `Imported ${r.added.length} node(s); ${unknown.length} of unknown type (${[...new Set(unknown.map((n) => n.type))].join(", ")}) kept as they are`, error: true });
    },
    [doc, tab, setDoc, specs],
  );

  const toSubflow = useCallback(() => {
    try {
      const r = SF.createSubflow(doc, selectionIds(), tab, specs);
      setDoc(r.doc);
      setSelected(new Set([r.instance.id]));
      setNotice({ text: `Created ${r.subflow.name} with ${r.subflow.in.length} input and ${r.subflow.out.length} output(s)` });
    } catch (e: any) {
      setNotice({ text: "Cannot create a subflow: " + e.message, error: true });
    }
  }, [doc, selectionIds, tab, specs, setDoc]);

  const group = useCallback(() => {
    const r = groupSelection(doc, new Set([...selected]), tab, specs);
    if (!r.group) return;
    setDoc(r.doc);
    setSelected(new Set([r.group.id]));
  }, [doc, selected, tab, specs, setDoc]);

  const doUngroup = useCallback(() => {
    const gs = new Set([...selected].filter((id) => byId.get(id)?.type === "group"));
    if (!gs.size) return;
    const members = doc.filter((n) => n.g && gs.has(n.g)).map((n) => n.id);
    setDoc((d) => ungroup(d, gs));
    setSelected(new Set(members));
  }, [doc, selected, byId, setDoc]);

  const toggleDisabled = useCallback(
    (ids: string[]) =>
      setDoc((d) =>
        d.map((n) => {
          if (!ids.includes(n.id) || typeof n.x !== "number" || n.type === "group") return n;
          const m = { ...n };
          if (m.d) delete m.d;
          else m.d = true;
          return m;
        }),
      ),
    [setDoc],
  );

  const pick = useCallback(
    (h: Hit) => {
      setSearchOpen(false);
      const n = byId.get(h.id);
      if (!n) return;
      if (M.isTab(n)) return setTab(n.id);
      if (n.z && byId.has(n.z)) {
        setTab(n.z);
        setSelected(new Set([n.id]));
        setSidebar("info");
        setFocus(n.id);
      } else setEditing(n.id); // a config node
    },
    [byId],
  );

  useEffect(() => {
    if (!deployMenu) return;
    const close = (e: MouseEvent) => !(e.target as HTMLElement).closest(".deploy-group") && setDeployMenu(false);
    window.addEventListener("mousedown", close);
    return () => window.removeEventListener("mousedown", close);
  }, [deployMenu]);

  // Centre the canvas on a node picked in search once its tab is drawn.
  useEffect(() => {
    if (!focus) return;
    const n = byId.get(focus);
    if (n && n.z === tab && typeof n.x === "number") {
      rf.setCenter(n.x, n.y ?? 0, { zoom: rf.getZoom(), duration: 0 });
      setFocus(undefined);
    }
  }, [focus, tab, nodes, byId, rf]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      const mod = e.ctrlKey || e.metaKey;
      if (mod && e.key.toLowerCase() === "f" && !t.closest(".dialog")) {
        e.preventDefault();
        setSearchOpen(true);
        return;
      }
      if (t.closest("input, textarea, select, .cm-editor, .dialog")) return;
      if (mod && e.shiftKey && e.code === "KeyG") (e.preventDefault(), group());
      else if (mod && e.shiftKey && e.code === "KeyU") (e.preventDefault(), doUngroup());
      else if (mod && e.key === "z" && !e.shiftKey) (e.preventDefault(), undo());
      else if (mod && (e.key === "y" || (e.key === "z" && e.shiftKey) || e.key === "Z")) (e.preventDefault(), redo());
      else if (mod && e.key === "d") (e.preventDefault(), doDeploy());
      else if (mod && e.key === "e") (e.preventDefault(), setExportOpen(true));
      else if (mod && e.key === "i") (e.preventDefault(), setImportOpen(true));
      else if (mod && e.key === "c") copy();
      else if (mod && e.key === "x") {
        copy();
        setDoc((d) => M.remove(d, selectionIds()));
      } else if (mod && e.key === "v") {
        if (clipboard.current.length) paste(clipboard.current);
      } else if (mod && e.key === "a") {
        e.preventDefault();
        setSelected(new Set(doc.filter((n) => n.z === tab).map((n) => n.id)));
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [undo, redo, copy, paste, doc, tab, setDoc, selectionIds, group, doUngroup, doDeploy]);

  const editNode = editing ? byId.get(editing) : undefined;
  const selNode = selected.size === 1 ? byId.get([...selected][0]) : undefined;
  const nodeLabel = (id: string) => {
    const n = byId.get(id);
    return n ? M.label(n, specs[n.type]) : id;
  };
  const tabLabel = (id?: string) => {
    const t = id ? byId.get(id) : undefined;
    return !t ? "config" : t.type === "subflow" ? "subflow " + (t.name ?? t.id) : t.label ?? t.id;
  };

  const addTab = () => {
    const t: FlowNode = { id: M.newId(), type: "tab", label: `Flow ${M.tabs(doc).filter((x) => x.type === "tab").length + 1}`, disabled: false, info: "" };
    setDoc((d) => [...M.moveTab([...d, t], t.id)]);
    setTab(t.id);
  };
  const renameTab = (t: FlowNode) => {
    const key = t.type === "subflow" ? "name" : "label";
    const name = prompt(t.type === "subflow" ? "Subflow name" : "Flow name", t[key] ?? "");
    if (name !== null) setDoc((d) => M.update(d, t.id, { [key]: name }));
  };
  const deleteTab = (t: FlowNode) => {
    const flowTabs = M.tabs(doc).filter((x) => x.type === "tab");
    if (t.type === "tab" && flowTabs.length < 2) return;
    const what = t.type === "subflow" ? `subflow “${t.name ?? t.id}”, its nodes and every instance of it` : `flow “${t.label ?? t.id}” and its nodes`;
    if (!confirm(`Delete ${what}?`)) return;
    const ids = new Set(doc.filter((n) => n.z === t.id || n.type === "subflow:" + t.id).map((n) => n.id).concat(t.id));
    setDoc((d) => M.remove(d, ids));
    setTab(flowTabs.find((x) => x.id !== t.id)!.id);
  };

  if (needLogin)
    return (
      <div className="app">
        <LoginDialog
          prompts={auth?.prompts ?? []}
          onDone={() => {
            setNeedLogin(false);
            comms.current?.reconnect();
            load().catch((e) => e instanceof api.AuthError || setNotice({ text: String(e), error: true }));
          }}
        />
      </div>
    );

  return (
    <div className="app">
      <header className="topbar">
        <span className="brand">Sluice</span>
        <span className={"conn " + (connected ? "up" : "down")} title={connected ? "connected to the runtime" : "not connected"} />
        <button onClick={undo} title="undo (Ctrl+Z)" disabled={!history.current.past.length}>
          ↶
        </button>
        <button onClick={redo} title="redo (Ctrl+Y)" disabled={!history.current.future.length}>
          ↷
        </button>
        <button onClick={() => setImportOpen(true)} title="import (Ctrl+I)">
          Import
        </button>
        <button onClick={() => setExportOpen(true)} title="export (Ctrl+E)">
          Export
        </button>
        <button onClick={() => setSearchOpen(true)} title="search (Ctrl+F)" aria-label="search">
          ⌕
        </button>
        <button onClick={group} title="group the selection (Ctrl+Shift+G)" disabled={!selected.size}>
          Group
        </button>
        <button onClick={doUngroup} title="ungroup (Ctrl+Shift+U)" disabled={![...selected].some((id) => byId.get(id)?.type === "group")}>
          Ungroup
        </button>
        <button onClick={toSubflow} title="turn the selection into a subflow" disabled={!selected.size || !!subflow} aria-label="selection to subflow">
          → Subflow
        </button>
        <button onClick={() => setTheme(theme === "dark" ? "light" : "dark")} title="switch theme">
          {theme === "dark" ? "☀" : "☾"}
        </button>
        <span className="spacer" />
        {notice && (
          <span className={"notice" + (notice.error ? " error" : "")} onClick={() => setNotice(undefined)} role="status" title={notice.text}>
            {notice.text}
          </span>
        )}
        {auth && (
          <button
            onClick={async () => {
              await api.logout();
              setNeedLogin(true);
              comms.current?.reconnect();
            }}
            title="log out"
          >
            Log out
          </button>
        )}
        <span className="deploy-group">
          <button className={"deploy" + (dirty ? " dirty" : "")} onClick={() => doDeploy()} aria-label="deploy" data-transport={api.lastTransport} title={"deploy: " + deployLabels[deployType] + " (Ctrl+D)"}>
            Deploy{deployType !== "full" ? " · " + deployLabels[deployType].toLowerCase() : ""}
          </button>
          <button className={"deploy deploy-menu-button" + (dirty ? " dirty" : "")} onClick={() => setDeployMenu(!deployMenu)} aria-label="deploy type">
            ▾
          </button>
          {deployMenu && (
            <div className="deploy-menu" role="menu">
              {(Object.keys(deployLabels) as api.DeployType[]).map((k) => (
                <div
                  key={k}
                  role="menuitemradio"
                  aria-checked={k === deployType}
                  className={k === deployType ? "current" : ""}
                  onClick={() => {
                    setDeployType(k);
                    setDeployMenu(false);
                  }}
                >
                  {k === deployType ? "● " : "○ "}
                  {deployLabels[k]}
                </div>
              ))}
            </div>
          )}
        </span>
      </header>
      <div className="main">
        <Palette specs={specList} subflows={doc.filter((n) => n.type === "subflow")} onOpenSubflow={setTab} />
        <section className="workspace">
          <nav className="tabs">
            {M.tabs(doc).map((t) => (
              <span
                key={t.id}
                className={"tab" + (t.id === tab ? " active" : "") + (t.disabled ? " disabled" : "") + (changedTabs.has(t.id) ? " changed" : "") + (t.type === "subflow" ? " subflow" : "") + (dragTab && dragTab !== t.id ? " drop-target" : "")}
                data-id={t.id}
                draggable
                onDragStart={(e) => {
                  e.dataTransfer.setData("application/x-sluice-tab", t.id);
                  setDragTab(t.id);
                }}
                onDragEnd={() => setDragTab(undefined)}
                onDragOver={(e) => e.dataTransfer.types.includes("application/x-sluice-tab") && e.preventDefault()}
                onDrop={(e) => {
                  const id = e.dataTransfer.getData("application/x-sluice-tab");
                  setDragTab(undefined);
                  if (!id || id === t.id) return;
                  const order = M.tabs(doc).map((x) => x.id);
                  // Dropped on a tab to its right: go after it.
                  const after = order.indexOf(id) < order.indexOf(t.id);
                  setDoc((d) => M.moveTab(d, id, after ? order[order.indexOf(t.id) + 1] : t.id));
                }}
                onClick={() => setTab(t.id)}
                onDoubleClick={() => renameTab(t)}
                title={t.type === "subflow" ? "subflow template" : t.disabled ? "disabled flow" : undefined}
              >
                {t.type === "subflow" ? t.name ?? t.id : t.label ?? t.id}
                {t.id === tab && t.type === "tab" && (
                  <input
                    type="checkbox"
                    className="tab-toggle"
                    checked={!t.disabled}
                    title={t.disabled ? "this flow is disabled: check to enable it" : "this flow is enabled: uncheck to disable it"}
                    aria-label="flow enabled"
                    onClick={(e) => e.stopPropagation()}
                    onChange={() => setDoc((d) => M.update(d, t.id, { disabled: !t.disabled }))}
                  />
                )}
                {t.id === tab && (
                  <button className="tab-close" title={t.type === "subflow" ? "delete subflow" : "delete flow"} onClick={(e) => (e.stopPropagation(), deleteTab(t))}>
                    ×
                  </button>
                )}
              </span>
            ))}
            <button className="tab-add" onClick={addTab} title="add flow" aria-label="add flow">
              +
            </button>
          </nav>
          {subflow && (
            <div className="subflow-bar">
              <span>Subflow template</span>
              <label>
                inputs{" "}
                <select value={(subflow.in ?? []).length} onChange={(e) => setDoc((d) => SF.setPorts(d, subflow.id, +e.target.value, (subflow.out ?? []).length))} aria-label="subflow inputs">
                  <option value={0}>0</option>
                  <option value={1}>1</option>
                </select>
              </label>
              <label>
                outputs{" "}
                <input
                  type="number"
                  min={0}
                  max={20}
                  value={(subflow.out ?? []).length}
                  onChange={(e) => setDoc((d) => SF.setPorts(d, subflow.id, (subflow.in ?? []).length, Math.max(0, Math.min(20, +e.target.value || 0))))}
                  aria-label="subflow outputs"
                />
              </label>
              <span className="muted">{doc.filter((n) => n.type === "subflow:" + subflow.id).length} instance(s)</span>
            </div>
          )}
          <div className={"canvas" + (curTab?.disabled ? " flow-disabled" : "")} onDragOver={(e) => (e.preventDefault(), (e.dataTransfer.dropEffect = "move"))} onDrop={onDrop}>
            <ReactFlow
              nodes={nodes}
              edges={edges}
              nodeTypes={nodeTypes}
              edgeTypes={edgeTypes}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={onConnect}
              onNodeDoubleClick={(_, n) => !SF.parsePortId(n.id) && setEditing(n.id)}
              deleteKeyCode={["Delete", "Backspace"]}
              selectionOnDrag
              panOnDrag={[1, 2]}
              elevateNodesOnSelect={false}
              onlyRenderVisibleElements={nodes.length > 300}
              colorMode={theme === "dark" ? "dark" : "light"}
              fitView
              minZoom={0.1}
              proOptions={{ hideAttribution: true }}
            >
              <Background />
              <Controls />
              <MiniMap pannable zoomable />
            </ReactFlow>
          </div>
        </section>
        <aside className="sidebar">
          <nav className="sidebar-tabs">
            <button className={sidebar === "debug" ? "active" : ""} onClick={() => setSidebar("debug")}>
              debug
            </button>
            <button className={sidebar === "info" ? "active" : ""} onClick={() => setSidebar("info")}>
              info
            </button>
          </nav>
          {sidebar === "debug" ? (
            <DebugSidebar
              messages={debug}
              nodeLabel={nodeLabel}
              nodeTab={(id) => byId.get(id)?.z}
              tab={tab}
              onClear={() => setDebug([])}
              onSelect={(id) => setSelected(new Set([id]))}
              onCopied={(w) => setNotice({ text: "Copied " + w })}
            />
          ) : (
            <InfoSidebar
              node={selNode}
              tab={curTab}
              specs={specs}
              stats={selNode ? stats[selNode.id] : undefined}
              problems={problems.filter((p) => !p.id || byId.has(p.id))}
              problemOf={problemOf}
              onSelect={(id) => pick({ id, type: "", label: "", where: "" })}
              onToggleDisabled={(n) => toggleDisabled([n.id])}
            />
          )}
        </aside>
      </div>
      {editNode && (
        <EditDialog
          key={editNode.id}
          node={editNode}
          spec={specs[editNode.type]}
          specs={specs}
          doc={doc}
          problem={problemOf.get(editNode.id)}
          onOpenSubflow={editNode.type.startsWith("subflow:") && byId.has(editNode.type.slice(8)) ? () => (setEditing(undefined), setTab(editNode.type.slice(8))) : undefined}
          onCancel={() => setEditing(undefined)}
          onSave={(n) => {
            setDoc((d) => (n.type === "group" ? fitGroups(M.replace(d, n), specs, [n.id]) : M.replace(d, n)));
            setEditing(undefined);
          }}
          onDelete={() => {
            setDoc((d) => M.remove(d, new Set([editNode.id])));
            setEditing(undefined);
          }}
          onAddConfig={(c) => setDoc((d) => [...d, c])}
        />
      )}
      {importOpen && (
        <ImportDialog
          onCancel={() => setImportOpen(false)}
          onImport={(nodes) => {
            paste(nodes, 0);
            setImportOpen(false);
          }}
        />
      )}
      {exportOpen && <ExportDialog doc={doc} selection={selectionIds()} tab={tab} onClose={() => setExportOpen(false)} />}
      {searchOpen && <SearchDialog doc={doc} specs={specs} tabLabel={tabLabel} onPick={pick} onClose={() => setSearchOpen(false)} />}
      {conflict && (
        <ConflictDialog
          onCancel={() => (setConflict(false), setNotice({ text: "Deploy cancelled: the flows changed on the server", error: true }))}
          onOverwrite={() => (setConflict(false), doDeploy({ force: true }))}
          onMerge={merge}
        />
      )}
    </div>
  );
}

export function App() {
  return (
    <ReactFlowProvider>
      <Editor />
    </ReactFlowProvider>
  );
}
