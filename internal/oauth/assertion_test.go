package oauth_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/modules-service/modules/internal/assertion"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/oauth"
	"github.com/modules-service/modules/internal/testing/clientkey"
)

// keyModule creates a module that holds the public halves of keys and
// accepts methods (nil: the default).
func (f *fixture) keyModule(t testing.TB, name string, methods []string, keys ...clientkey.Key) module.Credentials {
	t.Helper()
	in := moduleInput(name, "Right-Secret-4711-xyz", "orders.read")
	in.JWKS, in.TokenEndpointAuthMethods = clientkey.Set(t, keys...), methods
	c, _, err := f.svc.Create(context.Background(), "acme", in, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// verify checks an access token's signature with the current key and
// returns its claims.
func (f *fixture) verify(t testing.TB, token string) map[string]any {
	t.Helper()
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{f.keys.Current.Algorithm})
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := tok.Claims(f.keys.Current.Private.Public(), &claims); err != nil {
		t.Fatalf("access token: %v", err)
	}
	return claims
}

// assertionForm is a token request authenticated by raw.
func assertionForm(raw string, extra ...string) string {
	return form(append([]string{"grant_type", "client_credentials", "client_assertion_type", assertion.Type, "client_assertion", raw}, extra...)...)
}

// TestPrivateKeyJWT: a module's client gets tokens with assertions signed
// by each kind of key it may hold, with and without client_id, at the
// issuer or the token endpoint URL, and no argon2id runs.
func TestPrivateKeyJWT(t *testing.T) {
	f := newFixture(t)
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA} {
		t.Run(string(alg), func(t *testing.T) {
			k := clientkey.New(t, "k1", alg)
			c := f.keyModule(t, "keys-"+strings.ToLower(string(alg)), []string{module.AuthPrivateKeyJWT}, clientkey.New(t, "old", jose.ES256), k)
			before := f.verifier.n.Load()
			for i, req := range []string{
				assertionForm(k.Sign(t, clientkey.Claims(c.ClientID, issuer, f.clock.Now(), nil), nil)),
				assertionForm(k.Sign(t, clientkey.Claims(c.ClientID, issuer+"/oauth2/token", f.clock.Now(), nil), nil), "client_id", c.ClientID),
			} {
				r := f.post(t, req, nil)
				if r.status != 200 || r.body["token_type"] != "Bearer" {
					t.Fatalf("request %d: %d %s", i, r.status, r.raw)
				}
				if claims := f.verify(t, r.body["access_token"].(string)); claims["client_id"] != c.ClientID {
					t.Errorf("token of %v, want %s", claims["client_id"], c.ClientID)
				}
			}
			if n := f.verifier.n.Load() - before; n != 0 {
				t.Errorf("%d argon2id verifications on the private_key_jwt path, want 0", n)
			}
		})
	}
}

