// Package client is the Go client of a remote Sentinel server's HTTP API
// (api/openapi.yaml): decide a call, record how it ran, and wait for a
// human's approval of a confirm.
//
// It fails closed. Check never answers allow unless the server said so in
// a well-formed answer: a transport error, a timeout, an error status, an
// answer that is not JSON or has no action all return an *Error together
// with a Deny decision, so a caller that looks only at the action still
// refuses the call.
//
// The package deliberately does not import the embedded guard (package
// sentinel, with its policy engine and SQLite driver); its Decision embeds
// the same decision type, and its Call converts from sentinel.Call.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sentinel-agent/sentinel/internal/decision"
)

// Bounds on what the client reads and sends.
const (
	// maxResponse is the largest answer read; a larger one is refused.
	maxResponse = 1 << 20
	// maxOutcomeText is how much of an outcome's error and result is
	// sent: the server keeps 2 KiB after redacting, so more only risks a
	// too-large body.
	maxOutcomeText = 8 << 10
	// maxIDLen is the longest approval id accepted.
	maxIDLen = 256
	// maxTokenLen matches the server's limit.
	maxTokenLen = 512
	// maxMessage bounds a server message kept in an Error.
	maxMessage = 1024
)

// Defaults.
const (
	// DefaultTimeout bounds each request (for WaitApproval, each poll
	// beyond its wait).
	DefaultTimeout = 10 * time.Second
	// DefaultPollWait is how long one WaitApproval poll asks the server
	// to hold the request; the server caps it (60 s by default).
	DefaultPollWait = 30 * time.Second
	// minPollGap keeps WaitApproval from spinning on a server that
	// answers "pending" at once.
	minPollGap = 500 * time.Millisecond
)

// Client talks to one Sentinel server. It is safe for concurrent use.
type Client struct {
	base     *url.URL
	token    string
	hc       *http.Client
	timeout  time.Duration
	pollWait time.Duration
}

type options struct {
	token    string
	hc       *http.Client
	timeout  time.Duration
	pollWait time.Duration
}

// Option configures a Client.
type Option func(*options)

// WithToken sends token as "Authorization: Bearer <token>" (see
// `sentinel token new`). Without it no Authorization header is sent,
// which only a server without clients, on loopback, accepts.
func WithToken(token string) Option { return func(o *options) { o.token = token } }

// WithHTTPClient uses hc's transport, jar and timeout instead of
// http.DefaultClient's (for TLS settings, proxies). Redirects are never
// followed, whatever hc says.
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.hc = hc } }

// WithTimeout bounds each request (default DefaultTimeout); 0 leaves only
// the caller's context to bound it.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithPollWait sets how long one WaitApproval poll asks the server to
// wait (default DefaultPollWait).
func WithPollWait(d time.Duration) Option { return func(o *options) { o.pollWait = d } }

