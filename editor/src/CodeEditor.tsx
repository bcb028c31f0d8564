// CodeMirror 6 for function bodies and templates.
import { useEffect, useRef } from "react";
import { EditorView, basicSetup } from "codemirror";
import { javascript } from "@codemirror/lang-javascript";

export function CodeEditor({ value, onChange, lang = "js" }: { value: string; onChange: (v: string) => void; lang?: string }) {
  const host = useRef<HTMLDivElement>(null);
  const cb = useRef(onChange);
  cb.current = onChange;
  useEffect(() => {
    const view = new EditorView({
      doc: value,
      extensions: [
        basicSetup,
        ...(lang === "js" ? [javascript()] : []),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) cb.current(u.state.doc.toString());
        }),
      ],
      parent: host.current!,
    });
    return () => view.destroy();
    // The editor owns its text once created.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return <div className="code-editor" ref={host} />;
}
