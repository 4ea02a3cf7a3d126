package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/kernel"
	"github.com/sentinel-agent/sentinel/internal/request"
)

// maxStdin bounds what --stdin reads.
const maxStdin = 8 << 20

// parseCall reads a call from TOOL key=value… or, with stdin, from JSON
// {"tool":"…","args":{…}}.
func parseCall(e *env, useStdin bool, pos []string) (request.Raw, error) {
	if useStdin {
		if len(pos) > 0 {
			return request.Raw{}, fmt.Errorf("--stdin takes no TOOL or key=value arguments (got %q)", pos[0])
		}
		data, err := io.ReadAll(io.LimitReader(e.stdin, maxStdin+1))
		if err != nil {
			return request.Raw{}, fmt.Errorf("reading stdin: %w", err)
		}
		if len(data) > maxStdin {
			return request.Raw{}, fmt.Errorf("stdin is larger than %d bytes", maxStdin)
		}
		return decodeCallJSON(data)
	}
	if len(pos) == 0 {
		return request.Raw{}, fmt.Errorf("missing TOOL: write e.g. `exec command=\"ls -la\"` or use --stdin")
	}
	raw := request.Raw{Tool: pos[0], Args: map[string]any{}}
	for _, kv := range pos[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return request.Raw{}, fmt.Errorf("argument %q is not key=value (quote values with spaces: command=\"ls -la\")", kv)
		}
		if _, dup := raw.Args[k]; dup {
			return request.Raw{}, fmt.Errorf("argument %q is given twice", k)
		}
		raw.Args[k] = typedValue(v)
	}
	return raw, nil
}

