package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/mcpguard/pin"
)

var _ pin.Store = (*Store)(nil)

// GetPin implements pin.Store.
func (s *Store) GetPin(ctx context.Context, server, tool string) (pin.Pin, error) {
	if !pin.ValidServer(server) || !pin.ValidTool(tool) {
		return pin.Pin{}, fmt.Errorf("sqlite: pin %.70q/%.140q: %w", server, tool, pin.ErrNotFound)
	}
	ps, err := s.pins(ctx, "SELECT server, tool, status, version, body FROM mcp_pins WHERE server = ? AND tool = ?", server, tool)
	if err != nil {
		return pin.Pin{}, fmt.Errorf("sqlite: reading pin %s/%s from %s: %w", server, tool, s.path, err)
	}
	if len(ps) == 0 {
		return pin.Pin{}, fmt.Errorf("sqlite: pin %s/%s in %s: %w", server, tool, s.path, pin.ErrNotFound)
	}
	return ps[0], nil
}

// ListPins implements pin.Store.
func (s *Store) ListPins(ctx context.Context, f pin.Filter) ([]pin.Pin, error) {
	f, err := f.Normalize()
	if err != nil {
		return nil, fmt.Errorf("sqlite: listing pins: %w", err)
	}
	var conds []string
	var args []any
	if f.Server != "" {
		conds, args = append(conds, "server = ?"), append(args, f.Server)
	}
	if len(f.Tools) > 0 {
		names, err := json.Marshal(f.Tools)
		if err != nil {
			return nil, fmt.Errorf("sqlite: listing pins: %w", err)
		}
		// One parameter whatever the count, far from SQLite's variable limit.
		conds, args = append(conds, "tool IN (SELECT value FROM json_each(?))"), append(args, string(names))
	}
	if f.Status != "" {
		conds, args = append(conds, "status = ?"), append(args, string(f.Status))
	}
	q := "SELECT server, tool, status, version, body FROM mcp_pins"
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += " ORDER BY server, tool LIMIT ?"
	ps, err := s.pins(ctx, q, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: listing pins in %s: %w", s.path, err)
	}
	return ps, nil
}

// CreatePin implements pin.Store.
func (s *Store) CreatePin(ctx context.Context, p pin.Pin) error {
	if err := p.Check(); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if p.Version != 1 {
		return fmt.Errorf("sqlite: pin %s/%s: %w: a new pin is at version 1, not %d", p.Server, p.Tool, pin.ErrInvalid, p.Version)
	}
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("sqlite: encoding pin %s/%s: %w", p.Server, p.Tool, err)
	}
	_, err = s.w.ExecContext(ctx, "INSERT INTO mcp_pins (server, tool, status, version, updated_at, body) VALUES (?, ?, ?, ?, ?, ?)",
		p.Server, p.Tool, string(p.Status), p.Version, p.UpdatedAt.UTC().Format(timeLayout), body)
	if isConstraint(err) {
		return fmt.Errorf("sqlite: pin %s/%s is already in %s: %w", p.Server, p.Tool, s.path, pin.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlite: storing pin %s/%s in %s: %w", p.Server, p.Tool, s.path, err)
	}
	return nil
}

// UpdatePin implements pin.Store.
func (s *Store) UpdatePin(ctx context.Context, p pin.Pin) error {
	if err := p.Check(); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if p.Version < 2 {
		return fmt.Errorf("sqlite: pin %s/%s: %w: an update carries version 2 or later, not %d", p.Server, p.Tool, pin.ErrInvalid, p.Version)
	}
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("sqlite: encoding pin %s/%s: %w", p.Server, p.Tool, err)
	}
	res, err := s.w.ExecContext(ctx, "UPDATE mcp_pins SET status = ?, version = ?, updated_at = ?, body = ? WHERE server = ? AND tool = ? AND version = ?",
		string(p.Status), p.Version, p.UpdatedAt.UTC().Format(timeLayout), body, p.Server, p.Tool, p.Version-1)
	if err != nil {
		return fmt.Errorf("sqlite: updating pin %s/%s in %s: %w", p.Server, p.Tool, s.path, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: updating pin %s/%s in %s: %w", p.Server, p.Tool, s.path, err)
	}
	if n == 1 {
		return nil
	}
	var version int64
	err = s.w.QueryRowContext(ctx, "SELECT version FROM mcp_pins WHERE server = ? AND tool = ?", p.Server, p.Tool).Scan(&version)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlite: updating pin %s/%s in %s: %w", p.Server, p.Tool, s.path, pin.ErrNotFound)
	case err != nil:
		return fmt.Errorf("sqlite: updating pin %s/%s in %s: %w", p.Server, p.Tool, s.path, err)
	}
	return fmt.Errorf("sqlite: pin %s/%s is at version %d, not %d, in %s: %w", p.Server, p.Tool, version, p.Version-1, s.path, pin.ErrConflict)
}

// pins runs a query returning server, tool, status, version, body.
func (s *Store) pins(ctx context.Context, q string, args ...any) ([]pin.Pin, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pin.Pin
	for rows.Next() {
		var server, tool, status string
		var version int64
		var body []byte
		if err := rows.Scan(&server, &tool, &status, &version, &body); err != nil {
			return nil, err
		}
		p, err := decodePin(server, tool, status, version, body)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// decodePin reads a stored pin and checks that it is the row it came from.
func decodePin(server, tool, status string, version int64, body []byte) (pin.Pin, error) {
	if len(body) > maxBody {
		return pin.Pin{}, fmt.Errorf("pin %s/%s: stored body is %d bytes, over %d", server, tool, len(body), maxBody)
	}
	var p pin.Pin
	if err := json.Unmarshal(body, &p); err != nil {
		return pin.Pin{}, fmt.Errorf("pin %s/%s: stored body is not a pin: %w", server, tool, err)
	}
	if p.Server != server || p.Tool != tool || string(p.Status) != status || p.Version != version {
		return pin.Pin{}, fmt.Errorf("pin %.70s/%.140s: its row and its body disagree (server, tool, status or version); the table was changed outside Sentinel", server, tool)
	}
	if err := p.Check(); err != nil {
		return pin.Pin{}, fmt.Errorf("stored %w", err)
	}
	return p, nil
}
