// The hash of the editor's sources; web/editor_test.go computes the same.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const roots = ["src", "index.html", "vite.config.ts", "package.json", "tsconfig.json"];

function walk(path, out) {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path)) walk(join(path, name), out);
  } else {
    out.push(path);
  }
}

export function sourceHash(editor) {
  const files = [];
  for (const r of roots) walk(join(editor, r), files);
  const rel = files.map((f) => relative(editor, f).split("\\").join("/")).sort();
  const h = createHash("sha256");
  for (const f of rel) {
    h.update(f + "\n");
    h.update(readFileSync(join(editor, f)));
    h.update("\n");
  }
  return h.digest("hex");
}
