// Package analysis holds the facts Sentinel derives from a tool call before
// any gate judges it: the simple commands a shell line runs, the paths it
// reads, writes or deletes, the network destinations it contacts, and
// findings (recognised behaviours such as a reverse shell) with the action
// they ask for by default.
//
// It is a leaf data package: the shell analyser fills it for exec calls, the
// kernel fills it directly for file and network calls, and every gate reads
// it. It must never import a gate, the kernel or anything doing I/O.
package analysis

import "github.com/sentinel-agent/sentinel/internal/decision"

// Op is what a call does to a path.
type Op string

// Path operations.
const (
	OpRead   Op = "read"
	OpWrite  Op = "write"  // create, overwrite, append, truncate
	OpDelete Op = "delete" // rm, unlink, rmdir, shred, mv source
	OpExec   Op = "exec"   // a script or binary run from this path
	OpChmod  Op = "chmod"  // mode, owner, ACL or attribute change
	OpList   Op = "list"   // directory listing or search root; no content
)

// PathRef is one path a call touches.
type PathRef struct {
	// Path is the path as statically resolved from the call ("~/.ssh/id_rsa",
	// "$HOME/x" already expanded to "~/x", "../etc/passwd"); not yet
	// canonicalised: the path gate does that against the workspace.
	Path string `json:"path"`
	Op   Op     `json:"op"`
	// Recursive is set for rm -r, chmod -R, cp -r and the like.
	Recursive bool `json:"recursive,omitempty"`
	// Privileged is set when the operation runs as root (sudo, doas, su).
	Privileged bool `json:"privileged,omitempty"`
	// Dynamic is set when part of the path could not be resolved
	// statically ("$DIR/x", "$(pwd)/y"); Path then holds the static prefix
	// with the unknown parts as "*".
	Dynamic bool `json:"dynamic,omitempty"`
	// Command is the simple command that touches the path ("rm").
	Command string `json:"command,omitempty"`
}

// Dest is one network destination.
type Dest struct {
	// Raw is the destination as written ("https://x.io/a", "10.0.0.1:4444").
	Raw    string `json:"raw"`
	Scheme string `json:"scheme,omitempty"`
	Host   string `json:"host"`
	Port   int    `json:"port,omitempty"`
	// Sends is set when local data flows to the destination (an upload, a
	// POST body from a file, a pipe into nc, DNS labels carrying data).
	Sends bool `json:"sends,omitempty"`
	// Listens is set for bind shells and listeners (nc -l).
	Listens bool `json:"listens,omitempty"`
	// Data names what is sent, when known ("file:.env", "env", "stdin").
	Data    string `json:"data,omitempty"`
	Command string `json:"command,omitempty"`
}

// Finding is a recognised behaviour.
type Finding struct {
	// Code is a stable machine code, "command.<class>" for the shell
	// analyser ("command.reverse_shell").
	Code string `json:"code"`
	// Action is what the finding asks for by default; the policy may
	// override it per code.
	Action decision.Action `json:"action"`
	// Message is short and safe for the agent.
	Message string `json:"message"`
	// Detail is the fragment that triggered the finding, for operators.
	Detail string `json:"detail,omitempty"`
	// Risk, when set, is the finding's own view of the risk dimensions;
	// the risk gate takes the maximum impact/sensitivity/error rate and the
	// minimum reversibility over all findings.
	Risk *decision.Dimensions `json:"risk,omitempty"`
}

// Command is one simple command found in a shell line, after wrappers
// (sudo, env, timeout, xargs …) are peeled off.
type Command struct {
	// Name is the program as invoked, base name only ("rm", "python3").
	Name string `json:"name"`
	// Path is the program as written when it had a directory ("/bin/rm").
	Path string `json:"path,omitempty"`
	// Args are the statically resolved arguments (without Name).
	Args []string `json:"args"`
	// Privileged is set under sudo, doas, su, pkexec, run0.
	Privileged bool `json:"privileged,omitempty"`
	// Wrappers lists the wrappers peeled off, outermost first.
	Wrappers []string `json:"wrappers,omitempty"`
	// Depth is the nesting level: 0 for the top line, +1 for every
	// bash -c, eval, $(…), interpreter code or decoded payload.
	Depth int `json:"depth,omitempty"`
	// Dynamic is set when the name or some argument is not static.
	Dynamic bool `json:"dynamic,omitempty"`
	// Via names how the command was reached when not at top level
	// ("bash -c", "eval", "find -exec", "xargs", "$(…)", "python -c").
	Via string `json:"via,omitempty"`
}

// Analysis is everything derived from one call.
type Analysis struct {
	Commands []Command `json:"commands,omitempty"`
	Paths    []PathRef `json:"paths,omitempty"`
	Dests    []Dest    `json:"dests,omitempty"`
	Findings []Finding `json:"findings,omitempty"`
	// Privileged is set when any part runs as root.
	Privileged bool `json:"privileged,omitempty"`
	// ReadsEnv is set when the environment (env, printenv, set, /proc/*/environ)
	// is read; with a sending Dest it is exfiltration.
	ReadsEnv bool `json:"reads_env,omitempty"`
	// Unresolved lists what could not be resolved statically, each with a
	// short description; non-empty means the risk is raised.
	Unresolved []string `json:"unresolved,omitempty"`
	// ParseError is set when the command could not be parsed at all.
	ParseError string `json:"parse_error,omitempty"`
}

// AddFinding appends a finding unless one with the same code and detail is
// already there.
func (a *Analysis) AddFinding(f Finding) {
	for _, g := range a.Findings {
		if g.Code == f.Code && g.Detail == f.Detail {
			return
		}
	}
	a.Findings = append(a.Findings, f)
}

// HasFinding reports whether a finding with the code exists.
func (a *Analysis) HasFinding(code string) bool {
	for _, f := range a.Findings {
		if f.Code == code {
			return true
		}
	}
	return false
}

// CommandNames returns the names of all commands, in order.
func (a *Analysis) CommandNames() []string {
	out := make([]string, len(a.Commands))
	for i, c := range a.Commands {
		out[i] = c.Name
	}
	return out
}
