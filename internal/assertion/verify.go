package assertion

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Type is the client_assertion_type of a JWT client assertion (RFC 7523 §2.2).
const Type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

const (
	// MaxLifetime is how far ahead an assertion's exp may be: an assertion
	// is made for one token request, and its jti is remembered until exp.
	MaxLifetime = 5 * time.Minute
	// Leeway absorbs the clock difference between a client and this service.
	Leeway = 30 * time.Second
	// maxJTI bounds the jti kept (hashed) for replay detection.
	maxJTI = 256
)

// ErrRefused is the kind of every refusal; the wrapped text says why, for
// the log (never the assertion itself, which is a credential until exp).
var ErrRefused = errors.New("client assertion refused")

// Replays remembers the jti of every accepted assertion until it expires,
// across instances (a conditional write with a TTL, dynamo.Limits.FirstUse),
// never in one instance's memory alone: a replay to another instance is
// refused too.
type Replays interface {
	// FirstUse records jti for clientID until expires and reports whether
	// it was not recorded before.
	FirstUse(ctx context.Context, clientID, jti string, expires time.Time) (bool, error)
}

// Verifier checks client assertions.
type Verifier struct {
	Replays Replays
	Now     func() time.Time
}

// claims are the members an assertion is checked on. aud is kept raw to
// tell a string from an array.
type claims struct {
	jwt.Claims
	RawAudience json.RawMessage `json:"aud"`
}

// Verify checks that raw is an assertion of clientID, to one of audiences,
// signed by one of keys and not seen before, and records its jti.
// audiences are the values aud may take: the issuer identifier and the
// token endpoint URL; aud must be one of them as a single string: an array,
// which could name another server too, is refused (the 2025
// audience-injection guidance for private_key_jwt). A refusal is
// ErrRefused; any other error is the replay store's.
func (v *Verifier) Verify(ctx context.Context, raw, clientID string, audiences []string, keys []Key) error {
	tok, err := jwt.ParseSigned(raw, Algorithms) // none and HMAC are not among them
	if err != nil {
		return refused("not a signed JWT with an asymmetric algorithm (%s): %v", algNames(), err)
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "" && typ != "JWT" && typ != "client-authentication+jwt" {
		return refused("typ %q is not a client assertion's", typ)
	}
	var c claims
	if err := v.verifySignature(tok, h, keys, &c); err != nil {
		return err
	}
	if err := v.checkClaims(c, clientID, audiences); err != nil {
		return err
	}
	first, err := v.Replays.FirstUse(ctx, clientID, c.ID, c.Expiry.Time().Add(Leeway))
	if err != nil {
		return fmt.Errorf("record the assertion's jti: %w", err)
	}
	if !first {
		return refused("jti already used: an assertion is good for one token request")
	}
	return nil
}

// verifySignature finds the key that signed tok, by kid when the header
// names one, and decodes the claims with it.
func (*Verifier) verifySignature(tok *jwt.JSONWebToken, h jose.Header, keys []Key, c *claims) error {
	alg := jose.SignatureAlgorithm(h.Algorithm)
	tried := 0
	for _, k := range keys {
		if h.KeyID != "" && k.JWK.KeyID != h.KeyID || !slices.Contains(k.Algs, alg) {
			continue
		}
		tried++
		if err := tok.Claims(k.JWK.Key, c); err == nil {
			return nil
		}
	}
	switch {
	case tried > 0:
		return refused("the signature does not verify with the client's key %s", kidOr(h.KeyID))
	case h.KeyID != "" && !slices.ContainsFunc(keys, func(k Key) bool { return k.JWK.KeyID == h.KeyID }):
		return refused("kid %q is none of the client's keys", h.KeyID)
	default:
		return refused("no key of the client signs with %s", alg)
	}
}

// checkClaims checks iss, sub, aud, the times and jti.
func (v *Verifier) checkClaims(c claims, clientID string, audiences []string) error {
	if c.Issuer != clientID || c.Subject != clientID {
		return refused("iss and sub must both be the client ID")
	}
	var aud string
	if err := json.Unmarshal(c.RawAudience, &aud); err != nil {
		return refused("aud must be a single string: the issuer identifier or the token endpoint URL")
	}
	if !slices.Contains(audiences, aud) {
		return refused("aud %q is not this server: use the issuer identifier or the token endpoint URL", aud)
	}
	now := v.Now()
	switch {
	case c.Expiry == nil:
		return refused("exp is required")
	case c.Expiry.Time().After(now.Add(MaxLifetime + Leeway)):
		return refused("exp is more than %v ahead", MaxLifetime)
	case c.ID == "" || len(c.ID) > maxJTI:
		return refused("jti is required, at most %d characters", maxJTI)
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Time: now}, Leeway); err != nil {
		return refused("%v", err) // expired, not yet valid or issued in the future
	}
	return nil
}

func refused(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, args...))
}

func kidOr(kid string) string {
	if kid == "" {
		return "(no kid given)"
	}
	return fmt.Sprintf("%q", kid)
}

func algNames() string {
	return fmt.Sprint(Algorithms)
}

// Subject is the unverified sub of an assertion: the client it claims to
// be, to find that client's keys by. Nothing else may be read from it
// before Verify.
func Subject(raw string) (string, bool) {
	tok, err := jwt.ParseSigned(raw, Algorithms)
	if err != nil {
		return "", false
	}
	var c jwt.Claims
	if tok.UnsafeClaimsWithoutVerification(&c) != nil || c.Subject == "" {
		return "", false
	}
	return c.Subject, true
}
