// Package accesstoken is this service's access token, an RFC 9068 JWT: its
// claims, its defaults, how the token endpoint issues it and how a
// verifier checks it. It is the one definition both sides use, so the
// issuer and the authorizer cannot drift apart.
package accesstoken

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
	// Confirmation binds the token to a key (RFC 7800 §3.1); nil for a
	// bearer token.
	Confirmation *Confirmation `json:"cnf,omitempty"`
}

// Confirmation is the cnf claim of a DPoP-bound token (RFC 9449 §6.1).
type Confirmation struct {
	// JKT is the RFC 7638 SHA-256 thumbprint of the client's DPoP key.
	JKT string `json:"jkt"`
}

// JKT is the thumbprint the token is bound to, or "" for a bearer token.
func (c Claims) JKT() string {
	if c.Confirmation == nil {
		return ""
	}
	return c.Confirmation.JKT
}

// Scopes are the token's scopes, in order.
func (c Claims) Scopes() []string { return strings.Fields(c.Scope) }

const (
	// Type is the typ header of an access token (RFC 9068 §2.1).
	Type = "at+jwt"
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

// issued is what Issue writes, member for member what Claims reads (a
// test holds them together): flat, so that encoding it is one
// allocation-light json.Marshal rather than go-jose's builder, which
// encodes the claims, decodes them into a map and encodes that again.
type issued struct {
	Issuer    string        `json:"iss"`
	Subject   string        `json:"sub"`
	Audience  string        `json:"aud"`
	Expiry    int64         `json:"exp"`
	NotBefore int64         `json:"nbf"`
	IssuedAt  int64         `json:"iat"`
	ID        string        `json:"jti"`
	ClientID  string        `json:"client_id"`
	Scope     string        `json:"scope,omitempty"`
	TenantID  string        `json:"tenant_id"`
	Cnf       *Confirmation `json:"cnf,omitempty"`
}

// Issue signs a token for a client of a tenant with the given scopes, with
// the key's algorithm.
//
// The compact JWS (RFC 7515 §7.1) is put together here rather than by
// go-jose: it is three base64url parts and one signature, and the warm
// token path was spending most of its allocations in the library's
// generic JSON handling. Verification stays with go-jose, and the tests
// check issued tokens with two independent JOSE libraries.
func Issue(key signing.Key, iss, aud, clientID, tenantID string, scopes []string, now time.Time, lifetime time.Duration) (string, error) {
	return IssueBound(key, iss, aud, clientID, tenantID, scopes, now, lifetime, "")
}

// IssueBound is Issue for a token bound to the DPoP key whose thumbprint
// is jkt (cnf.jkt, RFC 9449 §6.1); "" issues a bearer token.
func IssueBound(key signing.Key, iss, aud, clientID, tenantID string, scopes []string, now time.Time, lifetime time.Duration, jkt string) (string, error) {
	var cnf *Confirmation
	if jkt != "" {
		cnf = &Confirmation{JKT: jkt}
	}
	header, err := headerOf(key)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(issued{
		Issuer: iss, Subject: clientID, Audience: aud,
		Expiry: now.Add(lifetime).Unix(), NotBefore: now.Unix(), IssuedAt: now.Unix(), ID: rand.Text(),
		ClientID: clientID, Scope: strings.Join(scopes, " "), TenantID: tenantID, Cnf: cnf,
	})
	if err != nil {
		return "", fmt.Errorf("encode claims: %w", err)
	}
	b64 := base64.RawURLEncoding
	tok := make([]byte, 0, len(header)+b64.EncodedLen(len(payload))+b64.EncodedLen(maxSignature)+2)
	tok = append(tok, header...)
	tok = append(tok, '.')
	tok = b64.AppendEncode(tok, payload)
	digest := sha256.Sum256(tok)
	var sig [maxSignature]byte
	n, err := signDigest(key, digest[:], sig[:])
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	tok = append(tok, '.')
	tok = b64.AppendEncode(tok, sig[:n])
	return string(tok), nil
}

// maxSignature is the longest signature Issue makes: RSA-4096's. signing
// makes 2048-bit keys; a larger one parsed from a secret is refused.
const maxSignature = 512

// signDigest signs a SHA-256 digest into sig as JWS wants it (RFC 7518
// §3.3, §3.4): PKCS #1 v1.5 for RS256, R || S of 32 bytes each for ES256.
func signDigest(key signing.Key, digest, sig []byte) (int, error) {
	// signing.Parse and Generate make only such keys; a key put together
	// otherwise must not sign under a header that names another algorithm.
	switch priv := key.Private.(type) {
	case *rsa.PrivateKey:
		if key.Algorithm != signing.RS256 || priv.Size() > len(sig) {
			return 0, fmt.Errorf("an RSA key of %d bits does not sign %s", priv.N.BitLen(), key.Algorithm)
		}
		out, err := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, digest)
		return copy(sig, out), err
	case *ecdsa.PrivateKey:
		if key.Algorithm != signing.ES256 || priv.Curve != elliptic.P256() {
			return 0, fmt.Errorf("an ECDSA key on %s does not sign %s", priv.Curve.Params().Name, key.Algorithm)
		}
		r, s, err := ecdsa.Sign(rand.Reader, priv, digest)
		if err != nil {
			return 0, err
		}
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:64])
		return 64, nil
	}
	return 0, fmt.Errorf("unsupported key %T", key.Private)
}

