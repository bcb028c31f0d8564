package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// maxFlowBody bounds a deploy; a flow file larger than this is a mistake.
const maxFlowBody = 64 << 20

func (s *Server) maxBody() int64 {
	if s.opts.MaxRequest > 0 {
		return s.opts.MaxRequest
	}
	return maxFlowBody
}

// mountAdmin adds the Node-RED compatible admin API and the editor under
// root (httpAdminRoot). Reading needs any permission, changing anything
// "*" (see guard); login, the editor page and the websocket (which
// authenticates in-band) are open.
func (s *Server) mountAdmin(mux *http.ServeMux, root string) {
	mux.HandleFunc("GET "+root+"/flows", s.guard(false, s.getFlows))
	mux.HandleFunc("POST "+root+"/flows", s.guard(true, s.postFlows))
	mux.HandleFunc("GET "+root+"/flows/state", s.guard(false, s.getFlowsState))
	mux.HandleFunc("POST "+root+"/flows/state", s.guard(true, s.postFlowsState))
	mux.HandleFunc("GET "+root+"/nodes", s.guard(false, s.getNodes))
	mux.HandleFunc("GET "+root+"/settings", s.guard(false, s.getSettings))
	mux.HandleFunc("POST "+root+"/inject/{id}", s.guard(true, s.postInject))
	mux.HandleFunc("POST "+root+"/debug/{id}/{state}", s.guard(true, s.postDebugState))
	mux.HandleFunc("GET "+root+"/context/{path...}", s.guard(false, s.getContext))
	mux.HandleFunc("DELETE "+root+"/context/{path...}", s.guard(true, s.deleteContext))
	mux.HandleFunc("GET "+root+"/auth/login", s.getLogin)
	mux.HandleFunc("POST "+root+"/auth/token", s.postToken)
	mux.HandleFunc("POST "+root+"/auth/revoke", s.postRevoke)
	mux.HandleFunc("GET "+root+"/comms", s.serveComms)
	s.mountEditor(mux, root)
}

// revision names a flow file's content; editors send it back on deploy so a
// deploy based on an older file is refused instead of silently overwriting.
func revision(flows []byte) string {
	sum := sha256.Sum256(flows)
	return hex.EncodeToString(sum[:16])
}

func (s *Server) current() []byte {
	if s.opts.CurrentFlows == nil {
		return []byte("[]")
	}
	b := s.opts.CurrentFlows()
	if len(bytes.TrimSpace(b)) == 0 {
		return []byte("[]")
	}
	return b
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// apiError is Node-RED's admin API error body, plus every problem found.
type apiError struct {
	Code     string         `json:"code"`
	Message  string         `json:"message"`
	Problems []node.Problem `json:"problems,omitempty"`
	Errors   []problemJSON  `json:"errors,omitempty"`
}

func apiV2(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Node-RED-API-Version"), "v2")
}

func (s *Server) getFlows(w http.ResponseWriter, r *http.Request) {
	cur := s.current()
	out := s.withCredFlags(cur)
	w.Header().Set("Content-Type", "application/json")
	if !apiV2(r) {
		_, _ = w.Write(out)
		return
	}
	// Written by hand so the flows keep their bytes (key order) as stored.
	var b bytes.Buffer
	b.WriteString(`{"rev":"`)
	b.WriteString(revision(cur))
	b.WriteString(`","flows":`)
	b.Write(out)
	b.WriteString("}")
	_, _ = w.Write(b.Bytes())
}

func (s *Server) postFlows(w http.ResponseWriter, r *http.Request) {
	limit := s.maxBody()
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Code: "invalid_request", Message: err.Error()})
		return
	}
	if int64(len(body)) > limit {
		writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Code: "too_large", Message: fmt.Sprintf("flow file larger than %d bytes (settings apiMaxLength)", limit)})
		return
	}
	req := deployRequest{flows: body, typ: r.Header.Get("Node-RED-Deployment-Type"), perm: s.perm(bearer(r))}
	v2 := apiV2(r)
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '{' {
		var env struct {
			Rev   string          `json:"rev"`
			Flows json.RawMessage `json:"flows"`
		}
		if err := json.Unmarshal(trimmed, &env); err != nil || env.Flows == nil {
			writeJSON(w, http.StatusBadRequest, apiError{Code: "invalid_request", Message: "body must be a flow array or {\"rev\",\"flows\"}"})
			return
		}
		req.flows, req.rev = env.Flows, env.Rev
		v2 = true
	}
	rev, derr := s.deploy(req)
	if derr != nil {
		writeJSON(w, derr.status, apiError{Code: derr.Code, Message: derr.Message, Problems: derr.problems, Errors: derr.Errors})
		return
	}
	if v2 {
		writeJSON(w, http.StatusOK, map[string]string{"rev": rev})
	} else {
		w.WriteHeader(http.StatusNoContent)
	}
	s.hub.deployed(rev)
}

