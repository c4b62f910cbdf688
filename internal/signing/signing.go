// Package signing holds the RSA keys that sign this service's access
// tokens: how a key is stored in its Secrets Manager secret, how the current
// and previous keys are loaded and refreshed, and how their public parts
// are published as a JWKS for verifiers that must never see a private key.
package signing

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha256" // registers crypto.SHA256 for thumbprints
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Bits is the RSA modulus size of new keys.
const Bits = 2048

// Key is one signing key with its key ID.
type Key struct {
	ID      string
	Private *rsa.PrivateKey
}

// KeySet is what a verifier trusts and a signer uses: the current key signs;
// the previous one stays published after a rotation so that tokens it signed
// verify until they expire.
type KeySet struct {
	Current  Key
	Previous *Key
}

// Generate makes a new key whose ID is the RFC 7638 thumbprint of its public part.
func Generate() (Key, error) {
	priv, err := rsa.GenerateKey(rand.Reader, Bits)
	if err != nil {
		return Key{}, fmt.Errorf("generate RSA key: %w", err)
	}
	jwk := jose.JSONWebKey{Key: &priv.PublicKey}
	thumb, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return Key{}, fmt.Errorf("thumbprint: %w", err)
	}
	return Key{ID: base64.RawURLEncoding.EncodeToString(thumb), Private: priv}, nil
}

// stored is the JSON kept in one version of the signing-key secret.
type stored struct {
	KeyID      string `json:"kid"`
	PrivateKey string `json:"privateKeyPem"`
}

// Marshal encodes a key as the secret's value.
func (k Key) Marshal() (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		return "", fmt.Errorf("encode key: %w", err)
	}
	b, err := json.Marshal(stored{KeyID: k.ID, PrivateKey: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))})
	return string(b), err
}

// Parse decodes a secret's value into a key.
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
	priv, ok := k.(*rsa.PrivateKey)
	if !ok || priv.N.BitLen() < Bits {
		return Key{}, errors.New("signing key is not an RSA key of at least 2048 bits")
	}
	return Key{ID: s.KeyID, Private: priv}, nil
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
	return jose.JSONWebKey{Key: &k.Private.PublicKey, KeyID: k.ID, Algorithm: string(jose.RS256), Use: "sig"}
}

// PublicKeys is what a verifier trusts: the public keys of the current
// and previous signing keys (and, during a rotation, the pending one), as
// the rotation function publishes them. It never holds a private key.
type PublicKeys struct {
	Set jose.JSONWebKeySet
}

// Key returns the public key with ID kid, if the set has it.
func (p PublicKeys) Key(kid string) (crypto.PublicKey, bool) {
	for _, k := range p.Set.Key(kid) {
		if k.Use == "" || k.Use == "sig" {
			return k.Key, true
		}
	}
	return nil, false
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
