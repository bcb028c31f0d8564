// The runtime's admin API and the /comms websocket.
import type { FlowNode, NodeSpec } from "./model";

export interface Problem {
  severity: string;
  code: string;
  id?: string;
  type?: string;
  property?: string;
  message: string;
}

export class DeployError extends Error {
  constructor(message: string, public status: number, public code: string, public problems: Problem[] = []) {
    super(message);
  }
}

export async function getNodes(): Promise<NodeSpec[]> {
  const r = await fetch("nodes", { headers: { Accept: "application/json" } });
  if (!r.ok) throw new Error("GET /nodes: HTTP " + r.status);
  return r.json();
}

export async function getFlows(): Promise<{ rev: string; flows: FlowNode[] }> {
  const r = await fetch("flows", { headers: { "Node-RED-API-Version": "v2" } });
  if (!r.ok) throw new Error("GET /flows: HTTP " + r.status);
  return r.json();
}

export async function deploy(flows: FlowNode[], rev: string | undefined, type = "full"): Promise<string> {
  const body = rev ? { rev, flows } : { flows };
  const r = await fetch("flows", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Node-RED-API-Version": "v2", "Node-RED-Deployment-Type": type },
    body: JSON.stringify(body),
  });
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new DeployError(j.message || "HTTP " + r.status, r.status, j.code || "", j.problems || []);
  return j.rev;
}

export async function inject(id: string) {
  const r = await fetch("inject/" + encodeURIComponent(id), { method: "POST" });
  if (!r.ok) throw new Error((await r.json().catch(() => ({}))).message || "inject failed: HTTP " + r.status);
}

export async function setDebug(id: string, on: boolean) {
  await fetch(`debug/${encodeURIComponent(id)}/${on ? "enable" : "disable"}`, { method: "POST" });
}

export interface CommsMessage {
  topic: string;
  data: any;
}

// connectComms keeps one websocket open, reconnecting after a drop.
export function connectComms(onMessages: (m: CommsMessage[]) => void, onState: (up: boolean) => void): () => void {
  let ws: WebSocket | undefined;
  let closed = false;
  let timer: any;
  const open = () => {
    const url = new URL("comms", location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(url);
    ws.onopen = () => onState(true);
    ws.onmessage = (e) => {
      try {
        onMessages(JSON.parse(e.data));
      } catch {
        /* a frame we cannot read is skipped */
      }
    };
    ws.onclose = () => {
      onState(false);
      if (!closed) timer = setTimeout(open, 1000);
    };
  };
  open();
  return () => {
    closed = true;
    clearTimeout(timer);
    ws?.close();
  };
}
