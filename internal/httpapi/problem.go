// Package httpapi turns the module service into HTTP handlers: routes,
// request decoding, RFC 9457 problem responses and middleware. The handlers
// are plain http.Handlers; the Lambda mains adapt them with
// aws-lambda-go-api-proxy.
package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/obs"
)

// statusOf is the one table from error kind to HTTP status.
var statusOf = []struct {
	kind   error
	status int
}{
	{derrors.ErrInvalid, http.StatusBadRequest},
	{derrors.ErrUnauthenticated, http.StatusUnauthorized},
	{derrors.ErrForbidden, http.StatusForbidden},
	{derrors.ErrNotFound, http.StatusNotFound},
	{derrors.ErrConflict, http.StatusConflict},
	{derrors.ErrPreconditionFailed, http.StatusPreconditionFailed},
	{derrors.ErrTooLarge, http.StatusRequestEntityTooLarge},
	{derrors.ErrUnsupportedMediaType, http.StatusUnsupportedMediaType},
	{derrors.ErrUnprocessable, http.StatusUnprocessableEntity},
	{derrors.ErrUnavailable, http.StatusServiceUnavailable},
	{derrors.ErrThrottled, http.StatusServiceUnavailable},
}

// retryAfter is the Retry-After of a 503: long enough for a write in flight
// to land, short enough for a person waiting on a form.
const retryAfter = "2"

// Problem is an RFC 9457 problem detail. Type is one of derrors.Types;
// Errors lists the fields at fault, each with its stable code.
type Problem struct {
	Type     string          `json:"type"`
	Title    string          `json:"title"`
	Status   int             `json:"status"`
	Detail   string          `json:"detail"`
	Instance string          `json:"instance,omitempty"`
	Errors   []derrors.Field `json:"errors,omitempty"`
}

// writeError answers err as problem+json. Errors of unknown kind become a
// generic 500: their text goes to the log, never to the client.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	p := Problem{Type: derrors.Type(err), Status: http.StatusInternalServerError,
		Detail: "the service failed to handle this request; it has been logged, retry later"}
	kind := "server"
	for _, e := range statusOf {
		if errors.Is(err, e.kind) {
			p.Status = e.status
			p.Detail = e.kind.Error()
			kind = e.kind.Error()
			break
		}
	}
	if p.Status == http.StatusInternalServerError {
		p.Type = derrors.Type(nil) // whatever it wraps, an unknown error is the server's
	}
	if de, ok := errors.AsType[*derrors.Error](err); ok && p.Status != http.StatusInternalServerError {
		p.Detail, p.Errors = de.Detail, de.Fields
	}
	p.Title = http.StatusText(p.Status)
	if p.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfter)
	}
	if errors.Is(err, derrors.ErrThrottled) {
		obs.Count(r.Context(), obs.MetricProviderThrottles, 1)
	}
	if p.Status == http.StatusInternalServerError {
		obs.From(r.Context()).Fail(kind, err) // the request's line, at ERROR, with the cause
	} else {
		obs.Set(r.Context(), obs.ErrorKind, kind)
	}
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="modules"`)
	}
	writeJSON(w, p.Status, "application/problem+json", p)
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	body, err := json.Marshal(v)
	if err != nil { // only for values this package builds; never expected
		slog.Error("encode response", "error", err.Error())
		status, body = http.StatusInternalServerError, []byte(`{"type":"`+derrors.Type(nil)+`","title":"Internal Server Error","status":500,"detail":"the service failed to handle this request"}`)
		contentType = "application/problem+json"
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
