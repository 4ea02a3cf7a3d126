package mcpguard

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/mcpguard/pin"
	"github.com/sentinel-agent/sentinel/internal/request"
)

// Decider decides a tool call; *kernel.Kernel is one. It records the
// decision itself and denies what it cannot record.
type Decider interface {
	Decide(ctx context.Context, raw request.Raw) decision.Decision
}

// Recorder keeps audit events; *audit.Log is one.
type Recorder interface {
	Record(ctx context.Context, ev audit.Event) error
}

// Options configure a Proxy.
type Options struct {
	// Name is the upstream server's name in mcp__<name>__<tool> and in
	// its pins: letters, digits, '-' and '_', without "__".
	Name string
	// Upstream returns a transport to a new upstream session; it is
	// called once per client session.
	Upstream func(ctx context.Context) (mcp.Transport, error)
	Decider  Decider
	Pins     pin.Store
	// Recorder records the verdicts on tools (pinned, withheld, shadows)
	// and users' answers to confirmations. Nil records none of them.
	Recorder Recorder
	Logger   *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ConfirmTimeout bounds how long a confirmation waits for the user;
	// 0 means 5 minutes.
	ConfirmTimeout time.Duration
	// ConnectTimeout bounds opening an upstream session (starting the
	// server and its initialize handshake); 0 means a minute, which
	// leaves npx-style launchers time to fetch their package.
	ConnectTimeout time.Duration
	// MaxSessions bounds concurrent client sessions (each holds an
	// upstream session); 0 means 16.
	MaxSessions int
	// MaxTools bounds the tools read from the upstream; later ones are
	// neither listed nor callable. 0 means 1000.
	MaxTools int
	// Version is the proxy's version, shown to the upstream.
	Version string
	// Spotlight wraps the text of tool results for the model: "wrap"
	// (random-boundary delimiters and a note that it is data), "mark"
	// (the same with datamarking) or "" (results as the upstream sent
	// them).
	Spotlight string
}

// Proxy serves MCP clients, each through its own upstream session.
type Proxy struct {
	opts   Options
	log    *slog.Logger
	server *mcp.Server

	mu       sync.Mutex
	sessions map[*mcp.ServerSession]*session
	flagged  map[string]bool
	// upstreamEnded tells Serve that its session ended because the
	// upstream did.
	upstreamEnded map[*mcp.ServerSession]chan struct{}
	closed        bool

	// approved remembers, per tool, the approved hash a call last read
	// from the store, for pinTTL (see approvedPin).
	pinMu    sync.Mutex
	approved map[string]pinRead
}

// ErrUpstreamEnded is Serve's error when the upstream session ended (the
// server exited or hung up) before the client's.
var ErrUpstreamEnded = errors.New("mcpguard: the upstream MCP server ended the session")

// Protocol versions the proxy speaks to clients: the session-based ones.
// The stateless 2026-07-28 protocol forbids the server-initiated requests
// the proxy forwards (elicitation, sampling, roots) and delivers
// list_changed only to subscribed streams; its clients fall back to these.
var protocolVersions = []string{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}

// Names of the placeholders the SDK's server holds so that it has a list
// to change: the SDK sends notifications/*/list_changed only when its own
// features change, and the proxy's lists are the upstream's. The clients
// never see them: the list and call methods never reach the SDK's tables.
const (
	placeholderTool     = "sentinel.list-changed"
	placeholderPrompt   = "sentinel.list-changed"
	placeholderResource = "sentinel-proxy:list-changed"
)

