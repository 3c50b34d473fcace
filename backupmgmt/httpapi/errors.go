package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/security"
	"github.com/custos-dev/custos/store"
)

// Error is the body of every failure (DESIGN §6):
// {"error": {"code": "...", "message": "...", "fields": {...}, "request_id": "..."}}.
type Error struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is the inside of [Error].
type ErrorBody struct {
	// Code is a stable snake_case identifier clients branch on.
	Code string `json:"code"`
	// Message is for people; it never holds driver text or secrets.
	Message string `json:"message"`
	// Fields maps a request field (or query parameter) to what is wrong with it.
	Fields map[string]string `json:"fields,omitempty"`
	// RequestID is the X-Request-ID of the request, to find it in the logs.
	RequestID string `json:"request_id,omitempty"`
}

// apiError is an error with its HTTP status chosen; handlers return it for
// failures the domain does not know about (a bad path parameter, say).
type apiError struct {
	status  int
	code    string
	message string
	fields  map[string]string
}

func (e *apiError) Error() string { return e.message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// invalid reports bad input in named fields.
func invalid(fields map[string]string) *apiError {
	keys := slices.Sorted(maps.Keys(fields))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+fields[k])
	}
	return &apiError{
		status:  http.StatusBadRequest,
		code:    "invalid_input",
		message: "invalid input: " + strings.Join(parts, "; "),
		fields:  fields,
	}
}

func invalidField(field, problem string) *apiError {
	return invalid(map[string]string{field: problem})
}

// notFound names the resource that is missing: "job_not_found".
func notFound(resource string) *apiError {
	return errorf(http.StatusNotFound, resource+"_not_found", "%s not found", strings.ReplaceAll(resource, "_", " "))
}

// domainErrors maps the sentinels the domain returns to their status and code.
var domainErrors = []struct {
	err     error
	status  int
	code    string
	message string
}{
	{backupmgmt.ErrLoginFailed, http.StatusUnauthorized, "login_failed", "invalid username or password"},
	{backupmgmt.ErrSessionExpired, http.StatusUnauthorized, "unauthenticated", "session expired; sign in again"},
	{backupmgmt.ErrInvalidAPIKey, http.StatusUnauthorized, "unauthenticated", "invalid API key"},
	{backupmgmt.ErrKeyJobMismatch, http.StatusForbidden, "forbidden", "the API key may only record runs of the job it is bound to"},
	{backupmgmt.ErrUnknownPingToken, http.StatusNotFound, "job_not_found", "no job has this ping token"},
	{backupmgmt.ErrLastAdmin, http.StatusConflict, "last_admin", "the last active admin cannot be removed, deactivated or demoted"},
	{backupmgmt.ErrAlertState, http.StatusConflict, "alert_state", "the alert's state does not allow this"},
	{backupmgmt.ErrAssetInUse, http.StatusConflict, "asset_in_use", "the asset is used by jobs"},
	{backupmgmt.ErrMediaNotLendable, http.StatusConflict, "media_not_lendable", "the medium cannot be lent in its current status"},
	{backupmgmt.ErrMediaNotLent, http.StatusConflict, "media_not_lent", "the medium has no open lending"},
	{backupmgmt.ErrMediaRetired, http.StatusConflict, "media_retired", "the medium is retired"},
	{backupmgmt.ErrMediaLent, http.StatusConflict, "media_lent", "the medium is lent; return it first"},
	{backupmgmt.ErrRotationNotDue, http.StatusConflict, "rotation_not_due", "no rotation is due"},
	{store.ErrRetry, http.StatusServiceUnavailable, "unavailable", "the database is busy; retry"},
}

// status chooses the status, code and message of err: the one place where
// an error becomes HTTP (STYLE 9). Anything unknown is a 500 whose text is
// logged, never sent.
func (a *API) status(r *http.Request, err error) (int, ErrorBody) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.status, ErrorBody{Code: ae.code, Message: ae.message, Fields: ae.fields}
	}
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		ie := invalid(ve.Fields)
		return ie.status, ErrorBody{Code: ie.code, Message: ie.message, Fields: ie.fields}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, ErrorBody{
			Code:    "body_too_large",
			Message: fmt.Sprintf("request body larger than %d bytes", mbe.Limit),
		}
	}
	for _, d := range domainErrors {
		if errors.Is(err, d.err) {
			return d.status, ErrorBody{Code: d.code, Message: d.message}
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		res := "resource"
		if rt := routeFrom(r.Context()); rt != nil && rt.resource != "" {
			res = rt.resource
		}
		nf := notFound(res)
		return nf.status, ErrorBody{Code: nf.code, Message: nf.message}
	}
	var ce *store.ConstraintError
	if errors.As(err, &ce) && errors.Is(err, store.ErrConflict) {
		b := ErrorBody{Code: "conflict", Message: "conflicts with an existing resource"}
		if ce.Field != "" {
			b.Message = ce.Field + " already exists"
			b.Fields = map[string]string{ce.Field: "already exists"}
		}
		return http.StatusConflict, b
	}
	if errors.Is(err, store.ErrConflict) {
		return http.StatusConflict, ErrorBody{Code: "conflict", Message: "conflicts with the current state; reload and retry"}
	}
	if errors.Is(err, store.ErrForeignKey) {
		b := ErrorBody{Code: "in_use", Message: "other resources refer to it, or it refers to one that does not exist"}
		// On a write that names a row, the named row is missing; on a delete,
		// rows refer to the one going away.
		if errors.As(err, &ce) && ce.Field != "" && r.Method != http.MethodDelete {
			return http.StatusBadRequest, ErrorBody{
				Code:    "invalid_input",
				Message: "invalid input: " + ce.Field + ": does not exist",
				Fields:  map[string]string{ce.Field: "does not exist"},
			}
		}
		return http.StatusConflict, b
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return http.StatusServiceUnavailable, ErrorBody{Code: "unavailable", Message: "the request was canceled or timed out"}
	}
	a.log.ErrorContext(r.Context(), "request failed",
		slog.String("route", r.Pattern),
		slog.String("request_id", security.RequestIDFrom(r.Context())),
		slog.String("error", err.Error()))
	return http.StatusInternalServerError, ErrorBody{Code: "internal", Message: "internal error; the request ID is in the server log"}
}

// writeError writes err in the envelope.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := a.status(r, err)
	body.RequestID = security.RequestIDFrom(r.Context())
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="custos"`)
	}
	writeJSON(w, status, Error{Error: body})
}

// errorWriter is the security.ErrorWriter of the middleware, so that its
// refusals use the same envelope.
func (a *API) errorWriter(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	writeJSON(w, status, Error{Error: ErrorBody{Code: code, Message: message, RequestID: security.RequestIDFrom(r.Context())}})
}
