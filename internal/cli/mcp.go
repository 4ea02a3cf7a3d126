package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/sentinel-agent/sentinel/internal/mcpguard"
	"github.com/sentinel-agent/sentinel/internal/mcpguard/pin"
)

func runMCP(e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(e.stdout, "usage: sentinel mcp proxy [flags] -- COMMAND [ARG ...]\n"+
			"       sentinel mcp proxy [flags] --upstream-url URL\n"+
			"       sentinel mcp pins list [--server NAME] | show SERVER TOOL | approve SERVER TOOL [--hash PREFIX]")
		return ExitOK
	}
	switch args[0] {
	case "proxy":
		return mcpProxy(e, args[1:])
	case "pins":
		sub := "list"
		rest := args[1:]
		if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			sub, rest = rest[0], rest[1:]
		}
		switch sub {
		case "list":
			return mcpPinsList(e, rest)
		case "show":
			return mcpPinsShow(e, rest)
		case "approve":
			return mcpPinsApprove(e, rest)
		}
		return fail(e, "mcp pins: unknown subcommand %q; use list, show or approve", sub)
	}
	return fail(e, "mcp: unknown subcommand %q; use proxy or pins", args[0])
}

// mcpProxy runs the guard proxy until the client goes away (stdio), the
// context ends, or the upstream fails.
func mcpProxy(e *env, args []string) int {
	const name = "mcp proxy"
	f := newFlags(name)
	serverName := f.String("name", "", "the upstream's name, as the client knows it: its tools are decided as mcp__NAME__TOOL and pinned under NAME (default: from the command or URL)")
	sf := addStoreFlags(f)
	pol := f.String("policy", "", "policy file (YAML, or the seed's guard-rules.json); default: the built-in policy")
	ws := f.String("workspace", "", "workspace directory relative paths resolve against (default: the current directory)")
	upURL := f.String("upstream-url", "", "a streamable HTTP upstream (http:// or https://) instead of a command")
	listen := f.String("listen", "", "serve clients over streamable HTTP on this loopback address (127.0.0.1:PORT) instead of stdio")
	logLevel := f.String("log-level", "info", "debug, info, warn or error (logs go to stderr)")
	auditMode := f.String("audit-mode", "batch", auditModeUsage)
	spot := f.String("spotlight", "", "wrap tool results for the model so that instructions inside read as data: wrap (random-boundary delimiters) or mark (with datamarking)")
	pos, err := f.parse(args)
	if err == errHelp {
		fmt.Fprintf(e.stdout, "usage: sentinel %s [flags] -- COMMAND [ARG ...]\n       sentinel %s [flags] --upstream-url URL\n", name, name)
		f.usage(e.stdout)
		return ExitOK
	}
	if err != nil {
		return fail(e, "%s: %v", name, err)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fail(e, "%s: --log-level %q: use debug, info, warn or error", name, *logLevel)
	}
	mode, err := parseAuditMode("--audit-mode", *auditMode)
	if err != nil {
		return fail(e, "%s: %v", name, err)
	}
	switch {
	case *upURL == "" && len(pos) == 0:
		return fail(e, "%s: name the upstream: sentinel mcp proxy -- COMMAND [ARG ...], or --upstream-url URL", name)
	case *upURL != "" && len(pos) > 0:
		return fail(e, "%s: give either an upstream command or --upstream-url, not both", name)
	}
	if *upURL != "" {
		u, err := url.Parse(*upURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fail(e, "%s: --upstream-url %q is not an http:// or https:// URL", name, *upURL)
		}
	}
	if *listen != "" {
		if err := loopbackAddr(*listen); err != nil {
			return fail(e, "%s: --listen %s: %v", name, *listen, err)
		}
	}
	if *serverName == "" {
		*serverName = defaultServerName(pos, *upURL)
	}
	if !pin.ValidServer(*serverName) {
		return fail(e, "%s: --name %q: use 1-%d letters, digits, '-' or '_', without \"__\"", name, *serverName, pin.MaxServerLen)
	}

	// The SDK's JSON decoding allocates ~300 KB per proxied call; the
	// collector at the default GOGC cost the proxy a quarter of its CPU.
	tuneGC()
	stderr := &lockedWriter{w: e.stderr}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	l, st, err := sf.openLogMode(e.ctx, mode)
	if err != nil {
		return fail(e, "%s: the audit log cannot be opened, so no call could be recorded: %v", name, err)
	}
	defer func() {
		if err := l.Close(context.WithoutCancel(e.ctx)); err != nil {
			fmt.Fprintf(stderr, "sentinel: %s: closing the audit log: %v\n", name, err)
		}
		st.Close()
	}()
	pins, ok := st.(pin.Store)
	if !ok {
		return fail(e, "%s: this store does not keep MCP pins", name)
	}
	k, err := newKernelWith(*pol, *ws, 1024, l)
	if err != nil {
		return fail(e, "%s: %v", name, err)
	}
	upstream := func(context.Context) (mcp.Transport, error) {
		return &mcp.StreamableClientTransport{Endpoint: *upURL}, nil
	}
	if len(pos) > 0 {
		argv := pos
		upstream = func(context.Context) (mcp.Transport, error) {
			// The upstream lives as long as the proxy, not the request
			// that opened it.
			cmd := exec.CommandContext(e.ctx, argv[0], argv[1:]...)
			cmd.Stderr = &prefixWriter{w: stderr, prefix: "[" + *serverName + "] "}
			return &mcp.CommandTransport{Command: cmd}, nil
		}
	}
	px, err := mcpguard.New(mcpguard.Options{Name: *serverName, Spotlight: *spot, Upstream: upstream, Decider: k, Pins: pins, Recorder: l,
		Logger: log, Version: Version})
	if err != nil {
		return fail(e, "%s: %v", name, err)
	}
	defer px.Close()
	if *listen != "" {
		return serveMCPHTTP(e, stderr, px, *listen)
	}
	transport := &mcp.IOTransport{Reader: io.NopCloser(e.stdin), Writer: nopWriteCloser{e.stdout}}
	if err := px.Serve(e.ctx, transport); err != nil {
		return fail(e, "%s: %v", name, err)
	}
	return ExitOK
}

