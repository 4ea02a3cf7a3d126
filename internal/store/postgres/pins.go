package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/sentinel-agent/sentinel/internal/mcpguard/pin"
)

var _ pin.Store = (*Store)(nil)

// Names are ASCII; "C" collation orders them bytewise, as SQLite does.
const pinOrder = ` ORDER BY server COLLATE "C", tool COLLATE "C"`

// GetPin implements pin.Store.
func (s *Store) GetPin(ctx context.Context, server, tool string) (pin.Pin, error) {
	if !pin.ValidServer(server) || !pin.ValidTool(tool) {
		return pin.Pin{}, fmt.Errorf("postgres: pin %.70q/%.140q: %w", server, tool, pin.ErrNotFound)
	}
	ps, err := s.pins(ctx, "SELECT server, tool, status, version, body FROM mcp_pins WHERE server = $1 AND tool = $2", server, tool)
	if err != nil {
		return pin.Pin{}, fmt.Errorf("postgres: reading pin %s/%s from schema %s: %w", server, tool, s.schema, err)
	}
	if len(ps) == 0 {
		return pin.Pin{}, fmt.Errorf("postgres: pin %s/%s in schema %s: %w", server, tool, s.schema, pin.ErrNotFound)
	}
	return ps[0], nil
}

// ListPins implements pin.Store.
func (s *Store) ListPins(ctx context.Context, f pin.Filter) ([]pin.Pin, error) {
	f, err := f.Normalize()
	if err != nil {
		return nil, fmt.Errorf("postgres: listing pins: %w", err)
	}
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Server != "" {
		conds = append(conds, "server = "+arg(f.Server))
	}
	if len(f.Tools) > 0 {
		conds = append(conds, "tool = ANY("+arg(f.Tools)+")")
	}
	if f.Status != "" {
		conds = append(conds, "status = "+arg(string(f.Status)))
	}
	q := "SELECT server, tool, status, version, body FROM mcp_pins"
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += pinOrder + " LIMIT " + arg(f.Limit)
	ps, err := s.pins(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: listing pins in schema %s: %w", s.schema, err)
	}
	return ps, nil
}

// CreatePin implements pin.Store.
func (s *Store) CreatePin(ctx context.Context, p pin.Pin) error {
	if err := p.Check(); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if p.Version != 1 {
		return fmt.Errorf("postgres: pin %s/%s: %w: a new pin is at version 1, not %d", p.Server, p.Tool, pin.ErrInvalid, p.Version)
	}
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("postgres: encoding pin %s/%s: %w", p.Server, p.Tool, err)
	}
	err = s.withConn(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, "INSERT INTO mcp_pins (server, tool, status, version, updated_at, body) VALUES ($1, $2, $3, $4, $5, $6)",
			p.Server, p.Tool, string(p.Status), p.Version, p.UpdatedAt, body)
		return err
	})
	if isUniqueViolation(err) {
		return fmt.Errorf("postgres: pin %s/%s is already in schema %s: %w", p.Server, p.Tool, s.schema, pin.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("postgres: storing pin %s/%s in schema %s: %w", p.Server, p.Tool, s.schema, err)
	}
	return nil
}

// UpdatePin implements pin.Store.
func (s *Store) UpdatePin(ctx context.Context, p pin.Pin) error {
	if err := p.Check(); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if p.Version < 2 {
		return fmt.Errorf("postgres: pin %s/%s: %w: an update carries version 2 or later, not %d", p.Server, p.Tool, pin.ErrInvalid, p.Version)
	}
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("postgres: encoding pin %s/%s: %w", p.Server, p.Tool, err)
	}
	var updated bool
	var version int64
	err = s.withConn(ctx, func(c *pgx.Conn) error {
		tag, err := c.Exec(ctx, "UPDATE mcp_pins SET status = $1, version = $2, updated_at = $3, body = $4 WHERE server = $5 AND tool = $6 AND version = $7",
			string(p.Status), p.Version, p.UpdatedAt, body, p.Server, p.Tool, p.Version-1)
		if err != nil || tag.RowsAffected() == 1 {
			updated = err == nil
			return err
		}
		return c.QueryRow(ctx, "SELECT version FROM mcp_pins WHERE server = $1 AND tool = $2", p.Server, p.Tool).Scan(&version)
	})
	switch {
	case updated:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("postgres: updating pin %s/%s in schema %s: %w", p.Server, p.Tool, s.schema, pin.ErrNotFound)
	case err != nil:
		return fmt.Errorf("postgres: updating pin %s/%s in schema %s: %w", p.Server, p.Tool, s.schema, err)
	}
	return fmt.Errorf("postgres: pin %s/%s is at version %d, not %d, in schema %s: %w", p.Server, p.Tool, version, p.Version-1, s.schema, pin.ErrConflict)
}

// pins runs a query returning server, tool, status, version, body.
func (s *Store) pins(ctx context.Context, q string, args ...any) ([]pin.Pin, error) {
	var out []pin.Pin
	err := s.withConn(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var server, tool, status string
			var version int64
			var body []byte
			if err := rows.Scan(&server, &tool, &status, &version, &body); err != nil {
				return err
			}
			p, err := decodePin(server, tool, status, version, body)
			if err != nil {
				return err
			}
			out = append(out, p)
		}
		return rows.Err()
	})
	return out, err
}

// decodePin reads a stored pin and checks that it is the row it came from.
func decodePin(server, tool, status string, version int64, body []byte) (pin.Pin, error) {
	if len(body) > maxBody {
		return pin.Pin{}, fmt.Errorf("pin %.70s/%.140s: stored body is %d bytes, over %d", server, tool, len(body), maxBody)
	}
	var p pin.Pin
	if err := json.Unmarshal(body, &p); err != nil {
		return pin.Pin{}, fmt.Errorf("pin %.70s/%.140s: stored body is not a pin: %w", server, tool, err)
	}
	if p.Server != server || p.Tool != tool || string(p.Status) != status || p.Version != version {
		return pin.Pin{}, fmt.Errorf("pin %.70s/%.140s: its row and its body disagree (server, tool, status or version); the table was changed outside Sentinel", server, tool)
	}
	if err := p.Check(); err != nil {
		return pin.Pin{}, fmt.Errorf("stored %w", err)
	}
	return p, nil
}
