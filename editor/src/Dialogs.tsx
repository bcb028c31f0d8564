// The editor's smaller dialogs: login, deploy conflict, import, export and
// search.
import { useEffect, useMemo, useRef, useState } from "react";
import * as api from "./api";
import { copyText, downloadText } from "./clipboard";
import * as M from "./model";
import type { FlowNode, Specs } from "./model";
import { searchNodes, type Hit } from "./search";

function Backdrop({ children, onClose }: { children: React.ReactNode; onClose?: () => void }) {
  return (
    <div className="dialog-backdrop" onMouseDown={(e) => onClose && e.target === e.currentTarget && onClose()}>
      {children}
    </div>
  );
}

export function LoginDialog({ prompts, onDone }: { prompts: api.LoginPrompt[]; onDone: () => void }) {
  const [values, setValues] = useState<Record<string, string>>({});
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);
  const list = prompts.length ? prompts : [{ id: "username", type: "text", label: "Username" }, { id: "password", type: "password", label: "Password" }];
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErr("");
    try {
      await api.login(values.username ?? "", values.password ?? "");
      onDone();
    } catch (x: any) {
      setErr(x.message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Backdrop>
      <form className="dialog login" role="dialog" aria-label="login" onSubmit={submit}>
        <header>Log in to Sluice</header>
        <div className="dialog-body">
          {list.map((p, i) => (
            <label className="field" key={p.id}>
              <span className="field-name">{p.label}</span>
              <input
                name={p.id}
                type={p.type === "password" ? "password" : "text"}
                autoFocus={i === 0}
                autoComplete={p.type === "password" ? "current-password" : "username"}
                value={values[p.id] ?? ""}
                onChange={(e) => setValues((v) => ({ ...v, [p.id]: e.target.value }))}
              />
            </label>
          ))}
          {err && <div className="error">{err}</div>}
        </div>
        <footer>
          <span className="spacer" />
          <button className="primary" type="submit" disabled={busy}>
            Log in
          </button>
        </footer>
      </form>
    </Backdrop>
  );
}

export function ConflictDialog({ onMerge, onOverwrite, onCancel }: { onMerge: () => void; onOverwrite: () => void; onCancel: () => void }) {
  return (
    <Backdrop onClose={onCancel}>
      <div className="dialog" role="dialog" aria-label="deploy conflict">
        <header>The flows changed on the server</header>
        <div className="dialog-body">
          <p>Someone deployed since you loaded the flows.</p>
          <p>
            <b>Merge</b> fetches the server's flows and puts the nodes you added, changed or deleted on top of them, then deploys. <b>Overwrite</b> replaces the
            server's flows with yours.
          </p>
        </div>
        <footer>
          <button onClick={onCancel}>Cancel</button>
          <span className="spacer" />
          <button onClick={onOverwrite}>Overwrite</button>
          <button className="primary" onClick={onMerge}>
            Merge
          </button>
        </footer>
      </div>
    </Backdrop>
  );
}

export function ImportDialog({ onImport, onCancel }: { onImport: (n: FlowNode[]) => void; onCancel: () => void }) {
  const [text, setText] = useState("");
  const [err, setErr] = useState("");
  return (
    <Backdrop onClose={onCancel}>
      <div className="dialog" role="dialog" aria-label="import">
        <header>Import Node-RED flow JSON</header>
        <textarea className="json" value={text} onChange={(e) => setText(e.target.value)} placeholder="paste flow JSON here" />
        <input
          type="file"
          accept=".json,application/json"
          onChange={async (e) => {
            const f = e.target.files?.[0];
            if (f) setText(await f.text());
          }}
        />
        {err && <div className="error">{err}</div>}
        <footer>
          <span className="spacer" />
          <button onClick={onCancel}>Cancel</button>
          <button
            className="primary"
            onClick={() => {
              try {
                onImport(M.parseImport(text));
              } catch (e: any) {
                setErr(e.message);
              }
            }}
          >
            Import
          </button>
        </footer>
      </div>
    </Backdrop>
  );
}

export function ExportDialog({ doc, selection, tab, onClose }: { doc: FlowNode[]; selection: Set<string>; tab: string; onClose: () => void }) {
  const [what, setWhat] = useState<"selection" | "flow" | "all">(selection.size ? "selection" : "flow");
  const [note, setNote] = useState("");
  const text = useMemo(() => {
    let ids: Set<string>;
    if (what === "all") ids = new Set(doc.map((n) => n.id));
    else if (what === "flow") ids = new Set(doc.filter((n) => n.z === tab || n.id === tab).map((n) => n.id));
    else ids = selection;
    return JSON.stringify(M.exportNodes(doc, ids), null, 2);
  }, [what, doc, selection, tab]);
  return (
    <Backdrop onClose={onClose}>
      <div className="dialog" role="dialog" aria-label="export">
        <header>
          Export
          {(["selection", "flow", "all"] as const).map((w) => (
            <label key={w} className="radio">
              <input type="radio" name="export-what" checked={what === w} disabled={w === "selection" && !selection.size} onChange={() => setWhat(w)} />
              {w === "flow" ? "current flow" : w === "all" ? "all flows" : "selected nodes"}
            </label>
          ))}
        </header>
        <textarea className="json" readOnly value={text} />
        <footer>
          <span className="muted">{note}</span>
          <span className="spacer" />
          <button onClick={() => copyText(text).then(() => setNote("copied to the clipboard"))}>Copy to clipboard</button>
          <button onClick={() => downloadText("flows.json", text)}>Download</button>
          <button onClick={onClose}>Close</button>
        </footer>
      </div>
    </Backdrop>
  );
}

export function SearchDialog({ doc, specs, tabLabel, onPick, onClose }: { doc: FlowNode[]; specs: Specs; tabLabel: (id?: string) => string; onPick: (h: Hit) => void; onClose: () => void }) {
  const [q, setQ] = useState("");
  const [cur, setCur] = useState(0);
  const hits = useMemo(() => searchNodes(doc, specs, q), [doc, specs, q]);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  useEffect(() => setCur(0), [q]);
  return (
    <Backdrop onClose={onClose}>
      <div className="dialog search" role="dialog" aria-label="search">
        <input
          ref={input}
          className="search-input"
          placeholder="search nodes by name, type, id or property"
          aria-label="search nodes"
          value={q}
          onChange={(e) => setQ(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Escape") onClose();
            else if (e.key === "ArrowDown") (e.preventDefault(), setCur((c) => Math.min(c + 1, hits.length - 1)));
            else if (e.key === "ArrowUp") (e.preventDefault(), setCur((c) => Math.max(c - 1, 0)));
            else if (e.key === "Enter" && hits[cur]) onPick(hits[cur]);
          }}
        />
        <div className="search-results">
          {q.trim() && !hits.length && <div className="muted search-empty">no node matches</div>}
          {hits.map((h, i) => (
            <div key={h.id} className={"search-hit" + (i === cur ? " current" : "")} onMouseEnter={() => setCur(i)} onClick={() => onPick(h)} data-id={h.id}>
              <span className="search-label">{h.label}</span>
              <span className="muted">
                {h.type} · {tabLabel(h.z)} {h.where !== "label" && h.where !== "type" ? "· " + h.where : ""}
              </span>
            </div>
          ))}
        </div>
      </div>
    </Backdrop>
  );
}
