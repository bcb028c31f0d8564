package storage

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type:     "watch",
		Category: "storage",
		Color:    storageColor,
		Icon:     "watch.svg",
		Inputs:   0,
		Outputs:  1,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "files", Kind: node.KindString, Default: "", Required: true, Label: "File(s)"},
			{Name: "recursive", Default: "", Label: "Watch sub-directories recursively"},
		},
		Help: watchHelp,
		New:  newWatch,
	})
}

const watchHelp = `Watches files and directories (a comma-separated list) and sends a message when something
changes: ` + "`msg.payload`" + ` and ` + "`msg.filename`" + ` are the full path, ` + "`msg.file`" + ` the name,
` + "`msg.topic`" + ` what is watched, ` + "`msg.event`" + ` "update" or "remove", ` + "`msg.type`" + ` file, directory, …
and ` + "`msg.size`" + ` the size of a file. Changes within 200 ms are reported once.`

// settle is how long changes gather before they are reported (node-watch's
// delay).
const settle = 200 * time.Millisecond

type watchNode struct {
	files     []string
	topic     string
	recursive bool

	mu      sync.Mutex
	w       *fsnotify.Watcher
	ctx     node.Ctx
	pending []string // changed paths, in order, waiting for the timer
	timer   *time.Timer
	done    chan struct{}
	watched map[string]bool // directories watched
}

func newWatch(cfg *node.Config) (node.Node, error) {
	n := &watchNode{recursive: msg.Truthy(cfg.Get("recursive")), watched: map[string]bool{}}
	for _, f := range strings.Split(cfg.Str("files"), ",") {
		n.files = append(n.files, strings.TrimSpace(f))
	}
	if len(n.files) == 1 {
		n.topic = n.files[0]
	} else {
		arr := make([]any, len(n.files))
		for i, f := range n.files {
			arr[i] = f
		}
		n.topic = string(msg.Marshal(arr))
	}
	return n, nil
}

// target is one configured path: a directory, or a file watched through
// its directory (editors replace files, which would end a watch on the
// file itself).
type target struct {
	path string // as configured
	file string // base name for a file, "" for a directory
}

func (n *watchNode) Start(c node.Ctx) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.w, n.ctx, n.done = w, c, make(chan struct{})
	n.mu.Unlock()
	var targets []target
	for _, p := range n.files {
		st, err := os.Stat(p)
		if err != nil {
			n.report(c, &node.JSError{Name: "Error", Message: p + " does not exist."})
			continue
		}
		if st.IsDir() {
			targets = append(targets, target{path: p})
			if n.recursive {
				n.addTree(c, p)
			} else {
				n.addDir(c, p)
			}
			continue
		}
		targets = append(targets, target{path: p, file: filepath.Base(p)})
		n.addDir(c, filepath.Dir(p))
	}
	go n.loop(c, w, targets)
	return nil
}

// report sends an error to catch nodes as Node-RED's watch node does, with
// a message holding an empty payload.
func (n *watchNode) report(c node.Ctx, err error) {
	c.Error(err, msg.Wrap(msg.ObjectOf("payload", "")))
}

func (n *watchNode) addDir(c node.Ctx, dir string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.addDirLocked(c, dir)
}

func (n *watchNode) addDirLocked(c node.Ctx, dir string) {
	clean := filepath.Clean(dir)
	if n.watched[clean] || n.w == nil {
		return
	}
	if err := n.w.Add(clean); err != nil {
		n.report(c, fsError(err, "watch", dir))
		return
	}
	n.watched[clean] = true
}

func (n *watchNode) addTree(c node.Ctx, root string) {
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			n.addDir(c, p)
		}
		return nil
	})
}

func (n *watchNode) loop(c node.Ctx, w *fsnotify.Watcher, targets []target) {
	for {
		select {
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			n.event(c, ev, targets)
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			n.report(c, err)
		}
	}
}

// event maps a raw change to the paths a flow sees, then waits for the
// changes to settle.
func (n *watchNode) event(c node.Ctx, ev fsnotify.Event, targets []target) {
	for _, t := range targets {
		var name string
		if t.file != "" {
			if filepath.Clean(filepath.Dir(ev.Name)) != filepath.Clean(filepath.Dir(t.path)) || filepath.Base(ev.Name) != t.file {
				continue
			}
			name = filepath.Join(filepath.Dir(t.path), t.file)
		} else {
			rel, err := filepath.Rel(filepath.Clean(t.path), ev.Name)
			if err != nil || strings.HasPrefix(rel, "..") || rel == "." {
				continue
			}
			if !n.recursive && strings.ContainsRune(rel, filepath.Separator) {
				continue
			}
			name = filepath.Join(t.path, rel)
			if n.recursive && ev.Has(fsnotify.Create) {
				if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
					n.addTree(c, ev.Name)
				}
			}
		}
		n.queue(name)
	}
}

func (n *watchNode) queue(name string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.done == nil {
		return
	}
	for _, p := range n.pending {
		if p == name {
			goto timer
		}
	}
	n.pending = append(n.pending, name)
timer:
	if n.timer == nil {
		n.timer = time.AfterFunc(settle, n.flush)
	}
}

func (n *watchNode) flush() {
	n.mu.Lock()
	names := n.pending
	n.pending, n.timer = nil, nil
	c, done := n.ctx, n.done
	n.mu.Unlock()
	if done == nil {
		return
	}
	for _, name := range names {
		select {
		case <-done:
			return
		default:
		}
		if err := c.Acquire(context.Background()); err != nil {
			return
		}
		c.Send(changeMsg(name, n.topic))
	}
}

// changeMsg describes a change as Node-RED's watch node does: update when
// the path exists, remove when it is gone.
func changeMsg(name, topic string) *msg.Msg {
	m := msg.New()
	m.Delete("_msgid")
	m.Set("payload", name)
	m.Set("topic", topic)
	m.Set("file", filepath.Base(name))
	m.Set("filename", name)
	st, err := os.Stat(name)
	if err != nil {
		m.Set("event", "remove")
		m.Set("type", "none")
		return m
	}
	m.Set("event", "update")
	mode := st.Mode()
	typ := "n/a"
	switch {
	case mode.IsRegular():
		typ = "file"
		m.Set("size", float64(st.Size()))
	case mode&os.ModeDevice != 0 && mode&os.ModeCharDevice == 0:
		typ = "blockdevice"
	case mode&os.ModeCharDevice != 0:
		typ = "characterdevice"
	case mode&os.ModeSocket != 0:
		typ = "socket"
	case mode&os.ModeNamedPipe != 0:
		typ = "fifo"
	case mode.IsDir():
		typ = "directory"
	}
	m.Set("type", typ)
	return m
}

func (n *watchNode) Close(ctx context.Context, removed bool) error {
	n.mu.Lock()
	w := n.w
	n.w = nil
	if n.timer != nil {
		n.timer.Stop()
		n.timer = nil
	}
	if n.done != nil {
		close(n.done)
		n.done = nil
	}
	n.mu.Unlock()
	if w == nil {
		return nil
	}
	return w.Close()
}
