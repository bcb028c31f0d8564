// The node edit dialog: generated from the node type's spec, with
// hand-written parts only for rule lists and code.
import { useState } from "react";
import { CodeEditor } from "./CodeEditor";
import { TypedInput } from "./TypedInput";
import { renderMarkdown } from "./help";
import { configNodes, createNode, label, setOutputs, type FlowNode, type NodeSpec, type PropSpec, type Specs } from "./model";

const codeProps = new Set(["func", "initialize", "finalize", "template"]);

type Row = Record<string, any>;
type Col = { key: string; typeKey?: string; types?: string[]; options?: string[]; when?: (r: Row) => boolean; placeholder?: string };

const ruleEditors: Record<string, { prop: string; cols: Col[]; blank: Row; outputsFromRows?: boolean }> = {
  change: {
    prop: "rules",
    blank: { t: "set", p: "payload", pt: "msg", to: "", tot: "str" },
    cols: [
      { key: "t", options: ["set", "change", "delete", "move"] },
      { key: "p", typeKey: "pt", types: ["msg", "flow", "global"] },
      { key: "from", typeKey: "fromt", types: ["str", "num", "bool", "re", "msg", "flow", "global", "env"], when: (r) => r.t === "change", placeholder: "search for" },
      { key: "to", typeKey: "tot", types: ["msg", "flow", "global", "str", "num", "bool", "json", "bin", "date", "jsonata", "env"], when: (r) => r.t !== "delete" },
    ],
  },
  switch: {
    prop: "rules",
    outputsFromRows: true,
    blank: { t: "eq", v: "", vt: "str" },
    cols: [
      { key: "t", options: ["eq", "neq", "lt", "lte", "gt", "gte", "btwn", "cont", "regex", "true", "false", "null", "nnull", "empty", "nempty", "istype", "head", "index", "tail", "jsonata_exp", "else"] },
      { key: "v", typeKey: "vt", types: ["str", "num", "msg", "flow", "global", "jsonata", "env", "prev"], when: (r) => !["true", "false", "null", "nnull", "empty", "nempty", "else"].includes(r.t) },
      { key: "v2", typeKey: "v2t", types: ["str", "num", "msg", "flow", "global", "jsonata", "env", "prev"], when: (r) => r.t === "btwn" || r.t === "index" },
    ],
  },
  inject: {
    prop: "props",
    blank: { p: "", v: "", vt: "str" },
    cols: [
      { key: "p", placeholder: "property" },
      { key: "v", typeKey: "vt", types: ["str", "num", "bool", "json", "bin", "date", "jsonata", "env", "flow", "global"] },
    ],
  },
};

// Inject keeps payload and topic values on the node, not in props rows.
function injectRows(n: FlowNode): Row[] {
  return (n.props ?? []).map((r: Row) =>
    r.p === "payload" ? { ...r, v: n.payload ?? "", vt: n.payloadType ?? "date" } : r.p === "topic" ? { ...r, v: n.topic ?? "", vt: "str" } : r,
  );
}

function injectSave(n: FlowNode, rows: Row[]): FlowNode {
  const out = { ...n };
  out.props = rows.map((r) => {
    if (r.p === "payload") {
      out.payload = r.v;
      out.payloadType = r.vt;
      return { p: "payload" };
    }
    if (r.p === "topic") {
      out.topic = r.v;
      return { p: "topic", vt: "str" };
    }
    return { p: r.p, v: r.v, vt: r.vt };
  });
  return out;
}

function RowsEditor({ cols, rows, blank, onChange }: { cols: Col[]; rows: Row[]; blank: Row; onChange: (r: Row[]) => void }) {
  const set = (i: number, patch: Row) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <div className="rows">
      {rows.map((r, i) => (
        <div className="row" key={i}>
          {cols.map((c) =>
            c.when && !c.when(r) ? null : c.options ? (
              <select key={c.key} value={r[c.key]} onChange={(e) => set(i, { [c.key]: e.target.value })}>
                {c.options.map((o) => (
                  <option key={o}>{o}</option>
                ))}
              </select>
            ) : c.typeKey ? (
              <TypedInput key={c.key} value={r[c.key]} type={r[c.key + "__t"] ?? r[c.typeKey]} types={c.types} onChange={(v, t) => set(i, { [c.key]: v, [c.typeKey!]: t })} />
            ) : (
              <input key={c.key} value={r[c.key] ?? ""} placeholder={c.placeholder} onChange={(e) => set(i, { [c.key]: e.target.value })} />
            ),
          )}
          <button className="small" onClick={() => onChange(rows.filter((_, j) => j !== i))} title="remove">
            ✕
          </button>
        </div>
      ))}
      <button className="small" onClick={() => onChange([...rows, { ...blank }])}>
        + add
      </button>
    </div>
  );
}

