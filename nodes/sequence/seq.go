// Package sequence holds Node-RED's sequence nodes: split, join, sort and
// batch. They cut messages into sequences described by msg.parts and put
// sequences back together, so several of them hold messages for a while;
// a held message keeps its tracker alive until the node lets it go.
package sequence

import (
	"errors"
	"strings"

	"github.com/sluicehq/sluice/runtime/jsonataref"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
	"github.com/sluicehq/sluice/runtime/typed"
)

const seqColor = "#E2D96E"

// unescape turns the escapes the editor stores literally ("\\n") into the
// characters they stand for, as Node-RED does for split and join
// characters. "\e" becomes a plain "e": JavaScript reads that escape so.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			if r, ok := escapeOf(s[i+1]); ok {
				b.WriteString(r)
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func escapeOf(c byte) (string, bool) {
	switch c {
	case 'n':
		return "\n", true
	case 'r':
		return "\r", true
	case 't':
		return "\t", true
	case 'e':
		return "e", true
	case 'f':
		return "\f", true
	case '0':
		return "\x00", true
	}
	return "", false
}

// prop is a message property read and written as RED.util's
// get/setMessageProperty do.
type prop struct {
	name string
	in   *typed.Input
	path []msg.PathPart
	bad  bool // the name does not parse: reads give undefined
}

func newProp(cfgName, value string) (*prop, error) {
	in, err := typed.Prepare(typed.Msg, value)
	if err != nil {
		return nil, node.BadProp(cfgName, value, "%v", err)
	}
	parts, _ := msg.ParsePath(strings.TrimPrefix(value, "msg."))
	return &prop{name: value, in: in, path: parts}, nil
}

// get reads the property; stepping through a missing parent is the
// TypeError JavaScript throws.
func (p *prop) get(m *msg.Msg) (any, error) {
	if p.bad {
		return msg.Undefined{}, nil
	}
	v, err := p.in.Eval(nil, m)
	if err != nil {
		return nil, &node.JSError{Name: "TypeError", Message: err.Error()}
	}
	return v, nil
}

func (p *prop) set(m *msg.Msg, v any) {
	_, _ = msg.SetPath(m.Object, p.path, v, true)
}

func setPath(m *msg.Msg, expr string, v any) error {
	parts, err := msg.ParsePath(strings.TrimPrefix(expr, "msg."))
	if err != nil {
		return err
	}
	_, err = msg.SetPath(m.Object, parts, v, true)
	return err
}

// partsOf is msg.parts when it is an object.
func partsOf(m *msg.Msg) (*msg.Object, bool) {
	p, ok := m.Value("parts").(*msg.Object)
	return p, ok
}

// maxKept is the nodeMessageBufferMaxLength setting: how many messages a
// sequence node may hold (0: no limit).
func maxKept(c node.Ctx) int {
	if v, ok := c.Setting("nodeMessageBufferMaxLength"); ok {
		if f, ok := msg.Num(v); ok && f > 0 {
			return int(f)
		}
	}
	return 0
}

// release lets a held message go without telling complete nodes about it:
// Node-RED never calls done for these, so complete nodes stay silent, but
// the message's source must not wait for it forever.
func release(m *msg.Msg) { m.Track.Done(nil) }

// chain makes out, a new message built from the held messages from, keep
// their trackers alive until out and every copy of it are done: a source
// then learns that its message was handled only once what it became was.
// Call finish once out has been sent.
func chain(out *msg.Msg, from []*msg.Msg) (finish func()) {
	var ts []*msg.Tracker
	for _, m := range from {
		if m.Track == nil {
			continue
		}
		dup := false
		for _, t := range ts {
			if t == m.Track {
				dup = true
				break
			}
		}
		if !dup {
			ts = append(ts, m.Track)
		}
	}
	if len(ts) == 0 {
		out.Track = nil
		return func() {}
	}
	for _, t := range ts {
		t.Add(1)
	}
	out.Track = msg.NewTracker(func(err error) {
		for _, t := range ts {
			t.Done(err)
		}
	})
	return func() { out.Track.Done(nil) }
}

// jsonataError is a JSONata failure as Node-RED reports it when it hands
// the library's error on unchanged: the library throws plain objects, so
// the message reads [object Object], with the code and stack alongside.
type jsonataError struct {
	code  string
	cause error
}

func (e *jsonataError) Error() string { return "[object Object]" }
func (e *jsonataError) Code() string  { return e.code }
func (e *jsonataError) Stack() string { return "Error" }
func (e *jsonataError) Unwrap() error { return e.cause }

// jsonataErr wraps errors the JSONata library raised itself; errors from
// bound functions (context reads) stay as they are.
func jsonataErr(err error) error {
	var je *jsonataref.Error
	if errors.As(err, &je) && je.Err == nil && je.Code != "" {
		return &jsonataError{code: je.Code, cause: err}
	}
	return err
}
