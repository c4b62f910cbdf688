package oauth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/ttl"
)

// ClientStore finds client pointers. Implemented by dynamo.Clients.
type ClientStore interface {
	// Client returns derrors.ErrNotFound for an unknown client ID.
	Client(ctx context.Context, clientID string) (module.Client, error)
}

// FailureCounter counts failed authentications per client ID and window.
// Implemented by dynamo.Clients.
type FailureCounter interface {
	Failures(ctx context.Context, clientID string, window time.Time) (int, error)
	AddFailure(ctx context.Context, clientID string, window, expires time.Time) (int, error)
}

// HashStore reads secret hashes. Implemented by secretsmanager.Store and
// inmem.Secrets.
type HashStore interface {
	// Get returns derrors.ErrNotFound for a missing secret.
	Get(ctx context.Context, name string) (string, error)
}

// Verifier checks a secret against its hash. Implemented by secrethash.Hasher.
type Verifier interface {
	Verify(secret, hash string) (bool, error)
}

// Brute-force protection (RFC 6749 §2.3.1): at most MaxFailures failed
// authentications per client ID per FailureWindow; after that the client ID
// gets 429 until the window ends. A client presenting the secret that was
// last verified successfully is let through even then, so an attacker who
// hammers a known client ID cannot lock its owner out.
const (
	MaxFailures   = 10
	FailureWindow = 5 * time.Minute
)

// Cache lifetimes of a warm instance, and why they are safe:
//   - ClientTTL bounds how long a disabled or deleted module keeps getting
//     tokens from an instance that saw it enabled: 30 s.
//   - HashTTL: a secret never changes, so a cached hash cannot go stale;
//     deletion is caught by the client pointer, which is checked first.
//   - VerifiedTTL: a verified (client, secret) pair is remembered as a keyed
//     hash under a per-instance random key, never the secret. It skips
//     argon2id but never the client pointer check. Since neither a client
//     ID nor its secret ever changes, the pair stays true for the life of
//     the module, which the pointer check bounds.
//
// Both are long (12 h) because a typical client asks for a token once an
// hour: a shorter TTL would send nearly every request to Secrets Manager
// and argon2id (README.md, "Cost").
const (
	ClientTTL   = 30 * time.Second
	HashTTL     = 12 * time.Hour
	VerifiedTTL = 12 * time.Hour
	cacheMax    = 10000
)

// authenticator checks client credentials with the caches of a warm instance.
type authenticator struct {
	clients  ClientStore
	hashes   HashStore
	failures FailureCounter
	verifier Verifier
	now      func() time.Time

	dummyHash   string // verified against for unknown clients: equal work
	instanceKey []byte
	clientCache ttl.Cache[string, clientEntry]
	hashCache   ttl.Cache[string, string]
	verified    ttl.Cache[[32]byte, struct{}]
}

type clientEntry struct {
	client module.Client
	found  bool
}

func newAuthenticator(clients ClientStore, hashes HashStore, failures FailureCounter, verifier Verifier, dummyHash string, now func() time.Time) *authenticator {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // never fails (Go 1.24+)
	a := &authenticator{clients: clients, hashes: hashes, failures: failures, verifier: verifier, now: now, dummyHash: dummyHash, instanceKey: key}
	a.clientCache = ttl.Cache[string, clientEntry]{TTL: ClientTTL, Max: cacheMax, Now: now}
	a.hashCache = ttl.Cache[string, string]{TTL: HashTTL, Max: cacheMax, Now: now}
	a.verified = ttl.Cache[[32]byte, struct{}]{TTL: VerifiedTTL, Max: cacheMax, Now: now}
	return a
}

// authenticate returns the enabled client whose credentials these are. An
// unknown client, a wrong secret and a disabled module cost one argon2id
// verification each and give the same ErrInvalidClient.
func (a *authenticator) authenticate(ctx context.Context, clientID, secret string) (module.Client, error) {
	seen := a.seen(clientID, secret)
	if _, ok := a.verified.Get(seen); ok {
		if c, found, err := a.client(ctx, clientID); err != nil || (found && c.Enabled) {
			return c, err
		}
		a.verified.Delete(seen)
		return module.Client{}, ErrInvalidClient
	}
	window := a.now().Truncate(FailureWindow)
	if n, err := a.failures.Failures(ctx, clientID, window); err != nil {
		return module.Client{}, err
	} else if n >= MaxFailures {
		e := ErrSlowDown.with(fmt.Sprintf("too many failed authentications for this client; retry after %s", window.Add(FailureWindow).Format(time.RFC3339)))
		e.retryAfter = int(window.Add(FailureWindow).Sub(a.now()).Seconds()) + 1
		return module.Client{}, e
	}
	c, found, err := a.client(ctx, clientID)
	if err != nil {
		return module.Client{}, err
	}
	hash := a.dummyHash
	if found && c.Enabled {
		if hash, err = a.hash(ctx, c.SecretName); errors.Is(err, derrors.ErrNotFound) {
			found, hash = false, a.dummyHash
		} else if err != nil {
			return module.Client{}, err
		}
	}
	ok, err := a.verifier.Verify(secret, hash)
	if err != nil {
		return module.Client{}, err
	}
	if !ok || !found || !c.Enabled {
		if _, err := a.failures.AddFailure(ctx, clientID, window, window.Add(FailureWindow)); err != nil {
			return module.Client{}, err
		}
		return module.Client{}, ErrInvalidClient
	}
	a.verified.Put(seen, struct{}{})
	return c, nil
}

func (a *authenticator) client(ctx context.Context, clientID string) (module.Client, bool, error) {
	if e, ok := a.clientCache.Get(clientID); ok {
		return e.client, e.found, nil
	}
	c, err := a.clients.Client(ctx, clientID)
	found := err == nil
	if err != nil && !errors.Is(err, derrors.ErrNotFound) {
		return module.Client{}, false, err
	}
	a.clientCache.Put(clientID, clientEntry{c, found})
	return c, found, nil
}

func (a *authenticator) hash(ctx context.Context, name string) (string, error) {
	if h, ok := a.hashCache.Get(name); ok {
		return h, nil
	}
	h, err := a.hashes.Get(ctx, name)
	if err != nil {
		return "", err
	}
	a.hashCache.Put(name, h)
	return h, nil
}

// seen is the keyed hash under which a verified (client ID, secret) pair
// is remembered.
func (a *authenticator) seen(clientID, secret string) [32]byte {
	m := hmac.New(sha256.New, a.instanceKey)
	m.Write([]byte(clientID))
	m.Write([]byte{0})
	m.Write([]byte(secret))
	var k [32]byte
	m.Sum(k[:0])
	return k
}