export function EditDialog({
  node,
  spec,
  specs,
  doc,
  onSave,
  onCancel,
  onDelete,
  onAddConfig,
  problem,
  onOpenSubflow,
}: {
  node: FlowNode;
  spec?: NodeSpec;
  specs: Specs;
  doc: FlowNode[];
  onSave: (n: FlowNode) => void;
  onCancel: () => void;
  onDelete: () => void;
  onAddConfig: (n: FlowNode) => void;
  problem?: string;
  onOpenSubflow?: () => void;
}) {
  const [n, setN] = useState<FlowNode>(() => structuredClone(node));
  const rules = ruleEditors[node.type];
  const [rows, setRows] = useState<Row[]>(() => (rules ? (node.type === "inject" ? injectRows(node) : structuredClone(node[rules.prop] ?? [])) : []));
  const [jsonErr, setJsonErr] = useState<Record<string, string>>({});
  const [raw, setRaw] = useState<Record<string, string>>({});
  const set = (k: string, v: any) => setN((o) => ({ ...o, [k]: v }));
  const typeProps = new Set((spec?.props ?? []).map((p) => p.typeProp).filter(Boolean) as string[]);

  const save = () => {
    if (Object.values(jsonErr).some(Boolean)) return;
    let out = { ...n };
    for (const [k, text] of Object.entries(raw)) out[k] = JSON.parse(text);
    if (rules) {
      if (node.type === "inject") out = injectSave(out, rows);
      else out[rules.prop] = rows;
      if (rules.outputsFromRows) out = setOutputs(out, rows.length);
    }
    if (spec?.props.some((p) => p.name === "outputs") && !rules && out.wires) {
      const c = parseInt(out.outputs, 10);
      if (!isNaN(c) && c >= 0) out = setOutputs(out, c);
    }
    onSave(out);
  };

  const field = (p: PropSpec) => {
    if (typeProps.has(p.name) || (rules && p.name === rules.prop)) return null;
    if (node.type === "inject" && (p.name === "payload" || p.name === "payloadType" || p.name === "topic")) return null;
    if (rules?.outputsFromRows && p.name === "outputs") return null;
    const v = n[p.name];
    let input;
    if (codeProps.has(p.name)) {
      input = <CodeEditor value={v ?? ""} onChange={(s) => set(p.name, s)} lang={p.name === "template" ? "text" : "js"} />;
    } else if (p.typeProp) {
      input = <TypedInput value={v} type={n[p.typeProp]} types={p.types} onChange={(val, t) => setN((o) => ({ ...o, [p.name]: val, [p.typeProp!]: t }))} />;
    } else if (p.configType) {
      const opts = configNodes(doc, p.configType);
      input = (
        <span className="config-picker">
          <select value={v ?? ""} onChange={(e) => set(p.name, e.target.value)}>
            <option value="">none</option>
            {opts.map((c) => (
              <option key={c.id} value={c.id}>
                {label(c, specs[c.type])}
              </option>
            ))}
          </select>
          {specs[p.configType] && (
            <button
              className="small"
              title={"add a new " + p.configType}
              onClick={() => {
                const c = createNode(specs[p.configType!], "", 0, 0);
                onAddConfig(c);
                set(p.name, c.id);
              }}
            >
              +
            </button>
          )}
        </span>
      );
    } else if (p.options?.length) {
      input = (
        <select value={v ?? ""} onChange={(e) => set(p.name, e.target.value)}>
          {(p.options.includes(v) || v === undefined ? p.options : [v, ...p.options]).map((o) => (
            <option key={o}>{o}</option>
          ))}
        </select>
      );
    } else if (p.kind === "bool") {
      input = <input type="checkbox" checked={v === true || v === "true"} onChange={(e) => set(p.name, e.target.checked)} />;
    } else if (p.kind === "array" || p.kind === "object" || (v !== null && typeof v === "object")) {
      input = (
        <textarea
          rows={3}
          value={raw[p.name] ?? JSON.stringify(v ?? null)}
          onChange={(e) => {
            const text = e.target.value;
            setRaw((r) => ({ ...r, [p.name]: text }));
            try {
              JSON.parse(text);
              setJsonErr((j) => ({ ...j, [p.name]: "" }));
            } catch (err: any) {
              setJsonErr((j) => ({ ...j, [p.name]: err.message }));
            }
          }}
        />
      );
    } else {
      input = <input value={v ?? ""} onChange={(e) => set(p.name, p.kind === "number" && e.target.value !== "" && !isNaN(+e.target.value) && typeof v === "number" ? +e.target.value : e.target.value)} />;
    }
    return (
      <label key={p.name} className="field">
        <span className="field-name">{p.label || p.name}</span>
        {input}
        {jsonErr[p.name] && <span className="error">{jsonErr[p.name]}</span>}
      </label>
    );
  };

  const props = spec?.props ?? [];
  const hasName = props.some((p) => p.name === "name");
  return (
    <div className="dialog-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onCancel()}>
      <div className="dialog" role="dialog" aria-label={"edit " + node.type}>
        <header>
          Edit {node.type} node <span className="muted">{node.id}</span>
        </header>
        <div className="dialog-body">
          {problem && (
            <p className="error problem" role="alert">
              {problem}
            </p>
          )}
          {!spec && !onOpenSubflow && node.type !== "group" && <p className="warning">Unknown node type “{node.type}”: its properties are kept as they are.</p>}
          {onOpenSubflow && (
            <p>
              <button onClick={onOpenSubflow}>Edit subflow template</button>
            </p>
          )}
          {!hasName && (spec || onOpenSubflow || node.type === "group") && (
            <label className="field">
              <span className="field-name">name</span>
              <input value={n.name ?? ""} onChange={(e) => set("name", e.target.value)} />
            </label>
          )}
          {props.map(field)}
          {rules && (
            <div className="field">
              <span className="field-name">{rules.prop}</span>
              <RowsEditor cols={rules.cols} rows={rows} blank={rules.blank} onChange={setRows} />
            </div>
          )}
          {typeof n.x === "number" && node.type !== "group" && (
            <label className="field">
              <span className="field-name">enabled</span>
              <input type="checkbox" checked={!n.d} onChange={(e) => set("d", e.target.checked ? undefined : true)} />
            </label>
          )}
          {spec?.help && <div className="help markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(spec.help) }} />}
        </div>
        <footer>
          <button className="danger" onClick={onDelete}>
            Delete
          </button>
          <span className="spacer" />
          <button onClick={onCancel}>Cancel</button>
          <button className="primary" onClick={save}>
            Done
          </button>
        </footer>
      </div>
    </div>
  );
}
