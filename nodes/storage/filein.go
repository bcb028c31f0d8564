package storage

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

func init() {
	node.Register(&node.Spec{
		Type:     "file in",
		Category: "storage",
		Color:    storageColor,
		Icon:     "file-in.svg",
		Inputs:   1,
		Outputs:  1,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString, Default: ""},
			{Name: "filename", Kind: node.KindString, Default: "", TypeProp: "filenameType", Types: []string{"str", "msg", "flow", "global", "jsonata", "env"}, Label: "Filename"},
			{Name: "filenameType", Kind: node.KindString, Default: "str"},
			{Name: "format", Kind: node.KindString, Default: "utf8", Options: []string{"utf8", "", "lines", "stream"}, Label: "Output"},
			{Name: "chunk", Kind: node.KindBool, Default: false},
			{Name: "sendError", Kind: node.KindBool, Default: false, Label: "Send message on error (legacy mode)"},
			{Name: "encoding", Kind: node.KindString, Default: "none", Label: "Encoding"},
			{Name: "allProps", Kind: node.KindBool, Default: false, Label: "include all existing properties in each msg"},
		},
		Help: fileInHelp,
		New:  newFileIn,
	})
}

const fileInHelp = `Reads a file: as one UTF-8 (or other encoding) string, as one Buffer, as one message per
line, or as a stream of Buffers of up to 64 KiB.

The file name comes from the node or from the message (` + "`msg.filename`" + `, any typed input). Line
and chunk messages carry ` + "`msg.parts`" + ` so that a join node can put them together; they hold
` + "`msg.topic`" + ` and ` + "`msg.filename`" + ` only, or every property of the input with *include all
existing properties*. A file that cannot be read is an error for catch nodes (with Node.js's
error text and code); in legacy mode a message with ` + "`msg.error`" + ` is also sent.`

// chunkSize is Node's read stream buffer (highWaterMark).
const chunkSize = 64 * 1024

type fileInNode struct {
	name      *filenameInput
	format    string
	codec     *codec
	allProps  bool
	sendError bool
}

func newFileIn(cfg *node.Config) (node.Node, error) {
	fi, err := newFilenameInput(cfg)
	if err != nil {
		return nil, err
	}
	n := &fileInNode{name: fi, format: cfg.Str("format"), allProps: cfg.Get("allProps") == true || cfg.Get("allProps") == "true"}
	n.sendError = true
	if v, ok := cfg.Raw.Get("sendError"); ok {
		n.sendError = msg.Truthy(v)
	}
	enc := cfg.StrOr("encoding", "none")
	if n.codec, err = codecFor(enc); err != nil {
		return nil, node.BadProp("encoding", enc, "%v", err)
	}
	return n, nil
}

func (n *fileInNode) Input(c node.Ctx, m *msg.Msg) error {
	name, err := n.name.eval(c, m)
	if err != nil {
		c.Error(err, m)
		return nil
	}
	name = strings.NewReplacer("\t", "", "\r", "", "\n", "").Replace(name)
	full := resolve(c, name)
	if n.name.empty {
		c.Status(node.Status{Fill: "grey", Shape: "dot", Text: name})
	}
	if name == "" {
		c.Warn(errNoFilename)
		return nil
	}
	m.Set("filename", name)
	f, err := os.Open(full)
	if err != nil {
		n.fail(c, m, fsError(err, "open", full))
		return nil
	}
	defer f.Close()
	switch n.format {
	case "lines":
		err = n.lines(c, m, f)
	case "stream":
		err = n.stream(c, m, f)
	default:
		var data []byte
		if data, err = io.ReadAll(f); err == nil {
			if n.format == "utf8" {
				m.Set("payload", n.codec.decode(data))
			} else {
				m.Set("payload", data)
			}
			c.Send(m)
		}
	}
	if err != nil {
		n.fail(c, m, fsError(err, "read", ""))
	}
	return nil
}

// fail reports a read error; in legacy mode the message also goes on,
// without payload, with the error's properties in msg.error.
func (n *fileInNode) fail(c node.Ctx, m *msg.Msg, err error) {
	c.Error(err, m)
	if !n.sendError {
		return
	}
	out := m.Clone()
	out.Delete("payload")
	var ne *nodeFSError
	if errors.As(err, &ne) {
		out.Set("error", ne.object())
	} else {
		out.Set("error", msg.NewObject(0))
	}
	c.Send(out)
}

// part starts a line or chunk message: a copy of m, or just its topic and
// filename. It shares m's tracker so the source waits for every part.
func (n *fileInNode) part(m *msg.Msg) *msg.Msg {
	if n.allProps {
		return m.Clone()
	}
	o := msg.NewObject(4)
	o.Set("topic", valueOrUndefined(m.Object, "topic"))
	o.Set("filename", valueOrUndefined(m.Object, "filename"))
	return &msg.Msg{Object: o, Track: m.Track}
}

func valueOrUndefined(o *msg.Object, k string) any {
	if v, ok := o.Get(k); ok {
		return v
	}
	return msg.Undefined{}
}

// lines sends one message per line ("\n"); the text after the last newline
// (possibly empty) ends the sequence.
func (n *fileInNode) lines(c node.Ctx, m *msg.Msg, f *os.File) error {
	id := m.Value("_msgid")
	count := 0
	send := func(line string, last bool) {
		out := n.part(m)
		out.Set("payload", line)
		p := msg.NewObject(5)
		p.Set("index", float64(count))
		if last {
			p.Set("count", float64(count+1))
		}
		p.Set("ch", "\n")
		p.Set("type", "string")
		p.Set("id", id)
		out.Set("parts", p)
		count++
		c.Send(out)
	}
	if !byteLines(n.codec) {
		data, err := io.ReadAll(f)
		if err != nil {
			return err
		}
		all := strings.Split(n.codec.decode(data), "\n")
		for i, l := range all {
			send(l, i == len(all)-1)
		}
		return nil
	}
	buf := make([]byte, chunkSize)
	var spare []byte
	for {
		k, err := f.Read(buf)
		spare = append(spare, buf[:k]...)
		for {
			i := bytes.IndexByte(spare, '\n')
			if i < 0 {
				break
			}
			send(n.codec.decode(spare[:i]), false)
			spare = spare[i+1:]
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	send(n.codec.decode(spare), true)
	return nil
}

// byteLines reports whether "\n" is always the byte 0x0A in the encoding,
// so that lines can be cut before decoding.
func byteLines(c *codec) bool {
	return len(c.encode("\n")) == 1 && c.decode([]byte{'\n'}) == "\n"
}

// stream sends the file in 64 KiB Buffers; the short last one carries the
// count, or an empty part follows when the file fills its last chunk.
func (n *fileInNode) stream(c node.Ctx, m *msg.Msg, f *os.File) error {
	id := m.Value("_msgid")
	count := 0
	full := false
	for {
		buf := make([]byte, chunkSize)
		k, err := io.ReadFull(f, buf)
		if k > 0 {
			out := n.part(m)
			out.Set("payload", buf[:k])
			p := msg.ObjectOf("index", float64(count), "ch", "", "type", "buffer", "id", id)
			count++
			full = k == chunkSize
			if !full {
				p.Set("count", float64(count))
			}
			out.Set("parts", p)
			c.Send(out)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if full {
		p := msg.ObjectOf("index", float64(count), "count", float64(count), "ch", "", "type", "buffer", "id", id)
		c.Send(&msg.Msg{Object: msg.ObjectOf("parts", p), Track: m.Track})
	}
	return nil
}
