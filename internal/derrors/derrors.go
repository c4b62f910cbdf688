// Package derrors is the service's one error vocabulary: a few sentinel kinds
// that every layer wraps, and a single table (in package httpapi) that maps
// each kind to an HTTP status. Modelled on golang/pkgsite's derrors.
package derrors

import (
	"errors"
	"strings"
)

// The kinds of failure a caller can act on. Anything else is an internal error.
var (
	ErrInvalid              = errors.New("invalid request")        // 400
	ErrUnauthenticated      = errors.New("unauthenticated")        // 401
	ErrForbidden            = errors.New("forbidden")              // 403
	ErrNotFound             = errors.New("not found")              // 404
	ErrConflict             = errors.New("conflict")               // 409
	ErrPreconditionFailed   = errors.New("precondition failed")    // 412
	ErrTooLarge             = errors.New("request body too large") // 413
	ErrUnsupportedMediaType = errors.New("unsupported media type") // 415
	ErrUnprocessable        = errors.New("unprocessable request")  // 422
	// ErrUnavailable: the outcome could not be told (a write that may or
	// may not have been applied); retrying the same request settles it.
	ErrUnavailable = errors.New("temporarily unavailable") // 503, Retry-After
	// ErrThrottled: a backing service refused for capacity (throttling, a
	// quota); nothing was written and a later retry works.
	ErrThrottled = errors.New("the service is at its capacity; retry in a moment") // 503, Retry-After
)

// Field names one input field at fault and why.
type Field struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// Error is a failure of a known Kind with a detail a person can act on.
// Detail and Fields are shown to the client, so they must never carry a secret.
type Error struct {
	Kind   error
	Detail string
	Fields []Field
}

// New returns an *Error of kind with detail and the fields at fault.
func New(kind error, detail string, fields ...Field) *Error {
	return &Error{Kind: kind, Detail: detail, Fields: fields}
}

// Invalid returns an ErrInvalid error listing the fields at fault; its detail
// joins their reasons so that the message alone says what to fix.
func Invalid(fields ...Field) *Error {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = f.Name + ": " + f.Reason
	}
	return New(ErrInvalid, strings.Join(parts, "; "), fields...)
}

// Conflict returns an ErrConflict error listing the fields whose values
// are taken, its detail naming each.
func Conflict(fields ...Field) *Error {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = f.Name + " " + f.Reason
	}
	return New(ErrConflict, strings.Join(parts, "; "), fields...)
}

// Faults joins the field faults of several checks into one ErrInvalid
// error, so a form learns every problem in one round trip; a field named by
// an earlier check keeps that reason only (a member of the wrong type is
// not also "required"). A nil error adds nothing; an error that is not
// ErrInvalid with fields is returned as it is.
func Faults(errs ...error) error {
	var fields []Field
	named := map[string]bool{}
	for _, err := range errs {
		if err == nil {
			continue
		}
		e, ok := err.(*Error)
		if !ok || e.Kind != ErrInvalid || len(e.Fields) == 0 {
			return err
		}
		seen := map[string]bool{}
		for _, f := range e.Fields {
			if !named[f.Name] {
				fields = append(fields, f)
				seen[f.Name] = true
			}
		}
		for n := range seen {
			named[n] = true
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return Invalid(fields...)
}

func (e *Error) Error() string { return e.Kind.Error() + ": " + e.Detail }

// Unwrap lets errors.Is match the kind.
func (e *Error) Unwrap() error { return e.Kind }