// serveMCPHTTP serves the proxy on a loopback address until the context
// ends.
func serveMCPHTTP(e *env, stderr io.Writer, px *mcpguard.Proxy, addr string) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fail(e, "mcp proxy: --listen %s: %v", addr, err)
	}
	srv := &http.Server{Handler: px.Handler(30 * time.Minute), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	fmt.Fprintf(stderr, "sentinel mcp proxy: listening on http://%s/\n", ln.Addr())
	select {
	case err := <-done:
		return fail(e, "mcp proxy: serving %s: %v", addr, err)
	case <-e.ctx.Done():
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = px.Close()
	_ = srv.Shutdown(ctx)
	return ExitOK
}

// loopbackAddr refuses addresses other hosts could reach: the proxy has no
// authentication of its own.
func loopbackAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return errors.New("write it as 127.0.0.1:PORT")
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return errors.New("only loopback addresses (127.0.0.1, [::1], localhost) are allowed: the proxy has no authentication")
}

// defaultServerName derives a pin-safe name from the upstream command's
// base name (its package for npx/uvx-style launchers) or the URL's host.
func defaultServerName(argv []string, rawURL string) string {
	var s string
	if rawURL != "" {
		if u, err := url.Parse(rawURL); err == nil {
			s = u.Hostname()
		}
	} else if len(argv) > 0 {
		s = filepath.Base(argv[0])
		switch s {
		case "npx", "uvx", "bunx", "pnpx", "docker", "node", "python", "python3", "deno":
			// The launcher says nothing; the last plain argument names
			// the server.
			for i := len(argv) - 1; i > 0; i-- {
				if !strings.HasPrefix(argv[i], "-") {
					s = filepath.Base(strings.TrimSuffix(argv[i], filepath.Ext(argv[i])))
					if at := strings.LastIndex(s, "@"); at > 0 {
						s = s[:at]
					}
					break
				}
			}
		}
	}
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-':
			b.WriteRune(c)
		default:
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > pin.MaxServerLen {
		out = out[:pin.MaxServerLen]
	}
	if out == "" {
		return "upstream"
	}
	return out
}