// New checks opts and returns a proxy.
func New(opts Options) (*Proxy, error) {
	var problems []error
	if opts.Spotlight != "" && opts.Spotlight != SpotlightWrap && opts.Spotlight != SpotlightMark {
		problems = append(problems, fmt.Errorf("spotlight %q: use wrap, mark or nothing", opts.Spotlight))
	}
	if !pin.ValidServer(opts.Name) {
		problems = append(problems, fmt.Errorf("the server name %.80q must be 1-%d letters, digits, '-' or '_', without \"__\"", opts.Name, pin.MaxServerLen))
	}
	if opts.Upstream == nil {
		problems = append(problems, errors.New("no upstream"))
	}
	if opts.Decider == nil {
		problems = append(problems, errors.New("no decider (kernel)"))
	}
	if opts.Pins == nil {
		problems = append(problems, errors.New("no pin store"))
	}
	if opts.ConfirmTimeout < 0 || opts.ConnectTimeout < 0 || opts.MaxSessions < 0 || opts.MaxTools < 0 {
		problems = append(problems, errors.New("ConfirmTimeout, ConnectTimeout, MaxSessions and MaxTools may not be negative"))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("mcpguard: %w", errors.Join(problems...))
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ConfirmTimeout == 0 {
		opts.ConfirmTimeout = 5 * time.Minute
	}
	if opts.ConnectTimeout == 0 {
		opts.ConnectTimeout = time.Minute
	}
	if opts.MaxSessions == 0 {
		opts.MaxSessions = 16
	}
	if opts.MaxTools == 0 {
		opts.MaxTools = 1000
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	p := &Proxy{opts: opts, log: opts.Logger.With("server", opts.Name), sessions: map[*mcp.ServerSession]*session{}, flagged: map[string]bool{},
		upstreamEnded: map[*mcp.ServerSession]chan struct{}{}}
	// The SDK's own chatter (sessions opening and closing) stays below
	// warnings.
	sdkLog := slog.New(levelHandler{opts.Logger.Handler(), slog.LevelWarn})
	p.server = mcp.NewServer(&mcp.Implementation{Name: "sentinel-mcp-proxy", Version: opts.Version}, &mcp.ServerOptions{
		Logger:                      sdkLog,
		Capabilities:                &mcp.ServerCapabilities{},
		SupportedProtocolVersions:   protocolVersions,
		SubscribeHandler:            func(context.Context, *mcp.SubscribeRequest) error { return nil },
		UnsubscribeHandler:          func(context.Context, *mcp.UnsubscribeRequest) error { return nil },
		ProgressNotificationHandler: p.clientProgress,
	})
	p.forwardRootsChanged()
	p.server.AddTool(&mcp.Tool{Name: placeholderTool, InputSchema: map[string]any{"type": "object"}}, refusePlaceholder)
	p.server.AddPrompt(&mcp.Prompt{Name: placeholderPrompt}, func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		return nil, errors.New("no such prompt")
	})
	p.server.AddResource(&mcp.Resource{URI: placeholderResource, Name: placeholderResource}, func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		return nil, errors.New("no such resource")
	})
	p.server.AddReceivingMiddleware(p.middleware)
	return p, nil
}

func refusePlaceholder(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	return nil, errors.New("no such tool")
}

// Serve serves one client session on t (stdio) until the client leaves
// (nil), ctx is done (nil), or the upstream ends (ErrUpstreamEnded).
func (p *Proxy) Serve(ctx context.Context, t mcp.Transport) error {
	ss, err := p.server.Connect(ctx, t, nil)
	if err != nil {
		return err
	}
	upEnded := make(chan struct{}, 1)
	p.mu.Lock()
	p.upstreamEnded[ss] = upEnded
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.upstreamEnded, ss)
		p.mu.Unlock()
	}()
	done := make(chan error, 1)
	go func() { done <- ss.Wait() }()
	select {
	case <-ctx.Done():
		_ = ss.Close()
		<-done
		return nil
	case err = <-done:
	}
	select {
	case <-upEnded:
		return ErrUpstreamEnded
	default:
	}
	if errors.Is(err, mcp.ErrConnectionClosed) || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// Handler serves clients over streamable HTTP, one upstream session per
// client session; idle sessions end after idle.
func (p *Proxy) Handler(idle time.Duration) http.Handler {
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return p.server },
		&mcp.StreamableHTTPOptions{SessionTimeout: idle, Logger: slog.New(levelHandler{p.opts.Logger.Handler(), slog.LevelWarn})})
}

