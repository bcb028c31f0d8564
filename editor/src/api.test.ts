import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

// A stand-in for the browser's WebSocket, driven by the test.
class FakeSocket {
  static OPEN = 1;
  static last: FakeSocket;
  readyState = 0;
  sent: any[] = [];
  onopen?: () => void;
  onmessage?: (e: { data: string }) => void;
  onclose?: (e: { code: number }) => void;
  constructor(public url: URL) {
    FakeSocket.last = this;
  }
  send(s: string) {
    this.sent.push(JSON.parse(s));
  }
  close() {
    this.readyState = 3;
    this.onclose?.({ code: 1000 });
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  receive(v: any) {
    this.onmessage?.({ data: JSON.stringify(v) });
  }
}

const store = new Map<string, string>();
beforeEach(() => {
  vi.useFakeTimers();
  store.clear();
  vi.stubGlobal("WebSocket", FakeSocket);
  vi.stubGlobal("location", { href: "http://127.0.0.1:1880/admin/" });
  vi.stubGlobal("localStorage", { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => store.set(k, v), removeItem: (k: string) => store.delete(k) });
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

const api = await import("./api");

describe("comms websocket", () => {
  it("authenticates first, probes for websocket deploys, then deploys over it", async () => {
    api.setToken("tok");
    const c = new api.Comms(() => {}, () => {}, () => {});
    const ws = FakeSocket.last;
    expect(String(ws.url)).toBe("ws://127.0.0.1:1880/admin/comms");
    ws.open();
    expect(ws.sent[0]).toEqual({ auth: "tok" });
    expect(ws.sent[1].topic).toBe("deploy");
    expect(c.canDeploy).toBe(false);
    ws.receive({ auth: "ok" });
    ws.receive([{ topic: "deploy-result", data: { req: ws.sent[1].data.req, ok: false, code: "bad_request" } }]);
    expect(c.canDeploy).toBe(true);

    const p = api.deploy(c, [{ id: "a", type: "debug" }], "r1", "nodes", false);
    const msg = ws.sent[2];
    expect(msg).toMatchObject({ topic: "deploy", data: { type: "nodes", rev: "r1", force: false, flows: [{ id: "a", type: "debug" }] } });
    ws.receive([{ topic: "deploy-result", data: { req: msg.data.req, ok: true, rev: "r2" } }]);
    await expect(p).resolves.toBe("r2");
    expect(api.lastTransport).toBe("websocket");
    c.close();
  });

  it("turns version_mismatch and invalid_flows answers into deploy errors", async () => {
    const c = new api.Comms(() => {}, () => {}, () => {});
    const ws = FakeSocket.last;
    ws.open();
    ws.receive([{ topic: "deploy-result", data: { req: ws.sent[0].data.req, ok: false, code: "bad_request" } }]);
    const p1 = c.deploy([], "old", "full", false);
    ws.receive([{ topic: "deploy-result", data: { req: ws.sent[1].data.req, ok: false, code: "version_mismatch", message: "changed", rev: "new", errors: [] } }]);
    await expect(p1).rejects.toMatchObject({ status: 409, code: "version_mismatch", rev: "new" });
    const p2 = c.deploy([], "new", "full", false);
    ws.receive([
      {
        topic: "deploy-result",
        data: { req: ws.sent[2].data.req, ok: false, code: "invalid_flows", message: "1 problem", errors: [{ node: "n1", type: "inject", property: "repeat", message: "must be a number" }] },
      },
    ]);
    await expect(p2).rejects.toMatchObject({ code: "invalid_flows", problems: [{ id: "n1", property: "repeat", message: "must be a number", severity: "error" }] });
    c.close();
  });

  it("fails a deploy in flight when the socket drops and passes other topics on", async () => {
    const got: any[] = [];
    const c = new api.Comms((m) => got.push(...m), () => {}, () => {});
    const ws = FakeSocket.last;
    ws.open();
    ws.receive([{ topic: "deploy-result", data: { req: ws.sent[0].data.req, ok: false } }, { topic: "status/n1", data: { text: "ok" } }]);
    expect(got).toEqual([{ topic: "status/n1", data: { text: "ok" } }]);
    const p = c.deploy([], "r", "full", true);
    ws.onclose?.({ code: 1006 });
    await expect(p).rejects.toMatchObject({ code: "disconnected" });
    expect(c.canDeploy).toBe(false);
    c.close();
  });

  it("asks for a login only when the token it sent is refused", () => {
    const fails: number[] = [];
    const c1 = new api.Comms(() => {}, () => {}, () => fails.push(1));
    FakeSocket.last.open();
    FakeSocket.last.receive({ auth: "fail" });
    expect(fails).toEqual([]); // no token was sent: the REST calls ask
    c1.close();
    api.setToken("stale");
    const c2 = new api.Comms(() => {}, () => {}, () => fails.push(2));
    FakeSocket.last.open();
    FakeSocket.last.onclose?.({ code: 1008 });
    expect(fails).toEqual([2]);
    c2.close();
  });

  it("waits for a token before connecting when the server needs one", () => {
    const c = new api.Comms(() => {}, () => {}, () => {});
    const first = FakeSocket.last;
    c.authRequired = true;
    first.close(); // reconnects after a second, but only with a token
    vi.advanceTimersByTime(3000);
    expect(FakeSocket.last).toBe(first);
    api.setToken("t");
    vi.advanceTimersByTime(1000);
    expect(FakeSocket.last).not.toBe(first);
    c.close();
  });
});
