// Package audit is the vocabulary of the audit trail: what happened to a
// module or a client, who did it and from where. Events are written by
// the module service in the same transaction as the change they record
// (dynamo.Store), and by the token endpoint for the security-relevant
// credential events; docs/api.md, "Audit trail", lists them.
//
// An event never holds a secret, a hash or a fingerprint of either.
package audit

import (
	"context"
	"crypto/rand"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// Type names what happened.
type Type string

// The event types.
const (
	ModuleCreated  Type = "module.created"
	ModuleUpdated  Type = "module.updated"
	ModuleEnabled  Type = "module.enabled"
	ModuleDisabled Type = "module.disabled"
	ModuleDeleted  Type = "module.deleted"
	// ClientThrottled: a request was refused because a source reached its
	// brute-force limit or the client was guarded; at most one per reason
	// and window.
	ClientThrottled Type = "client.throttled"
	// ClientAuthenticatedAfterGuarding: a request past a brute-force limit
	// authenticated through the client's slow path; at most one per
	// window.
	ClientAuthenticatedAfterGuarding Type = "client.authenticated_after_guarding"
)

// Credential reports whether t is a credential event: one the token
// endpoint writes, to a trail of its own.
func (t Type) Credential() bool {
	return t == ClientThrottled || t == ClientAuthenticatedAfterGuarding
}

// Types are every event type, for validating a filter.
var Types = []Type{ModuleCreated, ModuleUpdated, ModuleEnabled, ModuleDisabled, ModuleDeleted, ClientThrottled, ClientAuthenticatedAfterGuarding}

// Outcomes of an event. A management event is written only with the
// change it records, so it always succeeded; a credential event records
// a refusal or an admission.
const (
	Success = "success"
	Refused = "refused"
)

// Actor is who acted: a module's client (own token), an identity-provider
// subject, or the service itself (a credential event, whose client is the
// event's module).
type Actor struct {
	Kind     string `json:"kind"`
	ClientID string `json:"clientId,omitempty"`
	Subject  string `json:"subject,omitempty"`
	TenantID string `json:"tenantId,omitempty"`
}

// Change is one field's value before and after an update.
type Change struct {
	From any `json:"from"`
	To   any `json:"to"`
}

// Event is one entry of the audit trail.
type Event struct {
	ID         string            `json:"id"`
	Type       Type              `json:"type"`
	Time       time.Time         `json:"time"`
	TenantID   string            `json:"tenantId"`
	ModuleID   string            `json:"moduleId"`
	ModuleName string            `json:"moduleName"`
	Actor      Actor             `json:"actor"`
	RequestID  string            `json:"requestId,omitempty"`
	SourceIP   string            `json:"sourceIp,omitempty"`
	UserAgent  string            `json:"userAgent,omitempty"`
	Outcome    string            `json:"outcome"`
	Reason     string            `json:"reason,omitempty"`
	Changes    map[string]Change `json:"changes,omitempty"`
	// Expires is when the store may drop the event (its TTL); zero keeps
	// it.
	Expires time.Time `json:"-"`
}

// Origin is what a request says about where an action came from; the HTTP
// layer puts it in the context, the service reads it when it records.
type Origin struct {
	Actor     Actor
	RequestID string
	SourceIP  string
	UserAgent string
}

type originKey struct{}

// WithOrigin returns ctx carrying o, its user agent made Text.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	o.UserAgent = Text(o.UserAgent, MaxUserAgent)
	return context.WithValue(ctx, originKey{}, o)
}

// OriginOf returns the origin ctx carries; an operator's tool that sets
// none acts as {kind: "operator"}.
func OriginOf(ctx context.Context) Origin {
	if o, ok := ctx.Value(originKey{}).(Origin); ok {
		return o
	}
	return Origin{Actor: Actor{Kind: "operator"}}
}

// New returns an event of type t about module (id, name) of tenant at
// time at, from the origin in ctx. Its user agent is Text again: the one
// place every event passes, whatever a caller put in the origin.
func New(ctx context.Context, t Type, at time.Time, tenantID, moduleID, moduleName string) Event {
	o := OriginOf(ctx)
	return Event{ID: NewID(at), Type: t, Time: at.UTC(), TenantID: tenantID, ModuleID: moduleID, ModuleName: moduleName,
		Actor: o.Actor, RequestID: o.RequestID, SourceIP: o.SourceIP, UserAgent: Text(o.UserAgent, MaxUserAgent), Outcome: Success}
}

// KeepFor sets when the store may drop e: retention after its time; zero
// keeps it.
func (e *Event) KeepFor(retention time.Duration) {
	if retention > 0 {
		e.Expires = e.Time.Add(retention)
	}
}

var ids = &ulid.LockedMonotonicReader{MonotonicReader: ulid.Monotonic(rand.Reader, 0)}

// NewID returns a time-ordered ID (a lowercase ULID): events sort by ID as
// they happened, which is the order the trail is read in.
func NewID(at time.Time) string {
	return strings.ToLower(ulid.MustNew(ulid.Timestamp(at), ids).String())
}

// FirstID is the smallest ID an event at or after t can have: where a
// read of events since t starts.
func FirstID(t time.Time) string {
	var id ulid.ULID
	_ = id.SetTime(ulid.Timestamp(t)) // fails only past the year 10889
	return strings.ToLower(id.String())
}
