package storage

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func quote(s string) string { return string(msg.Marshal(s)) }

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFileAppendOverwriteDelete(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.txt")
	c := newCtx()
	app := build(t, "file", `{"filename":`+quote(p)+`,"filenameType":"str","appendNewline":true,"overwriteFile":"false"}`)
	feed(t, app, c, message(`{"payload":"one"}`))
	feed(t, app, c, message(`{"payload":{"a":[1,true]}}`))
	feed(t, app, c, message(`{"payload":2.5}`))
	// The last part of a split string gets no newline.
	feed(t, app, c, message(`{"payload":"end","parts":{"type":"string","index":1,"count":2}}`))
	buf := msg.New()
	buf.Set("payload", []byte{0, 1})
	feed(t, app, c, buf)
	if got := readFile(t, p); got != "one\n{\"a\":[1,true]}\n2.5\nend\x00\x01" {
		t.Fatalf("file holds %q", got)
	}
	out := c.Take()
	if len(out) != 5 || out[0].Value("filename") != p {
		t.Fatalf("sent %d, filename %v", len(out), out[0].Value("filename"))
	}
	// Replacing the file under an open static name: the next write goes
	// to the new file.
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	feed(t, app, c, message(`{"payload":"again"}`))
	if got := readFile(t, p); got != "again\n" {
		t.Fatalf("after delete: %q", got)
	}
	if err := app.(node.Closer).Close(context.Background(), false); err != nil {
		t.Fatal(err)
	}

	over := build(t, "file", `{"filename":`+quote(p)+`,"appendNewline":false,"overwriteFile":"true"}`)
	feed(t, over, c, message(`{"payload":"fresh"}`))
	if got := readFile(t, p); got != "fresh" {
		t.Fatalf("overwrite: %q", got)
	}
	del := build(t, "file", `{"filename":`+quote(p)+`,"overwriteFile":"delete"}`)
	feed(t, del, c, message(`{"payload":"x"}`))
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatalf("not deleted: %v", err)
	}
	feed(t, del, c, message(`{"payload":"x"}`))
	if errs := c.ErrTexts(); len(errs) != 1 || errs[0] != "failed to delete file: Error: ENOENT: no such file or directory, unlink '"+p+"'" {
		t.Fatalf("errors %q", errs)
	}
}

func TestFileDynamicNameAndCreateDir(t *testing.T) {
	dir := t.TempDir()
	c := newCtx()
	c.Settings["fileWorkingDirectory"] = dir
	n := build(t, "file", `{"filename":"","appendNewline":false,"createDir":true}`)
	m := message(`{"payload":"x","filename":"sub/deeper/f.txt"}`)
	feed(t, n, c, m)
	if got := readFile(t, filepath.Join(dir, "sub/deeper/f.txt")); got != "x" {
		t.Fatalf("got %q", got)
	}
	if out := c.Take(); len(out) != 1 || out[0].Value("filename") != "sub/deeper/f.txt" {
		t.Fatal("msg.filename must keep the name as given")
	}
	noDir := build(t, "file", `{"filename":"filename","filenameType":"msg"}`)
	feed(t, noDir, c, message(`{"payload":"x","filename":"missing/f.txt"}`))
	errs := c.ErrTexts()
	want := "failed to append to file: Error: ENOENT: no such file or directory, open '" + filepath.Join(dir, "missing/f.txt") + "'"
	if len(errs) != 1 || errs[0] != want {
		t.Fatalf("errors %q", errs)
	}
	// Node-RED sends the message on even when appending failed.
	if len(c.Take()) != 1 {
		t.Fatal("append failure should still send")
	}
	feed(t, noDir, c, message(`{"payload":"x"}`))
	if len(c.Warns()) != 1 || c.Warns()[0] != errNoFilename {
		t.Fatalf("warnings %v", c.Warns())
	}
}

func TestFileEncodings(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "e.txt")
	c := newCtx()
	cases := []struct {
		enc  string
		want []byte
	}{
		{"utf8", []byte("é")},
		{"latin1", []byte{0xE9}},
		{"utf-16le", []byte{0xE9, 0x00}},
		{"utf-16be", []byte{0x00, 0xE9}},
		{"Shift_JIS", []byte{0x82, 0xA0}},
		{"cp1252", []byte{0x80}},
		{"hex", []byte{0xAB}},
		{"base64", []byte("hi")},
	}
	in := map[string]string{"Shift_JIS": "あ", "cp1252": "€", "hex": "ab", "base64": "aGk="}
	for _, tc := range cases {
		text := in[tc.enc]
		if text == "" {
			text = "é"
		}
		n := build(t, "file", `{"filename":`+quote(p)+`,"appendNewline":false,"overwriteFile":"true","encoding":"setbymsg"}`)
		m := msg.New()
		m.Set("payload", text)
		m.Set("encoding", tc.enc)
		feed(t, n, c, m)
		if got := []byte(readFile(t, p)); !bytes.Equal(got, tc.want) {
			t.Errorf("%s: wrote % x, want % x", tc.enc, got, tc.want)
		}
		r := build(t, "file in", `{"filename":`+quote(p)+`,"format":"utf8","encoding":`+quote(tc.enc)+`}`)
		feed(t, r, c, message(`{}`))
		if out := c.Take(); out[len(out)-1].Value("payload") != text {
			t.Errorf("%s: read back %q", tc.enc, out[len(out)-1].Value("payload"))
		}
	}
	spec, _ := node.Lookup("file")
	v, _ := msg.UnmarshalString(`{"filename":"x","encoding":"klingon"}`)
	if _, err := spec.New(&node.Config{Raw: v.(*msg.Object)}); err == nil || !strings.Contains(err.Error(), "Encoding not recognized") {
		t.Fatalf("unknown encoding: %v", err)
	}
}

