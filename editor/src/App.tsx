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
import { EditDialog } from "./EditDialog";
import { GroupBox, JunctionBox, NodeBox, type NodeBoxData } from "./NodeBox";
import { RateEdge } from "./RateEdge";
import * as M from "./model";
import type { FlowNode, NodeSpec, Specs } from "./model";

const nodeTypes = { nr: NodeBox, group: GroupBox, junction: JunctionBox };
const edgeTypes = { rate: RateEdge };

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
  const [filter, setFilter] = useState("");
  const [problems, setProblems] = useState<api.Problem[]>([]);
  const [notice, setNotice] = useState<{ text: string; error?: boolean }>();
  const [debug, setDebug] = useState<DebugMsg[]>([]);
  const [status, setStatus] = useState<Record<string, any>>({});
  const [stats, setStats] = useState<Stats>({});
  const [rates, setRates] = useState<Record<string, number>>({});
  const [connected, setConnected] = useState(false);
  const [sidebar, setSidebar] = useState<"debug" | "info">("debug");
  const [theme, setTheme] = useState(() => localStorage.getItem("sluice-theme") || "light");
  const [importText, setImportText] = useState<string>();
  const [exportText, setExportText] = useState<string>();
  const history = useRef(new M.History());
  const prevStats = useRef<{ at: number; s: Stats } | undefined>(undefined);
  const seq = useRef(0);
  const clipboard = useRef<FlowNode[]>([]);
  const dragging = useRef(false);

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

  const load = useCallback(async () => {
    const [nodes, flows] = await Promise.all([api.getNodes(), api.getFlows()]);
    setSpecList(nodes);
    setSpecs(Object.fromEntries(nodes.map((s) => [s.type, s])));
    let f = flows.flows;
    if (!M.tabs(f).length) f = [{ id: M.newId(), type: "tab", label: "Flow 1", disabled: false, info: "" }, ...f];
    setDocState(f);
    setDeployed(M.snapshot(flows.flows));
    setRev(flows.rev);
    setTab((t) => (f.some((n) => n.id === t) ? t : M.tabs(f)[0].id));
  }, []);

  useEffect(() => {
    load().catch((e) => setNotice({ text: String(e), error: true }));
  }, [load]);

  useEffect(
    () =>
      api.connectComms((batch) => {
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
              for (const [id, c] of Object.entries(m.data as Stats)) {
                const p = prev.s[id];
                r[id] = p && c[1] >= p[1] ? (c[1] - p[1]) / dt : 0;
              }
              setRates(r);
            }
            prevStats.current = { at: now, s: m.data };
            setStats(m.data);
          } else if (m.topic === "notification/runtime-deploy") {
            setRev((cur) => cur ?? m.data.revision);
          }
        }
        if (dbg.length) setDebug((d) => [...d, ...dbg].slice(-500));
        if (Object.keys(st).length) setStatus((s) => ({ ...s, ...st }));
      }, setConnected),
    [],
  );

  const changed = useMemo(() => M.changedIds(doc, deployed), [doc, deployed]);
  const dirty = changed.size > 0 || [...deployed.keys()].some((id) => !doc.some((n) => n.id === id));
  const problemOf = useMemo(() => {
    const m = new Map<string, string>();
    for (const p of problems) if (p.id) m.set(p.id, (m.get(p.id) ? m.get(p.id) + "\n" : "") + (p.property ? p.property + ": " : "") + p.message);
    return m;
  }, [problems]);

  const byId = useMemo(() => new Map(doc.map((n) => [n.id, n])), [doc]);

  const nodes: Node[] = useMemo(() => {
    const out: Node[] = [];
    for (const n of doc) {
      if (!M.onCanvas(n, tab) && !(n.type === "group" && n.z === tab)) continue;
      if (n.type === "group") {
        out.push({
          id: n.id,
          type: "group",
          position: { x: n.x ?? 0, y: n.y ?? 0 },
          data: { w: n.w ?? 200, h: n.h ?? 100, label: n.name ?? "", stroke: n.style?.stroke ?? "#999", fill: n.style?.fill ? n.style.fill + "22" : "transparent" },
          zIndex: -1,
          selected: selected.has(n.id),
          connectable: false,
        });
        continue;
      }
      if (n.type === "junction") {
        out.push({ id: n.id, type: "junction", position: { x: n.x! - 5, y: n.y! - 5 }, data: {}, selected: selected.has(n.id) });
        continue;
      }
      const spec = specs[n.type];
      const pt = M.ports(n, specs, doc);
      const w = M.nodeWidth(n, spec);
      const data: NodeBoxData = {
        label: M.label(n, spec),
        type: n.type,
        color: spec?.color ?? (n.type.startsWith("subflow:") ? "#ddaa99" : "#eee"),
        inputs: pt.inputs,
        outputs: pt.outputs,
        width: w,
        status: status[n.id],
        counts: stats[n.id],
        changed: changed.has(n.id),
        invalid: problemOf.get(n.id),
        unknown: !spec && !n.type.startsWith("subflow:"),
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
      out.push({ id: n.id, type: "nr", position: { x: n.x! - w / 2, y: n.y! - M.NODE_HEIGHT / 2 }, data, selected: selected.has(n.id) });
    }
    return out;
  }, [doc, tab, specs, status, stats, changed, problemOf, selected, setDoc]);

  const edges: Edge[] = useMemo(() => {
    const out: Edge[] = [];
    for (const n of doc) {
      if (n.z !== tab) continue;
      (n.wires ?? []).forEach((ws, port) =>
        ws.forEach((t) => {
          const tgt = byId.get(t);
          if (!tgt || tgt.z !== tab) return;
          const id = `${n.id}:${port}>${t}`;
          out.push({ id, source: n.id, sourceHandle: "o" + port, target: t, targetHandle: "in", type: "rate", data: { rate: rates[n.id] ?? 0 }, selected: selEdges.has(id) });
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
    return out;
  }, [doc, tab, byId, rates, selEdges]);

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
        } else if (c.type === "remove") removed.add(c.id);
      }
      if (moved) {
        const mv = moved;
        setDoc(
          (d) =>
            d.map((n) => {
              const p = mv[n.id];
              if (!p) return n;
              if (n.type === "group") return { ...n, x: Math.round(p.x), y: Math.round(p.y) };
              if (n.type === "junction") return { ...n, x: Math.round(p.x + 5), y: Math.round(p.y + 5) };
              const w = M.nodeWidth(n, specs[n.type]);
              return { ...n, x: Math.round(p.x + w / 2), y: Math.round(p.y + M.NODE_HEIGHT / 2) };
            }),
          false,
        );
      }
      if (sel) setSelected(sel);
      if (removed.size) setDoc((d) => M.remove(d, removed));
    },
    [doc, selected, setDoc, specs],
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
            if (m) d = M.disconnect(d, m[1], +m[2], m[3]);
          }
          return d;
        });
    },
    [selEdges, setDoc],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      if (!c.source || !c.target || c.source === c.target) return;
      const port = parseInt((c.sourceHandle ?? "o0").slice(1), 10) || 0;
      setDoc((d) => M.connect(d, c.source!, port, c.target!));
    },
    [setDoc],
  );

  const onDrop = useCallback(
    (e: React.DragEvent) => {
      e.preventDefault();
      const type = e.dataTransfer.getData("application/x-sluice-node");
      const spec = specs[type];
      if (!spec) return;
      const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      const n = M.createNode(spec, tab, p.x, p.y);
      setDoc((d) => [...d, n]);
      setSelected(new Set([n.id]));
    },
    [rf, specs, tab, setDoc],
  );

  const doDeploy = useCallback(
    async (force = false) => {
      try {
        const r = await api.deploy(doc, force ? undefined : rev);
        setRev(r);
        setDeployed(M.snapshot(doc));
        setProblems([]);
        setStatus({});
        setNotice({ text: "Deployed" });
      } catch (e: any) {
        if (e instanceof api.DeployError && e.status === 409) {
          if (confirm("The flows changed on the server since you loaded them. Overwrite them with yours?")) return doDeploy(true);
          setNotice({ text: "Deploy cancelled: flows changed on the server (reload to get them)", error: true });
          return;
        }
        if (e instanceof api.DeployError) setProblems(e.problems);
        const errs = e.problems?.filter((p: api.Problem) => p.severity === "error") ?? [];
        setNotice({ text: errs.length ? `Deploy refused: ${errs.length} problem(s) — see the marked nodes` : "Deploy failed: " + e.message, error: true });
      }
    },
    [doc, rev],
  );

  const undo = useCallback(() => {
    setDocState((cur) => history.current.undo(cur) ?? cur);
  }, []);
  const redo = useCallback(() => {
    setDocState((cur) => history.current.redo(cur) ?? cur);
  }, []);

  const selectionIds = useCallback(() => {
    const ids = new Set(selected);
    for (const n of doc) if (n.g && ids.has(n.g)) ids.add(n.id);
    return ids;
  }, [doc, selected]);

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
      const newTab = r.doc.find((n) => r.added.includes(n.id) && M.isTab(n));
      if (newTab) setTab(newTab.id);
    },
    [doc, tab, setDoc],
  );

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (t.closest("input, textarea, select, .cm-editor, .dialog")) return;
      const mod = e.ctrlKey || e.metaKey;
      if (mod && e.key === "z" && !e.shiftKey) (e.preventDefault(), undo());
      else if (mod && (e.key === "y" || (e.key === "z" && e.shiftKey) || e.key === "Z")) (e.preventDefault(), redo());
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
  }, [undo, redo, copy, paste, doc, tab, setDoc, selectionIds]);

  const editNode = editing ? byId.get(editing) : undefined;
  const selNode = selected.size === 1 ? byId.get([...selected][0]) : undefined;
  const nodeLabel = (id: string) => {
    const n = byId.get(id);
    return n ? M.label(n, specs[n.type]) : id;
  };
  const cats = M.categories(specList, filter);

  const addTab = () => {
    const t: FlowNode = { id: M.newId(), type: "tab", label: `Flow ${M.tabs(doc).length + 1}`, disabled: false, info: "" };
    setDoc((d) => [...d, t]);
    setTab(t.id);
  };
  const renameTab = (t: FlowNode) => {
    if (t.type !== "tab") return;
    const name = prompt("Flow name", t.label ?? "");
    if (name !== null) setDoc((d) => M.update(d, t.id, { label: name }));
  };
  const deleteTab = (t: FlowNode) => {
    if (M.tabs(doc).length < 2 || !confirm(`Delete flow “${t.label ?? t.name ?? t.id}” and its nodes?`)) return;
    const ids = new Set(doc.filter((n) => n.z === t.id).map((n) => n.id).concat(t.id));
    setDoc((d) => M.remove(d, ids));
    setTab(M.tabs(doc).find((x) => x.id !== t.id)!.id);
  };

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
        <button onClick={() => setImportText("")}>Import</button>
        <button
          onClick={() => {
            const ids = selected.size ? selectionIds() : new Set(doc.filter((n) => n.z === tab || n.id === tab).map((n) => n.id));
            const text = JSON.stringify(M.exportNodes(doc, ids), null, 2);
            navigator.clipboard?.writeText(text).catch(() => {});
            setExportText(text);
          }}
        >
          Export
        </button>
        <button onClick={() => setTheme(theme === "dark" ? "light" : "dark")} title="switch theme">
          {theme === "dark" ? "☀" : "☾"}
        </button>
        <span className="spacer" />
        {notice && (
          <span className={"notice" + (notice.error ? " error" : "")} onClick={() => setNotice(undefined)} role="status">
            {notice.text}
          </span>
        )}
        <button className={"deploy" + (dirty ? " dirty" : "")} onClick={() => doDeploy()} aria-label="deploy">
          Deploy
        </button>
      </header>
      <div className="main">
        <aside className="palette">
          <input placeholder="filter nodes" value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="filter nodes" />
          {cats.map(([cat, list]) => (
            <div key={cat} className="category">
              <div className="category-name">{cat}</div>
              {list.map((s) => (
                <div
                  key={s.type}
                  className="palette-node"
                  draggable
                  data-type={s.type}
                  style={{ background: s.color ?? "#ddd" }}
                  onDragStart={(e) => {
                    e.dataTransfer.setData("application/x-sluice-node", s.type);
                    e.dataTransfer.effectAllowed = "move";
                  }}
                  title={s.help}
                >
                  {s.type}
                </div>
              ))}
            </div>
          ))}
        </aside>
        <section className="workspace">
          <nav className="tabs">
            {M.tabs(doc).map((t) => (
              <span key={t.id} className={"tab" + (t.id === tab ? " active" : "") + (t.disabled ? " disabled" : "")} onClick={() => setTab(t.id)} onDoubleClick={() => renameTab(t)}>
                {t.type === "subflow" ? "⧉ " + (t.name ?? t.id) : t.label ?? t.id}
                {t.id === tab && t.type === "tab" && (
                  <button className="tab-close" title="delete flow" onClick={(e) => (e.stopPropagation(), deleteTab(t))}>
                    ×
                  </button>
                )}
              </span>
            ))}
            <button className="tab-add" onClick={addTab} title="add flow">
              +
            </button>
          </nav>
          <div className="canvas" onDragOver={(e) => (e.preventDefault(), (e.dataTransfer.dropEffect = "move"))} onDrop={onDrop}>
            <ReactFlow
              nodes={nodes}
              edges={edges}
              nodeTypes={nodeTypes}
              edgeTypes={edgeTypes}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={onConnect}
              onNodeDoubleClick={(_, n) => setEditing(n.id)}
              deleteKeyCode={["Delete", "Backspace"]}
              selectionOnDrag
              panOnDrag={[1, 2]}
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
            <DebugSidebar messages={debug} nodeLabel={nodeLabel} onClear={() => setDebug([])} onSelect={(id) => setSelected(new Set([id]))} />
          ) : (
            <div className="info">
              {selNode ? (
                <>
                  <h3>{M.label(selNode, specs[selNode.type])}</h3>
                  <p className="muted">
                    {selNode.type} · {selNode.id}
                  </p>
                  {stats[selNode.id] && (
                    <p>
                      in {stats[selNode.id][0]} · out {stats[selNode.id][1]} · errors {stats[selNode.id][2]} · queued {stats[selNode.id][3]}
                    </p>
                  )}
                  <div className="help">{specs[selNode.type]?.help ?? "No help for this node type."}</div>
                </>
              ) : (
                <p className="muted">Select a node to see its help.</p>
              )}
              {problems.length > 0 && (
                <div className="problems">
                  <h4>Deploy problems</h4>
                  {problems.map((p, i) => (
                    <div key={i} className={p.severity}>
                      {p.id && <a onClick={() => setSelected(new Set([p.id!]))}>{p.id}</a>} {p.property} {p.message}
                    </div>
                  ))}
                </div>
              )}
            </div>
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
          onCancel={() => setEditing(undefined)}
          onSave={(n) => {
            setDoc((d) => M.replace(d, n));
            setEditing(undefined);
          }}
          onDelete={() => {
            setDoc((d) => M.remove(d, new Set([editNode.id])));
            setEditing(undefined);
          }}
          onAddConfig={(c) => setDoc((d) => [...d, c])}
        />
      )}
      {importText !== undefined && (
        <ImportDialog
          onCancel={() => setImportText(undefined)}
          onImport={(nodes) => {
            paste(nodes, 0);
            setImportText(undefined);
          }}
        />
      )}
      {exportText !== undefined && (
        <div className="dialog-backdrop" onMouseDown={(e) => e.target === e.currentTarget && setExportText(undefined)}>
          <div className="dialog">
            <header>Export (copied to the clipboard)</header>
            <textarea className="json" readOnly value={exportText} />
            <footer>
              <span className="spacer" />
              <button onClick={() => setExportText(undefined)}>Close</button>
            </footer>
          </div>
        </div>
      )}
    </div>
  );
}

function ImportDialog({ onImport, onCancel }: { onImport: (n: FlowNode[]) => void; onCancel: () => void }) {
  const [text, setText] = useState("");
  const [err, setErr] = useState("");
  return (
    <div className="dialog-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onCancel()}>
      <div className="dialog" role="dialog" aria-label="import">
        <header>Import Node-RED flow JSON</header>
        <textarea className="json" value={text} onChange={(e) => setText(e.target.value)} placeholder="paste flow JSON here" />
        <input
          type="file"
          accept=".json,application/json"
          onChange={async (e) => {
            const f = e.target.files?.[0];
            if (f) setText(await f.text());
          }}
        />
        {err && <div className="error">{err}</div>}
        <footer>
          <span className="spacer" />
          <button onClick={onCancel}>Cancel</button>
          <button
            className="primary"
            onClick={() => {
              try {
                onImport(M.parseImport(text));
              } catch (e: any) {
                setErr(e.message);
              }
            }}
          >
            Import
          </button>
        </footer>
      </div>
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
