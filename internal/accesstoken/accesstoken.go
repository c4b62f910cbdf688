// Package accesstoken is this service's access token, an RFC 9068 JWT: its
// claims, its defaults, how the token endpoint issues it and how a
// verifier checks it. It is the one definition both sides use, so the
// issuer and the authorizer cannot drift apart.
package accesstoken

import (
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/modules-service/modules/internal/signing"
)

// Claims of an access token (RFC 9068 §2.2): iss, sub (the client ID), aud,
// exp, iat, nbf, jti, client_id, scope, and the tenant.
type Claims struct {
	jwt.Claims
	ClientID string `json:"client_id"`
	Scope    string `json:"scope,omitempty"`
	TenantID string `json:"tenant_id"`
}

// Scopes are the token's scopes, in order.
func (c Claims) Scopes() []string { return strings.Fields(c.Scope) }

const (
	// Type is the typ header of an access token (RFC 9068 §2.1).
	Type = "at+jwt"
	// Algorithm signs every access token: RS256 is what RFC 9068 requires
	// verifiers to support and what API Gateway's JWT authorizers accept.
	Algorithm = jose.RS256
	// DefaultLifetime of a token when none is configured.
	DefaultLifetime = time.Hour
	// Leeway tolerates clock skew on exp and nbf.
	Leeway = 30 * time.Second
)

// Audience is the aud of tokens: the configured one, or else the issuer.
func Audience(configured, issuer string) string {
	if configured != "" {
		return configured
	}
	return issuer
}

// Issue signs a token for a client of a tenant with the given scopes.
func Issue(key signing.Key, iss, aud, clientID, tenantID string, scopes []string, now time.Time, lifetime time.Duration) (string, error) {
	s, err := signerFor(key)
	if err != nil {
		return "", err
	}
	c := Claims{
		Claims: jwt.Claims{
			Issuer: iss, Subject: clientID, Audience: jwt.Audience{aud},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			Expiry: jwt.NewNumericDate(now.Add(lifetime)),
			ID:     rand.Text(),
		},
		ClientID: clientID, TenantID: tenantID, Scope: strings.Join(scopes, " "),
	}
	return jwt.Signed(s).Claims(c).Serialize()
}

// signers caches one jose.Signer per key ID.
var (
	signerMu sync.Mutex
	signers  = map[string]jose.Signer{}
)

func signerFor(k signing.Key) (jose.Signer, error) {
	signerMu.Lock()
	defer signerMu.Unlock()
	if s, ok := signers[k.ID]; ok {
		return s, nil
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: Algorithm, Key: jose.JSONWebKey{Key: k.Private, KeyID: k.ID}},
		(&jose.SignerOptions{}).WithType(Type))
	if err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	signers[k.ID] = s
	return s, nil
}

// ErrInvalid wraps every reason a token is refused; the reason is for logs.
var ErrInvalid = errors.New("invalid access token")

// Verify checks a parsed token against the public key its kid names, the
// expected issuer and audience and the time, and returns its claims.
func Verify(tok *jwt.JSONWebToken, key crypto.PublicKey, iss, aud string, now time.Time) (Claims, error) {
	var c Claims
	if len(tok.Headers) != 1 || tok.Headers[0].Algorithm != string(Algorithm) {
		return c, fmt.Errorf("%w: not %s", ErrInvalid, Algorithm)
	}
	if typ, _ := tok.Headers[0].ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(strings.TrimPrefix(strings.ToLower(typ), "application/"), Type) {
		return c, fmt.Errorf("%w: typ is not %s", ErrInvalid, Type)
	}
	if err := tok.Claims(key, &c); err != nil {
		return c, fmt.Errorf("%w: bad signature", ErrInvalid)
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: iss, AnyAudience: jwt.Audience{aud}, Time: now}, Leeway); err != nil {
		return c, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if c.Expiry == nil || c.ClientID == "" || c.TenantID == "" || c.Subject != c.ClientID {
		return c, fmt.Errorf("%w: missing exp, client_id, tenant_id or sub", ErrInvalid)
	}
	return c, nil
}
