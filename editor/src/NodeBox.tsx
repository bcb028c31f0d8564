// One node on the canvas: coloured box, ports, status, counters, and the
// inject and debug buttons.
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { memo } from "react";
import { NODE_HEIGHT } from "./model";

export interface NodeBoxData {
  label: string;
  type: string;
  color: string;
  inputs: number;
  outputs: number;
  width: number;
  status?: { fill?: string; shape?: string; text?: string };
  counts?: [number, number, number, number];
  changed: boolean;
  invalid?: string;
  unknown: boolean;
  disabled: boolean;
  debugActive?: boolean;
  onInject?: () => void;
  onDebugToggle?: () => void;
  [k: string]: unknown;
}

const fills: Record<string, string> = { red: "#c00", green: "#5a8", yellow: "#f9df31", blue: "#53a3f3", grey: "#999", gray: "#999" };

function NodeBoxInner({ data, selected }: NodeProps & { data: NodeBoxData }) {
  const d = data;
  const outs = Array.from({ length: d.outputs }, (_, i) => i);
  const portTop = (i: number) => (d.outputs === 1 ? NODE_HEIGHT / 2 : 5 + (i * (NODE_HEIGHT - 10)) / Math.max(1, d.outputs - 1));
  const cls = ["nr-node", selected ? "selected" : "", d.unknown ? "unknown" : "", d.disabled ? "disabled" : "", d.invalid ? "invalid" : ""].join(" ");
  return (
    <div className={cls} style={{ width: d.width, height: NODE_HEIGHT, background: d.color }} title={d.invalid || d.type} data-node-type={d.type}>
      {d.onInject && (
        <button className="nr-button left nodrag" title="inject" aria-label="inject" onClick={(e) => (e.stopPropagation(), d.onInject!())}>
          ▶
        </button>
      )}
      {d.inputs > 0 && <Handle type="target" position={Position.Left} id="in" className="nr-port" />}
      <div className="nr-label">{d.label}</div>
      {d.changed && <span className="nr-changed" title="changed since the last deploy" />}
      {d.invalid && <span className="nr-invalid" title={d.invalid}>!</span>}
      {outs.map((i) => (
        <Handle key={i} type="source" position={Position.Right} id={"o" + i} className="nr-port" style={{ top: portTop(i) }} />
      ))}
      {d.onDebugToggle && (
        <button
          className={"nr-button right nodrag" + (d.debugActive ? " on" : "")}
          title={d.debugActive ? "disable debug output" : "enable debug output"}
          aria-label="toggle debug"
          onClick={(e) => (e.stopPropagation(), d.onDebugToggle!())}
        >
          {d.debugActive ? "●" : "○"}
        </button>
      )}
      {d.status && (d.status.text || d.status.fill) && (
        <div className="nr-status">
          {d.status.fill && <span className={"nr-dot " + (d.status.shape === "ring" ? "ring" : "dot")} style={{ borderColor: fills[d.status.fill] ?? d.status.fill, background: d.status.shape === "ring" ? "transparent" : fills[d.status.fill] ?? d.status.fill }} />}
          <span>{d.status.text}</span>
        </div>
      )}
      {d.counts && (d.counts[0] > 0 || d.counts[1] > 0 || d.counts[2] > 0) && (
        <div className="nr-counts" title="messages in / out / errors since deploy">
          {d.counts[0]}↓ {d.counts[1]}↑{d.counts[2] > 0 && <span className="err"> {d.counts[2]}✕</span>}
        </div>
      )}
    </div>
  );
}

export const NodeBox = memo(NodeBoxInner);

export function GroupBox({ data }: NodeProps) {
  const d = data as any;
  return (
    <div className="nr-group" style={{ width: d.w, height: d.h, borderColor: d.stroke, background: d.fill }}>
      <span>{d.label}</span>
    </div>
  );
}

export function JunctionBox() {
  return (
    <div className="nr-junction">
      <Handle type="target" position={Position.Left} id="in" className="nr-port small" />
      <Handle type="source" position={Position.Right} id="o0" className="nr-port small" />
    </div>
  );
}

// A subflow template's input or output port, drawn on the template's tab.
export function PortBox({ data, selected }: NodeProps) {
  const d = data as { kind: "in" | "out"; label: string };
  return (
    <div className={"nr-sfport" + (selected ? " selected" : "")} data-port={d.kind}>
      {d.kind === "out" && <Handle type="target" position={Position.Left} id="in" className="nr-port" />}
      <span>{d.label}</span>
      {d.kind === "in" && <Handle type="source" position={Position.Right} id="o0" className="nr-port" />}
    </div>
  );
}
