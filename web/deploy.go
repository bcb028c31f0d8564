package web

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"

	"github.com/sluicehq/sluice/runtime/creds"
	"github.com/sluicehq/sluice/runtime/flow"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// Deployment is what the server hands to Options.Deploy: flows that passed
// the revision and permission checks, with node credentials taken out.
type Deployment struct {
	// Flows is the flow array as posted, minus every node's "credentials"
	// (byte for byte as posted when no node carried any).
	Flows []byte
	// Type is "full", "flows" or "nodes" (Node-RED's deployment types).
	Type string
	// Creds are every node's credentials after this deploy: stored ones
	// merged with those posted, those of nodes no longer in the flows
	// dropped. Nil when the server keeps no credentials (Options.Credentials
	// is nil).
	Creds creds.Creds
	// CredsChanged reports that Creds differ from what was stored.
	CredsChanged bool
}

// deployRequest is a deploy from the REST API or the websocket.
type deployRequest struct {
	flows []byte // a flow array; ignored for reload
	typ   string // full, flows, nodes, reload
	rev   string // "" skips the check
	force bool
	perm  string
}

// deployError is a refused deploy, in the websocket's shape; status is the
// REST answer's HTTP status.
type deployError struct {
	status   int
	Code     string         `json:"code"`
	Message  string         `json:"message"`
	Errors   []problemJSON  `json:"errors"`
	problems []node.Problem // for the REST body
}

type problemJSON struct {
	Node     string `json:"node"`
	Type     string `json:"type"`
	Property string `json:"property"`
	Message  string `json:"message"`
}

func (e *deployError) Error() string { return e.Message }

func refuse(status int, code, format string, args ...any) *deployError {
	return &deployError{status: status, Code: code, Message: fmt.Sprintf(format, args...), Errors: []problemJSON{}}
}

// deploy runs the checks every deploy goes through and hands the flows to
// Options.Deploy. On success it returns the new revision; the caller
// answers its client and then calls hub.deployed, so the deploying client
// hears its own result first.
func (s *Server) deploy(req deployRequest) (string, *deployError) {
	if s.opts.ReadOnly {
		return "", refuse(http.StatusForbidden, "readonly", "flows are read-only on this server (--flows-readonly): deploys are refused, the flows keep running")
	}
	if req.perm != permAll {
		return "", refuse(http.StatusForbidden, "forbidden", "your permissions (%s) do not allow deploying", permName(req.perm))
	}
	if s.opts.Deploy == nil {
		return "", refuse(http.StatusMethodNotAllowed, "not_allowed", "deploy is not enabled")
	}
	typ := req.typ
	switch typ {
	case "":
		typ = "full"
	case "full", "nodes", "flows", "reload":
	default:
		return "", refuse(http.StatusBadRequest, "bad_request", "unknown deployment type %q (full, flows, nodes or reload)", typ)
	}
	s.deployMu.Lock()
	defer s.deployMu.Unlock()
	cur := s.current()
	if !req.force && req.rev != "" && req.rev != revision(cur) {
		return "", refuse(http.StatusConflict, "version_mismatch", "flows changed on the server since revision %s (someone else deployed); reload them, or deploy with force", req.rev)
	}
	flows := req.flows
	if typ == "reload" {
		flows, typ = cur, "full"
	}
	dep, derr := s.extractCreds(flows)
	if derr != nil {
		return "", derr
	}
	dep.Type = typ
	if err := s.opts.Deploy(dep); err != nil {
		return "", invalid(err)
	}
	return revision(s.current()), nil
}

// invalid turns a refused flow set into the answer listing every problem.
func invalid(err error) *deployError {
	var le *flow.LoadError
	if !errors.As(err, &le) {
		return &deployError{status: http.StatusBadRequest, Code: "invalid_flows", Message: err.Error(), Errors: []problemJSON{}}
	}
	errs := flow.Errors(le.Problems)
	de := &deployError{status: http.StatusBadRequest, Code: "invalid_flows", problems: le.Problems, Errors: make([]problemJSON, 0, len(errs))}
	for _, p := range errs {
		de.Errors = append(de.Errors, problemJSON{Node: p.ID, Type: p.Type, Property: p.Property, Message: p.Message})
	}
	de.Message = fmt.Sprintf("%d problem(s) in the flows; nothing was deployed", len(errs))
	if len(errs) > 0 {
		de.Message = fmt.Sprintf("%d problem(s) in the flows, nothing was deployed; first: %s", len(errs), errs[0].String())
	}
	return de
}

// pwrd is what Node-RED's editor sends for a password it did not change.
const pwrd = "__PWRD__"