// specJSON is what the editor needs of a node type: the palette entry, the
// ports and everything to generate the edit form.
type specJSON struct {
	Type        string      `json:"type"`
	Category    string      `json:"category"`
	Color       string      `json:"color,omitempty"`
	Icon        string      `json:"icon,omitempty"`
	Label       string      `json:"label,omitempty"`
	Inputs      int         `json:"inputs"`
	Outputs     int         `json:"outputs"`
	Config      bool        `json:"config,omitempty"`
	Props       []propJSON  `json:"props"`
	Credentials []node.Cred `json:"credentials,omitempty"`
	Help        string      `json:"help,omitempty"`
}

type propJSON struct {
	Name       string    `json:"name"`
	Kind       node.Kind `json:"kind,omitempty"`
	Default    any       `json:"default"`
	Required   bool      `json:"required,omitempty"`
	Options    []string  `json:"options,omitempty"`
	TypeProp   string    `json:"typeProp,omitempty"`
	Types      []string  `json:"types,omitempty"`
	ConfigType string    `json:"configType,omitempty"`
	Label      string    `json:"label,omitempty"`
}

// NodeSpecs lists every registered node type as the editor reads it.
func NodeSpecs() []specJSON {
	types := node.Types()
	out := make([]specJSON, 0, len(types))
	for _, sp := range types {
		j := specJSON{Type: sp.Type, Category: sp.Category, Color: sp.Color, Icon: sp.Icon, Label: sp.Label,
			Inputs: sp.Inputs, Outputs: sp.Outputs, Config: sp.Config, Credentials: sp.Credentials, Help: sp.Help,
			Props: make([]propJSON, 0, len(sp.Props))}
		for _, p := range sp.Props {
			def := p.Default
			if o, ok := def.(*msg.Object); ok {
				def = json.RawMessage(msg.Marshal(o))
			} else if l, ok := def.([]any); ok {
				def = json.RawMessage(msg.Marshal(l))
			}
			j.Props = append(j.Props, propJSON{Name: p.Name, Kind: p.Kind, Default: def, Required: p.Required,
				Options: p.Options, TypeProp: p.TypeProp, Types: p.Types, ConfigType: p.ConfigType, Label: p.Label})
		}
		out = append(out, j)
	}
	return out
}

func (s *Server) getNodes(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, NodeSpecs())
}

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"httpNodeRoot":  s.opts.NodeRoot,
		"version":       "sluice",
		"apiVersion":    "v2",
		"flowsReadonly": s.opts.ReadOnly,
		"permissions":   s.perm(bearer(r)),
	})
}

// actionError is a refused inject or debug switch, shared by REST and the
// websocket.
type actionError struct {
	status        int
	code, message string
}

// inject presses an inject node's button.
func (s *Server) inject(id string) *actionError {
	typ := ""
	for _, st := range s.eng.Stats() {
		if st.ID == id {
			typ = st.Type
			break
		}
	}
	if typ == "" {
		return &actionError{http.StatusNotFound, "not_found", "no running node " + id}
	}
	if typ != "inject" {
		return &actionError{http.StatusBadRequest, "bad_request", "node " + id + " is a " + typ + ", not an inject node"}
	}
	if err := s.eng.Inject(id, msg.New()); err != nil {
		return &actionError{http.StatusNotFound, "not_found", err.Error()}
	}
	return nil
}

// setDebug switches a debug node's sidebar output on or off without a
// deploy, as the button on the node does in Node-RED; the next deploy's
// "active" property wins.
func (s *Server) setDebug(id string, enabled bool) *actionError {
	found := false
	for _, st := range s.eng.Stats() {
		if st.ID == id && st.Type == "debug" {
			found = true
			break
		}
	}
	if !found {
		return &actionError{http.StatusNotFound, "not_found", "no running debug node " + id}
	}
	s.hub.setMuted(id, !enabled)
	return nil
}

func (s *Server) postInject(w http.ResponseWriter, r *http.Request) {
	if e := s.inject(r.PathValue("id")); e != nil {
		writeJSON(w, e.status, apiError{Code: e.code, Message: e.message})
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) postDebugState(w http.ResponseWriter, r *http.Request) {
	id, state := r.PathValue("id"), r.PathValue("state")
	if state != "enable" && state != "disable" {
		writeJSON(w, http.StatusNotFound, apiError{Code: "not_found", Message: "use /debug/" + id + "/enable or /disable"})
		return
	}
	if e := s.setDebug(id, state == "enable"); e != nil {
		writeJSON(w, e.status, apiError{Code: e.code, Message: e.message})
		return
	}
	if state == "enable" {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.WriteHeader(http.StatusCreated)
}