// Close ends every session and its upstream.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	ss := make([]*session, 0, len(p.sessions))
	for _, s := range p.sessions {
		ss = append(ss, s)
	}
	p.mu.Unlock()
	var errs []error
	for _, s := range ss {
		if err := s.ss.Close(); err != nil && !errors.Is(err, mcp.ErrConnectionClosed) {
			errs = append(errs, err)
		}
		s.close()
	}
	return errors.Join(errs...)
}

func (p *Proxy) record(ctx context.Context, ev audit.Event) error {
	if p.opts.Recorder == nil {
		return nil
	}
	return p.opts.Recorder.Record(ctx, ev)
}

func (p *Proxy) session(ss *mcp.ServerSession) *session {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sessions[ss]
}

// Method names the middleware handles.
const (
	methodInitialize    = "initialize"
	methodListTools     = "tools/list"
	methodCallTool      = "tools/call"
	methodListPrompts   = "prompts/list"
	methodGetPrompt     = "prompts/get"
	methodListResources = "resources/list"
	methodListTemplates = "resources/templates/list"
	methodReadResource  = "resources/read"
	methodSubscribe     = "resources/subscribe"
	methodUnsubscribe   = "resources/unsubscribe"
	methodComplete      = "completion/complete"
	methodSetLevel      = "logging/setLevel"
	methodListRoots     = "roots/list"
)

// middleware intercepts the client's requests: initialize opens the
// upstream session, tools are guarded, the rest is forwarded.
func (p *Proxy) middleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		ss, _ := req.GetSession().(*mcp.ServerSession)
		if method == methodInitialize {
			return p.initialize(ctx, ss, req, next)
		}
		s := p.session(ss)
		if s == nil {
			// Without an upstream session only ping and notifications
			// are answered; the SDK's own tables hold placeholders only.
			if method == "ping" || strings.HasPrefix(method, "notifications/") {
				return next(ctx, method, req)
			}
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "the session has no upstream: initialize first"}
		}
		switch method {
		case methodListTools:
			return result(s.listTools(ctx, req.(*mcp.ListToolsRequest)))
		case methodCallTool:
			return result(s.callTool(ctx, req.(*mcp.CallToolRequest)))
		case methodListPrompts:
			return result(s.up.ListPrompts(ctx, req.(*mcp.ListPromptsRequest).Params))
		case methodGetPrompt:
			return result(s.up.GetPrompt(ctx, req.(*mcp.GetPromptRequest).Params))
		case methodListResources:
			return result(s.up.ListResources(ctx, req.(*mcp.ListResourcesRequest).Params))
		case methodListTemplates:
			return result(s.up.ListResourceTemplates(ctx, req.(*mcp.ListResourceTemplatesRequest).Params))
		case methodReadResource:
			return result(s.up.ReadResource(ctx, req.(*mcp.ReadResourceRequest).Params))
		case methodComplete:
			return result(s.up.Complete(ctx, req.(*mcp.CompleteRequest).Params))
		case methodSubscribe:
			// Upstream first; the SDK then keeps the subscription, so
			// that the upstream's updates reach this client.
			if err := s.up.Subscribe(ctx, req.(*mcp.SubscribeRequest).Params); err != nil {
				return nil, err
			}
		case methodUnsubscribe:
			if err := s.up.Unsubscribe(ctx, req.(*mcp.UnsubscribeRequest).Params); err != nil {
				return nil, err
			}
		case methodSetLevel:
			// The SDK keeps the level too: it filters what is forwarded.
			if err := s.forwardSetLevel(ctx, req); err != nil {
				return nil, err
			}
		}
		return next(ctx, method, req)
	}
}

// result turns a typed result into the middleware's, without a typed nil.
func result[R mcp.Result](r R, err error) (mcp.Result, error) {
	if err != nil {
		return nil, err
	}
	return r, nil
}

