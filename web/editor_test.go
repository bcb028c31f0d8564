package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// editorSourceHash is editor/scripts/srchash.mjs in Go: the hash the build
// records in web/editor_dist/src-hash.txt.
func editorSourceHash(editor string) (string, error) {
	var files []string
	for _, root := range []string{"src", "index.html", "vite.config.ts", "package.json", "tsconfig.json"} {
		err := filepath.WalkDir(filepath.Join(editor, root), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, err := filepath.Rel(editor, path)
			files = append(files, filepath.ToSlash(rel))
			return err
		})
		if err != nil {
			return "", err
		}
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(editor, f))
		if err != nil {
			return "", err
		}
		h.Write([]byte(f + "\n"))
		h.Write(b)
		h.Write([]byte("\n"))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// The editor is committed built; a change to its sources without `make
// editor` would ship the old editor.
func TestEmbeddedEditorIsBuiltFromCurrentSources(t *testing.T) {
	want, err := editorSourceHash("../editor")
	if err != nil {
		t.Fatal(err)
	}
	got, err := fs.ReadFile(editorFS(), "src-hash.txt")
	if err != nil {
		t.Fatalf("web/editor_dist has no src-hash.txt: run make editor (%v)", err)
	}
	if strings.TrimSpace(string(got)) != want {
		t.Fatal("web/editor_dist is stale relative to editor/: run `make editor` and commit web/editor_dist")
	}
	if _, err := fs.ReadFile(editorFS(), "index.html"); err != nil {
		t.Fatal(err)
	}
}
