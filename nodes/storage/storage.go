// Package storage holds Node-RED's storage nodes: file (write, append,
// delete), file in (read) and watch. File system errors are reported with
// Node.js's texts ("ENOENT: no such file or directory, open 'x'") so that
// flows which inspect them keep working.
package storage

import (
	"errors"
	"io/fs"
	"path/filepath"
	"syscall"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
	"github.com/sluicehq/sluice/runtime/typed"
)

const storageColor = "BurlyWood"

// nodeFSError is a file system error as Node.js reports it.
type nodeFSError struct {
	code    string
	errno   int
	text    string
	syscall string
	path    string // "" when Node gives none (a failed read)
}

func (e *nodeFSError) Error() string {
	s := "Error: " + e.code + ": " + e.text + ", " + e.syscall
	if e.path != "" {
		s += " '" + e.path + "'"
	}
	return s
}

func (e *nodeFSError) Code() string  { return e.code }
func (e *nodeFSError) Stack() string { return e.Error() }

// object is the error as JSON.stringify shows it: its own properties.
func (e *nodeFSError) object() *msg.Object {
	o := msg.ObjectOf("errno", float64(e.errno), "code", e.code, "syscall", e.syscall)
	if e.path != "" {
		o.Set("path", e.path)
	}
	return o
}

// libuv's names and messages for the errors file nodes meet.
var uvErrors = map[syscall.Errno][2]string{
	syscall.ENOENT:       {"ENOENT", "no such file or directory"},
	syscall.EACCES:       {"EACCES", "permission denied"},
	syscall.EPERM:        {"EPERM", "operation not permitted"},
	syscall.EISDIR:       {"EISDIR", "illegal operation on a directory"},
	syscall.ENOTDIR:      {"ENOTDIR", "not a directory"},
	syscall.EEXIST:       {"EEXIST", "file already exists"},
	syscall.ENOSPC:       {"ENOSPC", "no space left on device"},
	syscall.EROFS:        {"EROFS", "read-only file system"},
	syscall.EMFILE:       {"EMFILE", "too many open files"},
	syscall.ENAMETOOLONG: {"ENAMETOOLONG", "name too long"},
	syscall.ELOOP:        {"ELOOP", "too many symbolic links encountered"},
	syscall.EBUSY:        {"EBUSY", "resource busy or locked"},
	syscall.ENOTEMPTY:    {"ENOTEMPTY", "directory not empty"},
	syscall.EINVAL:       {"EINVAL", "invalid argument"},
	syscall.EIO:          {"EIO", "i/o error"},
	syscall.EBADF:        {"EBADF", "bad file descriptor"},
}

// fsError turns a Go error from an operation on path into Node's form;
// errors without an errno keep their own text.
func fsError(err error, sys, path string) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err
	}
	e := &nodeFSError{code: "UNKNOWN", errno: -int(errno), text: errno.Error(), syscall: sys, path: path}
	if t, ok := uvErrors[errno]; ok {
		e.code, e.text = t[0], t[1]
	}
	return e
}

// filenameInput is the typed filename property, with Node-RED's upgrade
// of flows from before typed filenames: no type and no name means
// msg.filename, a name without a type is a fixed string.
type filenameInput struct {
	in     *typed.Input
	static bool // str or env: the same file for every message
	empty  bool // the node's own filename is empty
}

func newFilenameInput(cfg *node.Config) (*filenameInput, error) {
	name, typ := cfg.Str("filename"), cfg.Str("filenameType")
	if typ == "" {
		if name == "" {
			name, typ = "filename", typed.Msg
		} else {
			typ = typed.Str
		}
	}
	in, err := typed.Prepare(typ, name)
	if err != nil {
		return nil, node.BadProp("filename", name, "%v", err)
	}
	return &filenameInput{in: in, static: typ == typed.Str || typ == typed.Env, empty: name == ""}, nil
}

// eval gives the file name for m as Node-RED computes it: any value is
// turned into text, null and undefined into "".
func (f *filenameInput) eval(c node.Ctx, m *msg.Msg) (string, error) {
	v, err := f.in.Eval(c, m)
	if err != nil {
		return "", err
	}
	switch t := v.(type) {
	case nil, msg.Undefined:
		return "", nil
	case string:
		return t, nil
	}
	return msg.ToString(v), nil
}

// resolve places a relative name under the fileWorkingDirectory setting.
func resolve(c node.Ctx, name string) string {
	if name == "" || filepath.IsAbs(name) {
		return name
	}
	if v, ok := c.Setting("fileWorkingDirectory"); ok {
		if dir, ok := v.(string); ok && dir != "" {
			return filepath.Clean(filepath.Join(dir, name))
		}
	}
	return name
}

// isNotExist reports a missing file for Go or Node style errors.
func isNotExist(err error) bool {
	var ne *nodeFSError
	if errors.As(err, &ne) {
		return ne.code == "ENOENT"
	}
	return errors.Is(err, fs.ErrNotExist)
}