// headers caches each key's encoded JOSE header by key ID.
var headers sync.Map

func headerOf(k signing.Key) (string, error) {
	if h, ok := headers.Load(k.ID); ok {
		return h.(string), nil
	}
	if k.ID == "" || !slices.Contains(signing.Algorithms, k.Algorithm) {
		return "", fmt.Errorf("signing key %q for %q: want a key ID and RS256 or ES256", k.ID, k.Algorithm)
	}
	b, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{string(k.Algorithm), k.ID, Type})
	if err != nil {
		return "", err
	}
	h := base64.RawURLEncoding.EncodeToString(b)
	headers.Store(k.ID, h)
	return h, nil
}

// ErrInvalid wraps every reason a token is refused; the reason is for logs.
var ErrInvalid = errors.New("invalid access token")

// Verify checks a parsed token against the published key its kid names,
// the expected issuer and audience and the time, and returns its claims.
// The token must name the key's algorithm, one of signing.Algorithms: a
// token cannot choose how it is checked.
func Verify(tok *jwt.JSONWebToken, key jose.JSONWebKey, iss, aud string, now time.Time) (Claims, error) {
	var c Claims
	alg := jose.SignatureAlgorithm(key.Algorithm)
	if len(tok.Headers) != 1 || tok.Headers[0].Algorithm != string(alg) || !slices.Contains(signing.Algorithms, alg) {
		return c, fmt.Errorf("%w: alg is not its key's (%s)", ErrInvalid, key.Algorithm)
	}
	if typ, _ := tok.Headers[0].ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(strings.TrimPrefix(strings.ToLower(typ), "application/"), Type) {
		return c, fmt.Errorf("%w: typ is not %s", ErrInvalid, Type)
	}
	if err := tok.Claims(key.Key, &c); err != nil {
		return c, fmt.Errorf("%w: bad signature", ErrInvalid)
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: iss, AnyAudience: jwt.Audience{aud}, Time: now}, Leeway); err != nil {
		return c, fmt.Errorf("%w: %w", ErrInvalid, err) // errors.Is(err, jwt.ErrExpired) tells an expired token
	}
	if c.Expiry == nil || c.ClientID == "" || c.TenantID == "" || c.Subject != c.ClientID {
		return c, fmt.Errorf("%w: missing exp, client_id, tenant_id or sub", ErrInvalid)
	}
	if c.Confirmation != nil && c.Confirmation.JKT == "" {
		return c, fmt.Errorf("%w: cnf without jkt", ErrInvalid)
	}
	return c, nil
}
