package mcpguard

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/mcpguard/pin"
)

// Verdict is what the proxy decided about one listed tool.
type Verdict struct {
	Tool  *mcp.Tool
	Check Check
	// Pin is the tool's pin after this listing; zero when Check.Problem
	// is set or the tool is a duplicate.
	Pin pin.Pin
	// Listed reports whether the client sees the tool.
	Listed bool
	// Code says why a tool is withheld (CodeToolFlagged, …); "" if listed.
	Code string
	// Shadows names the other pinned servers with a tool of this name.
	Shadows []string
}

// pinRetries bounds the compare-and-set retries when proxies sharing a
// store observe the same tool at once.
const pinRetries = 4

// Vet checks the upstream's tools, updates their pins and returns a
// verdict for each, in the upstream's order. An error (the pin store or
// the audit log failed) means nothing may be listed.
func (p *Proxy) Vet(ctx context.Context, tools []*mcp.Tool) ([]Verdict, error) {
	vs := make([]Verdict, len(tools))
	count := map[string]int{}
	var names []string
	for i, t := range tools {
		vs[i] = Verdict{Tool: t, Check: CheckTool(t)}
		if vs[i].Check.Problem == "" {
			if count[t.Name]++; count[t.Name] == 1 {
				names = append(names, t.Name)
			}
		}
	}
	// One query finds this server's pins and, for shadowing, the other
	// servers' pins of the same names.
	var stored []pin.Pin
	if len(names) > 0 {
		var err error
		if stored, err = p.opts.Pins.ListPins(ctx, pin.Filter{Tools: names, Limit: pin.MaxLimit}); err != nil {
			return nil, fmt.Errorf("%s: reading the pins of server %s: %w", CodePinUnavailable, p.opts.Name, err)
		}
	}
	mine := map[string]*pin.Pin{}
	others := map[string][]string{}
	for i := range stored {
		sp := &stored[i]
		if sp.Server == p.opts.Name {
			mine[sp.Tool] = sp
		} else {
			others[sp.Tool] = append(others[sp.Tool], sp.Server)
		}
	}
	for i := range vs {
		v := &vs[i]
		c := v.Check
		switch {
		case c.Problem != "":
			v.Code = c.Problem
			p.flagOnce(ctx, "problem", c.Name, c.Problem, func() audit.Event {
				return toolEvent(p.toolName(c.Name), decision.Deny, c.Problem, "the upstream's definition of this tool cannot be pinned; it is not listed", c.Detail)
			})
			continue
		case count[c.Name] > 1:
			v.Code = CodeToolDuplicate
			p.flagOnce(ctx, "duplicate", c.Name, "", func() audit.Event {
				return toolEvent(p.toolName(c.Name), decision.Deny, CodeToolDuplicate, "the upstream lists this tool more than once; none is listed", "")
			})
			continue
		}
		np, err := p.observe(ctx, mine[c.Name], c)
		if err != nil {
			return nil, err
		}
		v.Pin, v.Listed = np, np.Listed()
		if !v.Listed {
			v.Code = withheldCode(np)
		}
		if sh := others[c.Name]; len(sh) > 0 {
			v.Shadows = sh
			p.flagOnce(ctx, "shadow", c.Name, strings.Join(sh, ","), func() audit.Event {
				return toolEvent(p.toolName(c.Name), decision.Notify, CodeToolShadows,
					"a tool of this name is also pinned for server(s) "+strings.Join(sh, ", ")+"; a model may call the wrong one",
					"servers: "+strings.Join(sh, ", "))
			})
		}
	}
	return vs, nil
}

// withheldCode is why a pin keeps its tool from the client.
func withheldCode(p pin.Pin) string {
	if p.Status == pin.Flagged {
		return CodeToolFlagged
	}
	return CodeToolChanged
}

