// The runtime's admin API and the /comms websocket. Every request carries
// the access token once the user has logged in; a 401 asks for a login.
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
  constructor(message: string, public status: number, public code: string, public problems: Problem[] = [], public rev?: string) {
    super(message);
  }
}

export class AuthError extends Error {}

const TOKEN_KEY = "sluice-auth-token";
export const getToken = () => localStorage.getItem(TOKEN_KEY) ?? "";
export const setToken = (t: string) => (t ? localStorage.setItem(TOKEN_KEY, t) : localStorage.removeItem(TOKEN_KEY));

let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(f: () => void) {
  onUnauthorized = f;
}

async function req(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const t = getToken();
  if (t) headers.set("Authorization", "Bearer " + t);
  const r = await fetch(path, { ...init, headers });
  if (r.status === 401) {
    onUnauthorized();
    throw new AuthError("log in to use the editor");
  }
  return r;
}

export interface LoginPrompt {
  id: string;
  type: string;
  label: string;
}

// authScheme is undefined when the server needs no login.
export async function authScheme(): Promise<{ type: string; prompts: LoginPrompt[] } | undefined> {
  const r = await fetch("auth/login");
  if (!r.ok) return undefined; // a runtime without auth routes
  const j = await r.json().catch(() => ({}));
  return j && j.type ? j : undefined;
}

export async function login(username: string, password: string): Promise<void> {
  const body = new URLSearchParams({ client_id: "node-red-editor", grant_type: "password", scope: "*", username, password });
  const r = await fetch("auth/token", { method: "POST", body });
  const j = await r.json().catch(() => ({}));
  if (!r.ok || !j.access_token) throw new Error(j.error_description || j.message || (r.status === 401 || r.status === 403 ? "wrong username or password" : "login failed: HTTP " + r.status));
  setToken(j.access_token);
}

export async function logout(): Promise<void> {
  const t = getToken();
  setToken("");
  if (t) await fetch("auth/revoke", { method: "POST", headers: { Authorization: "Bearer " + t, "Content-Type": "application/json" }, body: JSON.stringify({ token: t }) }).catch(() => {});
}

export async function getNodes(): Promise<NodeSpec[]> {
  const r = await req("nodes", { headers: { Accept: "application/json" } });
  if (!r.ok) throw new Error("GET /nodes: HTTP " + r.status);
  return r.json();
}

export async function getFlows(): Promise<{ rev: string; flows: FlowNode[] }> {
  const r = await req("flows", { headers: { "Node-RED-API-Version": "v2" } });
  if (!r.ok) throw new Error("GET /flows: HTTP " + r.status);
  return r.json();
}

export type DeployType = "full" | "flows" | "nodes";

// deployREST is the fallback while the websocket cannot deploy.
export async function deployREST(flows: FlowNode[], rev: string | undefined, type: DeployType = "full"): Promise<string> {
  const body = rev ? { rev, flows } : { flows };
  const r = await req("flows", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Node-RED-API-Version": "v2", "Node-RED-Deployment-Type": type },
    body: JSON.stringify(body),
  });
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new DeployError(j.message || "HTTP " + r.status, r.status, j.code || "", j.problems || []);
  return j.rev;
}

export async function inject(id: string) {
  const r = await req("inject/" + encodeURIComponent(id), { method: "POST" });
  if (!r.ok) throw new Error((await r.json().catch(() => ({}))).message || "inject failed: HTTP " + r.status);
}

export async function setDebug(id: string, on: boolean) {
  await req(`debug/${encodeURIComponent(id)}/${on ? "enable" : "disable"}`, { method: "POST" });
}

export interface CommsMessage {
  topic: string;
  data: any;
}

// deployResultProblems turns the websocket's invalid_flows errors into the
// problems the canvas marks.
export function deployResultProblems(errors: any[] | undefined): Problem[] {
  return (errors ?? []).map((e) => ({ severity: "error", code: "invalid", id: e.node, type: e.type, property: e.property, message: e.message }));
}

