// Package clientkey makes the key pairs and JWT client assertions
// (private_key_jwt) that the tests of every layer sign with.
package clientkey

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/modules-service/modules/internal/dpop"
)

// Key is a client's key pair.
type Key struct {
	KID  string // "" signs without a kid
	Alg  jose.SignatureAlgorithm
	Priv crypto.Signer
}

// New generates a key pair for alg: RSA 2048 for RS256 and PS256, P-256
// for ES256, Ed25519 for EdDSA.
func New(t testing.TB, kid string, alg jose.SignatureAlgorithm) Key {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.RS256, jose.PS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("clientkey: no key for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return Key{KID: kid, Alg: alg, Priv: priv}
}

// Public is the public JWK, as a manager would paste it.
func (k Key) Public(t testing.TB) map[string]any { return JWK(t, k.Priv.Public(), k.KID) }

// JWK is any key as a JWK object.
func JWK(t testing.TB, key any, kid string) map[string]any {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKey{Key: key, KeyID: kid})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// Set is the JWK Set of keys' public halves.
func Set(t testing.TB, keys ...Key) json.RawMessage {
	t.Helper()
	pub := make([]map[string]any, len(keys))
	for i, k := range keys {
		pub[i] = k.Public(t)
	}
	b, _ := json.Marshal(map[string]any{"keys": pub})
	return b
}

// Claims are a good assertion's claims for clientID to aud at now, with
// a fresh jti; changes override them, a nil value removes a claim.
func Claims(clientID, aud string, now time.Time, changes map[string]any) map[string]any {
	c := map[string]any{"iss": clientID, "sub": clientID, "aud": aud, "iat": now.Unix(),
		"exp": now.Add(time.Minute).Unix(), "jti": "jti-" + rand.Text()}
	for name, v := range changes {
		if v == nil {
			delete(c, name)
			continue
		}
		c[name] = v
	}
	return c
}

// Sign makes a compact JWS of claims with typ JWT, the key's kid and
// the header members given.
func (k Key) Sign(t testing.TB, claims map[string]any, header map[jose.HeaderKey]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if k.KID != "" {
		opts = opts.WithHeader("kid", k.KID)
	}
	return k.signed(t, opts, claims, header)
}

// signed is claims signed by the key, with opts and the header members
// given (which override opts').
func (k Key) signed(t testing.TB, opts *jose.SignerOptions, claims map[string]any, header map[jose.HeaderKey]any) string {
	t.Helper()
	for name, v := range header {
		opts = opts.WithHeader(name, v)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: k.Alg, Key: k.Priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// ProofClaims are a good DPoP proof's claims (RFC 9449 §4.2) for method
// and url at now, with a fresh jti and, when token is not empty, its ath;
// changes override them, a nil value removes a claim.
func ProofClaims(method, url, token string, now time.Time, changes map[string]any) map[string]any {
	c := map[string]any{"htm": method, "htu": url, "iat": now.Unix(), "jti": "dpop-" + rand.Text()}
	if token != "" {
		c["ath"] = dpop.TokenHash(token)
	}
	for name, v := range changes {
		if v == nil {
			delete(c, name)
			continue
		}
		c[name] = v
	}
	return c
}

// Proof is a DPoP proof of claims: typ dpop+jwt and the public key in the
// header's jwk, unless header overrides them.
func (k Key) Proof(t testing.TB, claims map[string]any, header map[jose.HeaderKey]any) string {
	t.Helper()
	return k.signed(t, (&jose.SignerOptions{}).WithType(dpop.Type).WithHeader("jwk", k.Public(t)), claims, header)
}

// Thumbprint is the RFC 7638 SHA-256 thumbprint of the public key, base64url.
func (k Key) Thumbprint(t testing.TB) string {
	t.Helper()
	b, err := (&jose.JSONWebKey{Key: k.Priv.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
