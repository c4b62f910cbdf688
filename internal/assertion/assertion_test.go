package assertion_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/modules-service/modules/internal/assertion"
	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/testing/clientkey"
)

const (
	clientID = "client-1234567890abcdef"
	issuer   = "https://auth.example.com"
	endpoint = "https://auth.example.com/oauth2/token"
)

var audiences = []string{issuer, endpoint}

var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// replays is an in-memory assertion.Replays.
type replays struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (r *replays) FirstUse(_ context.Context, clientID, jti string, expires time.Time) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]time.Time{}
	}
	k := clientID + " " + jti
	if _, ok := r.seen[k]; ok {
		return false, nil
	}
	r.seen[k] = expires
	return true, nil
}

// valid is a good assertion's claims, changed by the arguments (nil removes).
func valid(changes map[string]any) map[string]any {
	return clientkey.Claims(clientID, issuer, now, changes)
}

func keySet(t *testing.T, keys ...map[string]any) []assertion.Key {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{"keys": keys})
	set, err := assertion.ParseKeySet(raw)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func verifier() *assertion.Verifier {
	return &assertion.Verifier{Replays: &replays{}, Now: func() time.Time { return now }}
}

func TestAcceptsEachAlgorithm(t *testing.T) {
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA} {
		t.Run(string(alg), func(t *testing.T) {
			s := clientkey.New(t, "k-"+string(alg), alg)
			other := clientkey.New(t, "other", jose.ES256)
			keys := keySet(t, other.Public(t), s.Public(t))
			v := verifier()
			if err := v.Verify(context.Background(), s.Sign(t, valid(nil), nil), clientID, audiences, keys); err != nil {
				t.Errorf("a good %s assertion: %v", alg, err)
			}
			// the token endpoint URL is an audience too, and a key found
			// without a kid by trying each that fits the algorithm
			s.KID = ""
			if err := v.Verify(context.Background(), s.Sign(t, valid(map[string]any{"aud": endpoint}), nil), clientID, audiences, keys); err != nil {
				t.Errorf("a good %s assertion to the token endpoint URL, without kid: %v", alg, err)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	s := clientkey.New(t, "main", jose.ES256)
	rsaKey := clientkey.New(t, "rsa", jose.RS256)
	keys := keySet(t, s.Public(t), rsaKey.Public(t))
	stranger := clientkey.New(t, "main", jose.ES256) // the same kid, another key
	replayed := s.Sign(t, valid(nil), nil)
	if err := verifier().Verify(context.Background(), replayed, clientID, audiences, keys); err != nil {
		t.Fatal(err)
	}
	v := verifier()
	_ = v.Verify(context.Background(), replayed, clientID, audiences, keys)

	none := func() string { // alg none, unsigned
		h, _ := json.Marshal(map[string]any{"alg": "none", "kid": "main"})
		c, _ := json.Marshal(valid(nil))
		return b64(h) + "." + b64(c) + "."
	}()
	hmac := func() string { // HS256 with the public key's JSON as the secret
		pub, _ := json.Marshal(s.Public(t))
		sig, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: pub}, (&jose.SignerOptions{}).WithHeader("kid", "main"))
		raw, _ := jwt.Signed(sig).Claims(valid(nil)).Serialize()
		return raw
	}()
	for _, tt := range []struct {
		name, raw, why string
	}{
		{"another audience", s.Sign(t, valid(map[string]any{"aud": "https://other.example"}), nil), "aud"},
		{"an audience array with another server", s.Sign(t, valid(map[string]any{"aud": []string{issuer, "https://other.example"}}), nil), "single string"},
		{"an audience array of this server alone", s.Sign(t, valid(map[string]any{"aud": []string{issuer}}), nil), "single string"},
		{"another issuer", s.Sign(t, valid(map[string]any{"iss": "someone"}), nil), "iss and sub"},
		{"another subject", s.Sign(t, valid(map[string]any{"sub": "someone"}), nil), "iss and sub"},
		{"expired", s.Sign(t, valid(map[string]any{"exp": now.Add(-time.Minute).Unix()}), nil), "expired"},
		{"no exp", s.Sign(t, valid(map[string]any{"exp": nil}), nil), "exp is required"},
		{"exp too far ahead", s.Sign(t, valid(map[string]any{"exp": now.Add(time.Hour).Unix()}), nil), "ahead"},
		{"not yet valid", s.Sign(t, valid(map[string]any{"nbf": now.Add(time.Minute).Unix()}), nil), "not valid yet"},
		{"issued in the future", s.Sign(t, valid(map[string]any{"iat": now.Add(time.Minute).Unix()}), nil), "future"},
		{"no jti", s.Sign(t, valid(map[string]any{"jti": nil}), nil), "jti is required"},
		{"replayed jti", replayed, "jti already used"},
		{"alg none", none, "asymmetric"},
		{"HS256 with the public key as the secret", hmac, "asymmetric"},
		{"an unknown kid", func() string { u := s; u.KID = "gone"; return u.Sign(t, valid(nil), nil) }(), "none of the client's keys"},
		{"another key under a known kid", stranger.Sign(t, valid(nil), nil), "does not verify"},
		{"an algorithm no key signs with", clientkey.New(t, "", jose.EdDSA).Sign(t, valid(nil), nil), "no key of the client signs with EdDSA"},
		{"an access token's typ", s.Sign(t, valid(nil), map[jose.HeaderKey]any{jose.HeaderType: "at+jwt"}), "typ"},
		{"not a JWT", "not.a.jwt", "asymmetric"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := v.Verify(context.Background(), tt.raw, clientID, audiences, keys)
			if !errors.Is(err, assertion.ErrRefused) || !strings.Contains(err.Error(), tt.why) {
				t.Errorf("got %v, want a refusal saying %q", err, tt.why)
			}
		})
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func TestKeySetRefusals(t *testing.T) {
	ec := clientkey.New(t, "ec", jose.ES256)
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	private := clientkey.JWK(t, ec.Priv, "priv")
	jwk := func(k any, kid string) map[string]any { return clientkey.JWK(t, k, kid) }
	with := func(m map[string]any, k string, v any) map[string]any {
		c := map[string]any{}
		for a, b := range m {
			c[a] = b
		}
		c[k] = v
		return c
	}
	six := []any{}
	for i := range 6 {
		six = append(six, jwk(clientkey.New(t, "", jose.ES256).Priv.Public(), "k"+string(rune('0'+i))))
	}
	for _, tt := range []struct {
		name string
		set  any
		want derrors.Field
	}{
		{"a private key", map[string]any{"keys": []any{ec.Public(t), private}}, derrors.Field{Name: "jwks.keys[1]", Code: derrors.CodePrivateKey, Reason: `holds the private member "d"; send the public key only, and keep the private key with the client`}},
		{"a symmetric key", map[string]any{"keys": []any{map[string]any{"kty": "oct", "k": "c2VjcmV0", "kid": "s"}}}, derrors.Field{Name: "jwks.keys[0]", Code: derrors.CodePrivateKey, Reason: `is a symmetric key (member "k"); a module holds public keys only`}},
		{"a weak RSA key", map[string]any{"keys": []any{jwk(&weak.PublicKey, "weak")}}, derrors.Field{Name: "jwks.keys[0]", Code: derrors.CodeUnsupportedKey, Reason: "is an RSA key of 1024 bits; at least 2048 are needed"}},
		{"a P-384 key", map[string]any{"keys": []any{jwk(&p384.PublicKey, "p384")}}, derrors.Field{Name: "jwks.keys[0]", Code: derrors.CodeUnsupportedKey, Reason: "is an EC key on P-384; only P-256 (ES256) is accepted"}},
		{"a duplicate kid", map[string]any{"keys": []any{ec.Public(t), ec.Public(t)}}, derrors.Field{Name: "jwks.keys[1]", Code: derrors.CodeDuplicate, Reason: `kid "ec" is also the kid of jwks.keys[0]; each key needs a kid of its own`}},
		{"no kid", map[string]any{"keys": []any{with(ec.Public(t), "kid", "")}}, derrors.Field{Name: "jwks.keys[0]", Code: derrors.CodeRequired, Reason: "needs a kid, which the client's assertions name in their header"}},
		{"an encryption key", map[string]any{"keys": []any{with(ec.Public(t), "use", "enc")}}, derrors.Field{Name: "jwks.keys[0]", Code: derrors.CodeUnsupportedKey, Reason: `has use "enc"; a client's key signs, so use must be "sig" or absent`}},
		{"an alg its key cannot sign with", map[string]any{"keys": []any{with(ec.Public(t), "alg", "RS256")}}, derrors.Field{Name: "jwks.keys[0]", Code: derrors.CodeUnsupportedKey, Reason: `has alg "RS256", which its key type cannot sign with (it can: [ES256])`}},
		{"six keys", map[string]any{"keys": six}, derrors.Field{Name: "jwks.keys", Code: derrors.CodeTooMany, Reason: "holds 6 keys, at most 5 are allowed"}},
		{"not a set", []any{ec.Public(t)}, derrors.Field{Name: "jwks", Code: derrors.CodeWrongType, Reason: `must be a JWK Set: {"keys": [<public JWK>, …]}`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			raw, _ := json.Marshal(tt.set)
			_, err := assertion.ParseKeySet(raw)
			var e *derrors.Error
			if !errors.As(err, &e) || e.Kind != derrors.ErrInvalid || len(e.Fields) != 1 || e.Fields[0] != tt.want {
				t.Errorf("got %v, want the field fault %+v", err, tt.want)
			}
		})
	}
}

func TestThumbprintIsRFC7638(t *testing.T) {
	// RFC 7638 §3.1's example key and thumbprint
	raw := `{"keys":[{"kty":"RSA","kid":"2011-04-29","e":"AQAB","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}]}`
	keys, err := assertion.ParseKeySet([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keys[0].Thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("thumbprint %s, want %s", got, want)
	}
}