// session is one client session and its upstream session.
type session struct {
	p      *Proxy
	ss     *mcp.ServerSession
	up     *mcp.ClientSession
	client *mcp.Client
	id     string // the audit log's session id
	agent  string // the client's name

	// refresh serialises listings; mu guards the rest.
	refresh sync.Mutex
	mu      sync.Mutex
	// gen counts list_changed notifications; verdicts holds the listing
	// vetted at generation vettedGen (nil before the first).
	gen, vettedGen uint64
	verdicts       map[string]*Verdict
	closeOnce      sync.Once
	// clientGone is set once the client's session ended, before the
	// upstream's is closed: an upstream ending after it is no failure.
	clientGone atomic.Bool
}

// initialize opens the upstream session with the client's capabilities,
// lets the SDK answer, and answers with the upstream's capabilities,
// instructions and identity instead of the proxy's.
func (p *Proxy) initialize(ctx context.Context, ss *mcp.ServerSession, req mcp.Request, next mcp.MethodHandler) (mcp.Result, error) {
	params, _ := req.GetParams().(*mcp.InitializeParams)
	if ss == nil || params == nil {
		return next(ctx, methodInitialize, req)
	}
	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		return nil, errors.New("the proxy is shutting down")
	case p.sessions[ss] != nil:
		p.mu.Unlock()
		return next(ctx, methodInitialize, req) // the SDK refuses a second initialize
	case len(p.sessions) >= p.opts.MaxSessions:
		p.mu.Unlock()
		return nil, fmt.Errorf("the proxy already serves %d sessions, its limit", p.opts.MaxSessions)
	}
	s := &session{p: p, ss: ss, id: newSessionID(), gen: 1}
	p.sessions[ss] = s
	p.mu.Unlock()
	if ci := params.ClientInfo; ci != nil {
		s.agent = clip(ci.Name, 128)
	}
	if err := s.connect(ctx, params); err != nil {
		p.drop(s)
		p.log.Error("mcp upstream session failed to open", "error", err)
		return nil, fmt.Errorf("the upstream MCP server %s could not be reached: %w", p.opts.Name, err)
	}
	res, err := next(ctx, methodInitialize, req)
	if err != nil {
		p.drop(s)
		s.close()
		return nil, err
	}
	ir, ok := res.(*mcp.InitializeResult)
	if !ok {
		p.drop(s)
		s.close()
		return nil, errors.New("internal error: initialize returned no result")
	}
	up := s.up.InitializeResult()
	out := *ir
	out.Capabilities = advertised(up.Capabilities)
	out.Instructions = up.Instructions
	if up.ServerInfo != nil {
		out.ServerInfo = up.ServerInfo
	}
	go func() {
		// Either side ending ends both.
		_ = ss.Wait()
		s.clientGone.Store(true)
		p.drop(s)
		s.close()
	}()
	go func() {
		_ = s.up.Wait()
		p.mu.Lock()
		if ch := p.upstreamEnded[ss]; ch != nil && !s.clientGone.Load() && !p.closed {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
		p.mu.Unlock()
		_ = ss.Close()
	}()
	p.log.Info("mcp session opened", "session", s.id, "client", s.agent, "protocol", out.ProtocolVersion)
	return &out, nil
}

// advertised is what the client is told the server can do: the
// upstream's capabilities.
func advertised(c *mcp.ServerCapabilities) *mcp.ServerCapabilities {
	if c == nil {
		return &mcp.ServerCapabilities{}
	}
	out := *c
	return &out
}

func (p *Proxy) drop(s *session) {
	p.mu.Lock()
	if p.sessions[s.ss] == s {
		delete(p.sessions, s.ss)
	}
	p.mu.Unlock()
}

func newSessionID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "mcp_" + hex.EncodeToString(b)
}

