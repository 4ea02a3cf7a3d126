package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/auth"
)

// runToken makes client tokens for the server's clients file:
//
//	sentinel token new --name NAME [--scopes check,audit:read]
//	sentinel token hash < token-file
//
// The token goes to stdout, once, and is stored nowhere; stderr gets the
// clients-file entry holding only its hash.
func runToken(e *env, args []string) int {
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "new":
		f := newFlags("token new")
		name := f.String("name", "", "the client's name (letters, digits and . _ @ : -), as the server logs and audits it")
		scopes := f.String("scopes", string(auth.ScopeCheck), "comma-separated scopes: "+scopeNames())
		pos, err := f.parse(args)
		if err == errHelp {
			fmt.Fprintln(e.stdout, "usage: sentinel token new --name NAME [--scopes check,audit:read]")
			f.usage(e.stdout)
			return ExitOK
		}
		if err != nil {
			return fail(e, "token new: %v", err)
		}
		if len(pos) > 0 {
			return fail(e, "token new: unexpected argument %q; give the name with --name", pos[0])
		}
		if *name == "" {
			return fail(e, "token new: --name is required: the server identifies the client by it")
		}
		var list []string
		for _, s := range strings.Split(*scopes, ",") {
			if s = strings.TrimSpace(s); s != "" {
				list = append(list, s)
			}
		}
		token, hash, err := auth.NewToken()
		if err != nil {
			return fail(e, "token new: %v", err)
		}
		entry := auth.ClientConfig{Name: *name, Scopes: list, Tokens: []string{hash}}
		// The authenticator's own validation, so that what is printed here
		// is exactly what the server will accept.
		if _, err := auth.New(auth.Config{Clients: []auth.ClientConfig{entry}}); err != nil {
			var ps auth.Problems
			if errors.As(err, &ps) {
				for _, p := range ps {
					fmt.Fprintf(e.stderr, "sentinel: token new: %s\n", p.Message)
				}
				return ExitError
			}
			return fail(e, "token new: %v", err)
		}
		fmt.Fprintln(e.stdout, token)
		fmt.Fprintf(e.stderr, "# The token above is shown once and stored nowhere. Add this entry under \"clients:\"\n"+
			"# in the clients file (mode 0600); a running server picks it up on change or SIGHUP:\n"+
			"  - name: %s\n    scopes: [%s]\n    tokens: [%s]\n", entry.Name, strings.Join(list, ", "), hash)
		return ExitOK

	case "hash":
		f := newFlags("token hash")
		pos, err := f.parse(args)
		if err == errHelp {
			fmt.Fprintln(e.stdout, "usage: sentinel token hash < FILE   (prints the sha256:… form of the token read from stdin)")
			return ExitOK
		}
		if err != nil {
			return fail(e, "token hash: %v", err)
		}
		if len(pos) > 0 {
			return fail(e, "token hash: give the token on stdin, not as an argument, where it would stay in the shell history")
		}
		data, err := io.ReadAll(io.LimitReader(e.stdin, auth.MaxTokenLen+3))
		if err != nil {
			return fail(e, "token hash: reading stdin: %v", err)
		}
		token := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
		switch {
		case token == "":
			return fail(e, "token hash: stdin is empty; pipe the token in")
		case len(token) > auth.MaxTokenLen:
			return fail(e, "token hash: the token is longer than %d bytes; the server refuses such tokens", auth.MaxTokenLen)
		}
		if err := auth.Weak(token); err != nil {
			fmt.Fprintf(e.stderr, "sentinel: token hash: warning: %v\n", err)
		}
		fmt.Fprintln(e.stdout, auth.HashToken(token))
		return ExitOK

	case "":
		return fail(e, "token: missing subcommand; use \"token new --name NAME --scopes %s\" or \"token hash < FILE\"", auth.ScopeCheck)
	}
	return fail(e, "token: unknown subcommand %q; use new or hash", sub)
}

func scopeNames() string {
	var s []string
	for _, sc := range auth.KnownScopes() {
		s = append(s, string(sc))
	}
	return strings.Join(s, ", ") + " (admin implies the others)"
}
