package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/redact"
	"github.com/sentinel-agent/sentinel/internal/request"
)

// maxSummaryItems bounds each list of an analysis summary.
const maxSummaryItems = 32

// DecisionEvent builds the audit event for a decided call. raw is the call
// as the host sent it; kind is its canonical kind and a the analysis when
// the kernel has them (a is nil for a decision served from the cache or
// refused before analysis). Every string that could carry a secret — the arguments,
// messages, details, paths, destinations — is redacted here, before the
// event exists.
func DecisionEvent(raw request.Raw, kind string, a *analysis.Analysis, d decision.Decision) Event {
	e := Event{
		Type: TypeDecision, DecisionID: d.DecisionID, Session: raw.Session, Agent: raw.Agent,
		Tool: raw.Tool, Kind: kind, PolicyRevision: d.PolicyRevision,
	}
	if len(raw.Args) > 0 {
		b, err := json.Marshal(clipValue(raw.Args, 0))
		if err == nil {
			var n int
			b, n, err = redact.JSON(b)
			e.Redacted = n
			if err == nil {
				e.Args = b
			}
		}
		if err != nil {
			// Not representable as JSON: keep only that it was not.
			e.Args = json.RawMessage(`{"unencodable":true}`)
		}
	}
	e.Decision = &Decision{
		Action: d.Action.String(),
		Risk: Risk{Score: d.Risk.Score, Impact: d.Risk.Dimensions.Impact, Reversibility: d.Risk.Dimensions.Reversibility,
			Sensitivity: d.Risk.Dimensions.Sensitivity, ErrorRate: d.Risk.Dimensions.ErrorRate},
		Reasons: make([]Reason, 0, len(d.Reasons)),
	}
	for _, r := range d.Reasons {
		e.Decision.Reasons = append(e.Decision.Reasons, Reason{
			Gate: r.Gate, Code: r.Code, Action: r.Action.String(),
			Message: e.text(r.Message), Detail: e.text(clip(r.Detail, 512)),
		})
	}
	if a != nil {
		e.Analysis = e.summary(a)
	}
	return e
}

// Long argument values (a file's content) are kept in the audit log as
// their beginning, their size and their digest: the log records what was
// decided, not a copy of every file, and redaction work stays bounded.
const (
	maxArgString = 8 << 10
	keptPrefix   = 2 << 10
	maxArgDepth  = 32
)

// clipValue returns v with strings longer than maxArgString shortened and
// nesting deeper than maxArgDepth cut.
func clipValue(v any, depth int) any {
	switch x := v.(type) {
	case string:
		if len(x) <= maxArgString {
			return x
		}
		sum := sha256.Sum256([]byte(x))
		return fmt.Sprintf("%s…[%d bytes, sha256:%s]", clip(x, keptPrefix), len(x), hex.EncodeToString(sum[:]))
	case map[string]any:
		if depth >= maxArgDepth {
			return "[nested too deep]"
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = clipValue(e, depth+1)
		}
		return out
	case []any:
		if depth >= maxArgDepth {
			return "[nested too deep]"
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = clipValue(e, depth+1)
		}
		return out
	}
	return v
}

// text redacts s and counts what it replaced.
func (e *Event) text(s string) string {
	if s == "" {
		return s
	}
	out, found := redact.Text(s)
	e.Redacted += len(found)
	return out
}

func (e *Event) summary(a *analysis.Analysis) *Analysis {
	s := &Analysis{Unresolved: len(a.Unresolved), ParseError: e.text(clip(a.ParseError, 256))}
	seen := map[string]bool{}
	for _, c := range a.Commands {
		if len(s.Commands) < maxSummaryItems && !seen["c"+c.Name] {
			seen["c"+c.Name] = true
			s.Commands = append(s.Commands, e.text(c.Name))
		}
	}
	for _, p := range a.Paths {
		v := string(p.Op) + " " + e.text(clip(p.Path, 256))
		if len(s.Paths) < maxSummaryItems && !seen["p"+v] {
			seen["p"+v] = true
			s.Paths = append(s.Paths, v)
		}
	}
	for _, d := range a.Dests {
		v := d.Host
		if d.Port != 0 {
			v += ":" + strconv.Itoa(d.Port)
		}
		if d.Sends {
			v += " sends"
		}
		if d.Listens {
			v += " listens"
		}
		v = e.text(v)
		if len(s.Dests) < maxSummaryItems && !seen["d"+v] {
			seen["d"+v] = true
			s.Dests = append(s.Dests, v)
		}
	}
	for _, f := range a.Findings {
		if !seen["f"+f.Code] {
			seen["f"+f.Code] = true
			s.Findings = append(s.Findings, f.Code)
		}
	}
	sort.Strings(s.Findings)
	return s
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
