package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sentinel-agent/sentinel/internal/taint"
)

var _ taint.Shared = (*Store)(nil)

// SessionFlags implements taint.Shared.
func (s *Store) SessionFlags(ctx context.Context, session string) ([]taint.Source, error) {
	if err := checkSession(session); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	var out []taint.Source
	err := s.withConn(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, "SELECT body FROM session_flags WHERE session = $1 ORDER BY at LIMIT $2", session, taint.MaxSharedSources)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var body []byte
			if err := rows.Scan(&body); err != nil {
				return err
			}
			var src taint.Source
			if err := json.Unmarshal(body, &src); err != nil {
				return fmt.Errorf("a session flag is not JSON: %w", err)
			}
			out = append(out, src)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: reading session flags from schema %s: %w", s.schema, err)
	}
	return out, nil
}

// MarkSession implements taint.Shared.
func (s *Store) MarkSession(ctx context.Context, session string, src taint.Source) error {
	if err := checkSession(session); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	body, err := json.Marshal(src)
	if err != nil {
		return fmt.Errorf("postgres: encoding a session flag: %w", err)
	}
	err = s.withConn(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, "INSERT INTO session_flags (session, flag, at, body) VALUES ($1, $2, $3, $4)",
			session, string(src.Flag), src.Time, body)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: storing a session flag in schema %s: %w", s.schema, err)
	}
	return nil
}

// EndSession implements taint.Shared.
func (s *Store) EndSession(ctx context.Context, session string) error {
	if err := checkSession(session); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	err := s.withConn(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, "DELETE FROM session_flags WHERE session = $1", session)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: forgetting session flags in schema %s: %w", s.schema, err)
	}
	return nil
}

// PruneSessionFlags implements taint.Shared.
func (s *Store) PruneSessionFlags(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.withConn(ctx, func(c *pgx.Conn) error {
		tag, err := c.Exec(ctx, "DELETE FROM session_flags WHERE at < $1", before)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: pruning session flags in schema %s: %w", s.schema, err)
	}
	return n, nil
}

func checkSession(session string) error {
	if session == "" || len(session) > taint.MaxSessionBytes {
		return fmt.Errorf("a session id of %d bytes (1 to %d)", len(session), taint.MaxSessionBytes)
	}
	return nil
}
