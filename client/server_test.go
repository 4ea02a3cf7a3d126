package client_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-agent/sentinel/internal/approval"
	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/auth"
	"github.com/sentinel-agent/sentinel/internal/kernel"
	"github.com/sentinel-agent/sentinel/internal/policy"
	"github.com/sentinel-agent/sentinel/internal/server"
	"github.com/sentinel-agent/sentinel/internal/store/sqlite"
)

// testServer is the real HTTP API on a SQLite store in dir, with an
// agent client (scope check) and an operator (approvals:decide).
type testServer struct {
	URL           string
	AgentToken    string
	OperatorToken string
	store         *sqlite.Store
	stop          func()
}

// startServer builds the server the way `sentinel server` does, with the
// built-in policy. Close stops it.
func startServer(dir string) (*testServer, error) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "audit.db"), sqlite.Options{})
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*testServer, error) {
		st.Close()
		return nil, err
	}
	key, err := audit.NewKey()
	if err != nil {
		return fail(err)
	}
	alog, err := audit.Open(ctx, st, audit.Options{Mode: audit.Sync, Key: key})
	if err != nil {
		return fail(err)
	}
	src := []byte("version: 1\nextends: builtin\n")
	policyPath := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policyPath, src, 0o600); err != nil {
		return fail(err)
	}
	p, err := policy.Load(policyPath)
	if err != nil {
		return fail(err)
	}
	ws := filepath.Join(dir, "ws")
	if err := os.Mkdir(ws, 0o700); err != nil {
		return fail(err)
	}
	k, err := kernel.New(p, kernel.Options{Workspace: ws, Home: dir, KeepLastGood: true, Recorder: alog})
	if err != nil {
		return fail(err)
	}
	ts := &testServer{store: st}
	var cfg auth.Config
	for _, c := range []struct {
		name  string
		scope string
		tok   *string
	}{{"agent", "check", &ts.AgentToken}, {"ops", "approvals:decide", &ts.OperatorToken}} {
		tok, hash, err := auth.NewToken()
		if err != nil {
			return fail(err)
		}
		*c.tok = tok
		cfg.Clients = append(cfg.Clients, auth.ClientConfig{Name: c.name, Scopes: []string{c.scope}, Tokens: []string{hash}})
	}
	authn, err := auth.New(cfg)
	if err != nil {
		return fail(err)
	}
	srv, err := server.New(server.Options{Kernel: k, Log: alog, Store: st,
		Approvals: approval.New(st, approval.Options{TTL: time.Minute, Poll: 20 * time.Millisecond}),
		Auth:      authn, Policy: server.NewPolicyHolder(k, policyPath, src, p), Registry: prometheus.NewRegistry(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxWait: 5 * time.Second, Version: "test"})
	if err != nil {
		return fail(err)
	}
	hs := httptest.NewServer(srv.Handler())
	ts.URL = hs.URL
	ts.stop = func() {
		hs.Close()
		_ = alog.Close(context.Background())
		st.Close()
	}
	return ts, nil
}

func (s *testServer) Close() { s.stop() }

// newTestServer starts a server for t and stops it when t ends.
func newTestServer(t *testing.T) *testServer {
	t.Helper()
	ts, err := startServer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ts.Close)
	return ts
}

// approve votes for the approval as the operator, over HTTP.
func (s *testServer) approve(id string) error {
	req, err := http.NewRequest(http.MethodPost, s.URL+"/v1/approvals/"+id+"/approve", strings.NewReader(`{"approver":"alice"}`))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.OperatorToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return errors.New(resp.Status + ": " + string(b))
	}
	return nil
}

// events returns the audit events of the given type.
func (s *testServer) events(t *testing.T, typ string) []*audit.Event {
	t.Helper()
	var out []*audit.Event
	err := s.store.Scan(context.Background(), 1, func(r audit.Record) error {
		if r.Type != typ {
			return nil
		}
		e, err := audit.Decode(r.Body)
		if err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
