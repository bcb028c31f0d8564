// Builds the editor into web/editor_dist and records a hash of its sources
// there, so a Go test can tell when the committed build is stale.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { sourceHash } from "./srchash.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const editor = join(here, "..");
const vite = join(dirname(createRequire(import.meta.url).resolve("vite/package.json")), "bin/vite.js");
execFileSync(process.execPath, [vite, "build"], { cwd: editor, stdio: "inherit" });
writeFileSync(join(editor, "../web/editor_dist/src-hash.txt"), sourceHash(editor) + "\n");