// TestPrivateKeyJWTRefusals: every assertion the client did not make for
// this request is 401 invalid_client; a request that mixes methods is 400.
func TestPrivateKeyJWTRefusals(t *testing.T) {
	f := newFixture(t)
	k := clientkey.New(t, "k1", jose.ES256)
	c := f.keyModule(t, "signer", []string{module.AuthPrivateKeyJWT}, k)
	both := f.keyModule(t, "both", nil, k) // the default methods: secrets only
	now := f.clock.Now()
	claims := func(changes map[string]any) map[string]any { return clientkey.Claims(c.ClientID, issuer, now, changes) }
	replayed := k.Sign(t, claims(nil), nil)
	if r := f.post(t, assertionForm(replayed), nil); r.status != 200 {
		t.Fatalf("first use: %d %s", r.status, r.raw)
	}
	for _, tt := range []struct {
		name, form string
		basic      []string
		status     int
	}{
		{"another audience", assertionForm(k.Sign(t, claims(map[string]any{"aud": "https://other.example"}), nil)), nil, 401},
		{"an audience array with another server", assertionForm(k.Sign(t, claims(map[string]any{"aud": []string{issuer, "https://other.example"}}), nil)), nil, 401},
		{"expired", assertionForm(k.Sign(t, claims(map[string]any{"exp": now.Add(-time.Minute).Unix()}), nil)), nil, 401},
		{"replayed to another instance", assertionForm(replayed), nil, 401},
		{"an unknown kid", assertionForm(clientkey.Key{KID: "gone", Alg: k.Alg, Priv: k.Priv}.Sign(t, claims(nil), nil)), nil, 401},
		{"another client's key", assertionForm(clientkey.New(t, "k1", jose.ES256).Sign(t, claims(nil), nil)), nil, 401},
		{"a module that does not accept private_key_jwt", assertionForm(k.Sign(t, clientkey.Claims(both.ClientID, issuer, now, nil), nil)), nil, 401},
		{"client_id other than the assertion's", assertionForm(k.Sign(t, claims(nil), nil), "client_id", both.ClientID), nil, 401},
		{"a secret to a module that turned secrets off", form("grant_type", "client_credentials"), []string{c.ClientID, "Right-Secret-4711-xyz"}, 401},
		{"an assertion beside a secret", assertionForm(k.Sign(t, claims(nil), nil), "client_secret", "Right-Secret-4711-xyz"), nil, 400},
		{"an assertion of another type", form("grant_type", "client_credentials", "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer", "client_assertion", "x"), nil, 400},
		{"garbage", assertionForm("not-a-jwt"), nil, 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := f.postTo(t, f.instance(), tt.form, tt.basic)
			want := map[int]string{400: "invalid_request", 401: "invalid_client"}[tt.status]
			if r.status != tt.status || r.body["error"] != want {
				t.Errorf("%d %s, want %d %s", r.status, r.raw, tt.status, want)
			}
		})
	}
}

// TestSecretsTurnedOff: once a module accepts private_key_jwt only, its
// secret stops working on a warm instance that had verified it too.
func TestSecretsTurnedOff(t *testing.T) {
	f := newFixture(t)
	k := clientkey.New(t, "k1", jose.EdDSA)
	c := f.keyModule(t, "rotating", nil, k)
	basic := []string{c.ClientID, "Right-Secret-4711-xyz"}
	if r := f.post(t, form("grant_type", "client_credentials"), basic); r.status != 200 {
		t.Fatalf("the secret before: %d %s", r.status, r.raw)
	}
	if _, err := f.svc.Update(context.Background(), "acme", c.ID, module.Patch{"tokenEndpointAuthMethods": json.RawMessage(`["private_key_jwt"]`)}, 0); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(clientTTL + time.Second) // the client pointer's cache bound
	if r := f.post(t, form("grant_type", "client_credentials"), basic); r.status != 401 {
		t.Errorf("the secret after it was turned off, on the warm instance: %d %s, want 401", r.status, r.raw)
	}
	if r := f.post(t, assertionForm(k.Sign(t, clientkey.Claims(c.ClientID, issuer, f.clock.Now(), nil), nil)), nil); r.status != 200 {
		t.Errorf("the key after: %d %s", r.status, r.raw)
	}
}

// TestFailedAssertionsAreThrottled: a source that keeps sending bad
// assertions for a client is slowed down as a guesser of its secret is,
// and the owner's good assertion from that same address still gets its
// token at once.
func TestFailedAssertionsAreThrottled(t *testing.T) {
	f := newFixture(t)
	k := clientkey.New(t, "k1", jose.ES256)
	c := f.keyModule(t, "target", []string{module.AuthPrivateKeyJWT}, k)
	stranger := clientkey.New(t, "k1", jose.ES256)
	statuses := map[int]int{}
	for range oauth.MaxPerSource + 2 {
		r := f.post(t, assertionForm(stranger.Sign(t, clientkey.Claims(c.ClientID, issuer, f.clock.Now(), nil), nil)), nil, from("192.0.2.7"))
		statuses[r.status]++
	}
	if statuses[401] != oauth.MaxPerSource || statuses[429] != 2 {
		t.Errorf("answers to %d bad assertions from one source: %v, want %d × 401 then 429", oauth.MaxPerSource+2, statuses, oauth.MaxPerSource)
	}
	if r := f.post(t, assertionForm(k.Sign(t, clientkey.Claims(c.ClientID, issuer, f.clock.Now(), nil), nil)), nil, from("192.0.2.7")); r.status != 200 {
		t.Errorf("the owner's assertion from the guesser's address: %d %s, want 200", r.status, r.raw)
	}
}
