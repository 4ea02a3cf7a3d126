// Package decision holds the values every part of Sentinel speaks in: the
// four actions, the reasons a gate gives (each with a stable machine code),
// the risk score with its dimensions, and the final Decision.
//
// It is a leaf package: it imports only the standard library and must never
// grow behaviour beyond ordering and formatting these values.
package decision

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Action is what Sentinel does with a tool call. The zero value is Allow;
// Actions are ordered so that a larger value is stricter.
type Action int

// The actions, from the most permissive to the strictest.
const (
	Allow Action = iota
	Notify
	Confirm
	Deny
)

var actionNames = [...]string{"allow", "notify", "confirm", "deny"}

// String returns the lower-case name used in JSON, policies and the CLI.
func (a Action) String() string {
	if a < Allow || a > Deny {
		return fmt.Sprintf("action(%d)", int(a))
	}
	return actionNames[a]
}

// Blocks reports whether the call may not run without a human (confirm) or
// may not run at all (deny).
func (a Action) Blocks() bool { return a >= Confirm }

// ParseAction reads an action name. It accepts the seed's synonyms "auto"
// (allow) and "ask" (confirm).
func ParseAction(s string) (Action, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "allow", "auto":
		return Allow, nil
	case "notify":
		return Notify, nil
	case "confirm", "ask":
		return Confirm, nil
	case "deny", "block":
		return Deny, nil
	}
	return Deny, fmt.Errorf("unknown action %q (want allow, notify, confirm or deny)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (a Action) MarshalText() ([]byte, error) {
	if a < Allow || a > Deny {
		return nil, fmt.Errorf("invalid action %d", int(a))
	}
	return []byte(a.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *Action) UnmarshalText(b []byte) error {
	v, err := ParseAction(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// Stricter returns the stricter of a and b.
func Stricter(a, b Action) Action {
	if b > a {
		return b
	}
	return a
}

// Reason explains one contribution to a decision. Gate names the gate that
// gave it, Code is a stable dotted machine code ("path.sensitive",
// "command.recursive_delete_root") that clients and tests may rely on, and
// Message is a short human sentence safe to show to the agent.
type Reason struct {
	Gate    string `json:"gate"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Action is what this reason alone asks for. It is not part of the wire
	// format of a decision; explain and the audit log show it.
	Action Action `json:"-"`
	// Detail is operator-facing context (the command fragment, the matched
	// rule). It may be long and is not shown to agents.
	Detail string `json:"-"`
	// Alternative is a safer way to reach the same goal, when a rule has one.
	Alternative string `json:"-"`
}

func (r Reason) String() string {
	return fmt.Sprintf("%s [%s/%s] %s", r.Action, r.Gate, r.Code, r.Message)
}

// Dimensions are the four inputs of the seed's risk formula.
//
//	Impact        0..3   how much the call can change or expose
//	Reversibility 0..1   1 = trivially undone, 0 = permanent
//	Sensitivity   0..3   how sensitive the touched data or system is
//	ErrorRate     0..1   how likely the call is to do something unintended
type Dimensions struct {
	Impact        float64 `json:"impact"`
	Reversibility float64 `json:"reversibility"`
	Sensitivity   float64 `json:"sensitivity"`
	ErrorRate     float64 `json:"error_rate"`
}

// Score applies Impact × (1 − Reversibility) × Sensitivity × (1 + ErrorRate),
// rounded to two decimals so that decisions are byte-identical across runs.
func (d Dimensions) Score() float64 {
	s := d.Impact * (1 - d.Reversibility) * d.Sensitivity * (1 + d.ErrorRate)
	return round2(s)
}

func round2(f float64) float64 {
	if f < 0 {
		return -round2(-f)
	}
	return float64(int64(f*100+0.5)) / 100
}

// Risk is a computed score with the dimensions it came from.
type Risk struct {
	Score      float64    `json:"score"`
	Dimensions Dimensions `json:"dimensions"`
}

// Decision is the kernel's answer for one tool call.
type Decision struct {
	Action         Action   `json:"action"`
	Risk           Risk     `json:"risk"`
	Reasons        []Reason `json:"reasons"`
	DecisionID     string   `json:"decision_id"`
	PolicyRevision string   `json:"policy_revision"`
}

// MarshalJSON keeps reasons an empty array rather than null.
func (d Decision) MarshalJSON() ([]byte, error) {
	type plain Decision
	p := plain(d)
	if p.Reasons == nil {
		p.Reasons = []Reason{}
	}
	return json.Marshal(p)
}

// Codes returns the reason codes in order, for tests and summaries.
func (d Decision) Codes() []string {
	out := make([]string, len(d.Reasons))
	for i, r := range d.Reasons {
		out[i] = r.Code
	}
	return out
}

// Say phrases a reason for the agent: what the call does, what happens to
// it ("is refused", "needs approval", "is allowed and reported"), and,
// when it is stopped and fix is given, how to get the work done.
func Say(what string, a Action, fix string) string {
	var outcome string
	switch a {
	case Deny:
		outcome = "is refused"
	case Confirm:
		outcome = "needs approval"
	case Notify:
		outcome = "is allowed and reported"
	default:
		outcome = "is allowed"
	}
	if a.Blocks() && fix != "" {
		return what + " " + outcome + "; " + fix
	}
	return what + " " + outcome
}
