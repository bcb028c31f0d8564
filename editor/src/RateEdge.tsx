// A wire with its live message rate: a badge and a thicker stroke while
// messages pass.
import { BaseEdge, EdgeLabelRenderer, getBezierPath, type EdgeProps } from "@xyflow/react";

export function RateEdge(p: EdgeProps) {
  const [path, lx, ly] = getBezierPath(p);
  const rate = (p.data as any)?.rate ?? 0;
  const link = (p.data as any)?.link;
  const width = rate > 0 ? Math.min(6, 2 + Math.log10(1 + rate)) : 2;
  return (
    <>
      <BaseEdge
        id={p.id}
        path={path}
        style={{ strokeWidth: width, strokeDasharray: link ? "6 4" : undefined, ...(p.style || {}) }}
        className={p.selected ? "selected" : ""}
      />
      {rate > 0 && (
        <EdgeLabelRenderer>
          <div className="rate-badge" style={{ transform: `translate(-50%, -50%) translate(${lx}px,${ly}px)` }}>
            {rate >= 10 ? Math.round(rate) : rate.toFixed(1)}/s
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
}
