package module

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/modules-service/modules/internal/derrors"
)

// Service applies the module rules over its Stores and a SecretStore.
// Secrets and Hasher are nil in a function that never creates or deletes
// (list-modules, update-module: wiring.Env.ReadService), which then holds no
// Secrets Manager permission at all, and so are the roles of Stores it
// does not use.
type Service struct {
	Stores
	Secrets SecretStore
	Hasher  Hasher
	// SecretPrefix starts every secret name: <prefix>/<tenantId>/<clientId>.
	SecretPrefix string
	// IdempotencyKey keys the fingerprints of idempotent creates (at least
	// 32 bytes; only the create function holds it).
	IdempotencyKey []byte
	// AuditRetention is how long audit events are kept (the template's
	// AuditRetentionDays); zero keeps them until deleted by hand.
	AuditRetention time.Duration
	// FederatedIssuers are the issuers a module's federated credentials
	// may name (the template's FederatedIssuers); empty: none.
	FederatedIssuers []string
	Log              *slog.Logger
	Now              func() time.Time

	mu        sync.Mutex // guards cursorKey
	cursorKey []byte
}

// Default and maximum page sizes of List.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Get returns a module of the tenant.
func (s *Service) Get(ctx context.Context, tenantID, id string) (Module, error) {
	if err := CheckTenantID(tenantID); err != nil {
		return Module{}, err
	}
	if !moduleIDPattern.MatchString(id) {
		return Module{}, derrors.New(derrors.ErrNotFound, "this tenant has no module with that ID (module IDs are 26 lowercase characters)")
	}
	m, err := s.Modules.Get(ctx, tenantID, id)
	if errors.Is(err, derrors.ErrNotFound) {
		return Module{}, derrors.New(derrors.ErrNotFound, "this tenant has no module with ID "+id)
	}
	if err != nil {
		return Module{}, fmt.Errorf("get module %s: %w", id, err)
	}
	return m, nil
}

// listKey loads the cursor key once per instance: it never changes.
func (s *Service) listKey(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cursorKey != nil {
		return s.cursorKey, nil
	}
	key, err := s.Cursors.CursorKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("load cursor key: %w", err)
	}
	s.cursorKey = key
	return key, nil
}

// Warm does at start what the first request would otherwise do lazily.
func (s *Service) Warm(ctx context.Context) error {
	_, err := s.listKey(ctx)
	return err
}

// moduleIDPattern is a lowercase ULID (Crockford base32).
var moduleIDPattern = regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{26}$`)

// IsModuleID reports whether id has the shape of a module ID.
func IsModuleID(id string) bool { return moduleIDPattern.MatchString(id) }

// ids is monotonic within a millisecond, so modules created by one instance
// list in the order they were made.
var ids = &ulid.LockedMonotonicReader{MonotonicReader: ulid.Monotonic(rand.Reader, 0)}

// newModuleID returns a ULID: sortable by creation time, so listing by ID is
// a stable order in which new modules only ever appear at the end.
func newModuleID(t time.Time) string {
	return strings.ToLower(ulid.MustNew(ulid.Timestamp(t), ids).String())
}

var clientIDEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newClientID returns 128 random bits as 26 lowercase base32 characters:
// unguessable, URL-safe and unchanged by form-urlencoding (RFC 6749 §2.3.1).
func newClientID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return strings.ToLower(clientIDEncoding.EncodeToString(b))
}

// SecretName is where the hash of a module's secret is kept.
func (s *Service) SecretName(tenantID, clientID string) string {
	return s.SecretPrefix + "/" + tenantID + "/" + clientID
}

// readBackWaits are the pauses before each read of readBack: a write whose
// answer was lost has usually landed by the first, and one still in flight
// by the last. A fixed schedule, not internal/dynamo's jittered backoff:
// it waits out one write in flight rather than spreading callers who
// collide, and jitter would only make the last read come sooner.
var readBackWaits = []time.Duration{0, 100 * time.Millisecond, 400 * time.Millisecond}

// readBack settles a write whose outcome is unknown by reading the module
// with consistent reads: done tells from what it finds (found or not)
// whether the write was applied. It returns the module as found, or a 503
// (derrors.ErrUnavailable) when it cannot tell. It runs on a fresh bounded
// context: the request's own may be what expired.
func (s *Service) readBack(ctx context.Context, tenantID, id string, done func(m Module, found bool) bool) (Module, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	for _, wait := range readBackWaits {
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		m, err := s.Modules.Get(ctx, tenantID, id)
		found := err == nil
		if err != nil && !errors.Is(err, derrors.ErrNotFound) {
			continue
		}
		if done(m, found) {
			return m, nil
		}
	}
	return Module{}, derrors.New(derrors.ErrUnavailable, "the database did not confirm whether this change was applied; retry the same request in a moment (with the same Idempotency-Key for a create, or after reading the module again)")
}
