// Package creds reads and writes Node-RED compatible credential files.
//
// Node-RED keeps node credentials (passwords, tokens) out of the flow file,
// in <flow file>_cred.json beside it. The file is either plain JSON
// {"nodeId": {"field": value}} (credentialSecret: false) or, normally, that
// JSON encrypted as {"$": "<32 hex IV><base64 ciphertext>"} with AES-256-CTR
// and key sha256(secret). Files written here are read by Node-RED 5 and the
// other way round.
//
// Values are kept as the JSON they were (Creds maps a node id to a
// *msg.Object), not flattened to strings: most nodes store strings, but a
// global-config node stores a nested object ({"map": {...}}) that must
// survive a load and save unchanged. Creds.Strings gives the flat view that
// node.Config.Creds wants.
package creds

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
)

// Creds maps a node id to that node's credential fields.
type Creds map[string]*msg.Object

// Strings returns the credentials of node id as strings: strings as they
// are, other scalars as JavaScript's String() prints them, objects and
// arrays as JSON (so nothing turns into "[object Object]"). It returns an
// empty, non-nil map for a node without credentials.
func (c Creds) Strings(id string) map[string]string {
	o := c[id]
	out := make(map[string]string, o.Len())
	for i := 0; i < o.Len(); i++ {
		k, v := o.At(i)
		switch v.(type) {
		case *msg.Object, []any:
			out[k] = string(msg.Marshal(v))
		default:
			out[k] = msg.ToString(v)
		}
	}
	return out
}

// IDs returns the node ids in sorted order, the order files are written in
// so that plain-text credential files diff cleanly.
func (c Creds) IDs() []string {
	ids := make([]string, 0, len(c))
	for id := range c {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// CredFile returns the credentials file that belongs to flowFile:
// flows.json -> flows_cred.json, in the same directory.
func CredFile(flowFile string) string {
	dir, base := filepath.Split(flowFile)
	ext := jsExt(base)
	return dir + strings.TrimSuffix(base, ext) + "_cred" + ext
}

// jsExt is Node's path.extname: the last dot starts the extension unless
// the name is only leading dots before it (".flows" has none).
func jsExt(base string) string {
	i := strings.LastIndexByte(base, '.')
	if i < 0 || strings.Trim(base[:i], ".") == "" {
		return ""
	}
	return base[i:]
}

// Locate returns where Node-RED would look for the credentials of the flow
// file at flowPath: in userDir when an older install left the file there,
// otherwise next to the flow file.
func Locate(userDir, flowPath string) string {
	if userDir != "" {
		old := filepath.Join(userDir, filepath.Base(CredFile(flowPath)))
		if _, err := os.Stat(old); err == nil {
			return old
		}
	}
	return CredFile(flowPath)
}
