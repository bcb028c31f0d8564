// The debug sidebar: live messages with an expandable JSON tree whose
// entries can copy their path or value.
import { useState } from "react";
import { copyText } from "./clipboard";

export interface DebugMsg {
  seq: number;
  time: string;
  id: string;
  _alias?: string; // the template node of a node inside a subflow instance
  z?: string;
  name?: string;
  topic?: any;
  property?: string;
  format?: string;
  level?: number; // 20 error, 30 warning: a node's error or warning, not a debug node's output
  msg: any;
}

// childPath appends a key as RED.util property paths write it.
export function childPath(base: string, key: string, isIndex: boolean): string {
  if (isIndex) return `${base}[${key}]`;
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return base ? `${base}.${key}` : key;
  return `${base}[${JSON.stringify(key)}]`;
}

function CopyButtons({ path, value, onCopied }: { path: string; value: any; onCopied: (what: string) => void }) {
  return (
    <span className="tree-tools">
      <button className="small" title="copy path" aria-label="copy path" onClick={(e) => (e.stopPropagation(), copyText(path).then(() => onCopied("path " + path)))}>
        path
      </button>
      <button
        className="small"
        title="copy value"
        aria-label="copy value"
        onClick={(e) => (e.stopPropagation(), copyText(typeof value === "string" ? value : JSON.stringify(value, null, 2) ?? "undefined").then(() => onCopied("value")))}
      >
        value
      </button>
    </span>
  );
}

function Tree({ value, name, path, depth = 0, onCopied }: { value: any; name?: string; path: string; depth?: number; onCopied: (w: string) => void }) {
  const [open, setOpen] = useState(depth < 1);
  const isObj = value !== null && typeof value === "object";
  const key = name !== undefined ? <span className="tree-key">{name}: </span> : null;
  if (!isObj) {
    const cls = "tree-val " + (typeof value === "string" ? "str" : typeof value);
    return (
      <div className="tree-leaf tree-row" data-path={path}>
        {key}
        <span className={cls}>{typeof value === "string" ? JSON.stringify(value) : String(value)}</span>
        <CopyButtons path={path} value={value} onCopied={onCopied} />
      </div>
    );
  }
  const isArr = Array.isArray(value);
  const entries = isArr ? value.map((v: any, i: number) => [String(i), v] as const) : Object.entries(value);
  const summary = isArr ? `array[${value.length}]` : `{${Object.keys(value).slice(0, 4).join(", ")}${Object.keys(value).length > 4 ? ", …" : ""}}`;
  return (
    <div className="tree-node">
      <span className="tree-toggle tree-row" data-path={path} onClick={() => setOpen(!open)}>
        {open ? "▾" : "▸"} {key}
        <span className="muted">{summary}</span>
        <CopyButtons path={path} value={value} onCopied={onCopied} />
      </span>
      {open && (
        <div className="tree-children">
          {entries.map(([k, v]) => (
            <Tree key={k} name={k} value={v} path={childPath(path, k, isArr)} depth={depth + 1} onCopied={onCopied} />
          ))}
        </div>
      )}
    </div>
  );
}

export function DebugSidebar({
  messages,
  nodeLabel,
  nodeTab,
  tab,
  onClear,
  onSelect,
  onCopied,
}: {
  messages: DebugMsg[];
  nodeLabel: (id: string) => string;
  nodeTab: (id: string) => string | undefined;
  tab: string;
  onClear: () => void;
  onSelect: (id: string) => void;
  onCopied: (what: string) => void;
}) {
  const [filter, setFilter] = useState("");
  const src = (m: DebugMsg) => m._alias || m.id;
  const ids = [...new Set(messages.map(src))];
  const shown = filter === "@tab" ? messages.filter((m) => (m.z ?? nodeTab(src(m))) === tab || nodeTab(src(m)) === tab) : filter ? messages.filter((m) => src(m) === filter) : messages;
  return (
    <div className="debug">
      <div className="debug-bar">
        <select value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="filter debug messages">
          <option value="">all nodes</option>
          <option value="@tab">current flow</option>
          {ids.map((id) => (
            <option key={id} value={id}>
              {nodeLabel(id)}
            </option>
          ))}
        </select>
        <button onClick={onClear} title="clear messages">
          clear
        </button>
      </div>
      <div className="debug-list">
        {shown.map((m) => (
          <div className={"debug-msg" + (m.level === 20 ? " error" : m.level === 30 ? " warn" : "")} key={m.seq} data-node={m.id}>
            <div className="debug-meta">
              <span>{m.time}</span>
              <a onClick={() => onSelect(m._alias || m.id)} className="debug-node">
                node: {nodeLabel(m._alias || m.id)}
              </a>
            </div>
            <div className="debug-meta">
              {m.topic !== undefined && <span>topic: {String(m.topic)} · </span>}
              <span>
                {m.property ? "msg." + m.property : "msg"} : {m.format}
              </span>
            </div>
            <div className="debug-value">
              <Tree value={m.format === "undefined" ? undefined : m.msg} path={m.property ?? ""} onCopied={onCopied} />
            </div>
          </div>
        ))}
      </div>
    </div>
  );
}
