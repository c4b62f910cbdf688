// Package dpop checks DPoP proofs (RFC 9449): a JWT that a client signs
// with a key of its own, per request, naming the request's method and URL
// (and, at a resource, the hash of the access token), so that a token bound
// to that key (cnf.jkt) is worth nothing without the private key.
//
// Check is stateless; the caller records the proof's jti once across
// instances (a conditional write with a TTL) after it knows whose proof it
// is, so that nothing unauthenticated is written.
package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	// Type is the typ header of a DPoP proof (RFC 9449 §4.2).
	Type = "dpop+jwt"
	// Scheme is the Authorization scheme of a DPoP-bound token (RFC 9449 §7.1).
	Scheme = "DPoP"
	// Header is the request header that carries the proof (RFC 9449 §4.1).
	Header = "DPoP"
	// MaxAge is how old a proof's iat may be (RFC 9449 §11.1: a short
	// window, within which its jti is remembered by every instance).
	MaxAge = 60 * time.Second
	// Skew is how far ahead of this service's clock iat may be.
	Skew = 10 * time.Second
	// maxJTI bounds the jti kept (hashed).
	maxJTI = 256
	// minRSABits: as for client keys (NIST SP 800-131A).
	minRSABits = 2048
)

// Algorithms are the signature algorithms a proof may use, as the metadata
// advertises them (dpop_signing_alg_values_supported): asymmetric only
// (RFC 9449 §4.2: never none, never a MAC).
var Algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA}

// ErrInvalid is the kind of every refusal; the wrapped text says why, for
// the log and the error description (a proof is no secret, but is not
// repeated either).
var ErrInvalid = errors.New("invalid DPoP proof")

// Request is what a proof must name: the method and the URL as the client
// called it (query and fragment are ignored, RFC 9449 §4.3), and at a
// resource the access token it is sent with.
type Request struct {
	Method string
	URLs   []string // the URLs the client may have called; one must match htu
	// AccessToken, when not empty, must be hashed in ath (RFC 9449 §4.2).
	AccessToken string
}

// Proof is a checked proof.
type Proof struct {
	// JKT is the RFC 7638 SHA-256 thumbprint of the proof's key, base64url:
	// the token's cnf.jkt (RFC 9449 §6.1).
	JKT string
	// JTI is the proof's jti, to record once; Expires is when it can no
	// longer pass the iat window.
	JTI     string
	Expires time.Time
}

type claims struct {
	ID       string           `json:"jti"`
	Method   string           `json:"htm"`
	URI      string           `json:"htu"`
	IssuedAt *jwt.NumericDate `json:"iat"`
	ATH      string           `json:"ath"`
}

// Check verifies raw, the value of one DPoP header, for req at now
// (RFC 9449 §4.3). Every refusal is ErrInvalid. The jti is not recorded:
// the caller does that once it knows whose proof it is.
func Check(raw string, req Request, now time.Time) (Proof, error) {
	if raw == "" || strings.ContainsAny(raw, " ,") {
		return Proof{}, invalid("send exactly one DPoP header holding one JWT")
	}
	tok, err := jwt.ParseSigned(raw, Algorithms) // none and HMAC are not among them
	if err != nil {
		return Proof{}, invalid("not a JWT signed with an asymmetric algorithm (%v)", Algorithms)
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != Type {
		return Proof{}, invalid("typ must be %s", Type)
	}
	// go-jose refuses a jwk header with private members while parsing.
	if h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() {
		return Proof{}, invalid("the header must hold the public key as jwk")
	}
	if err := checkKey(h.JSONWebKey, jose.SignatureAlgorithm(h.Algorithm)); err != nil {
		return Proof{}, err
	}
	var c claims
	if err := tok.Claims(h.JSONWebKey.Key, &c); err != nil {
		return Proof{}, invalid("the signature does not verify with the header's jwk")
	}
	if err := c.check(req, now); err != nil {
		return Proof{}, err
	}
	t, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil {
		return Proof{}, invalid("the jwk has no thumbprint")
	}
	return Proof{JKT: base64.RawURLEncoding.EncodeToString(t), JTI: c.ID, Expires: c.IssuedAt.Time().Add(MaxAge + Skew)}, nil
}

// checkKey holds the proof's key to what client keys may be, and its alg
// to one the key signs with.
func checkKey(k *jose.JSONWebKey, alg jose.SignatureAlgorithm) error {
	var algs []jose.SignatureAlgorithm
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < minRSABits {
			return invalid("an RSA key needs at least %d bits", minRSABits)
		}
		algs = []jose.SignatureAlgorithm{jose.RS256, jose.PS256}
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return invalid("an EC key must be on P-256")
		}
		algs = []jose.SignatureAlgorithm{jose.ES256}
	case ed25519.PublicKey:
		algs = []jose.SignatureAlgorithm{jose.EdDSA}
	default:
		return invalid("the jwk must be an RSA, EC P-256 or Ed25519 public key")
	}
	if !slices.Contains(algs, alg) {
		return invalid("alg %s is not its key's", alg)
	}
	return nil
}

func (c claims) check(req Request, now time.Time) error {
	switch {
	case c.ID == "" || len(c.ID) > maxJTI:
		return invalid("jti is required, at most %d characters", maxJTI)
	case c.Method != req.Method:
		return invalid("htm must be the request's method, %s", req.Method)
	case !slices.ContainsFunc(req.URLs, func(u string) bool { return SameURI(c.URI, u) }):
		return invalid("htu must be the URL the request was sent to, without query or fragment")
	case c.IssuedAt == nil:
		return invalid("iat is required")
	case c.IssuedAt.Time().Before(now.Add(-MaxAge)):
		return invalid("iat is more than %v old: make a proof per request", MaxAge)
	case c.IssuedAt.Time().After(now.Add(Skew)):
		return invalid("iat is in the future")
	}
	if req.AccessToken == "" {
		if c.ATH != "" {
			return invalid("ath belongs in a proof sent with an access token")
		}
		return nil
	}
	if c.ATH != TokenHash(req.AccessToken) {
		return invalid("ath must be the hash of the access token sent with it")
	}
	return nil
}

// TokenHash is ath: the base64url SHA-256 of the access token (RFC 9449 §4.2).
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// SameURI compares htu with a URL as RFC 9449 §4.3 says: without query
// and fragment, after syntax-based normalisation (RFC 3986 §6.2.2:
// scheme and host case) and scheme-based (§6.2.3: the default port, an
// empty path).
func SameURI(htu, called string) bool {
	a, okA := normalise(htu)
	b, okB := normalise(called)
	return okA && okB && a == b
}

func normalise(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.User != nil {
		return "", false
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname())
	port := u.Port()
	if scheme == "https" && port == "443" || scheme == "http" && port == "80" {
		port = ""
	}
	if port != "" {
		host += ":" + port
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, true
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