// connect opens the upstream session on behalf of a client that
// initialized with params: the proxy declares to the upstream what the
// client declared to it, and forwards the upstream's requests and
// notifications to the client.
func (s *session) connect(ctx context.Context, params *mcp.InitializeParams) error {
	p := s.p
	var caps mcp.ClientCapabilities
	if params.Capabilities != nil {
		caps = *params.Capabilities
	}
	opts := &mcp.ClientOptions{
		Logger:                     slog.New(levelHandler{p.opts.Logger.Handler(), slog.LevelWarn}),
		Capabilities:               &caps,
		ToolListChangedHandler:     func(context.Context, *mcp.ToolListChangedRequest) { s.toolsChanged() },
		PromptListChangedHandler:   func(context.Context, *mcp.PromptListChangedRequest) { p.notifyPrompts() },
		ResourceListChangedHandler: func(context.Context, *mcp.ResourceListChangedRequest) { p.notifyResources() },
		ResourceUpdatedHandler: func(ctx context.Context, r *mcp.ResourceUpdatedNotificationRequest) {
			_ = p.server.ResourceUpdated(ctx, r.Params)
		},
		ProgressNotificationHandler: func(ctx context.Context, r *mcp.ProgressNotificationClientRequest) {
			_ = s.ss.NotifyProgress(ctx, r.Params)
		},
		ElicitationCompleteHandler: func(ctx context.Context, r *mcp.ElicitationCompleteNotificationRequest) {
			_ = s.ss.NotifyElicitationComplete(ctx, r.Params)
		},
	}
	if caps.Elicitation != nil {
		opts.ElicitationHandler = func(ctx context.Context, r *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return s.ss.Elicit(ctx, r.Params)
		}
	}
	s.legacyOptions(opts, &caps)
	s.client = mcp.NewClient(&mcp.Implementation{Name: "sentinel-mcp-proxy", Version: p.opts.Version}, opts)
	s.client.AddReceivingMiddleware(s.forwardListRoots)
	t, err := p.opts.Upstream(ctx)
	if err != nil {
		return err
	}
	version := params.ProtocolVersion
	if !slices.Contains(protocolVersions, version) {
		version = protocolVersions[0]
	}
	// The upstream session outlives this request: it ends with the
	// client's session. The SDK detaches the connection from the context
	// given here, which bounds only the opening.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.opts.ConnectTimeout)
	defer cancel()
	up, err := s.client.Connect(cctx, t, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		return err
	}
	s.up = up
	return nil
}

func (s *session) close() {
	s.closeOnce.Do(func() {
		if s.up != nil {
			if err := s.up.Close(); err != nil && !errors.Is(err, mcp.ErrConnectionClosed) {
				s.p.log.Warn("closing the upstream session", "session", s.id, "error", err)
			}
		}
		s.p.log.Info("mcp session closed", "session", s.id)
	})
}

// toolsChanged marks the vetted listing stale, vets the new one (so that
// a rug pull is recorded and refused even before the client lists
// again), then tells the client. It runs outside the notification
// handler, which may not wait on the upstream.
func (s *session) toolsChanged() {
	s.mu.Lock()
	s.gen++
	s.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := s.vetted(ctx, true); err != nil {
			s.p.log.Warn("vetting the changed tool list", "session", s.id, "error", err)
		}
		s.p.notifyTools()
	}()
}

// The SDK announces a change when a feature is added, even one replacing
// itself: re-adding a placeholder is how the proxy sends list_changed.
func (p *Proxy) notifyTools() {
	p.server.AddTool(&mcp.Tool{Name: placeholderTool, InputSchema: map[string]any{"type": "object"}}, refusePlaceholder)
}

func (p *Proxy) notifyPrompts() {
	p.server.AddPrompt(&mcp.Prompt{Name: placeholderPrompt}, func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		return nil, errors.New("no such prompt")
	})
}

func (p *Proxy) notifyResources() {
	p.server.AddResource(&mcp.Resource{URI: placeholderResource, Name: placeholderResource}, func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		return nil, errors.New("no such resource")
	})
}

