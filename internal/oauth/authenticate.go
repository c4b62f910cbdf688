package oauth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"log/slog"
	"time"

	"github.com/modules-service/modules/internal/assertion"
	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/federation"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/obs"
	"github.com/modules-service/modules/internal/ttl"
)

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

// Cache lifetimes of a warm instance, and why they are safe:
//   - the client pointer is read through Deps.Clients, the instance's
//     module.ClientCache, whose TTL (the template's ClientCacheSeconds)
//     bounds how long a disabled or deleted module keeps getting tokens.
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
// and argon2id (docs/operations.md, "Cost").
const (
	HashTTL     = 12 * time.Hour
	VerifiedTTL = 12 * time.Hour
)

// DefaultCacheEntries bounds each of an instance's caches when Deps says
// nothing; CacheEntries gives a function's bound from its memory.
const DefaultCacheEntries = 10000

// CacheEntries is how many entries each of a token instance's caches may
// hold in a function of memoryMB: 64 per MB (65,536 at 1,024 MB). An entry
// costs about 250 bytes with the LRU's bookkeeping, so the five caches stay
// near 8 % of the function's memory, and a warm instance remembers that
// many clients before the least active go back to argon2id (docs/scale.md).
func CacheEntries(memoryMB int) int {
	return max(DefaultCacheEntries, 64*memoryMB)
}

// authenticator checks client credentials with the caches of a warm instance.
type authenticator struct {
	clients  module.ClientReader
	hashes   HashStore
	throttle *throttle
	usage    *usage
	verifier Verifier
	// assertions verifies private_key_jwt; no argon2id on that path.
	assertions *assertion.Verifier
	// federated verifies workload platforms' tokens.
	federated *federation.Verifier
	// replays records DPoP proofs' jti (and assertions', through assertions).
	replays assertion.Replays
	log     *slog.Logger
	now     func() time.Time

	dummyHash   string // verified against for unknown clients: equal work
	instanceKey []byte
	hashCache   ttl.Cache[string, string]
	verified    ttl.Cache[[32]byte, struct{}]
}

func newAuthenticator(d Deps) *authenticator {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // never fails (Go 1.24+)
	u := newUsage(d)
	a := &authenticator{clients: d.Clients, hashes: d.Hashes, verifier: d.Verifier, log: d.Log, now: d.Now,
		throttle: newThrottle(d.Limits, u, d.Log, d.Now, d.CacheEntries), usage: u, dummyHash: d.DummyHash, instanceKey: key,
		assertions: &assertion.Verifier{Replays: d.Limits, Now: d.Now}, replays: d.Limits,
		federated: &federation.Verifier{Keys: d.FederatedKeys, Replays: d.Limits, Issuers: d.FederatedIssuers, Now: d.Now}}
	a.hashCache = ttl.Cache[string, string]{TTL: HashTTL, Max: d.CacheEntries, Now: d.Now}
	a.verified = ttl.Cache[[32]byte, struct{}]{TTL: VerifiedTTL, Max: d.CacheEntries, Now: d.Now}
	return a
}

// authenticate returns the enabled client whose credentials these are,
// presented from source with method (client_secret_basic or _post).
// secrets are the readings of the one secret sent (two when Basic
// credentials read two ways, request.go), tried in order. An unknown
// client, a wrong secret, a module that does not accept method and a
// disabled module give the same ErrInvalidClient after one argon2id
// verification per reading; a request over its limits gets ErrSlowDown
// without one.
func (a *authenticator) authenticate(ctx context.Context, clientID string, secrets []string, method, source string) (module.Client, error) {
	if module.CheckClientID(clientID) != nil {
		// Cannot be one of ours: the same work as any failure, and no I/O,
		// so no key DynamoDB would refuse and no counter for junk.
		for _, secret := range secrets {
			obs.Count(ctx, obs.MetricArgon2, 1)
			_, _ = a.verifier.Verify(secret, a.dummyHash)
		}
		return module.Client{}, ErrInvalidClient
	}
	for _, secret := range secrets {
		if _, ok := a.verified.Get(a.seen(clientID, secret)); ok { // this secret is right: no counting
			c, found, err := a.client(ctx, clientID)
			if err != nil {
				return module.Client{}, err
			}
			if !found || !c.Enabled || !c.Accepts(method) { // secrets turned off since
				return module.Client{}, ErrInvalidClient
			}
			obs.Set(ctx, obs.Client, clientID)
			return c, nil
		}
	}
	// The client pointer first: a client ID that names no client is
	// counted by its source alone and never logged, since it may be a
	// secret typed into the wrong field.
	c, found, err := a.client(ctx, clientID)
	if err != nil {
		return module.Client{}, err
	}
	if found {
		obs.Set(ctx, obs.Client, clientID)
	}
	try, err := a.throttle.admit(ctx, clientID, found, source, len(secrets))
	if err != nil {
		return module.Client{}, err
	}
	hash := a.dummyHash
	if found && !c.Accepts(method) {
		// Secrets turned off: the stored hash is never consulted, and the
		// work is that of any failure.
		found = false
		a.log.InfoContext(ctx, "client authentication method not accepted", "clientId", clientID, "method", method)
	}
	if found {
		if hash, err = a.hash(ctx, c.SecretName); errors.Is(err, derrors.ErrNotFound) {
			found, hash = false, a.dummyHash
		} else if err != nil {
			a.throttle.record(ctx, try.release(ctx)) // nothing was tried
			return module.Client{}, err
		}
	}
	right := ""
	for _, secret := range secrets {
		obs.Count(ctx, obs.MetricArgon2, 1)
		ok, err := a.verifier.Verify(secret, hash)
		if err != nil {
			a.throttle.record(ctx, try.release(ctx))
			return module.Client{}, err
		}
		if ok && found {
			right = secret
			break
		}
	}
	if right == "" {
		a.throttle.record(ctx, try.failed(ctx))
		return module.Client{}, ErrInvalidClient
	}
	// The right secret: never a failure, even for a disabled module, whose
	// owner must not find it locked once it is enabled again.
	a.verified.Put(a.seen(clientID, right), struct{}{})
	if !c.Enabled {
		a.throttle.record(ctx, try.forgive(ctx))
		return module.Client{}, ErrInvalidClient
	}
	a.throttle.record(ctx, try.succeeded(ctx))
	return c, nil
}

