package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/sentinel-agent/sentinel/internal/auth"
	"github.com/sentinel-agent/sentinel/internal/memory"
)

// memoryErr maps a memory error to an API error: what the caller got
// wrong is a 400 with the memory's code, a missing record a 404.
func memoryErr(err error) error {
	code := memory.Code(err)
	switch {
	case errors.Is(err, memory.ErrNotFound):
		return errorf(http.StatusNotFound, "memory.not_found", "%v", err)
	case code == "" || code == "memory.config":
		return errorf(http.StatusServiceUnavailable, "memory.unavailable", "%v", err)
	}
	return errorf(http.StatusBadRequest, code, "%v", err)
}

func (s *Server) mem() (*memory.Memory, error) {
	if s.opts.Memory == nil {
		return nil, errorf(http.StatusNotImplemented, "not_implemented.memory", "this server has no memory; start it with a store that keeps one")
	}
	return s.opts.Memory, nil
}

// memoryWrite is POST /v1/memory: one semantic memory.
type memoryWrite struct {
	// Kind is preference, fact, rule, project or glossary.
	Kind string `json:"kind"`
	// Key is the preference's name, the project's name or the term.
	Key  string `json:"key,omitempty"`
	Text string `json:"text"`
	// Session and Source say where it came from; a tool's output is
	// untrusted unless the client says otherwise.
	Session string `json:"session,omitempty"`
	Source  *struct {
		Kind    string `json:"kind"`
		Tool    string `json:"tool,omitempty"`
		Trusted *bool  `json:"trusted,omitempty"`
	} `json:"source,omitempty"`
}

func (s *Server) memoryWrite(w http.ResponseWriter, r *http.Request, c auth.Client) error {
	var req memoryWrite
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	src := memory.Source{Kind: "agent", Trusted: true, Session: req.Session}
	if req.Source != nil {
		src.Kind, src.Tool = req.Source.Kind, req.Source.Tool
		src.Trusted = req.Source.Kind != "tool"
		if req.Source.Trusted != nil {
			src.Trusted = *req.Source.Trusted
		}
	}
	return s.putMemory(w, r, req.Kind, req.Key, req.Text, src)
}

func (s *Server) putMemory(w http.ResponseWriter, r *http.Request, kind, key, text string, src memory.Source) error {
	m, err := s.mem()
	if err != nil {
		return err
	}
	ctx := r.Context()
	var rec memory.Record
	switch kind {
	case memory.KindPreference:
		rec, err = m.SetPreference(ctx, src, key, text)
	case memory.KindFact:
		rec, err = m.AddFact(ctx, src, text)
	case memory.KindRule:
		rec, err = m.AddRule(ctx, src, text)
	case memory.KindProject:
		rec, err = m.SetProject(ctx, src, key, text)
	case memory.KindGlossary:
		rec, err = m.Define(ctx, src, key, text)
	default:
		return errorf(http.StatusBadRequest, "request.invalid_field", "\"kind\" is %q; use preference, fact, rule, project or glossary", clip(kind))
	}
	if err != nil {
		return memoryErr(err)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"ok": true, "id": rec.ID, "kind": rec.Kind, "trusted": rec.Source.Trusted,
		"confidence": rec.Confidence})
}

// memoryContext is GET /v1/memory/context?session=&budget=.
func (s *Server) memoryContext(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	return s.contextFor(w, r, r.URL.Query().Get("session"))
}

func (s *Server) contextFor(w http.ResponseWriter, r *http.Request, session string) error {
	m, err := s.mem()
	if err != nil {
		return err
	}
	budget := 2000
	if b := r.URL.Query().Get("budget"); b != "" {
		n, err := strconv.Atoi(b)
		if err != nil || n < 1 || n > 100_000 {
			return errorf(http.StatusBadRequest, "request.invalid_field", "\"budget\" is %q; use 1 to 100000 tokens", clip(b))
		}
		budget = n
	}
	if session == "" {
		session = "http_session"
	}
	text, err := m.InjectContext(r.Context(), session, budget)
	if err != nil {
		return memoryErr(err)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"context": text, "session": session, "budget": budget})
}

// memorySearch is GET /v1/memory/search?q=&limit=.
func (s *Server) memorySearch(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	m, err := s.mem()
	if err != nil {
		return err
	}
	q := r.URL.Query().Get("q")
	if q == "" || len(q) > 1024 {
		return errorf(http.StatusBadRequest, "request.invalid_field", "\"q\" is required, at most 1024 bytes")
	}
	limit := 20
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return errorf(http.StatusBadRequest, "request.invalid_field", "\"limit\" is %q; use 1 to 1000", clip(l))
		}
		limit = n
	}
	recs, err := m.Search(r.Context(), q, limit)
	if err != nil {
		return memoryErr(err)
	}
	if recs == nil {
		recs = []memory.Record{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"records": recs})
}

// memoryForget is DELETE /v1/memory/{id}.
func (s *Server) memoryForget(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	m, err := s.mem()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := m.Forget(r.Context(), id); err != nil {
		return memoryErr(err)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"ok": true, "id": id})
}

// The seed's memory endpoints.

func (s *Server) seedMemoryPreference(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	var req struct {
		Key       string `json:"key"`
		Value     string `json:"value"`
		SessionID string `json:"sessionId"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	return s.putMemory(w, r, memory.KindPreference, req.Key, req.Value, memory.Source{Kind: "user", Trusted: true, Session: req.SessionID})
}

func (s *Server) seedMemoryFact(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	var req struct {
		Fact      string `json:"fact"`
		SessionID string `json:"sessionId"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	return s.putMemory(w, r, memory.KindFact, "", req.Fact, memory.Source{Kind: "user", Trusted: true, Session: req.SessionID})
}

func (s *Server) seedMemoryRule(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	var req struct {
		Rule   string `json:"rule"`
		Source string `json:"source"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	// The seed's source names the session the rule was learned in.
	return s.putMemory(w, r, memory.KindRule, "", req.Rule, memory.Source{Kind: "agent", Trusted: true, Session: req.Source})
}

func (s *Server) seedMemoryContext(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	return s.contextFor(w, r, r.URL.Query().Get("sessionId"))
}