// Comms keeps one websocket open, reconnecting after a drop. It deploys
// over the socket once the server has shown it can (a deploy-result
// answer to a harmless probe); until then deploy goes over REST.
export class Comms {
  ws?: WebSocket;
  canDeploy = false;
  private closed = false;
  private timer: any;
  private pending = new Map<string, { resolve: (d: any) => void; reject: (e: Error) => void; timer: any }>();
  private seq = 0;
  private client = Math.random().toString(36).slice(2, 10);

  constructor(private onMessages: (m: CommsMessage[]) => void, private onState: (up: boolean) => void, private onAuthFail: () => void) {
    this.open();
  }

  // authRequired holds the socket back until there is a token to send:
  // the server would refuse it anyway.
  authRequired = false;

  private open() {
    if (this.authRequired && !getToken()) {
      this.timer = setTimeout(() => this.open(), 1000);
      return;
    }
    const url = new URL("comms", location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const ws = (this.ws = new WebSocket(url));
    // Only a refused token means "log in again": a socket opened before
    // the login is refused as expected, and the REST calls ask for it.
    const sent = getToken();
    const authFail = () => sent && sent === getToken() && this.onAuthFail();
    ws.onopen = () => {
      if (sent) ws.send(JSON.stringify({ auth: sent }));
      ws.send(JSON.stringify({ topic: "deploy", data: { req: this.client + "-probe", type: "probe" } }));
      this.onState(true);
    };
    ws.onmessage = (e) => {
      let v: any;
      try {
        v = JSON.parse(e.data);
      } catch {
        return; // a frame we cannot read is skipped
      }
      if (!Array.isArray(v)) {
        if (v && v.auth === "fail") authFail();
        return;
      }
      const rest: CommsMessage[] = [];
      for (const m of v as CommsMessage[]) {
        if (m.topic === "deploy-result" && m.data) {
          this.canDeploy = true;
          const p = this.pending.get(m.data.req);
          if (p) {
            clearTimeout(p.timer);
            this.pending.delete(m.data.req);
            p.resolve(m.data);
          }
          continue;
        }
        rest.push(m);
      }
      if (rest.length) this.onMessages(rest);
    };
    ws.onclose = (e) => {
      this.canDeploy = false;
      // A deploy in flight has no answer coming on this socket.
      for (const [req, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new DeployError(`the connection closed before the server answered deploy ${req}; reload to see whether it was applied`, 0, "disconnected"));
      }
      this.pending.clear();
      this.onState(false);
      if (e.code === 1008) authFail();
      if (!this.closed) this.timer = setTimeout(() => this.open(), 1000);
    };
  }

  // reconnect re-opens the socket, e.g. with a new token after a login.
  reconnect() {
    this.ws?.close();
  }

  send(topic: string, data: any): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify({ topic, data }));
    return true;
  }

  // deploy sends the flows over the socket and waits for the answer.
  deploy(flows: FlowNode[], rev: string | undefined, type: DeployType, force: boolean): Promise<string> {
    const req = this.client + "-" + ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(req);
        reject(new DeployError("no answer from the server to the deploy (request " + req + ")", 0, "timeout"));
      }, 60000);
      this.pending.set(req, {
        timer,
        reject,
        resolve: (d) => {
          if (d.ok) return resolve(d.rev);
          const problems = deployResultProblems(d.errors);
          reject(new DeployError(d.message || d.code || "deploy refused", d.code === "version_mismatch" ? 409 : 400, d.code || "", problems, d.rev));
        },
      });
      if (!this.send("deploy", { req, type, rev: rev ?? "", flows, force })) {
        clearTimeout(timer);
        this.pending.delete(req);
        reject(new DeployError("not connected to the runtime", 0, "disconnected"));
      }
    });
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    this.ws?.close();
  }
}

// deploy uses the websocket when the server deploys over it, REST otherwise.
export function deploy(comms: Comms | undefined, flows: FlowNode[], rev: string | undefined, type: DeployType, force: boolean): Promise<string> {
  if (comms?.canDeploy) {
    lastTransport = "websocket";
    return comms.deploy(flows, rev, type, force);
  }
  lastTransport = "rest";
  return deployREST(flows, force ? undefined : rev, type);
}

// lastTransport tells the browser test which way the last deploy went.
export let lastTransport = "";
