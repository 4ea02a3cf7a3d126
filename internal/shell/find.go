package shell

import (
	"strings"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
)

// findValueOps are find primaries that take one argument.
var findValueOps = map[string]bool{
	"-maxdepth": true, "-mindepth": true, "-type": true, "-xtype": true, "-user": true, "-group": true,
	"-perm": true, "-size": true, "-mtime": true, "-atime": true, "-ctime": true, "-mmin": true,
	"-amin": true, "-cmin": true, "-newer": true, "-anewer": true, "-cnewer": true, "-samefile": true,
	"-inum": true, "-links": true, "-uid": true, "-gid": true, "-regextype": true, "-fstype": true,
	"-printf": true, "-context": true, "-used": true, "-lname": true, "-ilname": true,
	"-wholename": true, "-iwholename": true, "-regex": true, "-iregex": true, "-path": true,
	"-ipath": true, "-name": true, "-iname": true, "-files0-from": true, "-fprint": true,
	"-fprint0": true, "-fls": true, "-newermt": true, "-newerct": true, "-newerat": true,
	"-newermm": true, "-newercm": true,
}

// findNonFilters are primaries that do not narrow which files match.
var findNonFilters = map[string]bool{
	"-maxdepth": true, "-mindepth": true, "-xdev": true, "-mount": true, "-depth": true,
	"-daystart": true, "-follow": true, "-noleaf": true, "-ignore_readdir_race": true,
	"-print": true, "-print0": true, "-printf": true, "-ls": true, "-fprint": true, "-fprint0": true,
	"-fprintf": true, "-fls": true, "-delete": true, "-exec": true, "-execdir": true, "-ok": true,
	"-okdir": true, "-quit": true, "-prune": true, "-true": true, "-regextype": true, "-warn": true,
	"-nowarn": true, "-files0-from": true, "-o": true, "-or": true, "-a": true, "-and": true,
	"-not": true, "!": true, "(": true, ")": true, ",": true,
}

