package web

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// editorFiles is the built editor (make editor). It is committed so that
// `go install` and `go run` serve the editor without Node.
//
//go:embed all:editor_dist
var editorFiles embed.FS

// editorAssets is the folder of hashed bundles inside editor_dist; its
// unusual name keeps it clear of the routes of http in nodes.
const editorAssets = "editor-assets"

func editorFS() fs.FS {
	sub, err := fs.Sub(editorFiles, "editor_dist")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}

// mountEditor serves the editor page at root/ and its bundles below
// root/editor-assets/.
func (s *Server) mountEditor(mux *http.ServeMux, root string) {
	files := editorFS()
	index, err := fs.ReadFile(files, "index.html")
	if err != nil {
		index = []byte("<!doctype html><title>Sluice</title><p>The editor is not built: run <code>make editor</code>.")
	}
	mux.HandleFunc("GET "+root+"/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(index)
	})
	assets := http.StripPrefix(root+"/", http.FileServer(http.FS(files)))
	mux.Handle("GET "+root+"/"+editorAssets+"/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		// Bundle names carry a content hash: cache them for good.
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		assets.ServeHTTP(w, r)
	}))
}