// openPins opens the store for the pins commands.
func openPins(e *env, sf *storeFlags) (pin.Store, func(), error) {
	st, err := sf.open(e.ctx, true)
	if err != nil {
		return nil, nil, err
	}
	ps, ok := st.(pin.Store)
	if !ok {
		st.Close()
		return nil, nil, errors.New("this store does not keep MCP pins")
	}
	return ps, func() { st.Close() }, nil
}

// pinFail reports err with its stable code first.
func pinFail(e *env, name string, err error) int {
	if code := pin.Code(err); code != "" {
		return fail(e, "%s: %s: %v", name, code, err)
	}
	return fail(e, "%s: %v", name, err)
}

func mcpPinsList(e *env, args []string) int {
	const name = "mcp pins list"
	f := newFlags(name)
	sf := addStoreFlags(f)
	server := f.String("server", "", "only this server's pins")
	status := f.String("status", "", "only pins with this status: trusted, changed or flagged")
	format := f.String("format", "text", "text or json")
	pos, err := f.parse(args)
	if err != nil {
		return flagErr(e, f, name, err)
	}
	if len(pos) > 0 {
		return fail(e, "%s: unexpected argument %q; filter with --server NAME", name, pos[0])
	}
	if *format != "text" && *format != "json" {
		return fail(e, "%s: --format %q: use text or json", name, *format)
	}
	ps, closeStore, err := openPins(e, sf)
	if err != nil {
		return fail(e, "%s: %v", name, err)
	}
	defer closeStore()
	pins, err := ps.ListPins(e.ctx, pin.Filter{Server: *server, Status: pin.Status(*status), Limit: pin.MaxLimit})
	if err != nil {
		return pinFail(e, name, err)
	}
	if *format == "json" {
		if pins == nil {
			pins = []pin.Pin{}
		}
		writeJSON(e.stdout, pins)
		return ExitOK
	}
	if len(pins) == 0 {
		fmt.Fprintln(e.stdout, "no pins")
		return ExitOK
	}
	fmt.Fprintf(e.stdout, "%-20s %-28s %-8s %-12s %-12s %-20s %s\n", "SERVER", "TOOL", "STATUS", "SEEN", "APPROVED", "UPDATED", "FINDINGS")
	for _, p := range pins {
		fmt.Fprintf(e.stdout, "%-20s %-28s %-8s %-12s %-12s %-20s %s\n", p.Server, p.Tool, p.Status, shortHash(p.Seen), shortHash(p.Approved),
			p.UpdatedAt.UTC().Format(time.RFC3339), strings.Join(p.Findings, ","))
	}
	pending := 0
	for _, p := range pins {
		if !p.Listed() {
			pending++
		}
	}
	if pending > 0 {
		fmt.Fprintf(e.stdout, "%d tool(s) withheld: review with `sentinel mcp pins show SERVER TOOL`, then `sentinel mcp pins approve SERVER TOOL --hash SEEN`\n", pending)
	}
	return ExitOK
}

func shortHash(h string) string {
	if h == "" {
		return "-"
	}
	return h[:min(12, len(h))]
}

// pinArgs reads SERVER TOOL.
func pinArgs(e *env, name string, pos []string) (string, string, bool) {
	if len(pos) != 2 {
		fail(e, "%s: name the server and the tool: sentinel %s SERVER TOOL", name, name)
		return "", "", false
	}
	return pos[0], pos[1], true
}

