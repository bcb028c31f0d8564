package storage

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// waitFor collects sent messages until cond holds or time runs out.
func waitFor(t *testing.T, c *fakeCtx, cond func([]*msg.Msg) bool) []*msg.Msg {
	t.Helper()
	deadline := time.After(5 * time.Second)
	var got []*msg.Msg
	for {
		got = append(got, c.Take()...)
		if cond(got) {
			return got
		}
		select {
		case <-c.Notify():
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			var s []string
			for _, m := range got {
				s = append(s, jsonOf(m))
			}
			t.Fatalf("timed out; got:\n%s", strings.Join(s, "\n"))
		}
	}
}

func startWatch(t *testing.T, cfg string) (node.Node, *fakeCtx) {
	t.Helper()
	n := build(t, "watch", cfg)
	c := newCtx()
	if err := n.(node.Starter).Start(c); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.(node.Closer).Close(context.Background(), true) })
	return n, c
}

func has(ms []*msg.Msg, name, event string) *msg.Msg {
	for _, m := range ms {
		if m.Value("filename") == name && m.Value("event") == event {
			return m
		}
	}
	return nil
}

func TestWatchDirectory(t *testing.T) {
	dir := t.TempDir()
	_, c := startWatch(t, `{"files":`+quote(dir)+`}`)
	f := filepath.Join(dir, "a.txt")
	if err := os.WriteFile(f, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := waitFor(t, c, func(ms []*msg.Msg) bool { return has(ms, f, "update") != nil })
	m := has(got, f, "update")
	want := `{"payload":` + quote(f) + `,"topic":` + quote(dir) + `,"file":"a.txt","filename":` + quote(f) + `,"event":"update","size":5,"type":"file"}`
	if jsonOf(m) != want {
		t.Fatalf("got  %s\nwant %s", jsonOf(m), want)
	}
	// Several changes within the settling time are reported once.
	n := len(got)
	if n != 1 {
		t.Fatalf("a create and a write gave %d messages", n)
	}
	if err := os.Remove(f); err != nil {
		t.Fatal(err)
	}
	got = waitFor(t, c, func(ms []*msg.Msg) bool { return has(ms, f, "remove") != nil })
	if m := has(got, f, "remove"); m.Value("type") != "none" || m.Has("size") {
		t.Fatalf("remove: %s", jsonOf(m))
	}
}

func TestWatchFileAndRecursive(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "watched.txt")
	other := filepath.Join(dir, "other.txt")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	_, c := startWatch(t, `{"files":`+quote(file+", "+sub)+`,"recursive":true}`)
	if err := os.WriteFile(other, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("xy"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := waitFor(t, c, func(ms []*msg.Msg) bool { return has(ms, file, "update") != nil })
	if has(got, other, "update") != nil {
		t.Fatal("a file next to the watched one was reported")
	}
	if topic := got[0].Value("topic"); topic != string(msg.Marshal([]any{file, sub})) {
		t.Fatalf("topic %v", topic)
	}
	// sub did not exist at start: an error, as in Node-RED.
	if errs := c.Errs(); len(errs) != 1 || errs[0].Err.Error() != "Error: "+sub+" does not exist." || jsonOf(errs[0].Msg) != `{"payload":""}` {
		t.Fatalf("errors %v", errs)
	}
}

func TestWatchRecursiveNewDirectory(t *testing.T) {
	dir := t.TempDir()
	_, c := startWatch(t, `{"files":`+quote(dir)+`,"recursive":true}`)
	sub := filepath.Join(dir, "new")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c, func(ms []*msg.Msg) bool { return has(ms, sub, "update") != nil })
	deep := filepath.Join(sub, "deep.txt")
	// The new directory is watched once it is reported; writes after that
	// are seen.
	deadline := time.Now().Add(3 * time.Second)
	for {
		if err := os.WriteFile(deep, []byte("1"), 0o644); err != nil {
			t.Fatal(err)
		}
		got := waitFor(t, c, func([]*msg.Msg) bool { return true })
		if has(got, deep, "update") != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no event from inside the new directory")
		}
		time.Sleep(300 * time.Millisecond)
		if has(c.Take(), deep, "update") != nil {
			break
		}
	}
}
