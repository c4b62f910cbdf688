package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Algorithms a platform token may be signed with: never none, never HMAC
// (whose key the issuer would have to share with us).
var Algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA}

// Leeway absorbs the clock difference between an issuer and this service.
const Leeway = 30 * time.Second

// maxJTI bounds the jti kept (hashed) for replay detection.
const maxJTI = 256

// ErrRefused is the kind of every refusal; the wrapped text says why, for
// the log (never the token, which is a credential until exp).
var ErrRefused = errors.New("federated assertion refused")

// Replays remembers a token's jti until it expires, across instances
// (dynamo.Limits.FirstUse, as for private_key_jwt).
type Replays interface {
	// FirstUse records jti for clientID until expires and reports whether
	// it was not recorded before.
	FirstUse(ctx context.Context, clientID, jti string, expires time.Time) (bool, error)
}

// KeyFinder finds an issuer's keys; implemented by *Keys.
type KeyFinder interface {
	Find(ctx context.Context, issuer, kid string) ([]jose.JSONWebKey, error)
}

// Verifier checks platform tokens sent as client assertions.
type Verifier struct {
	Keys    KeyFinder
	Replays Replays
	// Issuers are the operator's list: a token of any other issuer is
	// refused, whatever a module holds (the list may have shrunk since).
	Issuers []string
	Now     func() time.Time
}

// claims are the members a platform token is checked on; aud is kept raw
// to tell a string from an array.
type claims struct {
	jwt.Claims
	RawAudience json.RawMessage `json:"aud"`
}

// Issuer is the unverified iss of a token, to tell a platform's token
// (iss is its issuer) from a client's own assertion (iss is the client
// ID). Nothing else may be read from it before Verify.
func Issuer(raw string) (string, bool) {
	tok, err := jwt.ParseSigned(raw, Algorithms)
	if err != nil {
		return "", false
	}
	var c jwt.Claims
	if tok.UnsafeClaimsWithoutVerification(&c) != nil || c.Issuer == "" {
		return "", false
	}
	return c.Issuer, true
}

// Verify checks that raw is a token of one of creds, the federated
// credentials of clientID's module: its iss, sub and aud those of one
// entry exactly (aud a string, or an array of that one string), its
// issuer on the operator's list, signed by one of the issuer's keys,
// unexpired, and its jti (when it has one) not seen before. It returns
// the credential matched. A refusal is ErrRefused; any other error is
// the replay store's.
func (v *Verifier) Verify(ctx context.Context, raw, clientID string, creds []Credential) (Credential, error) {
	tok, err := jwt.ParseSigned(raw, Algorithms)
	if err != nil {
		return Credential{}, refused("not a signed JWT with an asymmetric algorithm: %v", err)
	}
	var unsafe claims
	if err := tok.UnsafeClaimsWithoutVerification(&unsafe); err != nil {
		return Credential{}, refused("unreadable claims: %v", err)
	}
	cred, ok := match(unsafe, creds)
	if !ok {
		return Credential{}, refused("no federated credential of the module has iss %q, sub %q and this aud", unsafe.Issuer, unsafe.Subject)
	}
	if !Allowed(v.Issuers, cred.Issuer) {
		return Credential{}, refused("issuer %q is not on the operator's list", cred.Issuer)
	}
	h := tok.Headers[0]
	keys, err := v.Keys.Find(ctx, cred.Issuer, h.KeyID)
	if err != nil {
		return Credential{}, refused("the issuer's keys could not be read: %v", err)
	}
	if len(keys) == 0 {
		return Credential{}, refused("kid %q is none of the issuer's keys", h.KeyID)
	}
	var c claims
	verified := false
	for _, k := range keys {
		if k.Algorithm != "" && k.Algorithm != h.Algorithm {
			continue
		}
		if tok.Claims(k.Key, &c) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return Credential{}, refused("the signature does not verify with the issuer's key %q", h.KeyID)
	}
	now := v.Now()
	switch {
	case c.Expiry == nil:
		return Credential{}, refused("exp is required")
	case len(c.ID) > maxJTI:
		return Credential{}, refused("jti is longer than %d characters", maxJTI)
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Time: now}, Leeway); err != nil {
		return Credential{}, refused("%v", err) // expired, not yet valid or issued in the future
	}
	if c.ID != "" {
		// Keyed by issuer and subject as well: a platform's jti can never
		// meet a client's own private_key_jwt jti, nor another issuer's.
		first, err := v.Replays.FirstUse(ctx, clientID, "federated\x00"+cred.Issuer+"\x00"+cred.Subject+"\x00"+c.ID, c.Expiry.Time().Add(Leeway))
		if err != nil {
			return Credential{}, fmt.Errorf("record the token's jti: %w", err)
		}
		if !first {
			return Credential{}, refused("jti already used")
		}
	}
	return cred, nil
}

// match finds the credential whose issuer, subject and audience the
// claims have, exactly.
func match(c claims, creds []Credential) (Credential, bool) {
	var aud string
	if json.Unmarshal(c.RawAudience, &aud) != nil {
		var auds []string
		if json.Unmarshal(c.RawAudience, &auds) != nil || len(auds) != 1 {
			return Credential{}, false
		}
		aud = auds[0]
	}
	for _, cred := range creds {
		if cred.Issuer == c.Issuer && cred.Subject == c.Subject && cred.Audience == aud {
			return cred, true
		}
	}
	return Credential{}, false
}

func refused(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, args...))
}
