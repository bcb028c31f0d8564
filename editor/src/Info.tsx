// The info sidebar: the selected node's properties and its type's help
// (markdown), or the current flow's description; deploy problems below.
import type * as api from "./api";
import { renderMarkdown } from "./help";
import * as M from "./model";
import type { FlowNode, Specs } from "./model";

const shortcuts = [
  ["Ctrl+F", "search nodes on every flow"],
  ["Ctrl+D", "deploy"],
  ["Ctrl+A", "select all on this flow"],
  ["Ctrl+C / X / V", "copy, cut, paste"],
  ["Ctrl+Z / Y", "undo, redo"],
  ["Delete", "delete the selection"],
  ["Ctrl+Shift+G / U", "group, ungroup"],
  ["Ctrl+I / E", "import, export"],
  ["Ctrl+click", "add a node to the selection"],
  ["drag on the empty canvas", "select an area"],
  ["right or middle drag", "pan"],
];

const hidden = new Set(["id", "type", "z", "x", "y", "wires", "g", "w", "h"]);

function show(v: any): string {
  if (typeof v === "string") return v;
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 120 ? s.slice(0, 120) + "…" : s;
}

export function InfoSidebar({
  node,
  tab,
  specs,
  stats,
  problems,
  problemOf,
  onSelect,
  onToggleDisabled,
}: {
  node?: FlowNode;
  tab?: FlowNode;
  specs: Specs;
  stats?: [number, number, number, number];
  problems: api.Problem[];
  problemOf: Map<string, string>;
  onSelect: (id: string) => void;
  onToggleDisabled: (n: FlowNode) => void;
}) {
  const spec = node ? specs[node.type] : undefined;
  return (
    <div className="info">
      {node ? (
        <>
          <h3>{M.label(node, spec)}</h3>
          {problemOf.get(node.id) && <p className="error problem">{problemOf.get(node.id)}</p>}
          <table className="props">
            <tbody>
              <tr>
                <th>type</th>
                <td>{node.type}</td>
              </tr>
              <tr>
                <th>id</th>
                <td>{node.id}</td>
              </tr>
              {Object.entries(node)
                .filter(([k]) => !hidden.has(k))
                .map(([k, v]) => (
                  <tr key={k}>
                    <th>{k}</th>
                    <td>{show(v)}</td>
                  </tr>
                ))}
            </tbody>
          </table>
          {typeof node.x === "number" && node.type !== "group" && (
            <p>
              <button onClick={() => onToggleDisabled(node)}>{node.d ? "Enable node" : "Disable node"}</button>
            </p>
          )}
          {stats && (
            <p>
              in {stats[0]} · out {stats[1]} · errors {stats[2]} · queued {stats[3]}
            </p>
          )}
          {spec?.help ? <div className="help markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(spec.help) }} /> : <p className="muted">No help for this node type.</p>}
        </>
      ) : tab ? (
        <>
          <h3>{tab.type === "subflow" ? "Subflow: " + (tab.name ?? tab.id) : tab.label ?? tab.id}</h3>
          {tab.disabled && <p className="warning">This flow is disabled.</p>}
          {tab.info ? <div className="help markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(tab.info) }} /> : <p className="muted">Select a node to see its properties and help.</p>}
        </>
      ) : null}
      {!node && (
        <details className="shortcuts">
          <summary>Keyboard shortcuts</summary>
          <table className="props">
            <tbody>
              {shortcuts.map(([k, v]) => (
                <tr key={k}>
                  <th>{k}</th>
                  <td>{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
      {problems.length > 0 && (
        <div className="problems">
          <h4>Deploy problems</h4>
          {problems.map((p, i) => (
            <div key={i} className={p.severity}>
              {p.id && <a onClick={() => onSelect(p.id!)}>{p.id}</a>} {p.property} {p.message}
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
