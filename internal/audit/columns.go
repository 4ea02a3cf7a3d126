package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// columns are the fields of an event's body that a store keeps in query
// columns beside it (Record's EventID … Verify).
type columns struct {
	ID         string `json:"id"`
	Time       string `json:"time"`
	Type       string `json:"type"`
	DecisionID string `json:"decision_id"`
	Session    string `json:"session"`
	Agent      string `json:"agent"`
	Tool       string `json:"tool"`
	Kind       string `json:"kind"`
	Action     string
	Risk       float64
	Verify     string
}

// columnMismatch names the first query column of r that differs from what
// its body says, or returns "". The hash covers the body; queries read the
// columns: a column changed to hide an event from a filter ("action =
// deny") is a changed event too.
func columnMismatch(r Record) string {
	c, err := bodyColumns(r.Body)
	if err != nil {
		return "its body is not an event: " + err.Error()
	}
	for _, f := range [...]struct{ name, col, body string }{
		{"event id", r.EventID, c.ID}, {"type", r.Type, c.Type}, {"decision id", r.DecisionID, c.DecisionID},
		{"session", r.Session, c.Session}, {"agent", r.Agent, c.Agent}, {"tool", r.Tool, c.Tool},
		{"kind", r.Kind, c.Kind}, {"action", r.Action, c.Action}, {"verify", r.Verify, c.Verify},
	} {
		if f.col != f.body {
			return fmt.Sprintf("its %s column says %q, the event %q", f.name, clip(f.col, 80), clip(f.body, 80))
		}
	}
	if math.Abs(r.Risk-c.Risk) > 1e-9*max(1, math.Abs(c.Risk)) {
		return fmt.Sprintf("its risk column says %g, the event %g", r.Risk, c.Risk)
	}
	t, err := time.Parse(time.RFC3339Nano, c.Time)
	if err != nil {
		return fmt.Sprintf("its time %q is not a time", clip(c.Time, 80))
	}
	// PostgreSQL keeps microseconds.
	if d := t.Sub(r.Time); d >= time.Microsecond || d <= -time.Microsecond {
		return fmt.Sprintf("its time column says %s, the event %s", r.Time.UTC().Format(time.RFC3339Nano), c.Time)
	}
	return ""
}

// bodyColumns reads the column fields out of an event body, skipping the
// rest (arguments, analysis, reasons) without decoding it: verification
// reads every event, and a full decode would cost it more than the hash.
func bodyColumns(b []byte) (columns, error) {
	var c columns
	p := &jsonScan{b: b}
	err := p.object(func(key []byte) error {
		var dst *string
		switch string(key) {
		case "id":
			dst = &c.ID
		case "time":
			dst = &c.Time
		case "type":
			dst = &c.Type
		case "decision_id":
			dst = &c.DecisionID
		case "session":
			dst = &c.Session
		case "agent":
			dst = &c.Agent
		case "tool":
			dst = &c.Tool
		case "kind":
			dst = &c.Kind
		case "decision":
			return p.object(func(k []byte) error {
				switch string(k) {
				case "action":
					return p.str(&c.Action)
				case "risk":
					return p.object(func(k []byte) error {
						if string(k) == "score" {
							return p.number(&c.Risk)
						}
						return p.skip()
					})
				}
				return p.skip()
			})
		case "verify":
			return p.object(func(k []byte) error {
				if string(k) == "status" {
					return p.str(&c.Verify)
				}
				return p.skip()
			})
		default:
			return p.skip()
		}
		return p.str(dst)
	})
	if err == nil && p.ws() < len(b) {
		err = errors.New("data after the event")
	}
	return c, err
}

// jsonScan reads JSON from b at i: just what bodyColumns needs.
type jsonScan struct {
	b []byte
	i int
}

var errJSON = errors.New("malformed JSON")

// ws skips white space and returns the position.
func (p *jsonScan) ws() int {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\n' || p.b[p.i] == '\t' || p.b[p.i] == '\r') {
		p.i++
	}
	return p.i
}

func (p *jsonScan) peek() byte {
	if p.ws() >= len(p.b) {
		return 0
	}
	return p.b[p.i]
}

// object reads an object, calling field with each key; field must read
// the value.
func (p *jsonScan) object(field func(key []byte) error) error {
	if p.peek() != '{' {
		return errJSON
	}
	p.i++
	if p.peek() == '}' {
		p.i++
		return nil
	}
	for {
		if p.peek() != '"' {
			return errJSON
		}
		start := p.i
		if err := p.skipString(); err != nil {
			return err
		}
		key := p.b[start+1 : p.i-1]
		if p.peek() != ':' {
			return errJSON
		}
		p.i++
		if err := field(key); err != nil {
			return err
		}
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return errJSON
		}
	}
}

// str reads a string into dst.
func (p *jsonScan) str(dst *string) error {
	if p.peek() != '"' {
		return fmt.Errorf("%w: a string was expected", errJSON)
	}
	start := p.i
	if err := p.skipString(); err != nil {
		return err
	}
	raw := p.b[start:p.i]
	if bytes.IndexByte(raw, '\\') < 0 {
		*dst = string(raw[1 : len(raw)-1])
		return nil
	}
	return json.Unmarshal(raw, dst)
}

// number reads a number into dst.
func (p *jsonScan) number(dst *float64) error {
	start := p.ws()
	for p.i < len(p.b) && bytes.IndexByte([]byte("+-.0123456789eE"), p.b[p.i]) >= 0 {
		p.i++
	}
	v, err := strconv.ParseFloat(string(p.b[start:p.i]), 64)
	if err != nil {
		return fmt.Errorf("%w: %v", errJSON, err)
	}
	*dst = v
	return nil
}

// skipString moves past the string at i.
func (p *jsonScan) skipString() error {
	for j := p.i + 1; j < len(p.b); j++ {
		switch p.b[j] {
		case '\\':
			j++
		case '"':
			p.i = j + 1
			return nil
		}
	}
	return fmt.Errorf("%w: an unterminated string", errJSON)
}

// skip moves past one value of any kind.
func (p *jsonScan) skip() error {
	switch p.peek() {
	case '"':
		return p.skipString()
	case '{', '[':
		depth := 0
		for p.i < len(p.b) {
			switch p.b[p.i] {
			case '"':
				if err := p.skipString(); err != nil {
					return err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					p.i++
					return nil
				}
			}
			p.i++
		}
		return fmt.Errorf("%w: an unterminated value", errJSON)
	case 0:
		return fmt.Errorf("%w: a value was expected", errJSON)
	default: // number, true, false, null
		start := p.i
		for p.i < len(p.b) && bytes.IndexByte([]byte(",}] \n\t\r"), p.b[p.i]) < 0 {
			p.i++
		}
		if p.i == start {
			return errJSON
		}
		return nil
	}
}