// typedValue gives key=value values the seed's auto-detected types:
// true/false, integers and decimals; everything else stays a string.
func typedValue(v string) any {
	switch v {
	case "true":
		return true
	case "false":
		return false
	}
	if i, err := strconv.ParseInt(v, 10, 64); err == nil && strconv.FormatInt(i, 10) == v {
		return float64(i)
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && strings.ContainsAny(v, ".") && !strings.HasPrefix(v, ".") {
		return f
	}
	return v
}

// callJSON is the --stdin and eval input shape.
type callJSON struct {
	Tool      string         `json:"tool"`
	Args      map[string]any `json:"args"`
	Session   string         `json:"session,omitempty"`
	Agent     string         `json:"agent,omitempty"`
	Cwd       string         `json:"cwd,omitempty"`
	Workspace string         `json:"workspace,omitempty"`
}

func decodeCallJSON(data []byte) (request.Raw, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return request.Raw{}, fmt.Errorf("stdin is empty; send {\"tool\":\"exec\",\"args\":{\"command\":\"ls\"}}")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c callJSON
	if err := dec.Decode(&c); err != nil {
		return request.Raw{}, fmt.Errorf("invalid call JSON: %v (want {\"tool\":\"…\",\"args\":{…}})", err)
	}
	if dec.More() {
		return request.Raw{}, fmt.Errorf("invalid call JSON: more than one value; send exactly one object")
	}
	if c.Tool == "" {
		return request.Raw{}, fmt.Errorf("invalid call JSON: \"tool\" is missing or empty")
	}
	return request.Raw{Tool: c.Tool, Args: c.Args, Session: c.Session, Agent: c.Agent, Cwd: c.Cwd, Workspace: c.Workspace}, nil
}

// checkKnown refuses tools that no adapter knows and the policy does not
// declare: on the command line a typo should be an error, not a decision.
func checkKnown(k *kernel.Kernel, tool string) error {
	if request.Known(tool) {
		return nil
	}
	if _, ok := k.Compiled().Declared[tool]; ok {
		return nil
	}
	return fmt.Errorf("unknown tool %q; built-in tools are %s; declare others in the policy under tools: with a kind", tool, strings.Join(request.BuiltinTools(), ", "))
}

type deciding struct {
	k   *kernel.Kernel
	raw request.Raw
	g   guardFlags
	// log records the decision when check runs with --audit; close it
	// when done.
	log *audit.Log
	st  audit.Store
}

// close ends the audit log (signing its shutdown checkpoint) and the
// store.
func (d *deciding) close(e *env) error {
	if d.log == nil {
		return nil
	}
	err := d.log.Close(e.ctx)
	if cerr := d.st.Close(); err == nil {
		err = cerr
	}
	return err
}

func setupDecide(e *env, name string, args []string) (*deciding, int) {
	f := newFlags(name)
	g := addGuardFlags(f, "workspace directory relative paths resolve against (default: the current directory)")
	useStdin := f.Bool("stdin", "read the call as JSON {\"tool\":\"…\",\"args\":{…}} from standard input")
	var record *bool
	var sf *storeFlags
	if name == "check" {
		record = f.Bool("audit", "record the decision in the audit log (the data dir's SQLite, or --store postgres; implied by --data-dir and --store); a call that cannot be recorded is denied")
		sf = addStoreFlags(f)
	}
	pos, err := f.parse(args)
	if err == errHelp {
		fmt.Fprintf(e.stdout, "usage: sentinel %s [flags] TOOL [key=value ...]\n       sentinel %s [flags] --stdin\n", name, name)
		f.usage(e.stdout)
		return nil, ExitOK
	}
	if err != nil {
		return nil, fail(e, "%s: %v", name, err)
	}
	if err := g.checkFormat(); err != nil {
		return nil, fail(e, "%s: %v", name, err)
	}
	raw, err := parseCall(e, *useStdin, pos)
	if err != nil {
		return nil, fail(e, "%s: %v", name, err)
	}
	d := &deciding{raw: raw, g: g}
	var rec kernel.Recorder
	if record != nil && (*record || *sf.dataDir != "" || *sf.kind != "") {
		l, st, err := sf.openLog(e.ctx)
		if err != nil {
			// Deciding without the record asked for would run the call
			// unrecorded: refuse to decide.
			return nil, fail(e, "%s: the audit log cannot be opened: %v", name, err)
		}
		d.log, d.st, rec = l, st, l
	}
	k, err := newKernelWith(*g.policy, *g.workspace, 0, rec)
	if err != nil {
		_ = d.close(e)
		return nil, fail(e, "%s: %v", name, err)
	}
	if err := checkKnown(k, raw.Tool); err != nil {
		_ = d.close(e)
		return nil, fail(e, "%s: %v", name, err)
	}
	d.k = k
	return d, -1
}

func runCheck(e *env, args []string) int {
	d, code := setupDecide(e, "check", args)
	if d == nil {
		return code
	}
	dec := d.k.Decide(e.ctx, d.raw)
	if err := d.close(e); err != nil {
		// The event is committed (Decide returned), but the shutdown
		// checkpoint is not: say so, keep the decision.
		fmt.Fprintf(e.stderr, "check: closing the audit log: %v\n", err)
	}
	if *d.g.format == "json" {
		writeJSON(e.stdout, dec)
	} else {
		writeDecisionText(e.stdout, dec)
	}
	return exitFor(dec.Action)
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeDecisionText(w io.Writer, d decision.Decision) {
	fmt.Fprintf(w, "%s  risk %.2f  (impact %.2f, reversibility %.2f, sensitivity %.2f, error rate %.2f)\n",
		strings.ToUpper(d.Action.String()), d.Risk.Score, d.Risk.Dimensions.Impact, d.Risk.Dimensions.Reversibility,
		d.Risk.Dimensions.Sensitivity, d.Risk.Dimensions.ErrorRate)
	for _, r := range d.Reasons {
		fmt.Fprintf(w, "  %-7s %-34s %s\n", r.Action, r.Code, r.Message)
		if r.Alternative != "" {
			fmt.Fprintf(w, "  %-7s %-34s instead: %s\n", "", "", r.Alternative)
		}
	}
	fmt.Fprintf(w, "decision %s  policy %s\n", d.DecisionID, d.PolicyRevision)
}

func runRisk(e *env, args []string) int {
	d, code := setupDecide(e, "risk", args)
	if d == nil {
		return code
	}
	dec := d.k.Decide(e.ctx, d.raw)
	th := d.k.Compiled().Risk.Thresholds()
	name := th.Action(dec.Risk.Score).String()
	if name == "allow" {
		name = "auto" // the seed's word
	}
	out := map[string]any{
		"score":      dec.Risk.Score,
		"action":     name,
		"dimensions": dec.Risk.Dimensions,
		"decision":   dec.Action.String(),
	}
	if *d.g.format == "text" {
		fmt.Fprintf(e.stdout, "%.2f %s (decision %s)\n", dec.Risk.Score, name, dec.Action)
		return ExitOK
	}
	writeJSON(e.stdout, out)
	return ExitOK
}

func runValidate(e *env, args []string) int {
	d, code := setupDecide(e, "validate", args)
	if d == nil {
		return code
	}
	call, err := request.Normalize(d.raw, d.k.Compiled().Declared)
	if err != nil {
		return fail(e, "validate: %v", err)
	}
	env := d.k.Env()
	orig := call.Original
	res := d.k.Compiled().Schema.Validate(call.Tool, orig, env)
	type fieldErr struct {
		Field   string `json:"field"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	out := struct {
		Pass   bool       `json:"pass"`
		Errors []fieldErr `json:"errors"`
		Redact []string   `json:"redact,omitempty"`
	}{Pass: res.Pass, Errors: []fieldErr{}, Redact: res.Redact}
	for _, fe := range res.Errors {
		out.Errors = append(out.Errors, fieldErr{fe.Field, fe.Code, fe.Message})
	}
	sort.SliceStable(out.Errors, func(i, j int) bool { return out.Errors[i].Field < out.Errors[j].Field })
	if *d.g.format == "text" {
		if out.Pass {
			fmt.Fprintln(e.stdout, "pass")
		}
		for _, fe := range out.Errors {
			fmt.Fprintf(e.stdout, "%s: %s (%s)\n", fe.Field, fe.Message, fe.Code)
		}
	} else {
		writeJSON(e.stdout, out)
	}
	if !out.Pass {
		return ExitDeny
	}
	return ExitOK
}