// New returns a client of the server at baseURL ("http://127.0.0.1:3300",
// or a URL with a path prefix behind a reverse proxy).
func New(baseURL string, opts ...Option) (*Client, error) {
	o := options{hc: http.DefaultClient, timeout: DefaultTimeout, pollWait: DefaultPollWait}
	for _, opt := range opts {
		opt(&o)
	}
	u, err := url.Parse(baseURL)
	switch {
	case err != nil:
		return nil, fmt.Errorf("client: the server URL %q does not parse: %w", baseURL, err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return nil, fmt.Errorf("client: the server URL %q must be http:// or https:// with a host, e.g. http://127.0.0.1:3300", baseURL)
	case u.User != nil:
		return nil, fmt.Errorf("client: the server URL carries credentials; pass the token with WithToken instead")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("client: the server URL %q has a query or fragment; give the base URL only", baseURL)
	}
	if len(o.token) > maxTokenLen || !visibleASCII(o.token) {
		return nil, fmt.Errorf("client: the token must be at most %d printable ASCII characters without spaces", maxTokenLen)
	}
	if o.hc == nil {
		return nil, errors.New("client: WithHTTPClient was given nil")
	}
	if o.timeout < 0 || o.pollWait <= 0 {
		return nil, fmt.Errorf("client: the timeout (%v) must be ≥ 0 and the poll wait (%v) > 0", o.timeout, o.pollWait)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	// A redirect would send the call to another address for its decision
	// (or turn the POST into a GET): the client takes the 3xx itself as a
	// failed request.
	hc := *o.hc
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Client{base: u, token: o.token, hc: &hc, timeout: o.timeout, pollWait: o.pollWait}, nil
}

// checkRequest is the body of POST /v1/check.
type checkRequest struct {
	Tool       string         `json:"tool"`
	Args       map[string]any `json:"args,omitempty"`
	Session    string         `json:"session,omitempty"`
	Agent      string         `json:"agent,omitempty"`
	Cwd        string         `json:"cwd,omitempty"`
	ApprovalID string         `json:"approval_id,omitempty"`
}

// wireDecision is the check answer as sent; Action is a pointer so that
// an answer without one is told apart from "allow", the zero Action.
type wireDecision struct {
	Action         *decision.Action `json:"action"`
	Risk           decision.Risk    `json:"risk"`
	Reasons        []Reason         `json:"reasons"`
	DecisionID     string           `json:"decision_id"`
	PolicyRevision string           `json:"policy_revision"`
	Approval       *ApprovalRef     `json:"approval"`
}

// Check decides call on the server (POST /v1/check). The Decision is
// always usable: when err is non-nil it is a Deny whose one reason (gate
// "client") carries the error's code.
func (c *Client) Check(ctx context.Context, call Call) (Decision, error) {
	return c.check(ctx, call, "")
}

// CheckWithApproval sends call again with the approval a confirm opened.
// Once the approval is approved the answer is allow (reason
// approval.approved), exactly once; a pending approval keeps it confirm
// and a denied, expired or used one makes it deny.
func (c *Client) CheckWithApproval(ctx context.Context, call Call, approvalID string) (Decision, error) {
	if err := checkID(approvalID); err != nil {
		return refuse(err), err
	}
	return c.check(ctx, call, approvalID)
}

func (c *Client) check(ctx context.Context, call Call, approvalID string) (Decision, error) {
	body := checkRequest{Tool: call.Tool, Args: call.Args, Session: call.Session, Agent: call.Agent, Cwd: call.Cwd, ApprovalID: approvalID}
	var w wireDecision
	if err := c.do(ctx, http.MethodPost, []string{"v1", "check"}, nil, body, &w, c.timeout); err != nil {
		return refuse(err), err
	}
	if w.Action == nil || w.DecisionID == "" {
		err := &Error{Status: http.StatusOK, Code: CodeInvalidResponse,
			Message: "the check answer has no action or no decision_id; is the URL a Sentinel server?"}
		return refuse(err), err
	}
	return Decision{Decision: decision.Decision{Action: *w.Action, Risk: w.Risk, Reasons: w.Reasons,
		DecisionID: w.DecisionID, PolicyRevision: w.PolicyRevision}, Approval: w.Approval}, nil
}

// refuse is the Deny that stands in for a decision the server did not
// give.
func refuse(err error) Decision {
	code, msg := CodeInvalidResponse, err.Error()
	var ce *Error
	if errors.As(err, &ce) {
		code, msg = ce.Code, ce.Message
	}
	return Decision{Decision: decision.Decision{Action: decision.Deny, Reasons: []Reason{{Gate: "client", Code: code,
		Action: decision.Deny, Message: "the server gave no decision, so the call is refused: " + msg}}}}
}

// outcomeRequest is the body of POST /v1/outcome.
type outcomeRequest struct {
	DecisionID string `json:"decision_id"`
	Tool       string `json:"tool,omitempty"`
	Session    string `json:"session,omitempty"`
	Agent      string `json:"agent,omitempty"`
	Status     string `json:"status"`
	DurationMS int64  `json:"duration_ms,omitempty"`
	Retries    int    `json:"retries,omitempty"`
	Error      string `json:"error,omitempty"`
	Result     string `json:"result,omitempty"`
}

// Outcome records how a decided call ran (POST /v1/outcome). It returns
// nil only when the server acknowledged the record.
func (c *Client) Outcome(ctx context.Context, o Outcome) error {
	body := outcomeRequest{DecisionID: o.DecisionID, Tool: o.Tool, Session: o.Session, Agent: o.Agent,
		Status: string(o.Status), DurationMS: o.Duration.Milliseconds(), Retries: o.Retries,
		Error: clip(o.Error, maxOutcomeText), Result: clip(o.Result, maxOutcomeText)}
	var ack struct {
		Recorded bool `json:"recorded"`
	}
	if err := c.do(ctx, http.MethodPost, []string{"v1", "outcome"}, nil, body, &ack, c.timeout); err != nil {
		return err
	}
	if !ack.Recorded {
		return &Error{Status: http.StatusOK, Code: CodeInvalidResponse, Message: `the server did not answer {"recorded":true}`}
	}
	return nil
}

// WaitApproval long-polls the approval (GET /v1/approvals/{id}/wait)
// until it is decided or expires, and returns it. A denied or expired
// approval is not an error: check Approved. When ctx ends first the error
// says so and the approval is the last one seen (pending, or zero).
func (c *Client) WaitApproval(ctx context.Context, id string) (Approval, error) {
	if err := checkID(id); err != nil {
		return Approval{}, err
	}
	var last Approval
	for {
		wait := c.pollWait
		if dl, ok := ctx.Deadline(); ok {
			wait = min(wait, time.Until(dl))
		}
		if wait < time.Millisecond {
			return last, ctxError(ctx, context.DeadlineExceeded)
		}
		// The request may take the wait and then the usual time to answer.
		timeout := c.timeout
		if timeout > 0 {
			timeout += wait
		}
		start := time.Now()
		q := url.Values{"timeout": {wait.Truncate(time.Millisecond).String()}}
		var a Approval
		if err := c.do(ctx, http.MethodGet, []string{"v1", "approvals", id, "wait"}, q, nil, &a, timeout); err != nil {
			return last, err
		}
		if a.ID != id || !a.Status.known() {
			return last, &Error{Status: http.StatusOK, Code: CodeInvalidResponse,
				Message: fmt.Sprintf("the wait answer names approval %.64q with status %.32q; want %s with a known status", a.ID, a.Status, id)}
		}
		if a.Status != ApprovalPending {
			return a, nil
		}
		last = a
		if gap := minPollGap - time.Since(start); gap > 0 {
			t := time.NewTimer(gap)
			select {
			case <-ctx.Done():
				t.Stop()
				return last, ctxError(ctx, ctx.Err())
			case <-t.C:
			}
		}
	}
}

// checkID refuses approval ids that could not be one (ids are
// "ap_<hex>"), before they become part of a URL path.
func checkID(id string) error {
	ok := id != "" && len(id) <= maxIDLen
	for i := 0; ok && i < len(id); i++ {
		b := id[i]
		ok = b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '-'
	}
	if !ok {
		return &Error{Code: CodeInvalidRequest, Message: fmt.Sprintf("the approval id %.64q is not one (1 to %d letters, digits, _ or -; e.g. ap_0123456789abcdef0123)", id, maxIDLen)}
	}
	return nil
}

// apiError is the server's error body.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// do sends one request and decodes a 200 answer into out. Every failure
// is an *Error.
func (c *Client) do(ctx context.Context, method string, path []string, q url.Values, in, out any, timeout time.Duration) error {
	u := c.base.JoinPath(path...)
	u.RawQuery = q.Encode()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return &Error{Code: CodeInvalidRequest, Message: "the request cannot be encoded as JSON: " + err.Error(), Err: err}
		}
		body = bytes.NewReader(b)
	}
	rctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(rctx, method, u.String(), body)
	if err != nil {
		return &Error{Code: CodeInvalidRequest, Message: err.Error(), Err: err}
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return transportError(ctx, rctx, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		e := transportError(ctx, rctx, err)
		e.Status = resp.StatusCode
		return e
	}
	reqID := clip(resp.Header.Get("X-Request-Id"), 128)
	if len(b) > maxResponse {
		return &Error{Status: resp.StatusCode, Code: CodeInvalidResponse, RequestID: reqID,
			Message: fmt.Sprintf("the answer is larger than %d bytes", maxResponse)}
	}
	if resp.StatusCode != http.StatusOK {
		var ae apiError
		if json.Unmarshal(b, &ae) != nil || ae.Error.Code == "" {
			return &Error{Status: resp.StatusCode, Code: CodeInvalidResponse, RequestID: reqID,
				Message: fmt.Sprintf("the server answered %s without an API error body", resp.Status)}
		}
		e := &Error{Status: resp.StatusCode, Code: clip(ae.Error.Code, 128), Message: clip(ae.Error.Message, maxMessage), RequestID: reqID}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 && s < 86400 {
			e.RetryAfter = time.Duration(s) * time.Second
		}
		return e
	}
	if err := json.Unmarshal(b, out); err != nil {
		return &Error{Status: resp.StatusCode, Code: CodeInvalidResponse, RequestID: reqID,
			Message: "the answer is not the JSON the API describes: " + clip(err.Error(), 200), Err: err}
	}
	return nil
}

// transportError classifies a failure to get an answer: the caller's
// context ending, the request's own timeout, or the network.
func transportError(ctx, rctx context.Context, err error) *Error {
	if ctx.Err() != nil {
		return ctxError(ctx, err)
	}
	var ne net.Error
	if rctx.Err() != nil || errors.As(err, &ne) && ne.Timeout() {
		return &Error{Code: CodeTimeout, Message: "no answer before the request's timeout: " + clip(err.Error(), 300), Err: err}
	}
	return &Error{Code: CodeUnavailable, Message: "the server cannot be reached: " + clip(err.Error(), 300), Err: err}
}

// ctxError reports the caller's context ending.
func ctxError(ctx context.Context, err error) *Error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return &Error{Code: CodeCanceled, Message: "the request was cancelled", Err: err}
	}
	return &Error{Code: CodeTimeout, Message: "the context's deadline passed before the answer", Err: err}
}

func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// clip keeps at most n bytes of s, cut at a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