func TestFileInFormats(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(p, []byte("\xef\xbb\xbfa\r\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := newCtx()
	read := func(cfg string, in string) []string {
		t.Helper()
		n := build(t, "file in", `{"filename":`+quote(p)+`,`+cfg+`}`)
		feed(t, n, c, message(in))
		var out []string
		for _, m := range c.Take() {
			out = append(out, jsonOf(m))
		}
		return out
	}
	got := read(`"format":"utf8"`, `{"_msgid":"m"}`)
	if got[0] != `{"_msgid":"m","filename":`+quote(p)+`,"payload":"`+"\ufeff"+`a\r\nb\n"}` {
		t.Fatalf("utf8: %v", got)
	}
	// iconv's utf8 drops the byte order mark.
	if got = read(`"format":"utf8","encoding":"utf8"`, `{}`); !strings.Contains(got[0], `"payload":"a\r\nb\n"`) {
		t.Fatalf("utf8 decoded: %v", got)
	}
	if got = read(`"format":""`, `{}`); !strings.Contains(got[0], `"payload":{"type":"Buffer","data":[239,187,191,97,13,10,98,10]}`) {
		t.Fatalf("buffer: %v", got)
	}
	got = read(`"format":"lines"`, `{"_msgid":"m","topic":"t","other":1}`)
	want := []string{
		`{"topic":"t","filename":` + quote(p) + `,"payload":"` + "\ufeff" + `a\r","parts":{"index":0,"ch":"\n","type":"string","id":"m"}}`,
		`{"topic":"t","filename":` + quote(p) + `,"payload":"b","parts":{"index":1,"ch":"\n","type":"string","id":"m"}}`,
		`{"topic":"t","filename":` + quote(p) + `,"payload":"","parts":{"index":2,"count":3,"ch":"\n","type":"string","id":"m"}}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("lines:\n%s", strings.Join(got, "\n"))
	}
	got = read(`"format":"lines","allProps":true`, `{"_msgid":"m","other":1}`)
	if !strings.HasPrefix(got[0], `{"_msgid":"m","other":1,"filename":`) {
		t.Fatalf("allProps: %v", got[0])
	}
}

func TestFileInStreamChunks(t *testing.T) {
	dir := t.TempDir()
	c := newCtx()
	for _, size := range []int{chunkSize + 10, 2 * chunkSize} {
		p := filepath.Join(dir, "big.bin")
		if err := os.WriteFile(p, bytes.Repeat([]byte{7}, size), 0o644); err != nil {
			t.Fatal(err)
		}
		n := build(t, "file in", `{"filename":`+quote(p)+`,"format":"stream"}`)
		feed(t, n, c, message(`{"_msgid":"m"}`))
		out := c.Take()
		total := 0
		for _, m := range out {
			if b, ok := m.Value("payload").([]byte); ok {
				total += len(b)
			}
		}
		if total != size {
			t.Fatalf("%d: read %d bytes", size, total)
		}
		last := out[len(out)-1].Value("parts").(*msg.Object)
		if size%chunkSize == 0 {
			// A file filling its last chunk ends with an empty part.
			if len(out) != 3 || out[2].Has("payload") || last.Value("count") != 2.0 {
				t.Fatalf("exact chunks: %d messages, last %s", len(out), msg.Marshal(last))
			}
		} else if len(out) != 2 || last.Value("count") != 2.0 {
			t.Fatalf("%d messages, last parts %s", len(out), msg.Marshal(last))
		}
	}
}

func TestFileInErrors(t *testing.T) {
	dir := t.TempDir()
	c := newCtx()
	missing := filepath.Join(dir, "nope.txt")
	n := build(t, "file in", `{"filename":`+quote(missing)+`,"sendError":true}`)
	feed(t, n, c, message(`{"payload":"x","topic":"t"}`))
	err := c.Errs()[0].Err
	if err.Error() != "Error: ENOENT: no such file or directory, open '"+missing+"'" {
		t.Fatalf("error %v", err)
	}
	if e, ok := err.(interface{ Code() string }); !ok || e.Code() != "ENOENT" {
		t.Fatal("the error carries Node's code")
	}
	out := c.Take()
	if len(out) != 1 || jsonOf(out[0]) != `{"topic":"t","filename":`+quote(missing)+`,"error":{"errno":-2,"code":"ENOENT","syscall":"open","path":`+quote(missing)+`}}` {
		t.Fatalf("legacy error message: %v", out)
	}
	n2 := build(t, "file in", `{"filename":`+quote(dir)+`,"sendError":false}`)
	feed(t, n2, c, message(`{}`))
	if errs := c.ErrTexts(); errs[len(errs)-1] != "Error: EISDIR: illegal operation on a directory, read" {
		t.Fatalf("directory: %v", errs)
	}
	if len(c.Take()) != 0 {
		t.Fatal("no message goes on without sendError")
	}
}