func mcpPinsShow(e *env, args []string) int {
	const name = "mcp pins show"
	f := newFlags(name)
	sf := addStoreFlags(f)
	format := f.String("format", "text", "text or json")
	pos, err := f.parse(args)
	if err != nil {
		return flagErr(e, f, name, err)
	}
	server, tool, ok := pinArgs(e, name, pos)
	if !ok {
		return ExitError
	}
	ps, closeStore, err := openPins(e, sf)
	if err != nil {
		return fail(e, "%s: %v", name, err)
	}
	defer closeStore()
	p, err := ps.GetPin(e.ctx, server, tool)
	if err != nil {
		return pinFail(e, name, err)
	}
	if *format == "json" {
		writeJSON(e.stdout, p)
		return ExitOK
	}
	fmt.Fprintf(e.stdout, "%s/%s  %s\n", p.Server, p.Tool, p.Status)
	fmt.Fprintf(e.stdout, "seen      %s\napproved  %s\n", p.Seen, orDash(p.Approved))
	if p.ApprovedBy != "" && p.ApprovedAt != nil {
		fmt.Fprintf(e.stdout, "approved by %s at %s\n", p.ApprovedBy, p.ApprovedAt.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(e.stdout, "first seen %s, updated %s\n", p.FirstSeen.UTC().Format(time.RFC3339), p.UpdatedAt.UTC().Format(time.RFC3339))
	if len(p.Findings) > 0 {
		fmt.Fprintf(e.stdout, "findings  %s\n", strings.Join(p.Findings, ", "))
	}
	if len(p.Definition) > 0 {
		var b bytes.Buffer
		if json.Indent(&b, p.Definition, "", "  ") == nil {
			fmt.Fprintf(e.stdout, "definition (seen):\n%s\n", b.String())
		}
	}
	return ExitOK
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func mcpPinsApprove(e *env, args []string) int {
	const name = "mcp pins approve"
	f := newFlags(name)
	sf := addStoreFlags(f)
	hash := f.String("hash", "", "the seen hash (at least 12 hex digits) you reviewed; refuses to approve another definition")
	as := f.String("as", "", "who is approving (default $USER)")
	pos, err := f.parse(args)
	if err != nil {
		return flagErr(e, f, name, err)
	}
	server, tool, ok := pinArgs(e, name, pos)
	if !ok {
		return ExitError
	}
	who := *as
	if who == "" {
		who = os.Getenv("USER")
	}
	if strings.TrimSpace(who) == "" {
		return fail(e, "%s: say who is approving with --as NAME (or set $USER)", name)
	}
	l, st, err := sf.openLog(e.ctx)
	if err != nil {
		return fail(e, "%s: the audit log cannot be opened, so the approval could not be recorded: %v", name, err)
	}
	defer func() {
		_ = l.Close(context.WithoutCancel(e.ctx))
		st.Close()
	}()
	ps, ok := st.(pin.Store)
	if !ok {
		return fail(e, "%s: this store does not keep MCP pins", name)
	}
	p, changed, err := mcpguard.ApprovePin(e.ctx, ps, l, server, tool, *hash, who, time.Now())
	if err != nil {
		return pinFail(e, name, err)
	}
	if !changed {
		fmt.Fprintf(e.stdout, "%s/%s is already trusted (definition %s); nothing to approve\n", p.Server, p.Tool, shortHash(p.Approved))
		return ExitOK
	}
	fmt.Fprintf(e.stdout, "approved %s/%s: definition %s is trusted; clients see it at their next tools/list\n", p.Server, p.Tool, shortHash(p.Approved))
	return ExitOK
}

// lockedWriter serialises writes: the proxy's log and the upstream's
// stderr share one stream.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// prefixWriter writes each line with a prefix. A line longer than
// maxPrefixLine is written in pieces, each prefixed, so that a child that
// never ends a line cannot grow the buffer.
type prefixWriter struct {
	w      io.Writer
	prefix string
	buf    []byte
}

const maxPrefixLine = 8 << 10

func (p *prefixWriter) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		room := maxPrefixLine - len(p.buf)
		i := bytes.IndexByte(b, '\n')
		switch {
		case i >= 0 && i <= room:
			p.buf = append(p.buf, b[:i]...)
			b = b[i+1:]
		case i < 0 && len(b) < room:
			p.buf = append(p.buf, b...)
			return n, nil
		default:
			p.buf = append(p.buf, b[:room]...)
			b = b[room:]
		}
		if err := p.flush(); err != nil {
			return n, err
		}
	}
	return n, nil
}

func (p *prefixWriter) flush() error {
	line := make([]byte, 0, len(p.prefix)+len(p.buf)+1)
	line = append(append(append(line, p.prefix...), p.buf...), '\n')
	p.buf = p.buf[:0]
	_, err := p.w.Write(line)
	return err
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
