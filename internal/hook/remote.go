package hook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sentinel-agent/sentinel/internal/decision"
)

// maxServerAnswer bounds what the hook reads from the server.
const maxServerAnswer = 1 << 20

// RemoteConfig says which Sentinel server RunRemote asks and how.
type RemoteConfig struct {
	// URL is the server's base URL, such as http://127.0.0.1:3300.
	URL string
	// Token is sent as a bearer token; empty sends none.
	Token string
	// Timeout bounds the whole hook call, at most MaxTimeout; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// HTTPClient sends the requests; nil means a new client. Redirects
	// are never followed, whatever the client says: a redirect would
	// resend the call elsewhere or turn it into a GET.
	HTTPClient *http.Client
}

// CheckServerURL reports whether base is usable as a server's base URL:
// http or https with a host, and no credentials, query or fragment.
func CheckServerURL(base string) error {
	_, err := serverURL(base, "")
	return err
}

// serverURL joins the server's base URL and an API path.
func serverURL(base, path string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", Errorf(CodeUsage, "--server %q: want an http:// or https:// URL such as http://127.0.0.1:3300", base)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.ForceQuery {
		return "", Errorf(CodeUsage, "--server %q: give the base URL only, without credentials, query or fragment", base)
	}
	return strings.TrimRight(u.String(), "/") + path, nil
}

// RunRemote answers one hook event as Run does, asking the Sentinel server
// at cfg.URL: POST /v1/check decides a PreToolUse call and POST
// /v1/outcome records a PostToolUse one. An unusable cfg, an unreachable
// server, an error status, an answer without a known action or an
// unconfirmed outcome is a refusal (ExitRefused).
func RunRemote(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, cfg RemoteConfig) int {
	r, err := newRemote(cfg)
	if err != nil {
		return Refuse(stderr, err)
	}
	return Run(ctx, stdin, stdout, stderr, r.timeout, r)
}

// remote is the Backend of RunRemote.
type remote struct {
	base    string
	where   string // the server, as errors name it
	token   string
	timeout time.Duration
	client  *http.Client
}

var _ Backend = (*remote)(nil)

