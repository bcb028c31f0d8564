package web

import (
	"net/http"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// contextTarget splits {global|flow/:id|node/:id}[/:key] of the context
// routes.
func (s *Server) contextTarget(w http.ResponseWriter, r *http.Request) (sc node.Scope, key string, ok bool) {
	parts := strings.SplitN(r.PathValue("path"), "/", 3)
	kind, id := parts[0], ""
	switch {
	case kind == "global":
		key = strings.Join(parts[1:], "/")
	case (kind == "flow" || kind == "node") && len(parts) >= 2 && parts[1] != "":
		id = parts[1]
		if len(parts) == 3 {
			key = parts[2]
		}
	default:
		writeJSON(w, http.StatusNotFound, apiError{Code: "not_found", Message: "use /context/global, /context/flow/:id or /context/node/:id, with an optional /:key"})
		return nil, "", false
	}
	sc, found := s.eng.ContextScope(kind, id)
	if !found {
		writeJSON(w, http.StatusNotFound, apiError{Code: "not_found", Message: "no running node " + id})
		return nil, "", false
	}
	return sc, key, true
}

// encodeValue is Node-RED's encoding of a context value for the sidebar:
// msg is the string itself or the value's JSON, format its kind.
func encodeValue(v any) map[string]any {
	if s, ok := v.(string); ok {
		return map[string]any{"msg": s, "format": formatOf(v)}
	}
	return map[string]any{"msg": string(msg.Marshal(v)), "format": formatOf(v)}
}

// getContext answers as Node-RED does: {store: {key: {msg, format}}} for a
// whole scope, {store: {msg, format}} for one key (stores without it left
// out); ?store= narrows to one store.
func (s *Server) getContext(w http.ResponseWriter, r *http.Request) {
	sc, key, ok := s.contextTarget(w, r)
	if !ok {
		return
	}
	stores := s.eng.ContextStores()
	if st := r.URL.Query().Get("store"); st != "" {
		found := false
		for _, x := range stores {
			found = found || x == st
		}
		if !found {
			writeJSON(w, http.StatusBadRequest, apiError{Code: "invalid_request", Message: "unknown context store " + st + " (stores: " + strings.Join(stores, ", ") + ")"})
			return
		}
		stores = []string{st}
	}
	out := map[string]any{}
	for _, st := range stores {
		if key != "" {
			v, err := sc.Get(key, st)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, apiError{Code: "invalid_request", Message: err.Error()})
				return
			}
			if !msg.IsUndefined(v) {
				out[st] = encodeValue(v)
			}
			continue
		}
		keys, err := sc.Keys(st)
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, apiError{Code: "context_error", Message: err.Error()})
			return
		}
		vals := map[string]any{}
		for _, k := range keys {
			if v, err := sc.Get(k, st); err == nil && !msg.IsUndefined(v) {
				vals[k] = encodeValue(v)
			}
		}
		out[st] = vals
	}
	writeJSON(w, http.StatusOK, out)
}

// deleteContext removes one key (from ?store=, else the default store).
func (s *Server) deleteContext(w http.ResponseWriter, r *http.Request) {
	sc, key, ok := s.contextTarget(w, r)
	if !ok {
		return
	}
	if key == "" {
		writeJSON(w, http.StatusBadRequest, apiError{Code: "invalid_request", Message: "name the key to delete: /context/.../:key"})
		return
	}
	st := r.URL.Query().Get("store")
	if st == "" {
		st = s.eng.ContextStores()[0]
	}
	if err := sc.Set(key, msg.Undefined{}, st); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Code: "invalid_request", Message: err.Error()})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
