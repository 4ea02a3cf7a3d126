package verify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// checkLint runs the linters on the claimed files; a finding is WARN
// unless the command says otherwise.
func checkLint(ctx context.Context, r *runner) tally {
	return r.runTools(ctx, CheckLint, r.opts.Linters, Warn)
}

// checkTypecheck runs the type checkers; code that does not type-check is
// broken, so a finding is FAIL.
func checkTypecheck(ctx context.Context, r *runner) tally {
	return r.runTools(ctx, CheckTypecheck, r.opts.Typecheckers, Fail)
}

// invocation is one command expanded for one file or directory.
type invocation struct {
	cmd    Command
	argv   []string
	dir    string
	target string // what the command looked at, for reasons
}

func (r *runner) runTools(ctx context.Context, check string, tools map[string][]Command, severity Status) tally {
	var t tally
	invs, skipped := r.plan(check, tools)
	for _, s := range skipped {
		t.add(Skip, s.code, s.note)
	}
	var names []string
	for _, inv := range invs {
		if ctx.Err() != nil {
			t.add(Fail, "verify.canceled", fmt.Sprintf("%s on %s not run: %v", inv.cmd.name(), inv.target, context.Cause(ctx)))
			continue
		}
		st, code, note := r.invoke(ctx, check, inv, severity)
		t.add(st, code, note)
		if st == Pass && !slices.Contains(names, inv.cmd.name()) {
			names = append(names, inv.cmd.name())
		}
	}
	if len(invs) == 0 && len(skipped) == 0 {
		t.add(Skip, check+".no_tool", fmt.Sprintf("no %s is configured for the claimed files", toolNoun(check)))
	}
	t.passed = fmt.Sprintf("%s passed (%d run(s))", strings.Join(names, ", "), len(invs))
	return t
}

func toolNoun(check string) string {
	if check == CheckTypecheck {
		return "type checker"
	}
	return "linter"
}

type skipped struct{ code, note string }

// plan expands the commands for the claimed files, once per distinct
// invocation, in the order of the files.
func (r *runner) plan(check string, tools map[string][]Command) ([]invocation, []skipped) {
	var invs []invocation
	var skips []skipped
	seen := map[string]bool{}
	for _, f := range r.lintFiles() {
		cmds := tools[strings.ToLower(filepath.Ext(f))]
		if len(cmds) == 0 {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			skips = append(skips, skipped{check + ".missing_file", fmt.Sprintf("%s: not checked: %v", f, err)})
			continue
		}
		for _, c := range cmds {
			inv := r.expand(c, f)
			key := inv.dir + "\x00" + strings.Join(inv.argv, "\x00")
			if seen[key] {
				continue
			}
			seen[key] = true
			if c.Requires != "" && !findUp(inv.dir, c.Requires) {
				skips = append(skips, skipped{check + ".not_applicable", fmt.Sprintf("%s: skipped, no %s in %s or its parents", c.name(), c.Requires, inv.dir)})
				continue
			}
			invs = append(invs, inv)
		}
	}
	return invs, skips
}

// findUp reports whether name exists in dir or one of its parents, where
// go looks for go.mod and tsc for tsconfig.json.
func findUp(dir, name string) bool {
	for {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return false
		}
		dir = parent
	}
}

// expand fills {file} and {dir}. The file path is absolute, so it can
// never be read as an option.
func (r *runner) expand(c Command, file string) invocation {
	dir := filepath.Dir(file)
	rep := strings.NewReplacer("{file}", file, "{dir}", dir)
	inv := invocation{cmd: c, argv: make([]string, len(c.Argv)), dir: r.opts.Workdir, target: r.opts.Workdir}
	for i, a := range c.Argv {
		inv.argv[i] = rep.Replace(a)
	}
	if c.Dir != "" {
		inv.dir = r.abs(rep.Replace(c.Dir))
	}
	uses := strings.Join(append([]string{c.Dir}, c.Argv...), "\x00")
	switch {
	case strings.Contains(uses, "{file}"):
		inv.target = file
	case strings.Contains(uses, "{dir}"):
		inv.target = dir
	}
	return inv
}

func (r *runner) invoke(ctx context.Context, check string, inv invocation, severity Status) (Status, string, string) {
	if inv.cmd.Severity != "" {
		severity = inv.cmd.Severity
	}
	res, err := runCommand(ctx, r.opts.Timeout, r.opts.MaxOutputBytes, inv.dir, inv.cmd.Env, inv.argv)
	switch {
	case errors.Is(err, errNotInstalled):
		return Skip, check + ".not_installed", fmt.Sprintf("%s on %s: skipped, %v", inv.cmd.name(), inv.target, err)
	case err != nil:
		// Fail closed: a checker that could not finish has not shown the
		// code to be sound.
		return Fail, check + ".error", fmt.Sprintf("%s on %s could not run: %v%s", inv.cmd.name(), inv.target, err, outputSuffix(res.output))
	}
	out := strings.TrimSpace(res.output)
	if res.exit != 0 || (inv.cmd.OutputIsFinding && out != "") {
		if out == "" {
			out = fmt.Sprintf("exit status %d", res.exit)
		}
		return severity, check + ".finding", fmt.Sprintf("%s on %s:\n%s", inv.cmd.name(), inv.target, clip(out, 2<<10))
	}
	return Pass, "", ""
}

func outputSuffix(out string) string {
	out = strings.TrimSpace(out)
	if out == "" {
		return ""
	}
	return ":\n" + clip(out, 1<<10)
}