func newRemote(cfg RemoteConfig) (*remote, error) {
	if err := CheckServerURL(cfg.URL); err != nil {
		return nil, err
	}
	timeout := cfg.Timeout
	switch {
	case timeout == 0:
		timeout = DefaultTimeout
	case timeout < 0 || timeout > MaxTimeout:
		return nil, Errorf(CodeUsage, "timeout %s: use a duration between 1ms and %s", timeout, MaxTimeout)
	}
	if strings.ContainsAny(cfg.Token, "\r\n") {
		return nil, Errorf(CodeUsage, "the token contains a line break; check $SENTINEL_TOKEN")
	}
	var c http.Client
	if cfg.HTTPClient != nil {
		c = *cfg.HTTPClient
	} else {
		c.Timeout = timeout
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &remote{base: cfg.URL, where: cfg.URL, token: cfg.Token, timeout: timeout, client: &c}, nil
}

// checkAnswer is the part of /v1/check's answer the hook reads.
type checkAnswer struct {
	Action  *string `json:"action"`
	Reasons []struct {
		Gate    string `json:"gate"`
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"reasons"`
	Approval *struct {
		ID string `json:"id"`
	} `json:"approval"`
}

var actions = map[string]decision.Action{
	"allow": decision.Allow, "notify": decision.Notify, "confirm": decision.Confirm, "deny": decision.Deny,
}

// maxReasons bounds the reasons kept from an answer; only the first is
// shown, the rest are counted.
const maxReasons = 64

func (r *remote) Check(ctx context.Context, in Input) (Verdict, error) {
	body := map[string]any{"tool": in.ToolName, "args": in.ToolInput, "agent": Agent}
	if in.SessionID != "" {
		body["session"] = in.SessionID
	}
	if in.Cwd != "" {
		body["cwd"] = in.Cwd
	}
	if in.ToolUseID != "" {
		// The server keeps the call's snapshot under the id the outcome
		// will name.
		body["call_id"] = DecisionID(in.ToolUseID)
	}
	// Claude Code asks its user about a confirm ("ask"): a Sentinel
	// approval would be a second prompt nobody answers.
	body["host_confirms"] = true
	var a checkAnswer
	err := r.post(ctx, "/v1/check", body, &a)
	var ae *answerError
	if errors.As(err, &ae) && ae.code == "request.unknown_field" {
		// A server older than these fields refuses them: ask again with
		// what every server reads (the decision is the same; the
		// snapshot is kept under the decision id, and a confirm opens an
		// approval there as it always did).
		delete(body, "call_id")
		delete(body, "host_confirms")
		a = checkAnswer{}
		err = r.post(ctx, "/v1/check", body, &a)
	}
	if err != nil {
		return Verdict{}, err
	}
	if a.Action == nil {
		return Verdict{}, Errorf(CodeServerInvalid, "the server's answer has no action")
	}
	act, ok := actions[*a.Action]
	if !ok {
		return Verdict{}, Errorf(CodeServerInvalid, "the server's answer has the unknown action %q", clean(*a.Action, 40))
	}
	v := Verdict{Action: act}
	for i, rs := range a.Reasons {
		if i == maxReasons {
			break
		}
		v.Reasons = append(v.Reasons, decision.Reason{Gate: rs.Gate, Code: rs.Code, Message: rs.Message})
	}
	if a.Approval != nil {
		v.ApprovalID = a.Approval.ID
	}
	return v, nil
}

// answerError is a refusal the server explained: its error code (such as
// request.unknown_field) and the hook's error for it.
type answerError struct {
	code string
	err  *Error
}

func (e *answerError) Error() string { return e.err.Error() }
func (e *answerError) Unwrap() error { return e.err }

// MaxRemoteScan bounds the tool output the hook sends the server to scan:
// a larger one is scanned in the hook (the server takes bodies of 1 MiB).
const MaxRemoteScan = 512 << 10

var _ ScanningBackend = (*remote)(nil)

// ScanOutcome implements ScanningBackend: the output goes with the outcome
// and the server, whose scanner is compiled already, scans it.
func (r *remote) ScanOutcome(ctx context.Context, in Input) (Report, error) {
	if len(in.ToolResponse) == 0 || len(in.ToolResponse) > MaxRemoteScan || !json.Valid(in.ToolResponse) {
		return Report{}, errNotSent
	}
	body := r.outcomeBody(in)
	body["output"] = in.ToolResponse
	var ok struct {
		Recorded bool `json:"recorded"`
		Scan     *struct {
			Secrets    []string `json:"secrets"`
			Injections []string `json:"injections"`
			Hidden     []string `json:"hidden"`
			Truncated  bool     `json:"truncated"`
		} `json:"scan"`
	}
	if err := r.post(ctx, "/v1/outcome", body, &ok); err != nil {
		var ae *answerError
		if errors.As(err, &ae) && ae.code == "request.unknown_field" {
			return Report{}, errNotSent // a server from before the field: nothing recorded
		}
		return Report{}, err
	}
	if !ok.Recorded || ok.Scan == nil {
		return Report{}, Errorf(CodeServerInvalid, "the server did not confirm the outcome with its scan")
	}
	// The codes reach the model: they are shown as codes, not as text.
	codes := func(list []string) []string {
		out := make([]string, 0, min(len(list), maxScanCodes))
		for _, c := range list[:min(len(list), maxScanCodes)] {
			out = append(out, printable(c, 80))
		}
		return uniqueSorted(out)
	}
	return Report{Secrets: codes(ok.Scan.Secrets), Injections: codes(ok.Scan.Injections), Hidden: codes(ok.Scan.Hidden),
		Truncated: ok.Scan.Truncated}, nil
}

// maxScanCodes bounds each list of codes taken from a server's scan.
const maxScanCodes = 64

func (r *remote) Outcome(ctx context.Context, in Input, rep Report) error {
	body := r.outcomeBody(in)
	if !rep.Empty() {
		body["result"] = "sentinel scan: " + strings.Join(rep.Codes(), " ")
	}
	if t := rep.Taint(); len(t) > 0 {
		body["taint"] = t
	}
	var ok struct {
		Recorded bool `json:"recorded"`
	}
	if err := r.post(ctx, "/v1/outcome", body, &ok); err != nil {
		return err
	}
	if !ok.Recorded {
		return Errorf(CodeServerInvalid, "the server did not confirm that the outcome was recorded")
	}
	return nil
}

// outcomeBody is what every outcome of a PostToolUse event sends.
func (r *remote) outcomeBody(in Input) map[string]any {
	body := map[string]any{"decision_id": DecisionID(in.ToolUseID), "tool": in.ToolName, "agent": Agent,
		"status": "ok", "duration_ms": in.DurationMS}
	if in.SessionID != "" {
		body["session"] = in.SessionID
	}
	if len(in.ToolInput) > 0 {
		// What the call claims (the file a Write wrote) is verified from
		// its arguments.
		body["args"] = in.ToolInput
	}
	if in.Cwd != "" {
		body["cwd"] = in.Cwd
	}
	return body
}

// post sends body to the server and decodes a 200 answer into out.
func (r *remote) post(ctx context.Context, path string, body, out any) error {
	u, err := serverURL(r.base, path)
	if err != nil {
		return err
	}
	b, err := json.Marshal(body)
	if err != nil {
		return Errorf(CodeInternal, "encoding the request: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return Errorf(CodeInternal, "%v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		var te interface{ Timeout() bool }
		if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &te) && te.Timeout() {
			return Errorf(CodeTimeout, "the Sentinel server at %s did not answer within %s", r.where, r.timeout)
		}
		return Errorf(CodeUnreachable, "the Sentinel server at %s cannot be reached: %v", r.where, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxServerAnswer+1))
	if err != nil {
		return Errorf(CodeUnreachable, "reading the server's answer: %v", err)
	}
	if len(data) > maxServerAnswer {
		return Errorf(CodeServerInvalid, "the server's answer is larger than %d bytes", maxServerAnswer)
	}
	if resp.StatusCode != http.StatusOK {
		var eb struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(data, &eb) == nil && eb.Error.Code != "" {
			return &answerError{code: eb.Error.Code, err: &Error{Code: CodeServerError,
				Message: fmt.Sprintf("the server answered %d %s: %s", resp.StatusCode, clean(eb.Error.Code, 80), clean(eb.Error.Message, 300))}}
		}
		return Errorf(CodeServerError, "the server answered %s", clean(resp.Status, 80))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return Errorf(CodeServerInvalid, "the server's answer is not the expected JSON: %v", err)
	}
	return nil
}
