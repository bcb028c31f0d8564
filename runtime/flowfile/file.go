package flowfile

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/sluicehq/sluice/runtime/msg"
)

// file is a flow file split into its entries. Node-RED writes either a bare
// array of nodes or its v2 API form {"rev": ..., "flows": [...]}; the latter
// is kept in its wrapper.
type file struct {
	wrapper *msg.Object
	entries []any
}

// parseFile reads a flow file. Empty input is an empty flow set, so that a
// file added on one side of a merge or diff (git passes /dev/null) works.
func parseFile(data []byte) (*file, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return &file{}, nil
	}
	if !utf8.Valid(data) {
		// Node-RED reads flow files as UTF-8, which turns invalid bytes into
		// U+FFFD; doing the same here keeps formatting idempotent.
		data = bytes.ToValidUTF8(data, []byte("\uFFFD"))
	}
	v, err := msg.Unmarshal(data)
	if err != nil {
		if se, ok := err.(*msg.SyntaxError); ok {
			line, col := lineCol(data, se.Offset)
			return nil, fmt.Errorf("not valid JSON at line %d, column %d: %s", line, col, se.Msg)
		}
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	switch t := v.(type) {
	case []any:
		return &file{entries: t}, nil
	case *msg.Object:
		if arr, ok := t.Value("flows").([]any); ok {
			return &file{wrapper: t, entries: arr}, nil
		}
	}
	return nil, fmt.Errorf("not a flow file: expected a JSON array of nodes or an object with a \"flows\" array, got %s", msg.TypeOf(v))
}

func lineCol(data []byte, off int) (int, int) {
	if off > len(data) {
		off = len(data)
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - bytes.LastIndexByte(data[:off], '\n')
	return line, col
}

// str reads a string property of an entry; "" when absent or not a string.
func str(e any, key string) string {
	o, ok := e.(*msg.Object)
	if !ok {
		return ""
	}
	s, _ := o.Value(key).(string)
	return s
}

// keyed splits entries into those with a unique string id (by id, in file
// order) and the rest (non-objects, entries without id, later duplicates),
// which the merge and diff carry through as they are.
func keyed(entries []any) (ids []string, byID map[string]*msg.Object, extras []any) {
	byID = map[string]*msg.Object{}
	for _, e := range entries {
		o, ok := e.(*msg.Object)
		id := str(e, "id")
		if !ok || id == "" {
			extras = append(extras, e)
			continue
		}
		if _, dup := byID[id]; dup {
			extras = append(extras, e)
			continue
		}
		byID[id] = o
		ids = append(ids, id)
	}
	return ids, byID, extras
}
