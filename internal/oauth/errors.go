// Package oauth is the OAuth 2.0 token endpoint for technical clients
// (RFC 6749 §4.4, client credentials), issuing RFC 9068 JWT access tokens,
// with its JWKS and RFC 8414 metadata.
package oauth

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/modules-service/modules/internal/obs"
)

// Error is an RFC 6749 §5.2 error response.
type Error struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	status      int
	retryAfter  int // seconds, for 429
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

// with returns a copy of e with another description.
func (e *Error) with(description string) *Error {
	c := *e
	c.Description = description
	return &c
}

// The error codes of RFC 6749 §5.2 and the status each answers with.
var (
	ErrInvalidRequest       = &Error{Code: "invalid_request", status: http.StatusBadRequest}
	ErrInvalidClient        = &Error{Code: "invalid_client", status: http.StatusUnauthorized, Description: "client authentication failed"}
	ErrUnsupportedGrantType = &Error{Code: "unsupported_grant_type", status: http.StatusBadRequest, Description: "only grant_type=client_credentials is supported"}
	ErrInvalidScope         = &Error{Code: "invalid_scope", status: http.StatusBadRequest}
	// ErrInvalidDPoPProof: the DPoP header is missing where the module
	// requires one, or the proof is invalid (RFC 9449 §5, §12.2).
	ErrInvalidDPoPProof = &Error{Code: "invalid_dpop_proof", status: http.StatusBadRequest}
	// unauthorized_client (§5.2) is not among them: every enabled module is
	// a technical client and may use the client_credentials grant.
	// ErrSlowDown answers brute force (RFC 6749 §2.3.1 requires protection);
	// the code is the token-endpoint error registered by RFC 8628 §3.5.
	ErrSlowDown = &Error{Code: "slow_down", status: http.StatusTooManyRequests}
	// errUnavailable: a backing service throttled this request (nothing
	// was decided about the client); temporarily_unavailable is RFC 6749
	// §4.1.2.1's code for it, and Retry-After says when to come back.
	errUnavailable = &Error{Code: "temporarily_unavailable", status: http.StatusServiceUnavailable, retryAfter: 1,
		Description: "the token endpoint is at its capacity; retry in a moment"}
	// errServer is a failure of this service; the detail goes to the log.
	errServer = &Error{Code: "server_error", status: http.StatusInternalServerError, Description: "the token endpoint failed; retry later"}
)

// writeError answers per §5.2. Every 401 carries a challenge (RFC 9110
// §11.6.1 requires one), for client_secret_post and no credentials too:
// Basic is the scheme a client can answer it with.
func writeError(w http.ResponseWriter, r *http.Request, e *Error) {
	outcome := e.Code
	if e == ErrSlowDown || e.Code == ErrSlowDown.Code {
		outcome = "throttled"
	}
	obs.SetOutcome(r.Context(), outcome)
	h := w.Header()
	if e.status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Basic realm="modules", charset="UTF-8"`)
	}
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	writeJSON(w, e.status, e)
}

// writeJSON sends a token-endpoint response, never cacheable (§5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
