package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type:     "file",
		Category: "storage",
		Color:    storageColor,
		Icon:     "file-out.svg",
		Inputs:   1,
		Outputs:  1,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "filename", Kind: node.KindString, Default: "", TypeProp: "filenameType", Types: []string{"str", "msg", "flow", "global", "jsonata", "env"}, Label: "Filename"},
			{Name: "filenameType", Kind: node.KindString, Default: "str"},
			{Name: "appendNewline", Kind: node.KindBool, Default: true, Label: "Add newline (\\n) to each payload?"},
			{Name: "createDir", Kind: node.KindBool, Default: false, Label: "Create directory if it doesn't exist?"},
			{Name: "overwriteFile", Default: "false", Options: []string{"false", "true", "delete"}, Label: "Action"},
			{Name: "encoding", Kind: node.KindString, Default: "none", Label: "Encoding"},
		},
		Help: fileHelp,
		New:  newFile,
	})
}

const fileHelp = `Writes ` + "`msg.payload`" + ` to a file (appending or overwriting), or deletes the file.

The file name comes from the node or from the message (` + "`msg.filename`" + `, any typed input); a
relative name is relative to the ` + "`fileWorkingDirectory`" + ` setting, else to the working
directory. Objects are written as JSON, Buffers as they are; a newline can be added after each
payload (not after the last part of a split string). The directory can be created when
missing. Text is encoded as UTF-8 or in the chosen encoding (or ` + "`msg.encoding`" + `).

The message is sent on once the data is written, with ` + "`msg.filename`" + ` set. Failures go
to catch nodes.`

const errNoFilename = "No filename specified"

type fileNode struct {
	name       *filenameInput
	action     string // "false" append, "true" overwrite, "delete"
	newline    bool
	createDir  bool
	encoding   string
	fixedCodec *codec

	mu   sync.Mutex
	out  *os.File // the open file of a static name, appended to
	path string
}

func newFile(cfg *node.Config) (node.Node, error) {
	fi, err := newFilenameInput(cfg)
	if err != nil {
		return nil, err
	}
	n := &fileNode{
		name:      fi,
		action:    msg.ToString(orDefault(cfg.Get("overwriteFile"), "false")),
		newline:   msg.Truthy(cfg.Get("appendNewline")),
		createDir: msg.Truthy(cfg.Get("createDir")),
		encoding:  cfg.StrOr("encoding", "none"),
	}
	switch n.action {
	case "false", "true", "delete":
	default:
		return nil, node.BadProp("overwriteFile", cfg.Get("overwriteFile"), `must be "false" (append), "true" (overwrite) or "delete"`)
	}
	if n.encoding != "setbymsg" {
		c, err := codecFor(n.encoding)
		if err != nil {
			return nil, node.BadProp("encoding", n.encoding, "%v", err)
		}
		n.fixedCodec = c
	}
	return n, nil
}

func orDefault(v, def any) any {
	if v == nil {
		return def
	}
	return v
}

func (n *fileNode) Input(c node.Ctx, m *msg.Msg) error {
	name, err := n.name.eval(c, m)
	if err != nil {
		c.Error(err, m)
		return nil
	}
	m.Set("filename", name)
	full := resolve(c, name)
	if n.name.empty {
		c.Status(node.Status{Fill: "grey", Shape: "dot", Text: name})
	}
	if name == "" {
		c.Warn(errNoFilename)
		return nil
	}
	if n.action == "delete" {
		if err := os.Remove(full); err != nil {
			c.Error(errors.New("failed to delete file: "+fsError(err, "unlink", full).Error()), m)
			return nil
		}
		c.Log().Debug("deleted file: " + name)
		c.Send(m)
		return nil
	}
	payload, ok := m.Get("payload")
	if !ok || msg.IsUndefined(payload) {
		return nil
	}
	if n.createDir {
		if err := os.MkdirAll(filepath.Dir(full), 0o777); err != nil {
			c.Error(errors.New("failed to create file: "+fsError(err, "mkdir", filepath.Dir(full)).Error()), m)
			return nil
		}
	}
	data, err := n.bytes(m, payload)
	if err != nil {
		return err
	}
	if n.action == "true" {
		if err := os.WriteFile(full, data, 0o666); err != nil {
			c.Error(errors.New("failed to write to file: "+fsError(err, "open", full).Error()), m)
			return nil
		}
		c.Send(m)
		return nil
	}
	if err := n.append(full, data); err != nil {
		// Node-RED's write callback still runs after the stream failed,
		// so the message goes on as well.
		c.Error(errors.New("failed to append to file: "+fsError(err, "open", full).Error()), m)
	}
	c.Send(m)
	return nil
}

// bytes is the payload as written: objects as JSON, numbers and booleans as
// text, a newline added to text unless it ends a split string, then
// encoded.
func (n *fileNode) bytes(m *msg.Msg, payload any) ([]byte, error) {
	if b, ok := payload.([]byte); ok {
		return b, nil
	}
	var text string
	switch t := payload.(type) {
	case string:
		text = t
	case float64, bool, int, int64:
		text = msg.ToString(t)
	default:
		text = string(msg.Marshal(t))
	}
	last := false
	if p, ok := m.Value("parts").(*msg.Object); ok && p.Value("type") == "string" {
		cnt, cok := p.Value("count").(float64)
		idx, iok := p.Value("index").(float64)
		last = cok && iok && cnt == idx+1
	}
	if n.newline && !last {
		text += "\n"
	}
	cd := n.fixedCodec
	if cd == nil {
		var err error
		enc := "none"
		if e := m.Value("encoding"); msg.Truthy(e) {
			enc = msg.ToString(e)
		}
		if cd, err = codecFor(enc); err != nil {
			return nil, err
		}
	}
	return cd.encode(text), nil
}

// append adds data to the file. A static name keeps its file open between
// messages, reopening it when the file was deleted or replaced.
func (n *fileNode) append(full string, data []byte) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.name.static {
		f, err := os.OpenFile(full, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
		if err != nil {
			return err
		}
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	if n.out != nil {
		cur, err := os.Stat(full)
		open, ferr := n.out.Stat()
		if err != nil || ferr != nil || !os.SameFile(cur, open) || n.path != full {
			n.out.Close()
			n.out = nil
		}
	}
	if n.out == nil {
		f, err := os.OpenFile(full, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
		if err != nil {
			return err
		}
		n.out, n.path = f, full
	}
	_, err := n.out.Write(data)
	return err
}

func (n *fileNode) Close(ctx context.Context, removed bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.out != nil {
		err := n.out.Close()
		n.out = nil
		return err
	}
	return nil
}