// find: roots are listed; -delete and -exec rm delete under them; every
// -exec/-execdir/-ok/-okdir clause is a command.
func (w *walker) find(k *cmd) *flow {
	args := k.args[1:]
	i := 0
	for i < len(args) {
		s := args[i].s
		if s == "-H" || s == "-L" || s == "-P" || strings.HasPrefix(s, "-O") {
			i++
			continue
		}
		if s == "-D" {
			i += 2
			continue
		}
		break
	}
	var roots []field
	for i < len(args) {
		s := args[i].s
		if (strings.HasPrefix(s, "-") && len(s) > 1) || s == "(" || s == "!" || s == "," || s == ")" {
			break
		}
		roots = append(roots, args[i])
		i++
	}
	if len(roots) == 0 {
		roots = []field{{s: "."}}
	}
	type clause struct{ args []field }
	var clauses []clause
	// okClause marks -ok/-okdir clauses, which ask before each run.
	var okClause []bool
	del, filtered, maxdepth0 := false, false, false
	for i < len(args) {
		s := args[i].s
		switch s {
		case "-exec", "-execdir", "-ok", "-okdir":
			var c clause
			i++
			for i < len(args) && args[i].s != ";" && args[i].s != "+" {
				c.args = append(c.args, args[i])
				i++
			}
			i++
			if len(c.args) > 0 {
				clauses = append(clauses, c)
				okClause = append(okClause, s == "-ok" || s == "-okdir")
			}
			continue
		case "-delete":
			del = true
		case "-fprintf":
			if i+1 < len(args) {
				constant := i+2 < len(args) && !strings.Contains(args[i+2].s, "%")
				w.findWrite(k, args[i+1], constant)
			}
			i += 3
			continue
		case "-fprint", "-fprint0", "-fls":
			if i+1 < len(args) {
				w.findWrite(k, args[i+1], false)
			}
			i += 2
			continue
		case "-maxdepth":
			if i+1 < len(args) && args[i+1].s == "0" {
				maxdepth0 = true
			}
		case "-files0-from":
			if i+1 < len(args) {
				w.ref(k, args[i+1], analysis.OpRead, false)
			}
		}
		if !findNonFilters[s] && strings.HasPrefix(s, "-") {
			filtered = true
		}
		if findValueOps[s] {
			i += 2
			continue
		}
		i++
	}
	for _, r := range roots {
		w.ref(k, r, analysis.OpList, true)
	}
	// Deleting: -delete, or rm/shred run on every match. A forced or
	// recursive rm is a bulk delete; a plain rm or -ok asks or stops on
	// errors, so only an unfiltered one counts.
	deleting, forced, execRm := del, del, false
	for i, c := range clauses {
		switch baseOf(c.args[0].s) {
		case "rm", "shred", "unlink", "srm", "rmdir":
			deleting = true
			execRm = execRm || !okClause[i]
			for _, a := range c.args[1:] {
				if strings.HasPrefix(a.s, "-") && !strings.HasPrefix(a.s, "--") && strings.ContainsAny(a.s, "rRf") || a.s == "--recursive" || a.s == "--force" {
					forced = true
				}
			}
			if baseOf(c.args[0].s) == "shred" {
				forced = true
			}
		}
	}
	// One -name pattern names what a filtered delete removes.
	namePat := ""
	names := 0
	for i := 1; i+1 < len(k.args); i++ {
		if a := k.args[i].s; a == "-name" || a == "-iname" {
			names++
			namePat = k.args[i+1].s
		}
	}
	if names != 1 || strings.Contains(namePat, "/") || namePat == "" {
		namePat = ""
	}
	if del {
		for _, r := range roots {
			if filtered && namePat != "" && !r.dyn {
				w.ref(k, field{s: strings.TrimSuffix(r.s, "/") + "/**/" + namePat}, analysis.OpDelete, false)
				continue
			}
			if filtered {
				// -name, -mtime and the like pick some files below the
				// root: a delete of run-time names under it, not a
				// wipe of the tree.
				w.ref(k, field{s: strings.TrimSuffix(r.s, "/") + "/*", dyn: true}, analysis.OpDelete, false)
				continue
			}
			w.ref(k, r, analysis.OpDelete, true)
		}
	}
	if deleting {
		for _, r := range roots {
			if r.dyn {
				continue
			}
			c := cleanPath(r.s)
			rootish := isRootTarget(r.s) && c != "." && c != ".."
			switch {
			case rootish && !filtered && !maxdepth0:
				w.add(finding(CodeRecursiveDeleteRoot, decision.Deny,
					"find deletes everything under "+r.s+"; this is refused", k.detail(), riskCatastrophic))
			case rootish && (forced || c == "/" && execRm):
				w.add(finding(CodeRecursiveDeleteRoot, decision.Confirm,
					"find deletes matching files across "+r.s+"; narrow the search to the directory you mean", k.detail(), riskHigh))
			}
		}
	}
	for _, c := range clauses {
		inner := make([]field, len(c.args))
		for j, a := range c.args {
			inner[j] = a
			if strings.Contains(a.s, "{}") {
				// Unfiltered, {} is every path under the root, the root
				// included; filtered, it is some path under the root.
				sub := roots[0].s
				dyn := a.dyn || roots[0].dyn
				if filtered {
					sub = strings.TrimSuffix(roots[0].s, "/") + "/{}"
					dyn = true
				}
				inner[j].s = strings.ReplaceAll(a.s, "{}", sub)
				inner[j].dyn = dyn
				if dyn {
					inner[j].m = strings.ReplaceAll(a.code(), "{}", dynMark)
				}
			}
		}
		nc := *k.c
		nc.via = "find -exec"
		nc.stdin = nil
		nc.stage = nil
		sub := &cmd{args: inner, c: &nc, st: k.st, rs: nil, priv: k.priv, wrappers: append(append([]string(nil), k.wrappers...), "find -exec")}
		w.exec(sub)
		if w.limited {
			break
		}
	}
	return &flow{data: true}
}

// findWrite handles -fprint and -fprintf targets; a -fprintf format
// without directives writes constant, caller-chosen content.
func (w *walker) findWrite(k *cmd, f field, constant bool) {
	if f.proc {
		return
	}
	w.ref(k, f, analysis.OpWrite, false)
	if f.dyn || quietDevices[f.s] {
		return
	}
	w.sensitiveWriteRules(k, f.s, "find -fprint")
	if constant && outsideWorkspace(f.s) && classify(f.s) != locTmp {
		w.add(finding(CodeArbitraryFileWrite, w.escalate(k, decision.Confirm),
			"find writes "+f.s+" through -fprint; write files with a plain redirection inside the workspace", k.detail(), riskMedium))
	}
}
