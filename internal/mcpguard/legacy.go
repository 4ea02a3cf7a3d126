//lint:file-ignore SA1019 roots, sampling and logging are deprecated only in the stateless protocol; the proxy speaks the session-based versions, where clients and servers still use them, and forwards them.

package mcpguard

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// forwardRootsChanged forwards a client's roots/list_changed to its
// upstream: the SDK's client announces a change when its roots change,
// and the roots themselves come from the client (forwardListRoots).
func (p *Proxy) forwardRootsChanged() {
	p.server.AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if method == "notifications/roots/list_changed" {
				ss, _ := req.GetSession().(*mcp.ServerSession)
				if s := p.session(ss); s != nil && s.client != nil {
					s.client.AddRoots(&mcp.Root{URI: "file:///.sentinel-list-changed"})
				}
			}
			return next(ctx, method, req)
		}
	})
}

// forwardListRoots answers the upstream's roots/list with the client's.
func (s *session) forwardListRoots(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method == methodListRoots {
			params, _ := req.GetParams().(*mcp.ListRootsParams)
			return result(s.ss.ListRoots(ctx, params))
		}
		return next(ctx, method, req)
	}
}

func (s *session) forwardSetLevel(ctx context.Context, req mcp.Request) error {
	return s.up.SetLoggingLevel(ctx, req.GetParams().(*mcp.SetLoggingLevelParams))
}

// legacyOptions forwards the upstream's log messages and, when the client
// declared sampling, its sampling requests.
func (s *session) legacyOptions(opts *mcp.ClientOptions, caps *mcp.ClientCapabilities) {
	opts.LoggingMessageHandler = func(ctx context.Context, r *mcp.LoggingMessageRequest) { _ = s.ss.Log(ctx, r.Params) }
	if caps.Sampling != nil {
		opts.CreateMessageWithToolsHandler = func(ctx context.Context, r *mcp.CreateMessageWithToolsRequest) (*mcp.CreateMessageWithToolsResult, error) {
			return s.ss.CreateMessageWithTools(ctx, r.Params)
		}
	}
}