// observe records a sighting of c against its stored pin (nil when none)
// and returns the pin in force. A transition is written to the audit log
// before the pin changes, so that no withheld or newly trusted tool goes
// unrecorded.
func (p *Proxy) observe(ctx context.Context, cur *pin.Pin, c Check) (pin.Pin, error) {
	s := pin.Sighting{Hash: c.Hash, Findings: c.Findings, Definition: c.Definition}
	for try := 0; ; try++ {
		next, ev := pin.Observe(cur, p.opts.Name, c.Name, s, p.opts.Now())
		if ev == pin.Unchanged {
			return next, nil
		}
		if err := p.record(ctx, pinEvent(p.toolName(c.Name), next, ev)); err != nil {
			return pin.Pin{}, fmt.Errorf("audit.unavailable: recording %s of tool %s: %w", ev, c.Name, err)
		}
		p.logPin(next, ev)
		var err error
		if cur == nil {
			err = p.opts.Pins.CreatePin(ctx, next)
		} else {
			err = p.opts.Pins.UpdatePin(ctx, next)
		}
		if err == nil {
			return next, nil
		}
		if !errors.Is(err, pin.ErrConflict) && !errors.Is(err, pin.ErrNotFound) || try >= pinRetries {
			return pin.Pin{}, fmt.Errorf("%s: pinning tool %s of server %s: %w", CodePinUnavailable, c.Name, p.opts.Name, err)
		}
		// Another proxy changed the pin meanwhile: judge against its copy.
		got, gerr := p.opts.Pins.GetPin(ctx, p.opts.Name, c.Name)
		switch {
		case gerr == nil:
			cur = &got
		case errors.Is(gerr, pin.ErrNotFound):
			cur = nil
		default:
			return pin.Pin{}, fmt.Errorf("%s: reading the pin of tool %s: %w", CodePinUnavailable, c.Name, gerr)
		}
	}
}

func (p *Proxy) logPin(np pin.Pin, ev pin.Event) {
	attrs := []any{"tool", np.Tool, "status", np.Status, "hash", short(np.Seen)}
	if len(np.Findings) > 0 {
		attrs = append(attrs, "findings", strings.Join(np.Findings, ","))
	}
	switch ev {
	case pin.New, pin.Reverted:
		p.log.Info("mcp tool "+string(ev), attrs...)
	default:
		p.log.Warn("mcp tool withheld until approved ("+string(ev)+"): sentinel mcp pins approve "+np.Server+" "+np.Tool, attrs...)
	}
}

// flagOnce records and logs a finding the first time this process sees it.
func (p *Proxy) flagOnce(ctx context.Context, kind, tool, what string, ev func() audit.Event) {
	key := kind + "\x00" + tool + "\x00" + what
	p.mu.Lock()
	if p.flagged[key] || len(p.flagged) >= maxFlagged {
		p.mu.Unlock()
		return
	}
	p.flagged[key] = true
	p.mu.Unlock()
	e := ev()
	p.log.Warn("mcp tool flagged", "tool", e.Tool, "code", e.Decision.Reasons[0].Code, "detail", e.Decision.Reasons[0].Detail)
	if err := p.record(ctx, e); err != nil {
		p.log.Error("mcp tool flag not recorded in the audit log", "tool", e.Tool, "error", err)
	}
}

// maxFlagged bounds the findings remembered so as not to repeat them.
const maxFlagged = 4096

func (p *Proxy) toolName(tool string) string { return "mcp__" + p.opts.Name + "__" + tool }

// toolEvent is the audit record of a verdict on a tool (not a call).
func toolEvent(tool string, a decision.Action, code, msg, detail string) audit.Event {
	return audit.Event{Type: audit.TypeDecision, DecisionID: decision.NewID(), Tool: tool, Kind: "mcp",
		Decision: &audit.Decision{Action: a.String(), Reasons: []audit.Reason{{Gate: "mcpguard", Code: code, Action: a.String(),
			Message: msg, Detail: clip(detail, 512)}}}}
}

// pinEvent is the audit record of a pin transition.
func pinEvent(tool string, np pin.Pin, ev pin.Event) audit.Event {
	detail := fmt.Sprintf("seen %s approved %s", np.Seen, orNone(np.Approved))
	if len(np.Findings) > 0 {
		detail += " findings " + strings.Join(np.Findings, ",")
	}
	switch ev {
	case pin.New:
		return toolEvent(tool, decision.Allow, CodeToolPinned, "first seen with a clean definition; pinned and listed", detail)
	case pin.Reverted:
		return toolEvent(tool, decision.Allow, CodeToolReverted, "the approved definition is back; listed", detail)
	case pin.NewFlagged, pin.Rescanned:
		return toolEvent(tool, decision.Deny, CodeToolFlagged,
			"the definition carries instructions or hidden text aimed at the model ("+strings.Join(np.Findings, ", ")+"); not listed until approved", detail)
	}
	return toolEvent(tool, decision.Deny, withheldCode(np), "the definition differs from the approved one; not listed until approved", detail)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// listable returns the tools of vs the client may see.
func listable(vs []Verdict) []*mcp.Tool {
	out := []*mcp.Tool{}
	for _, v := range vs {
		if v.Listed {
			out = append(out, v.Tool)
		}
	}
	return out
}
