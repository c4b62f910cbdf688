// Package signing holds the keys that sign this service's access tokens:
// how a key is stored in its Secrets Manager secret, how the current and
// previous keys are loaded and refreshed, and how their public parts are
// published as a JWKS for verifiers that must never see a private key.
//
// A key is RSA-2048 for RS256 (the default: RFC 9068 requires verifiers to
// support it, and HTTP API JWT authorizers accept RSA only) or ECDSA P-256
// for ES256 (a small fraction of RSA's signing cost). The algorithm is the
// key's: a rotation to a key of the other algorithm changes the tokens'
// algorithm, and the JWKS holds both keys while tokens of the old one live.
package signing

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha256" // registers crypto.SHA256 for thumbprints
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// The algorithms a key may sign with.
const (
	RS256 = jose.RS256
	ES256 = jose.ES256
)

// Algorithms are the signing algorithms this service issues tokens with,
// the default first.
var Algorithms = []jose.SignatureAlgorithm{RS256, ES256}

// Bits is the RSA modulus size of new RS256 keys.
const Bits = 2048

// Key is one signing key with its key ID and the algorithm it signs with.
type Key struct {
	ID        string
	Algorithm jose.SignatureAlgorithm
	// Private is an *rsa.PrivateKey for RS256, an *ecdsa.PrivateKey on
	// P-256 for ES256.
	Private crypto.Signer
}

// KeySet is what a verifier trusts and a signer uses: the current key signs;
// the previous one stays published after a rotation so that tokens it signed
// verify until they expire.
type KeySet struct {
	Current  Key
	Previous *Key
}

// ParseAlgorithm checks a configured algorithm name; empty is RS256.
func ParseAlgorithm(name string) (jose.SignatureAlgorithm, error) {
	if name == "" {
		return RS256, nil
	}
	for _, alg := range Algorithms {
		if string(alg) == name {
			return alg, nil
		}
	}
	return "", fmt.Errorf("signing algorithm %q: want RS256 or ES256", name)
}

// Generate makes a new key for alg whose ID is the RFC 7638 thumbprint of
// its public part.
func Generate(alg jose.SignatureAlgorithm) (Key, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, Bits)
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return Key{}, fmt.Errorf("generate key: unknown algorithm %q", alg)
	}
	if err != nil {
		return Key{}, fmt.Errorf("generate %s key: %w", alg, err)
	}
	jwk := jose.JSONWebKey{Key: priv.Public()}
	thumb, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return Key{}, fmt.Errorf("thumbprint: %w", err)
	}
	return Key{ID: base64.RawURLEncoding.EncodeToString(thumb), Algorithm: alg, Private: priv}, nil
}

// stored is the JSON kept in one version of the signing-key secret. Keys
// stored before ES256 existed have no alg: their RSA key says RS256.
type stored struct {
	KeyID      string `json:"kid"`
	Algorithm  string `json:"alg,omitempty"`
	PrivateKey string `json:"privateKeyPem"`
}

// Marshal encodes a key as the secret's value.
func (k Key) Marshal() (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		return "", fmt.Errorf("encode key: %w", err)
	}
	b, err := json.Marshal(stored{KeyID: k.ID, Algorithm: string(k.Algorithm), PrivateKey: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))})
	return string(b), err
}

// Parse decodes a secret's value into a key, and refuses one whose type
// does not fit its algorithm or is weaker than a new key of it.
func Parse(value string) (Key, error) {
	var s stored
	if err := json.Unmarshal([]byte(value), &s); err != nil || s.KeyID == "" {
		return Key{}, errors.New("signing key secret holds no key (has the rotation function run?)")
	}
	block, _ := pem.Decode([]byte(s.PrivateKey))
	if block == nil {
		return Key{}, errors.New("signing key secret holds no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return Key{}, fmt.Errorf("parse signing key: %w", err)
	}
	key := Key{ID: s.KeyID, Algorithm: jose.SignatureAlgorithm(s.Algorithm)}
	switch priv := k.(type) {
	case *rsa.PrivateKey:
		if key.Algorithm == "" {
			key.Algorithm = RS256
		}
		if key.Algorithm != RS256 || priv.N.BitLen() < Bits {
			return Key{}, fmt.Errorf("signing key for %s is an RSA key of %d bits; want RS256 and at least %d", key.Algorithm, priv.N.BitLen(), Bits)
		}
		key.Private = priv
	case *ecdsa.PrivateKey:
		if key.Algorithm != ES256 || priv.Curve != elliptic.P256() {
			return Key{}, fmt.Errorf("signing key for %q is an ECDSA key on %s; want ES256 on P-256", key.Algorithm, priv.Curve.Params().Name)
		}
		key.Private = priv
	default:
		return Key{}, fmt.Errorf("signing key is a %T; want RSA or ECDSA", k)
	}
	return key, nil
}

// JWKS returns the public keys of the set (RFC 7517), current first.
func (ks KeySet) JWKS() jose.JSONWebKeySet {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{publicJWK(ks.Current)}}
	if ks.Previous != nil && ks.Previous.ID != ks.Current.ID {
		set.Keys = append(set.Keys, publicJWK(*ks.Previous))
	}
	return set
}

