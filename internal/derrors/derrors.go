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

// Field names one input field at fault, the rule it breaks as a stable
// Code (what a program or a translated form reads) and why in English
// (Reason, for people; its wording may change).
type Field struct {
	Name   string `json:"name"`
	Code   Code   `json:"code"`
	Reason string `json:"reason"`
}

// Code is the stable code of a field fault: one per rule, a closed set
// (Codes) that the API document lists as the enum of errors[].code.
type Code string

// The field fault codes. A new rule takes one of these where it fits, and
// a new code only with the API document's enum and docs/api.md.
const (
	CodeRequired            Code = "required"             // missing, empty, or needed by another field
	CodeTooShort            Code = "too_short"            // fewer characters than the rule's minimum
	CodeTooLong             Code = "too_long"             // more characters than the rule's maximum
	CodeTooMany             Code = "too_many"             // a list longer than its maximum
	CodeInvalidStart        Code = "invalid_start"        // a name must start with a letter or a digit
	CodeInvalidCharacters   Code = "invalid_characters"   // a character the rule does not allow
	CodeInvisibleCharacters Code = "invisible_characters" // control, format, invisible or blank characters
	CodeBlank               Code = "blank"                // nothing visible (spaces alone)
	CodeWeakSecret          Code = "weak_secret"          // a client secret that is easy to guess
	CodeInvalidURL          Code = "invalid_url"          // not an absolute URL
	CodeNotHTTPS            Code = "not_https"            // http off loopback, or another scheme
	CodeWildcard            Code = "wildcard"             // a URL with '*'
	CodeFragment            Code = "fragment"             // a URL with '#'
	CodeUserInfo            Code = "user_info"            // a URL with user information
	CodeDuplicate           Code = "duplicate"            // a value listed twice
	CodeTaken               Code = "taken"                // another module of the tenant has it (409)
	CodeUnknownMember       Code = "unknown_member"       // a JSON member or query parameter this request does not have
	CodeDuplicateMember     Code = "duplicate_member"     // a JSON member sent twice
	CodeWrongType           Code = "wrong_type"           // a JSON value of the wrong type
	CodeInvalidValue        Code = "invalid_value"        // a value outside the ones allowed (limit, sort, type, cursor)
	CodeInvalidFormat       Code = "invalid_format"       // an ID, time or header not of its format
	CodeReadOnly            Code = "read_only"            // a member that cannot be changed
	CodePrivateKey          Code = "private_key"          // private or symmetric key material where a public key belongs
	CodeUnsupportedKey      Code = "unsupported_key"      // a key of a type, size, curve, use or alg this service does not accept
)

// Codes is every field fault code.
var Codes = []Code{CodeRequired, CodeTooShort, CodeTooLong, CodeTooMany, CodeInvalidStart, CodeInvalidCharacters,
	CodeInvisibleCharacters, CodeBlank, CodeWeakSecret, CodeInvalidURL, CodeNotHTTPS, CodeWildcard, CodeFragment,
	CodeUserInfo, CodeDuplicate, CodeTaken, CodeUnknownMember, CodeDuplicateMember, CodeWrongType, CodeInvalidValue,
	CodeInvalidFormat, CodeReadOnly, CodePrivateKey, CodeUnsupportedKey}

// Length returns CodeTooShort or CodeTooLong for a length n outside min..max.
func Length(n, min int) Code {
	if n < min {
		return CodeTooShort
	}
	return CodeTooLong
}

// TypePrefix begins every problem type URI (RFC 9457 §3.1.1): a stable
// identifier a client compares, not an address to fetch.
const TypePrefix = "urn:modules:problem:"

// Type is the RFC 9457 problem type URI of an error kind, or of an error
// of unknown kind (a 500). The API document lists every one.
func Type(err error) string {
	for _, k := range kindTypes {
		if errors.Is(err, k.kind) {
			return TypePrefix + k.name
		}
	}
	return TypePrefix + "server-error"
}

var kindTypes = []struct {
	kind error
	name string
}{
	{ErrInvalid, "invalid-request"},
	{ErrUnauthenticated, "unauthenticated"},
	{ErrForbidden, "forbidden"},
	{ErrNotFound, "not-found"},
	{ErrConflict, "conflict"},
	{ErrPreconditionFailed, "precondition-failed"},
	{ErrTooLarge, "too-large"},
	{ErrUnsupportedMediaType, "unsupported-media-type"},
	{ErrUnprocessable, "unprocessable"},
	{ErrUnavailable, "unavailable"},
	{ErrThrottled, "throttled"},
}

// Types is every problem type URI, the server error's included.
func Types() []string {
	out := make([]string, 0, len(kindTypes)+1)
	for _, k := range kindTypes {
		out = append(out, TypePrefix+k.name)
	}
	return append(out, TypePrefix+"server-error")
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
