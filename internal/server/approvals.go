package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/sentinel-agent/sentinel/internal/approval"
	"github.com/sentinel-agent/sentinel/internal/auth"
)

func (s *Server) approvals() (*approval.Service, error) {
	if s.opts.Approvals == nil {
		return nil, errorf(http.StatusServiceUnavailable, "approval.disabled", "this server runs without approvals; confirm decisions go to the host's own prompt")
	}
	return s.opts.Approvals, nil
}

// approvalError maps the approval package's errors to statuses.
func approvalError(err error) error {
	code := approval.Code(err)
	switch {
	case errors.Is(err, approval.ErrNotFound):
		return errorf(http.StatusNotFound, code, "%v", err)
	case errors.Is(err, approval.ErrDecided), errors.Is(err, approval.ErrExpired), errors.Is(err, approval.ErrSameApprover),
		errors.Is(err, approval.ErrConflict), errors.Is(err, approval.ErrUsed):
		return errorf(http.StatusConflict, code, "%v", err)
	case code != "":
		return errorf(http.StatusBadRequest, code, "%v", err)
	}
	return err
}

func (s *Server) listApprovals(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	svc, err := s.approvals()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	status := q.Get("status")
	switch status {
	case "", "pending", "approved", "denied", "expired":
	default:
		return errorf(http.StatusBadRequest, "request.invalid_parameter", "status=%q: use pending, approved, denied or expired", status)
	}
	limit, err := queryInt(r, "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	list, err := svc.List(r.Context(), approval.ListFilter{Status: approval.Status(status), Session: q.Get("session"), Limit: limit})
	if err != nil {
		return approvalError(err)
	}
	if list == nil {
		list = []approval.Approval{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"approvals": list})
}

func (s *Server) getApproval(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	svc, err := s.approvals()
	if err != nil {
		return err
	}
	a, err := svc.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return approvalError(err)
	}
	return writeJSON(w, http.StatusOK, a)
}

// waitApproval long-polls until the approval is decided or expires, or
// ?timeout (default 30 s, at most MaxWait) passes; then it answers with
// the approval as it stands (status pending on timeout).
func (s *Server) waitApproval(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	svc, err := s.approvals()
	if err != nil {
		return err
	}
	timeout := 30 * time.Second
	if v := r.URL.Query().Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return errorf(http.StatusBadRequest, "request.invalid_parameter", "timeout=%q: use a duration such as 30s", v)
		}
		timeout = d
	}
	timeout = min(timeout, s.opts.MaxWait)
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	id := r.PathValue("id")
	a, err := svc.Wait(ctx, id)
	if err != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		if a, err = svc.Get(r.Context(), id); err != nil {
			return approvalError(err)
		}
	} else if err != nil {
		return approvalError(err)
	}
	return writeJSON(w, http.StatusOK, a)
}

// voteRequest is the body of approve and deny.
type voteRequest struct {
	// Reason is shown in the audit log.
	Reason string `json:"reason,omitempty"`
	// Approver names the person acting through this client (a console
	// signs its operators in and says who); the recorded identity is
	// "client" or "client/approver".
	Approver string `json:"approver,omitempty"`
	// Grant, on an approve, also allows calls of the same shape in the
	// same session for this long ("1h").
	Grant string `json:"grant,omitempty"`
}

func (s *Server) approve(w http.ResponseWriter, r *http.Request, c auth.Client) error {
	return s.vote(w, r, c, true)
}

func (s *Server) deny(w http.ResponseWriter, r *http.Request, c auth.Client) error {
	return s.vote(w, r, c, false)
}

func (s *Server) vote(w http.ResponseWriter, r *http.Request, c auth.Client, approve bool) error {
	svc, err := s.approvals()
	if err != nil {
		return err
	}
	var req voteRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &req); err != nil {
			return err
		}
	}
	if len(req.Approver) > 128 || len(req.Reason) > 2000 {
		return errorf(http.StatusBadRequest, "request.invalid_field", "\"approver\" is at most 128 bytes and \"reason\" 2000")
	}
	var grant time.Duration
	if req.Grant != "" {
		if !approve {
			return errorf(http.StatusBadRequest, "request.invalid_field", "\"grant\" goes with an approve, not a deny")
		}
		if grant, err = time.ParseDuration(req.Grant); err != nil || grant <= 0 {
			return errorf(http.StatusBadRequest, "request.invalid_field", "\"grant\" is %q; use a positive duration such as 1h", req.Grant)
		}
	}
	who := c.Name
	if req.Approver != "" {
		who += "/" + req.Approver
	}
	a, err := svc.Decide(r.Context(), r.PathValue("id"), approval.Vote{Approver: who, Approve: approve, Reason: req.Reason, Time: s.opts.Now()}, grant)
	if err != nil && (a.ID == "" || a.Status == approval.Pending) {
		return approvalError(err)
	}
	// What this vote decided is recorded, also when Decide failed after
	// deciding (a grant that could not be stored): the decision stands.
	if ev, ok := approval.AuditOutcome(a, err); ok {
		if err := s.record(r.Context(), ev); err != nil {
			s.log.Warn("approval decided but not recorded", "approval", a.ID, "error", err.Error())
		}
	}
	if err != nil {
		return approvalError(err)
	}
	return writeJSON(w, http.StatusOK, a)
}
