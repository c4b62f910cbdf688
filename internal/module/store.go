package module

import (
	"context"
	"errors"
	"time"

	"github.com/modules-service/modules/internal/audit"
)

// Store keeps modules, the guards that make their names unique, the client
// pointers the token endpoint reads, and idempotency records. Implemented by
// dynamo.Store; every method that writes more than one item does so atomically.
type Store interface {
	// Create writes m with its name guards, its client pointer, its audit
	// event ev and, when idem is not nil, the idempotency record, and
	// removes the pending record PendingOf(m, m.CreatedAt). It returns a derrors.ErrConflict
	// error naming each taken field, ErrIdempotencyKeyTaken when another
	// request stored the same idempotency key first, or ErrPendingReaped
	// when the pending record is claimed or gone.
	Create(ctx context.Context, m Module, idem *IdempotencyRecord, ev audit.Event) error
	// Get returns the module, or derrors.ErrNotFound when the tenant has none
	// with that ID.
	Get(ctx context.Context, tenantID, id string) (Module, error)
	// List returns up to limit modules of the tenant whose IDs follow after,
	// in ID order (which is creation order), and whether more follow.
	List(ctx context.Context, tenantID, after string, limit int) (items []Module, more bool, err error)
	// ListBy returns up to limit modules of the tenant sorted by
	// SortKey(Name) (SortName) or SortKey(DisplayName) (SortDisplayName)
	// and ID, those whose position ("<sort key> <id>") follows after,
	// and whether more follow.
	ListBy(ctx context.Context, tenantID string, by Sort, after string, limit int) (items []Module, more bool, err error)
	// FindGuards returns up to limit guards of the tenant, of names
	// (SortName) or display names (SortDisplayName), whose key starts with
	// prefix and follows after (when set), in key order, and whether more
	// follow.
	FindGuards(ctx context.Context, tenantID string, by Sort, prefix, after string, limit int) (guards []Guard, more bool, err error)
	// Modules returns the tenant's modules of ids, in the order of ids,
	// leaving out those that do not exist.
	Modules(ctx context.Context, tenantID string, ids []string) ([]Module, error)
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
	// WithoutGuardKeys returns every module, of any tenant, stored before
	// guard keys were kept, and every enabled manager module, which may
	// have been stored before manager markers were kept (MigrateGuards).
	WithoutGuardKeys(ctx context.Context) ([]Module, error)
	// Idempotency returns the record of an idempotency key, or
	// derrors.ErrNotFound.
	Idempotency(ctx context.Context, tenantID, key string) (IdempotencyRecord, error)
	// Events returns up to limit audit events of the tenant (of one
	// module when moduleID is set), newest first, of type t when t is
	// set, with IDs below before (when set) and not below from (when
	// set), and the ID a next page continues below ("" when none
	// follows). A filtered read may stop early with a short page.
	Events(ctx context.Context, tenantID, moduleID string, t audit.Type, before, from string, limit int) (items []audit.Event, next string, err error)
	// CursorKey returns the key that signs list cursors, creating it on first use.
	CursorKey(ctx context.Context) ([]byte, error)
	PendingStore
}

// Guard is a name or display-name guard: a key that a module holds.
type Guard struct {
	Key      string // UniqueKey of the name, as the guard was written
	ModuleID string
}

// PendingStore keeps the records of secret hashes that may have no module:
// written before a create stores its hash and by a delete's transaction,
// removed by a create's commit (Create fails with ErrPendingReaped when
// the reaper claimed the record first) or by the reaper.
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

// ErrPendingReaped is returned by Store.Create when the reaper claimed the
// create's pending record before it committed: the hash is being deleted,
// so the module must not be written.
var ErrPendingReaped = errors.New("pending record claimed by the reaper")

// ErrOutcomeUnknown is wrapped by a Store write whose outcome cannot be
// told: a timeout, a dropped connection or a server error after the
// request may have reached the database. The write may have been applied,
// so a caller must not compensate as if it failed (DESIGN.md, "Ambiguity is
// not failure"): it reads back, or leaves the repair to the reaper.
var ErrOutcomeUnknown = errors.New("outcome unknown")

// ErrIdempotencyKeyTaken is returned by Store.Create when a concurrent create
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
