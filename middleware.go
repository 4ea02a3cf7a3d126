package sentinel

import "context"

// Wrap guards a tool function: the function it returns decides every call
// with g.Execute, under the tool name tool and the arguments it is given,
// and calls fn only when the call may run. A refused call returns T's zero
// value and Execute's error (ErrDenied, ErrNeedsApproval, ErrUndecided);
// a call that ran returns what fn returned. The session and agent come
// from the context (WithSession).
//
//	exec := sentinel.Wrap(g, "exec", runCommand)
//	out, err := exec(ctx, map[string]any{"command": "go test ./..."})
func Wrap[T any](g *Guard, tool string, fn func(ctx context.Context, args map[string]any) (T, error)) func(ctx context.Context, args map[string]any) (T, error) {
	return func(ctx context.Context, args map[string]any) (T, error) {
		c := Call{Tool: tool, Args: args}
		if id, ok := ctx.Value(sessionKey{}).(sessionID); ok {
			c.Session, c.Agent = id.session, id.agent
		}
		var out T
		var run func(context.Context) (Result, error)
		if fn != nil {
			run = func(ctx context.Context) (Result, error) {
				var err error
				out, err = fn(ctx, args)
				return Result{}, err
			}
		}
		_, _, err := g.Execute(ctx, c, run)
		return out, err
	}
}

type sessionKey struct{}

type sessionID struct{ session, agent string }

// WithSession returns a context whose calls through Wrap carry session and
// agent, so that the audit log groups them. Check and Execute take them
// from the Call instead.
func WithSession(ctx context.Context, session, agent string) context.Context {
	return context.WithValue(ctx, sessionKey{}, sessionID{session, agent})
}
