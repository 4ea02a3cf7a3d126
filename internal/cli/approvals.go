package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sentinel-agent/sentinel/internal/approval"
)

func runApprovals(e *env, args []string) int {
	sub := "list"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "list":
		return approvalsList(e, args)
	case "show":
		return approvalsShow(e, args)
	case "approve":
		return approvalsVote(e, args, true)
	case "deny":
		return approvalsVote(e, args, false)
	}
	return fail(e, "approvals: unknown subcommand %q; use list, show, approve or deny", sub)
}

// approvalFail reports err with its stable code first.
func approvalFail(e *env, name string, err error) int {
	if code := approval.Code(err); code != "" {
		return fail(e, "%s: %s: %v", name, code, err)
	}
	return fail(e, "%s: %v", name, err)
}

// openApprovals opens the store and a Service on it; close releases the
// store.
func openApprovals(e *env, sf *storeFlags) (*approval.Service, func(), error) {
	st, err := sf.open(e.ctx, true)
	if err != nil {
		return nil, nil, err
	}
	as, ok := st.(approval.Store)
	if !ok {
		st.Close()
		return nil, nil, errors.New("this store does not keep approvals")
	}
	return approval.New(as, approval.Options{}), func() { st.Close() }, nil
}

func approvalsList(e *env, args []string) int {
	const name = "approvals list"
	f := newFlags(name)
	sf := addStoreFlags(f)
	status := f.String("status", "pending", "pending, approved, denied, expired or all")
	session := f.String("session", "", "only this session")
	limit := f.String("limit", "100", "how many approvals, newest first (at most 1000)")
	format := f.String("format", "text", "text or json")
	pos, err := f.parse(args)
	if err != nil {
		return flagErr(e, f, name, err)
	}
	if len(pos) > 0 {
		return fail(e, "%s: unexpected argument %q; to see one approval use approvals show ID", name, pos[0])
	}
	filter := approval.ListFilter{Status: approval.Status(*status), Session: *session}
	switch {
	case *status == "all":
		filter.Status = ""
	case !filter.Status.Valid():
		return fail(e, "%s: --status %q: use pending, approved, denied, expired or all", name, *status)
	}
	if filter.Limit, err = strconv.Atoi(*limit); err != nil || filter.Limit < 1 || filter.Limit > approval.MaxLimit {
		return fail(e, "%s: --limit %q must be a number from 1 to %d", name, *limit, approval.MaxLimit)
	}
	if *format != "text" && *format != "json" {
		return fail(e, "%s: --format %q: use text or json", name, *format)
	}
	svc, closeStore, err := openApprovals(e, sf)
	if err != nil {
		return fail(e, "%s: %v", name, err)
	}
	defer closeStore()
	list, err := svc.List(e.ctx, filter)
	if err != nil {
		return approvalFail(e, name, err)
	}
	if *format == "json" {
		if list == nil {
			list = []approval.Approval{}
		}
		writeJSON(e.stdout, map[string]any{"approvals": list, "count": len(list)})
		return ExitOK
	}
	if len(list) == 0 {
		fmt.Fprintln(e.stdout, "no approvals")
		return ExitOK
	}
	for _, a := range list {
		writeApprovalLine(e.stdout, a)
	}
	return ExitOK
}

func writeApprovalLine(w io.Writer, a approval.Approval) {
	fmt.Fprintf(w, "%s  %-8s  %s  %d/%d  %-12s %-14s %s\n", a.ID, a.Status, a.CreatedAt.Local().Format(time.DateTime),
		approvingVotes(a), a.Required, clipText(a.Tool, 12), clipText(a.Session, 14), clipText(summaryHead(a.Summary), 60))
}

// approvingVotes counts the approving votes.
func approvingVotes(a approval.Approval) int {
	n := 0
	for _, v := range a.Votes {
		if v.Approve {
			n++
		}
	}
	return n
}