// Public returns the set's public keys, which is all a verifier needs.
func (ks KeySet) Public() PublicKeys { return PublicKeys{Set: ks.JWKS()} }

func publicJWK(k Key) jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.Private.Public(), KeyID: k.ID, Algorithm: string(k.Algorithm), Use: "sig"}
}

// PublicKeys is what a verifier trusts: the public keys of the current
// and previous signing keys (and, during a rotation, the pending one), as
// the rotation function publishes them. It never holds a private key.
type PublicKeys struct {
	Set jose.JSONWebKeySet
}

// Key returns the signing key with ID kid, if the set has it: its public
// key and, in Algorithm, the one algorithm a token of it may name.
func (p PublicKeys) Key(kid string) (jose.JSONWebKey, bool) {
	for _, k := range p.Set.Key(kid) {
		if k.Use == "" || k.Use == "sig" {
			return k, true
		}
	}
	return jose.JSONWebKey{}, false
}

// Marshal encodes the set as a JWKS (RFC 7517).
func (p PublicKeys) Marshal() (string, error) {
	b, err := json.Marshal(p.Set)
	return string(b), err
}

// ParsePublic decodes a JWKS of public keys and refuses one that holds a
// private or symmetric key, or none at all.
func ParsePublic(value string) (PublicKeys, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(value), &set); err != nil || len(set.Keys) == 0 {
		return PublicKeys{}, errors.New("public keys secret holds no JWKS (has the rotation function run since the upgrade?)")
	}
	for _, k := range set.Keys {
		if !k.IsPublic() || k.KeyID == "" {
			return PublicKeys{}, fmt.Errorf("public keys secret holds a private, symmetric or unnamed key %q", k.KeyID)
		}
		if !slices.Contains(Algorithms, jose.SignatureAlgorithm(k.Algorithm)) {
			return PublicKeys{}, fmt.Errorf("public key %q is for %q; want one of %v", k.KeyID, k.Algorithm, Algorithms)
		}
	}
	return PublicKeys{Set: set}, nil
}

// Source loads a key set. Implemented by secretsmanager.SigningKeys (a
// KeySet), secretsmanager.PublicKeys (PublicKeys) and Fixed.
type Source[T any] interface {
	Load(ctx context.Context) (T, error)
}

// Fixed is a source that always loads v: the local gateway's generated key
// and tests.
func Fixed[T any](v T) Source[T] { return fixed[T]{v} }

type fixed[T any] struct{ v T }

func (f fixed[T]) Load(context.Context) (T, error) { return f.v, nil }

// Cache keeps a key set loaded once per cold start and refreshes it after
// MaxAge, or sooner when a verifier meets an unknown kid, at most once per
// MinRefresh so that forged kids cannot turn into a flood of loads.
type Cache[T any] struct {
	Source     Source[T]
	MaxAge     time.Duration
	MinRefresh time.Duration
	Now        func() time.Time

	mu       sync.Mutex
	set      T
	loadedAt time.Time
}

// Get returns the cached set, loading it when absent or older than MaxAge.
func (c *Cache[T]) Get(ctx context.Context) (T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loadedAt.IsZero() && c.now().Sub(c.loadedAt) < c.MaxAge {
		return c.set, nil
	}
	return c.load(ctx)
}

// Refresh reloads the set if the last load is older than MinRefresh.
func (c *Cache[T]) Refresh(ctx context.Context) (T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loadedAt.IsZero() && c.now().Sub(c.loadedAt) < c.MinRefresh {
		return c.set, nil
	}
	return c.load(ctx)
}

func (c *Cache[T]) load(ctx context.Context) (T, error) {
	set, err := c.Source.Load(ctx)
	if err != nil {
		if !c.loadedAt.IsZero() {
			return c.set, nil // keep serving the last good set
		}
		var zero T
		return zero, err
	}
	c.set, c.loadedAt = set, c.now()
	return set, nil
}

func (c *Cache[T]) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
