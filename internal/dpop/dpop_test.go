package dpop_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/modules-service/modules/internal/dpop"
	"github.com/modules-service/modules/internal/testing/clientkey"
)

const (
	tokenURL = "https://auth.example.test/oauth2/token"
	apiURL   = "https://api.example.test/tenants/acme/modules"
)

var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// TestGoodProofs: each advertised algorithm, at the token endpoint and at
// a resource with ath, gives the key's thumbprint and the jti to record.
func TestGoodProofs(t *testing.T) {
	for _, alg := range dpop.Algorithms {
		t.Run(string(alg), func(t *testing.T) {
			k := clientkey.New(t, "", alg)
			p, err := dpop.Check(k.Proof(t, clientkey.ProofClaims("POST", tokenURL, "", now, nil), nil), dpop.Request{Method: "POST", URLs: []string{tokenURL}}, now)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := p.JKT, k.Thumbprint(t); got != want {
				t.Errorf("jkt %s, want %s", got, want)
			}
			if p.JTI == "" || !p.Expires.Equal(now.Add(dpop.MaxAge+dpop.Skew)) {
				t.Errorf("jti %q expires %v", p.JTI, p.Expires)
			}
			proof := k.Proof(t, clientkey.ProofClaims("GET", apiURL+"?limit=5", "the-token", now, nil), nil)
			if _, err := dpop.Check(proof, dpop.Request{Method: "GET", URLs: []string{"HTTPS://API.example.test:443/tenants/acme/modules"}, AccessToken: "the-token"}, now); err != nil {
				t.Errorf("at a resource: %v", err)
			}
		})
	}
}

// TestRefusedProofs: each rule of RFC 9449 §4.3 refuses on its own.
func TestRefusedProofs(t *testing.T) {
	k := clientkey.New(t, "", "ES256")
	rsa := clientkey.New(t, "", "RS256")
	req := dpop.Request{Method: "GET", URLs: []string{apiURL}, AccessToken: "the-token"}
	good := func(changes map[string]any) map[string]any {
		return clientkey.ProofClaims("GET", apiURL, "the-token", now, changes)
	}
	hmac, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("a public key used as an hmac secret")},
		(&jose.SignerOptions{}).WithType(dpop.Type).WithHeader("jwk", k.Public(t)))
	if err != nil {
		t.Fatal(err)
	}
	hmacProof, _ := jwt.Signed(hmac).Claims(good(nil)).Serialize()
	other := clientkey.New(t, "", "ES256")
	tests := []struct {
		name  string
		proof string
	}{
		{"wrong htm", k.Proof(t, good(map[string]any{"htm": "POST"}), nil)},
		{"wrong htu", k.Proof(t, good(map[string]any{"htu": "https://api.example.test/tenants/other/modules"}), nil)},
		{"htu of another host", k.Proof(t, good(map[string]any{"htu": "https://evil.example.test/tenants/acme/modules"}), nil)},
		{"no htu", k.Proof(t, good(map[string]any{"htu": nil}), nil)},
		{"wrong ath", k.Proof(t, good(map[string]any{"ath": dpop.TokenHash("another-token")}), nil)},
		{"no ath", k.Proof(t, good(map[string]any{"ath": nil}), nil)},
		{"stale iat", k.Proof(t, good(map[string]any{"iat": now.Add(-dpop.MaxAge - time.Second).Unix()}), nil)},
		{"future iat", k.Proof(t, good(map[string]any{"iat": now.Add(dpop.Skew + time.Second).Unix()}), nil)},
		{"no iat", k.Proof(t, good(map[string]any{"iat": nil}), nil)},
		{"no jti", k.Proof(t, good(map[string]any{"jti": nil}), nil)},
		{"long jti", k.Proof(t, good(map[string]any{"jti": strings.Repeat("j", 257)}), nil)},
		{"typ JWT", k.Proof(t, good(nil), map[jose.HeaderKey]any{"typ": "JWT"})},
		{"no jwk", k.Sign(t, good(nil), map[jose.HeaderKey]any{"typ": dpop.Type})},
		{"private key in the header", k.Proof(t, good(nil), map[jose.HeaderKey]any{"jwk": clientkey.JWK(t, k.Priv, "")})},
		{"another key in the header", k.Proof(t, good(nil), map[jose.HeaderKey]any{"jwk": other.Public(t)})},
		{"alg none", unsigned(t, k, good(nil))},
		{"HMAC", hmacProof},
		{"RSA key with ES256's alg", rsa.Proof(t, good(nil), map[jose.HeaderKey]any{"jwk": k.Public(t)})},
		{"two proofs", k.Proof(t, good(nil), nil) + ", " + k.Proof(t, good(nil), nil)},
		{"empty", ""},
		{"not a JWT", "dpop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dpop.Check(tt.proof, req, now)
			if !errors.Is(err, dpop.ErrInvalid) {
				t.Errorf("got %v, want ErrInvalid", err)
			}
		})
	}
	t.Run("ath without a token", func(t *testing.T) {
		_, err := dpop.Check(k.Proof(t, good(nil), nil), dpop.Request{Method: "GET", URLs: []string{apiURL}}, now)
		if !errors.Is(err, dpop.ErrInvalid) {
			t.Errorf("got %v, want ErrInvalid", err)
		}
	})
}

// unsigned is a proof with alg none.
func unsigned(t *testing.T, k clientkey.Key, claims map[string]any) string {
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]any{"typ": dpop.Type, "alg": "none", "jwk": k.Public(t)}) + "." + enc(claims) + "."
}

func TestSameURI(t *testing.T) {
	for _, tt := range []struct {
		htu, called string
		want        bool
	}{
		{"https://a.example/x", "https://a.example/x", true},
		{"HTTPS://A.EXAMPLE:443/x", "https://a.example/x", true},
		{"https://a.example/x?q=1#f", "https://a.example/x", true},
		{"https://a.example", "https://a.example/", true},
		{"https://a.example/X", "https://a.example/x", false},
		{"http://a.example/x", "https://a.example/x", false},
		{"https://a.example:8443/x", "https://a.example/x", false},
		{"/x", "https://a.example/x", false},
		{"https://u@a.example/x", "https://a.example/x", false},
	} {
		if got := dpop.SameURI(tt.htu, tt.called); got != tt.want {
			t.Errorf("SameURI(%q, %q) = %v, want %v", tt.htu, tt.called, got, tt.want)
		}
	}
}
