// Package signing holds the RSA keys that sign this service's access
// tokens: how a key is stored in its Secrets Manager secret, how the current
// and previous keys are loaded and refreshed, and how they are published as
// a JWKS.
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

// Public returns the public key with ID kid, if the set has it.
func (ks KeySet) Public(kid string) (*rsa.PublicKey, bool) {
	if ks.Current.ID == kid && ks.Current.Private != nil {
		return &ks.Current.Private.PublicKey, true
	}
	if ks.Previous != nil && ks.Previous.ID == kid {
		return &ks.Previous.Private.PublicKey, true
	}
	return nil, false
}

func publicJWK(k Key) jose.JSONWebKey {
	return jose.JSONWebKey{Key: &k.Private.PublicKey, KeyID: k.ID, Algorithm: string(jose.RS256), Use: "sig"}
}

// Source loads the key set. Implemented by secretsmanager.SigningKeys and Static.
type Source interface {
	Load(ctx context.Context) (KeySet, error)
}

// Static is a fixed key set: the local gateway's generated key and tests.
type Static KeySet

// Load implements Source.
func (s Static) Load(context.Context) (KeySet, error) { return KeySet(s), nil }

// Cache keeps a key set loaded once per cold start and refreshes it after
// MaxAge, or sooner when a verifier meets an unknown kid, at most once per
// MinRefresh so that forged kids cannot turn into a flood of loads.
type Cache struct {
	Source     Source
	MaxAge     time.Duration
	MinRefresh time.Duration
	Now        func() time.Time

	mu       sync.Mutex
	set      KeySet
	loadedAt time.Time
}

// Get returns the cached set, loading it when absent or older than MaxAge.
func (c *Cache) Get(ctx context.Context) (KeySet, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loadedAt.IsZero() && c.now().Sub(c.loadedAt) < c.MaxAge {
		return c.set, nil
	}
	return c.load(ctx)
}

// Refresh reloads the set if the last load is older than MinRefresh.
func (c *Cache) Refresh(ctx context.Context) (KeySet, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loadedAt.IsZero() && c.now().Sub(c.loadedAt) < c.MinRefresh {
		return c.set, nil
	}
	return c.load(ctx)
}

func (c *Cache) load(ctx context.Context) (KeySet, error) {
	set, err := c.Source.Load(ctx)
	if err != nil {
		if !c.loadedAt.IsZero() {
			return c.set, nil // keep serving the last good set
		}
		return KeySet{}, err
	}
	c.set, c.loadedAt = set, c.now()
	return set, nil
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
