package client

import (
	"fmt"
	"strconv"
	"time"
)

// Codes of failures on the client's side. Every other Code is the
// server's own (auth.invalid_token, request.invalid_field,
// approval.not_found, …; see api/openapi.yaml).
const (
	// CodeInvalidRequest: the request could not be built (arguments that
	// are not JSON, a malformed approval id); nothing was sent.
	CodeInvalidRequest = "client.invalid_request"
	// CodeUnavailable: no answer arrived (connection refused, reset, DNS).
	CodeUnavailable = "client.unavailable"
	// CodeTimeout: the request's deadline passed before the answer.
	CodeTimeout = "client.timeout"
	// CodeCanceled: the caller's context was cancelled.
	CodeCanceled = "client.canceled"
	// CodeInvalidResponse: an answer arrived but is not what the API
	// promises (not JSON, too large, no action, an error without a code).
	CodeInvalidResponse = "client.invalid_response"
)

// Error is a request that did not succeed: either the server's refusal,
// with its HTTP status and stable code, or a failure on this side, with
// Status 0 or the status of an answer that could not be read and a
// client.* code.
type Error struct {
	// Status is the HTTP status of the answer; 0 when none arrived.
	Status int
	// Code is a stable, dotted machine code.
	Code string
	// Message says what is wrong and how to fix it.
	Message string
	// RequestID is the server's X-Request-Id, when it answered.
	RequestID string
	// RetryAfter is the server's Retry-After (auth.rate_limited).
	RetryAfter time.Duration
	// Err is the underlying cause of a client.* failure.
	Err error
}

func (e *Error) Error() string {
	s := "sentinel client: " + e.Code
	if e.Status != 0 {
		s += " (HTTP " + strconv.Itoa(e.Status) + ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RequestID != "" {
		s += fmt.Sprintf(" [request %s]", e.RequestID)
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }
