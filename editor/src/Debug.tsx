// The debug sidebar: live messages with an expandable JSON tree.
import { useState } from "react";

export interface DebugMsg {
  seq: number;
  time: string;
  id: string;
  z?: string;
  name?: string;
  topic?: any;
  property?: string;
  format?: string;
  msg: any;
}

function Tree({ value, name, depth = 0 }: { value: any; name?: string; depth?: number }) {
  const [open, setOpen] = useState(depth < 1);
  const isObj = value !== null && typeof value === "object";
  const key = name !== undefined ? <span className="tree-key">{name}: </span> : null;
  if (!isObj) {
    const cls = "tree-val " + (typeof value === "string" ? "str" : typeof value);
    return (
      <div className="tree-leaf">
        {key}
        <span className={cls}>{typeof value === "string" ? JSON.stringify(value) : String(value)}</span>
      </div>
    );
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  const summary = Array.isArray(value) ? `array[${value.length}]` : `{${Object.keys(value).slice(0, 4).join(", ")}${Object.keys(value).length > 4 ? ", …" : ""}}`;
  return (
    <div className="tree-node">
      <span className="tree-toggle" onClick={() => setOpen(!open)}>
        {open ? "▾" : "▸"} {key}
        <span className="muted">{summary}</span>
      </span>
      {open && (
        <div className="tree-children">
          {entries.map(([k, v]) => (
            <Tree key={k} name={k} value={v} depth={depth + 1} />
          ))}
        </div>
      )}
    </div>
  );
}

export function DebugSidebar({ messages, nodeLabel, onClear, onSelect }: { messages: DebugMsg[]; nodeLabel: (id: string) => string; onClear: () => void; onSelect: (id: string) => void }) {
  const [filter, setFilter] = useState("");
  const ids = [...new Set(messages.map((m) => m.id))];
  const shown = filter ? messages.filter((m) => m.id === filter) : messages;
  return (
    <div className="debug">
      <div className="debug-bar">
        <select value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="filter by node">
          <option value="">all nodes</option>
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
          <div className="debug-msg" key={m.seq} data-node={m.id}>
            <div className="debug-meta">
              <span>{m.time}</span>
              <a onClick={() => onSelect(m.id)} className="debug-node">
                node: {nodeLabel(m.id)}
              </a>
            </div>
            <div className="debug-meta">
              {m.topic !== undefined && <span>topic: {String(m.topic)} · </span>}
              <span>
                {m.property ? "msg." + m.property : "msg"} : {m.format}
              </span>
            </div>
            <div className="debug-value">
              <Tree value={m.format === "undefined" ? undefined : m.msg} />
            </div>
          </div>
        ))}
      </div>
    </div>
  );
}