func summaryHead(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func approvalsShow(e *env, args []string) int {
	const name = "approvals show"
	f := newFlags(name)
	sf := addStoreFlags(f)
	format := f.String("format", "text", "text or json")
	pos, err := f.parse(args)
	if err != nil {
		return flagErr(e, f, name, err)
	}
	if len(pos) != 1 {
		return fail(e, "%s: name one approval: sentinel approvals show ID", name)
	}
	if *format != "text" && *format != "json" {
		return fail(e, "%s: --format %q: use text or json", name, *format)
	}
	svc, closeStore, err := openApprovals(e, sf)
	if err != nil {
		return fail(e, "%s: %v", name, err)
	}
	defer closeStore()
	a, err := svc.Get(e.ctx, pos[0])
	if err != nil {
		return approvalFail(e, name, err)
	}
	if *format == "json" {
		writeJSON(e.stdout, a)
		return ExitOK
	}
	writeApproval(e.stdout, a)
	return ExitOK
}

func writeApproval(w io.Writer, a approval.Approval) {
	fmt.Fprintf(w, "approval  %s (%s)\n", a.ID, a.Status)
	fmt.Fprintf(w, "call      %s in session %q by agent %q, risk %.2f\n", a.Tool, a.Session, a.Agent, a.Risk)
	if a.Shape != "" {
		fmt.Fprintf(w, "shape     %s\n", a.Shape)
	}
	critical := ""
	if a.Critical {
		critical = " (critical)"
	}
	fmt.Fprintf(w, "needs     %d approver(s)%s\n", a.Required, critical)
	fmt.Fprintf(w, "created   %s, expires %s\n", a.CreatedAt.Local().Format(time.DateTime), a.ExpiresAt.Local().Format(time.DateTime))
	for _, r := range a.Reasons {
		fmt.Fprintf(w, "reason    %-34s %s\n", r.Code, r.Message)
	}
	for _, v := range a.Votes {
		verb := "denied"
		if v.Approve {
			verb = "approved"
		}
		fmt.Fprintf(w, "vote      %s %s at %s", v.Approver, verb, v.Time.Local().Format(time.DateTime))
		if v.Reason != "" {
			fmt.Fprintf(w, ": %s", v.Reason)
		}
		fmt.Fprintln(w)
	}
	if a.Used {
		fmt.Fprintln(w, "used      the call has run on this approval")
	}
	fmt.Fprintf(w, "summary\n  %s\n", strings.ReplaceAll(a.Summary, "\n", "\n  "))
}

func approvalsVote(e *env, args []string, approve bool) int {
	name := "approvals deny"
	if approve {
		name = "approvals approve"
	}
	f := newFlags(name)
	sf := addStoreFlags(f)
	as := f.String("as", "", "who is deciding (default $USER)")
	reason := f.String("reason", "", "why, for the record")
	var grant *string
	if approve {
		grant = f.String("grant", "", "also allow calls of the same shape in the same session for this long (1h, 7d; at most 24h)")
	}
	format := f.String("format", "text", "text or json")
	pos, err := f.parse(args)
	if err != nil {
		return flagErr(e, f, name, err)
	}
	if len(pos) != 1 {
		return fail(e, "%s: name one approval: sentinel %s ID --as NAME", name, name)
	}
	who := *as
	if who == "" {
		who = os.Getenv("USER")
	}
	if strings.TrimSpace(who) == "" {
		return fail(e, "%s: say who is deciding with --as NAME (or set $USER)", name)
	}
	var d time.Duration
	if grant != nil && *grant != "" {
		if d, err = parseAge(*grant); err != nil || d <= 0 {
			return fail(e, "%s: --grant %q is not a positive duration (30m, 1h, 7d)", name, *grant)
		}
	}
	if *format != "text" && *format != "json" {
		return fail(e, "%s: --format %q: use text or json", name, *format)
	}
	// A vote that decides is recorded in the audit log, as the server's
	// is: the log is opened first, so that a vote is not counted where
	// it could not be recorded.
	log, st, err := sf.openLog(e.ctx)
	if err != nil {
		return fail(e, "%s: the audit log cannot be opened: %v", name, err)
	}
	defer func() {
		if err := log.Close(e.ctx); err != nil {
			fmt.Fprintf(e.stderr, "%s: closing the audit log: %v\n", name, err)
		}
		st.Close()
	}()
	ast, ok := st.(approval.Store)
	if !ok {
		return fail(e, "%s: this store does not keep approvals", name)
	}
	a, err := approval.New(ast, approval.Options{}).Decide(e.ctx, pos[0], approval.Vote{Approver: who, Approve: approve, Reason: *reason}, d)
	if ev, ok := approval.AuditOutcome(a, err); ok {
		if rerr := log.Record(e.ctx, ev); rerr != nil {
			// The decision is stored and stands; say loudly that the log
			// lacks it.
			fmt.Fprintf(e.stderr, "%s: approval %s is %s, but the audit log could not record it: %v\n", name, a.ID, a.Status, rerr)
			return ExitError
		}
	}
	if err != nil {
		return approvalFail(e, name, err)
	}
	if *format == "json" {
		writeJSON(e.stdout, a)
		return ExitOK
	}
	switch a.Status {
	case approval.Approved:
		fmt.Fprintf(e.stdout, "approved %s (%s)\n", a.ID, a.Tool)
		if d > 0 {
			fmt.Fprintf(e.stdout, "granted %q in session %q for %s\n", a.Shape, a.Session, min(d, approval.DefaultMaxGrant))
		}
	case approval.Denied:
		fmt.Fprintf(e.stdout, "denied %s (%s)\n", a.ID, a.Tool)
	default:
		fmt.Fprintf(e.stdout, "recorded the approval of %s; %d more approver(s) needed\n", a.ID, a.Required-approvingVotes(a))
	}
	return ExitOK
}