func (p *Proxy) clientProgress(ctx context.Context, r *mcp.ProgressNotificationServerRequest) {
	if s := p.session(r.Session); s != nil && s.up != nil {
		_ = s.up.NotifyProgress(ctx, r.Params)
	}
}

// listTools answers tools/list with the vetted upstream tools, in one
// page.
func (s *session) listTools(ctx context.Context, req *mcp.ListToolsRequest) (*mcp.ListToolsResult, error) {
	if req.Params != nil && req.Params.Cursor != "" {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "this server lists every tool in one page; it gave no cursor"}
	}
	vs, err := s.vetted(ctx, true)
	if err != nil {
		s.p.log.Error("tools/list refused", "session", s.id, "error", err)
		return nil, fmt.Errorf("sentinel could not check the tools of %s, so none is listed: %w", s.p.opts.Name, err)
	}
	return &mcp.ListToolsResult{Tools: listable(vs)}, nil
}

// vetted reads and vets the upstream's listing. Unless force is set, a
// listing vetted since the last list_changed is current enough and
// vetted returns nil, nil.
func (s *session) vetted(ctx context.Context, force bool) ([]Verdict, error) {
	s.refresh.Lock()
	defer s.refresh.Unlock()
	s.mu.Lock()
	gen, current := s.gen, s.verdicts != nil && s.vettedGen == s.gen
	s.mu.Unlock()
	if current && !force {
		return nil, nil
	}
	tools, err := s.upstreamTools(ctx)
	if err != nil {
		return nil, err
	}
	vs, err := s.p.Vet(ctx, tools)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*Verdict, len(vs))
	for i := range vs {
		if _, dup := m[vs[i].Check.Name]; !dup || vs[i].Code == CodeToolDuplicate {
			m[vs[i].Check.Name] = &vs[i]
		}
	}
	s.mu.Lock()
	s.verdicts, s.vettedGen = m, gen
	s.mu.Unlock()
	return vs, nil
}

// verdict returns the verdict on tool from a current listing, vetting one
// when the last is stale (a list_changed arrived since) or missing. nil
// means the upstream does not list the tool.
func (s *session) verdict(ctx context.Context, tool string) (*Verdict, error) {
	s.mu.Lock()
	v, current := s.verdicts[tool], s.verdicts != nil && s.vettedGen == s.gen
	s.mu.Unlock()
	if current {
		return v, nil
	}
	if _, err := s.vetted(ctx, false); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.verdicts[tool], nil
}

// maxPages bounds the pages of an upstream listing.
const maxPages = 100

// upstreamTools reads the upstream's whole listing, at most MaxTools.
func (s *session) upstreamTools(ctx context.Context) ([]*mcp.Tool, error) {
	var tools []*mcp.Tool
	params := &mcp.ListToolsParams{}
	for page := 0; ; page++ {
		res, err := s.up.ListTools(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("listing the upstream's tools: %w", err)
		}
		tools = append(tools, res.Tools...)
		if len(tools) > s.p.opts.MaxTools {
			s.p.flagOnce(ctx, "truncated", "", "", func() audit.Event {
				return toolEvent("mcp__"+s.p.opts.Name+"__*", decision.Deny, CodeToolsTruncated,
					fmt.Sprintf("the upstream lists more than %d tools; the rest are neither listed nor callable", s.p.opts.MaxTools), "")
			})
			return tools[:s.p.opts.MaxTools], nil
		}
		if res.NextCursor == "" {
			return tools, nil
		}
		if page+1 >= maxPages {
			return nil, fmt.Errorf("the upstream's tool list runs over %d pages", maxPages)
		}
		params = &mcp.ListToolsParams{Cursor: res.NextCursor}
	}
}

// levelHandler drops records below min.
type levelHandler struct {
	slog.Handler
	min slog.Level
}

func (h levelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return levelHandler{h.Handler.WithAttrs(as), h.min}
}

func (h levelHandler) WithGroup(name string) slog.Handler {
	return levelHandler{h.Handler.WithGroup(name), h.min}
}
