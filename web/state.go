package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"
)

func (s *Server) flowsState() string {
	if s.eng.Health().State == "stopped" {
		return "stop"
	}
	return "start"
}

// getFlowsState is Node-RED's GET /flows/state: {"state":"start"|"stop"}.
func (s *Server) getFlowsState(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"state": s.flowsState()})
}

// postFlowsState stops or starts the flows without changing them
// ({"state":"stop"|"start"}); the editor hears
// notification/runtime-state.
func (s *Server) postFlowsState(w http.ResponseWriter, r *http.Request) {
	if s.opts.ReadOnly {
		writeJSON(w, http.StatusForbidden, apiError{Code: "readonly", Message: "flows are read-only on this server (--flows-readonly)"})
		return
	}
	var body struct {
		State string `json:"state"`
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
	if err := json.Unmarshal(b, &body); err != nil || (body.State != "start" && body.State != "stop") {
		if vals, err := formOrJSONBytes(r, b); err == nil && vals != "" {
			body.State = vals
		}
	}
	if body.State != "start" && body.State != "stop" {
		writeJSON(w, http.StatusBadRequest, apiError{Code: "invalid_request", Message: `body must be {"state":"start"} or {"state":"stop"}`})
		return
	}
	s.deployMu.Lock()
	var err error
	if body.State == "stop" {
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		err = s.eng.Stop(ctx)
		cancel()
	} else {
		err = s.eng.Restart()
	}
	s.deployMu.Unlock()
	if err != nil {
		s.opts.Logger.Warn("flows state change", "state", body.State, "err", err)
	}
	state := s.flowsState()
	s.hub.broadcast(commsMessage{Topic: "notification/runtime-state", Data: map[string]string{"state": state}})
	writeJSON(w, http.StatusOK, map[string]string{"state": state})
}

// formOrJSONBytes reads state= from a form body (Node-RED's admin client
// posts forms).
func formOrJSONBytes(r *http.Request, b []byte) (string, error) {
	if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		return "", nil
	}
	v, err := parseQuery(string(b))
	if err != nil {
		return "", err
	}
	return v.Get("state"), nil
}
