import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The build lands in web/editor_dist, embedded into the Go binary. Paths are
// relative so the editor works under any httpAdminRoot.
export default defineConfig({
  base: "./",
  plugins: [react()],
  build: {
    outDir: "../web/editor_dist",
    emptyOutDir: true,
    assetsDir: "editor-assets",
    chunkSizeWarningLimit: 2000,
  },
  server: {
    proxy: {
      "/flows": "http://127.0.0.1:1880",
      "/nodes": "http://127.0.0.1:1880",
      "/inject": "http://127.0.0.1:1880",
      "/debug": "http://127.0.0.1:1880",
      "/comms": { target: "ws://127.0.0.1:1880", ws: true },
    },
  },
  test: { include: ["src/**/*.test.ts"] },
} as any);
