package taint

import (
	"net"
	"slices"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/request"
)

// Exposure is what letting a call run exposes its session to: the flags
// its output or its reading sets, each with its reason. reasons are the
// decision's: a sensitive-path reason on a call that still runs means the
// agent reads that data.
func Exposure(c *request.ToolCall, a *analysis.Analysis, reasons []decision.Reason) []Source {
	if c == nil {
		return nil
	}
	if a == nil {
		a = &analysis.Analysis{}
	}
	var out []Source
	add := func(f Flag, why string) {
		for _, s := range out {
			if s.Flag == f {
				return
			}
		}
		out = append(out, Source{Flag: f, Tool: c.Tool, Reason: why})
	}
	switch c.Kind {
	case request.KindNetRequest:
		if u := c.String(request.ArgURL); u != "" {
			add(Untrusted, "fetched "+clip(u))
		} else {
			add(Untrusted, "read from the network")
		}
	case request.KindMCP:
		add(Untrusted, "the output of MCP tool "+clip(c.Tool))
	}
	for _, d := range a.Dests {
		if !d.Sends && !d.Listens && !loopback(d.Host) && d.Host != "" {
			add(Untrusted, "downloaded from "+clip(d.Host))
		}
	}
	for _, r := range reasons {
		if r.Code == "path.sensitive" && r.Action != decision.Deny {
			add(Sensitive, clip(r.Message))
		}
	}
	if a.ReadsEnv {
		add(Sensitive, "read the environment, where credentials live")
	}
	return out
}

// Effect reports whether a call causes an external effect — data or an
// action leaving the machine — and what it is.
func Effect(c *request.ToolCall, a *analysis.Analysis) (bool, string) {
	if c == nil {
		return false, ""
	}
	if a == nil {
		a = &analysis.Analysis{}
	}
	for _, d := range a.Dests {
		if d.Sends && !loopback(d.Host) {
			return true, "sends data to " + clip(d.Host)
		}
	}
	if c.Kind == request.KindNetRequest {
		m := strings.ToUpper(c.String(request.ArgMethod))
		if c.String(request.ArgBody) != "" || m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE" {
			return true, "sends a " + orGET(m) + " request to " + clip(c.String(request.ArgURL))
		}
	}
	for _, cmd := range a.Commands {
		if why := publishing(cmd); why != "" {
			return true, why
		}
	}
	if c.Kind == request.KindMCP || c.Kind == request.KindOther {
		name := strings.ToLower(c.Tool)
		if i := strings.LastIndex(name, "__"); i >= 0 {
			name = name[i+2:]
		}
		for _, w := range sendingWords {
			if strings.Contains(name, w) {
				return true, "tool " + clip(c.Tool) + " sends or publishes (" + w + ")"
			}
		}
	}
	return false, ""
}

// sendingWords in a tool's name say it acts outside the machine.
var sendingWords = []string{"send", "post", "publish", "upload", "email", "mail", "message", "push", "share",
	"tweet", "comment", "transfer", "pay", "invite", "reply", "forward", "webhook", "create_issue", "create_pull"}

// publishing recognises commands that push, publish or send.
func publishing(cmd analysis.Command) string {
	args := cmd.Args
	has := func(words ...string) bool {
		for _, w := range words {
			if slices.Contains(args, w) {
				return true
			}
		}
		return false
	}
	switch cmd.Name {
	case "git":
		if has("push") {
			return "git push"
		}
	case "npm", "pnpm", "yarn", "cargo", "gem", "poetry", "twine", "flit", "hatch", "dotnet", "mvn", "gradle":
		if has("publish", "upload", "deploy", "push") {
			return cmd.Name + " publishes a package"
		}
	case "docker", "podman", "helm":
		if has("push") {
			return cmd.Name + " push"
		}
	case "gh", "glab":
		if has("create", "comment", "merge", "upload", "edit", "close", "review") {
			return cmd.Name + " changes a remote repository"
		}
	case "mail", "mailx", "sendmail", "mutt", "msmtp", "swaks":
		return cmd.Name + " sends mail"
	case "scp", "rsync", "sftp":
		return cmd.Name + " copies files to another host"
	case "aws", "gsutil", "gcloud", "az", "rclone":
		if has("cp", "sync", "mv", "put", "upload", "publish", "send-message", "invoke") {
			return cmd.Name + " writes to a cloud service"
		}
	case "kubectl":
		if has("apply", "create", "delete", "exec", "cp", "patch", "scale") {
			return "kubectl changes a cluster"
		}
	case "ssh":
		return "ssh runs commands on another host"
	}
	return ""
}

func orGET(m string) string {
	if m == "" {
		return "POST"
	}
	return m
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// clip bounds a reason's quoted part.
func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
