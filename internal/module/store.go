package module

import (
	"context"
	"errors"
	"time"

	"github.com/modules-service/modules/internal/audit"
)

// The storage is split by role, as the flows use it: each flow calls
// only its role's interface, declared beside it (Reader in list.go,
// IdempotencyStore in create.go, Trail in events.go, CursorStore in
// cursor.go, Migrator in migrate.go; Writer and PendingStore here, each
// shared by several flows). dynamo.Store implements every one.

// Store is every role at once: what dynamo.Store implements, and what
// StoresOf spreads over a Service's Stores.
type Store interface {
	Reader
	Writer
	IdempotencyStore
	PendingStore
	Trail
	CursorStore
	Migrator
}

// Stores are a Service's storage, one field per role. A function that
// must not use a role is built without it (wiring.Env.ReadService); a flow
// that reaches a nil role is a wiring fault.
type Stores struct {
	Modules     Reader           // every flow: a module read by ID; list and search
	Writes      Writer           // create, update, delete, the migration
	Idempotency IdempotencyStore // create: replays of an Idempotency-Key
	Pending     PendingStore     // create and the reaper
	Trail       Trail            // the audit trail's reads
	Cursors     CursorStore      // list and trail cursors
	Migration   Migrator         // infra/admin migrate-guards
}

// StoresOf fills every role from one store.
func StoresOf(s Store) Stores {
	return Stores{Modules: s, Writes: s, Idempotency: s, Pending: s, Trail: s, Cursors: s, Migration: s}
}

// Writer is what create, update and delete need beyond Reader: the
// writes, each one atomic over all its items, and the checks before them.
type Writer interface {
	// Create writes m with its name guards, its client pointer, its audit
	// event ev and, when idem is not nil, the idempotency record, and
	// removes the pending record PendingOf(m, m.CreatedAt). It returns a derrors.ErrConflict
	// error naming each taken field, ErrIdempotencyKeyTaken when another
	// request stored the same idempotency key first, or ErrPendingReaped
	// when the pending record is claimed or gone.
	Create(ctx context.Context, m Module, idem *IdempotencyRecord, ev audit.Event) error
	// Update replaces old by m, moving the guards of changed names, and
	// writes the audit event ev unless it is nil (a migration). It returns
	// derrors.ErrPreconditionFailed when the stored version is not old.Version
	// and a derrors.ErrConflict error naming each taken field. A non-empty
	// keep names a module of the tenant that must still be an enabled
	// manager when the write commits, else ErrManagerGone.
	Update(ctx context.Context, old, m Module, keep string, ev *audit.Event) error
	// Delete removes m, its guards and its client pointer, and writes the
	// audit event ev. It returns
	// derrors.ErrPreconditionFailed when the stored version is not m.Version,
	// and ErrManagerGone as Update does.
	Delete(ctx context.Context, m Module, keep string, ev audit.Event) error
	// Taken reports whether a module of the tenant holds the name or the
	// display name with these UniqueKeys, as of now.
	Taken(ctx context.Context, tenantID, nameKey, displayKey string) (name, display bool, err error)
	// OtherManager returns the ID of an enabled manager module of the tenant
	// other than exceptID, or "" when there is none, reading at most two
	// items: the manager markers that Create, Update and Delete keep.
	OtherManager(ctx context.Context, tenantID, exceptID string) (string, error)
}

// Guard is a name or display-name guard: a key that a module holds.
type Guard struct {
	Key      string // UniqueKey of the name, as the guard was written
	ModuleID string
}

// PendingStore keeps the records of secret hashes that may have no module:
// written before a create stores its hash and by a delete's transaction,
// removed by a create's commit (Create fails with ErrPendingReaped when
// the reaper claimed the record first) or by the reaper. Create adds them;
// the reaper reads, claims and drops them.
type PendingStore interface {
	// AddPending records p.
	AddPending(ctx context.Context, p Pending) error
	// PendingBefore calls fn with each record created before before, of
	// the days from since on, until fn returns an error, which it returns.
	PendingBefore(ctx context.Context, since, before time.Time, fn func(Pending) error) error
	// ClaimPending marks p as being reaped, so that no create commits
	// against it any more; false when p is gone (its module committed).
	ClaimPending(ctx context.Context, p Pending) (bool, error)
	// DropPending removes p; a missing record is no error.
	DropPending(ctx context.Context, p Pending) error
}

// Pending is a secret hash that may have no module: one a create is
// about to store, or a deleted module's.
type Pending struct {
	TenantID, ModuleID, SecretName string
	CreatedAt                      time.Time
}

// PendingOf is the pending record of m's hash, created at t.
func PendingOf(m Module, t time.Time) Pending {
	return Pending{TenantID: m.TenantID, ModuleID: m.ID, SecretName: m.SecretName, CreatedAt: t}
}

// PendingKeep is how long a pending record is kept (its TTL) when the
// reaper does not remove it first; Reap looks back as far.
const PendingKeep = 14 * 24 * time.Hour

// ErrPendingReaped is returned by Writer.Create when the reaper claimed the
// create's pending record before it committed: the hash is being deleted,
// so the module must not be written.
var ErrPendingReaped = errors.New("pending record claimed by the reaper")

// ErrOutcomeUnknown is wrapped by a Writer write whose outcome cannot be
// told: a timeout, a dropped connection or a server error after the
// request may have reached the database. The write may have been applied,
// so a caller must not compensate as if it failed (DESIGN.md, "Ambiguity is
// not failure"): it reads back, or leaves the repair to the reaper.
var ErrOutcomeUnknown = errors.New("outcome unknown")

// ErrIdempotencyKeyTaken is returned by Writer.Create when a concurrent create
// stored the same idempotency key first.
var ErrIdempotencyKeyTaken = errors.New("idempotency key taken")

// IdempotencyRecord remembers which module a create with a given
// Idempotency-Key made, and a keyed hash of that request (secret included)
// so a retry can be told from a different request without keeping the
// secret or anything that could verify it.
type IdempotencyRecord struct {
	TenantID    string
	Key         string
	ModuleID    string
	Fingerprint string
	ExpiresAt   time.Time
}

// ErrSecretExists is returned by SecretStore.Put for a name in use. Names
// hold a fresh client ID, so it means a server fault, never the caller's:
// its path is never shown.
var ErrSecretExists = errors.New("secret exists")

// SecretStore keeps one secret hash per module. Implemented by
// secretsmanager.Store and, for local runs and tests, inmem.Secrets.
type SecretStore interface {
	// Put stores value under name with tags; ErrSecretExists when the
	// name exists.
	Put(ctx context.Context, name, value string, tags map[string]string) error
	// Delete schedules the secret for deletion; a missing one is no error.
	Delete(ctx context.Context, name string) error
	// List returns the secrets whose names start with prefix.
	List(ctx context.Context, prefix string) ([]StoredSecret, error)
}

// StoredSecret describes a secret without its value.
type StoredSecret struct {
	Name      string
	Tags      map[string]string
	CreatedAt time.Time
}

// Hasher turns a client secret into a slow, salted hash and checks one.
// Implemented by secrethash.Hasher.
type Hasher interface {
	Hash(secret string) (string, error)
	Verify(secret, hash string) (bool, error)
}

// Tags put on every secret so that an operator, and the reaper, can tell
// which module it belongs to.
const (
	TagTenant = "modules:tenant"
	TagModule = "modules:module"
)
