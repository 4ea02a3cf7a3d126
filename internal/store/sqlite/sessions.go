package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sentinel-agent/sentinel/internal/taint"
)

var _ taint.Shared = (*Store)(nil)

// SessionFlags implements taint.Shared.
func (s *Store) SessionFlags(ctx context.Context, session string) ([]taint.Source, error) {
	if err := checkSession(session); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	rows, err := s.w.QueryContext(ctx, "SELECT body FROM session_flags WHERE session = ? ORDER BY at LIMIT ?", session, taint.MaxSharedSources)
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading session flags from %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []taint.Source
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("sqlite: reading session flags from %s: %w", s.path, err)
		}
		var src taint.Source
		if err := json.Unmarshal(body, &src); err != nil {
			return nil, fmt.Errorf("sqlite: a session flag in %s is not JSON: %w", s.path, err)
		}
		out = append(out, src)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: reading session flags from %s: %w", s.path, err)
	}
	return out, nil
}

// MarkSession implements taint.Shared.
func (s *Store) MarkSession(ctx context.Context, session string, src taint.Source) error {
	if err := checkSession(session); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	body, err := json.Marshal(src)
	if err != nil {
		return fmt.Errorf("sqlite: encoding a session flag: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, "INSERT INTO session_flags (session, flag, at, body) VALUES (?, ?, ?, ?)",
		session, string(src.Flag), src.Time.UTC().Format(timeLayout), body); err != nil {
		return fmt.Errorf("sqlite: storing a session flag in %s: %w", s.path, err)
	}
	return nil
}

// EndSession implements taint.Shared.
func (s *Store) EndSession(ctx context.Context, session string) error {
	if err := checkSession(session); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, "DELETE FROM session_flags WHERE session = ?", session); err != nil {
		return fmt.Errorf("sqlite: forgetting session flags in %s: %w", s.path, err)
	}
	return nil
}

// PruneSessionFlags implements taint.Shared.
func (s *Store) PruneSessionFlags(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, "DELETE FROM session_flags WHERE at < ?", before.UTC().Format(timeLayout))
	if err != nil {
		return 0, fmt.Errorf("sqlite: pruning session flags in %s: %w", s.path, err)
	}
	return res.RowsAffected()
}

func checkSession(session string) error {
	if session == "" || len(session) > taint.MaxSessionBytes {
		return fmt.Errorf("a session id of %d bytes (1 to %d)", len(session), taint.MaxSessionBytes)
	}
	return nil
}
