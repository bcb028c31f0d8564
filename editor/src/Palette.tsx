// The palette: node types by category, then the flow's subflows; items are
// dragged onto the canvas.
import { useState } from "react";
import * as M from "./model";
import type { FlowNode, NodeSpec } from "./model";

function Item({ type, label, color, title, onDoubleClick }: { type: string; label: string; color: string; title?: string; onDoubleClick?: () => void }) {
  return (
    <div
      className="palette-node"
      draggable
      data-type={type}
      style={{ background: color }}
      onDragStart={(e) => {
        e.dataTransfer.setData("application/x-sluice-node", type);
        e.dataTransfer.effectAllowed = "move";
      }}
      onDoubleClick={onDoubleClick}
      title={title}
    >
      {label}
    </div>
  );
}

export function Palette({ specs, subflows, onOpenSubflow }: { specs: NodeSpec[]; subflows: FlowNode[]; onOpenSubflow: (id: string) => void }) {
  const [filter, setFilter] = useState("");
  const f = filter.trim().toLowerCase();
  const cats = M.categories(specs, filter);
  const sfs = subflows.filter((s) => !f || String(s.name ?? s.id).toLowerCase().includes(f) || "subflows".includes(f));
  return (
    <aside className="palette">
      <input placeholder="filter nodes" value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="filter nodes" />
      {cats.map(([cat, list]) => (
        <div key={cat} className="category">
          <div className="category-name">{cat}</div>
          {list.map((s) => (
            <Item key={s.type} type={s.type} label={s.type} color={s.color ?? "#ddd"} title={s.help} />
          ))}
        </div>
      ))}
      {sfs.length > 0 && (
        <div className="category">
          <div className="category-name">subflows</div>
          {sfs.map((s) => (
            <Item
              key={s.id}
              type={"subflow:" + s.id}
              label={s.name ?? s.id}
              color={s.color ?? "#ddaa99"}
              title="drag to add an instance; double-click to edit the template"
              onDoubleClick={() => onOpenSubflow(s.id)}
            />
          ))}
        </div>
      )}
    </aside>
  );
}