// extractCreds takes each node's "credentials" out of the flows and merges
// them into the stored ones: a field left out, "__PWRD__", a has_<name>
// flag or an empty password keeps what is stored; a new value replaces
// it; null deletes it (an empty non-password field too, as in Node-RED).
func (s *Server) extractCreds(flows []byte) (Deployment, *deployError) {
	dep := Deployment{Flows: flows}
	var stored creds.Creds
	if s.opts.Credentials != nil {
		stored = s.opts.Credentials()
		dep.Creds = creds.Creds{}
	}
	if !bytes.Contains(flows, []byte(`"credentials"`)) && len(stored) == 0 {
		return dep, nil // nothing to take out, nothing to keep
	}
	v, err := msg.Unmarshal(flows)
	if err != nil {
		// flow.Parse reports it with line and column.
		_, perr := flow.Parse(flows)
		if perr == nil {
			perr = err
		}
		return dep, invalid(perr)
	}
	list, ok := v.([]any)
	if !ok {
		return dep, refuse(http.StatusBadRequest, "bad_request", "flows must be a JSON array of nodes")
	}
	out := creds.Creds{}
	changed := false
	stripped := false
	ids := map[string]bool{}
	for _, e := range list {
		o, ok := e.(*msg.Object)
		if !ok {
			continue
		}
		id, _ := o.Value("id").(string)
		typ, _ := o.Value("type").(string)
		ids[id] = true
		old := stored[id]
		raw, has := o.Get("credentials")
		if !has {
			if old != nil {
				out[id] = old.Clone()
			}
			continue
		}
		o.Delete("credentials")
		stripped = true
		posted, ok := raw.(*msg.Object)
		if !ok {
			if raw != nil {
				return dep, refuse(http.StatusBadRequest, "bad_request", "node %s: credentials must be an object, got %s", id, msg.TypeOf(raw))
			}
			posted = msg.NewObject(0)
		}
		merged, ch := mergeCreds(typ, old, posted)
		changed = changed || ch
		if merged.Len() > 0 {
			out[id] = merged
		}
	}
	for id := range stored {
		if !ids[id] {
			changed = true // the node is gone; so are its secrets
		}
	}
	if stripped {
		dep.Flows = msg.Marshal(list)
	}
	if s.opts.Credentials != nil {
		dep.Creds, dep.CredsChanged = out, changed
	}
	return dep, nil
}

func mergeCreds(typ string, old, posted *msg.Object) (*msg.Object, bool) {
	password := map[string]bool{}
	if sp, ok := node.Lookup(typ); ok {
		for _, c := range sp.Credentials {
			password[c.Name] = c.Password
		}
	}
	out := msg.NewObject(0)
	if old != nil {
		out = old.Clone()
	}
	changed := false
	for i := 0; i < posted.Len(); i++ {
		k, v := posted.At(i)
		if len(k) > 4 && k[:4] == "has_" {
			continue
		}
		switch t := v.(type) {
		case nil:
			changed = out.Delete(k) || changed
			continue
		case string:
			if t == pwrd {
				continue
			}
			if t == "" || isBlank(t) {
				if password[k] {
					continue // the editor shows a stored password as an empty field
				}
				changed = out.Delete(k) || changed
				continue
			}
		}
		if cur, ok := out.Get(k); !ok || !msg.Equal(cur, v) {
			out.Set(k, v)
			changed = true
		}
	}
	return out, changed
}

func isBlank(s string) bool {
	for _, r := range s {
		if r != ' ' && r != '\t' && r != '\n' && r != '\r' {
			return false
		}
	}
	return true
}

// withCredFlags adds to each node with stored credentials a "credentials"
// object of has_<field> flags: the editor learns that a secret is set,
// never the secret.
func (s *Server) withCredFlags(flows []byte) []byte {
	if s.opts.Credentials == nil {
		return flows
	}
	stored := s.opts.Credentials()
	if len(stored) == 0 {
		return flows
	}
	v, err := msg.Unmarshal(flows)
	if err != nil {
		return flows
	}
	list, ok := v.([]any)
	if !ok {
		return flows
	}
	for _, e := range list {
		o, ok := e.(*msg.Object)
		if !ok {
			continue
		}
		id, _ := o.Value("id").(string)
		c := stored[id]
		if c == nil || c.Len() == 0 {
			continue
		}
		flags := msg.NewObject(c.Len())
		for i := 0; i < c.Len(); i++ {
			k, _ := c.At(i)
			if len(k) > 4 && k[:4] == "has_" {
				continue
			}
			flags.Set("has_"+k, true)
		}
		o.Delete("credentials")
		o.Set("credentials", flags)
	}
	return msg.Marshal(list)
}