// authenticateAssertion returns the enabled client that signed raw, a
// private_key_jwt assertion to one of audiences, presented from source
// (authenticateSigned says how it is throttled).
func (a *authenticator) authenticateAssertion(ctx context.Context, clientID, raw string, audiences []string, source string) (module.Client, error) {
	return a.authenticateSigned(ctx, clientID, source, "client assertion refused", func(c module.Client, found bool) error {
		if !found || !c.Accepts(module.AuthPrivateKeyJWT) {
			return refusedSigned(errNotAccepted)
		}
		keys, err := assertion.ParseKeySet(c.JWKS)
		if err == nil {
			err = a.assertions.Verify(ctx, raw, clientID, audiences, keys)
		}
		if errors.Is(err, assertion.ErrRefused) || errors.Is(err, derrors.ErrInvalid) {
			return refusedSigned(err)
		}
		return err
	})
}

// authenticateSigned is the path of the signed credentials (a
// private_key_jwt assertion, a federated platform token): verify checks
// the credential against the client pointer (found false: no such
// client), returning a refusedSigned error for a credential it refuses
// and any other error when nothing could be decided. A signature check
// costs tens of microseconds and a signature cannot be guessed, so it
// runs first and a good credential is never counted or held back: no
// argon2id, and no I/O but the client pointer (cached) and the jti's
// conditional write. Only a refusal goes through the throttle, per
// (client, source) as a wrong secret does: counted, and past the limits
// answered 429 slow_down rather than 401. So a guesser behind the owner's
// address never delays the owner. Every refusal is ErrInvalidClient, its
// reason logged as what.
func (a *authenticator) authenticateSigned(ctx context.Context, clientID, source, what string, verify func(c module.Client, found bool) error) (module.Client, error) {
	if module.CheckClientID(clientID) != nil {
		return module.Client{}, ErrInvalidClient
	}
	c, found, err := a.client(ctx, clientID)
	if err != nil {
		return module.Client{}, err
	}
	if found {
		obs.Set(ctx, obs.Client, clientID)
	}
	err = verify(c, found)
	switch {
	case err == nil && c.Enabled:
		return c, nil
	case err == nil: // a disabled module: the client's own credential, never a failure
		return module.Client{}, ErrInvalidClient
	case !errors.As(err, new(signedRefusal)):
		return module.Client{}, err // the jti could not be recorded: nothing was decided
	}
	if found {
		a.log.InfoContext(ctx, what, "clientId", clientID, "reason", err.Error())
	}
	try, err := a.throttle.admit(ctx, clientID, found, source, 1)
	if err != nil {
		return module.Client{}, err // past the limits: slow_down
	}
	a.throttle.record(ctx, try.failed(ctx))
	return module.Client{}, ErrInvalidClient
}

// signedRefusal marks a signed credential that was refused, as opposed to
// one nothing could be decided about; its text is the reason.
type signedRefusal struct{ error }

func refusedSigned(why error) error { return signedRefusal{why} }

// errNotAccepted: the client ID names no client, or one that does not
// accept private_key_jwt.
var errNotAccepted = errors.New("no client accepts private_key_jwt under this client ID")

// client reads the client pointer (through the shared cache).
func (a *authenticator) client(ctx context.Context, clientID string) (module.Client, bool, error) {
	c, err := a.clients.Client(ctx, clientID)
	if errors.Is(err, derrors.ErrNotFound) {
		return module.Client{}, false, nil
	}
	return c, err == nil, err
}

func (a *authenticator) hash(ctx context.Context, name string) (string, error) {
	if h, ok := a.hashCache.Get(name); ok {
		obs.Count(ctx, obs.MetricHashCacheHit, 1)
		return h, nil
	}
	obs.Count(ctx, obs.MetricHashCacheMiss, 1)
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
