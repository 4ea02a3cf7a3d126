package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/auth"
)

// apiError is an error the API reports as
// {"error":{"code":"…","message":"…"}} with its status.
type apiError struct {
	status     int
	code       string
	message    string
	retryAfter int // seconds, for 429
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

type apiErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeErr renders err; anything that is not an *apiError is an internal
// error whose text stays in the log, not in the answer.
func (s *Server) writeErr(w http.ResponseWriter, r *http.Request, id string, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		s.log.Error("internal error", "request_id", id, "path", r.URL.Path, "error", err.Error())
		ae = errorf(http.StatusInternalServerError, "internal", "an internal error occurred (request %s)", id)
	}
	if ae.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(ae.retryAfter))
	}
	_ = writeJSON(w, ae.status, map[string]apiErrorBody{"error": {Code: ae.code, Message: ae.message}})
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b = append(b, '\n')
	_, _ = w.Write(b)
	return nil
}

// decodeJSON reads exactly one JSON object into v, refusing unknown
// fields, trailing data and bodies over the limit.
func decodeJSON(r *http.Request, v any) error {
	// curl -d sends form-urlencoded by default; its body is still the JSON
	// typed on the command line, so only other media types are refused.
	if ct := strings.ToLower(r.Header.Get("Content-Type")); ct != "" && !strings.HasPrefix(ct, "application/json") &&
		!strings.HasPrefix(ct, "application/x-www-form-urlencoded") && !strings.HasPrefix(ct, "text/plain") {
		return errorf(http.StatusUnsupportedMediaType, "request.unsupported_media_type", "send the body as application/json, not %q", ct)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return errorf(http.StatusRequestEntityTooLarge, "request.too_large", "the body is larger than %d bytes", mb.Limit)
		}
		return errorf(http.StatusBadRequest, "request.unreadable", "the body could not be read: %v", err)
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return errorf(http.StatusBadRequest, "request.empty_body", "the body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, "request.invalid_json", "the body holds more than one JSON value; send exactly one object")
	}
	return nil
}

// jsonError turns a decoding error into a 400 that says where.
func jsonError(err error) *apiError {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return errorf(http.StatusBadRequest, "request.invalid_json", "the body is not valid JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the body"
		}
		return errorf(http.StatusBadRequest, "request.wrong_type", "%s must be %s, not %s", field, typeName(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return errorf(http.StatusBadRequest, "request.unknown_field", "the body has the %s; see api/openapi.yaml for the fields", strings.TrimPrefix(err.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, "request.invalid_json", "the body ends in the middle of a JSON value")
	}
	return errorf(http.StatusBadRequest, "request.invalid_json", "the body is not a valid request: %v", err)
}

func typeName(kind string) string {
	switch kind {
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int64", "int32", "uint", "uint64", "float64", "float32":
		return "a number"
	}
	return kind
}

// authError maps the auth package's errors to the API's.
func authError(err error) *apiError {
	var ae *auth.Error
	if errors.As(err, &ae) {
		e := &apiError{status: ae.Status, code: ae.Code, message: ae.Message}
		if ae.RetryAfter > 0 {
			e.retryAfter = int(ae.RetryAfter.Seconds() + 0.999)
		}
		return e
	}
	return errorf(http.StatusUnauthorized, "auth.invalid_token", "the request could not be authenticated")
}

func authCode(err error) string {
	var ae *auth.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return "auth.error"
}
