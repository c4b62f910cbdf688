package oauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/google/go-cmp/cmp"

	"github.com/modules-service/modules/internal/accesstoken"
	"github.com/modules-service/modules/internal/oauth"
	"github.com/modules-service/modules/internal/signing"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// TestClientCredentialsFlow drives the endpoint over HTTP with
// golang.org/x/oauth2/clientcredentials in both auth styles, and verifies the
// token with an independent JOSE library (lestrrat-go/jwx) against the
// served JWKS, on the embedded stack and on moto, with a key of each
// algorithm.
func TestClientCredentialsFlow(t *testing.T) {
	for _, alg := range signing.Algorithms {
		t.Run(string(alg), func(t *testing.T) {
			testenv.All(t, func(t *testing.T, b testenv.Backend) {
				ctx := context.Background()
				key, err := signing.Generate(alg)
				if err != nil {
					t.Fatal(err)
				}
				var h http.Handler
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
				defer srv.Close()
				dummy, _ := testenv.FastHasher.Hash("dummy")
				h = oauth.NewEndpoint(oauth.Config{Issuer: srv.URL, Audience: "https://api.example.test"}, oauth.Deps{
					Clients: b.Clients(), Hashes: b.Hashes, Limits: b.Limits(), Verifier: testenv.FastHasher, DummyHash: dummy,
					Keys: &signing.Cache[signing.KeySet]{Source: signing.Fixed(signing.KeySet{Current: key}), MaxAge: time.Hour},
				}).Handler()

				c, _, err := b.Service().Create(ctx, "acme", moduleInput("billing", trickySecret, "orders.read", "orders.write"), "")
				if err != nil {
					t.Fatal(err)
				}
				var meta oauth.Metadata
				getJSON(t, srv.URL+"/.well-known/oauth-authorization-server", &meta)
				want := meta
				want.Issuer, want.TokenEndpoint, want.JWKSURI = srv.URL, srv.URL+"/oauth2/token", srv.URL+"/.well-known/jwks.json"
				want.GrantTypesSupported = []string{"client_credentials"}
				want.TokenEndpointAuthMethodsSupported = []string{"client_secret_basic", "client_secret_post", "private_key_jwt"}
				want.TokenEndpointAuthSigningAlgs = []string{"RS256", "PS256", "ES256", "EdDSA"}
				if diff := cmp.Diff(want, meta); diff != "" {
					t.Errorf("metadata (-want +got):\n%s", diff)
				}
				set, err := jwk.Fetch(ctx, meta.JWKSURI)
				if err != nil {
					t.Fatalf("fetch JWKS: %v", err)
				}
				if k, ok := set.Key(0); !ok || set.Len() != 1 {
					t.Errorf("JWKS holds %d keys", set.Len())
				} else if kid, _ := k.KeyID(); kid != key.ID {
					t.Errorf("JWKS kid %q, want %q", kid, key.ID)
				}
				for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
					cfg := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: trickySecret, TokenURL: meta.TokenEndpoint, Scopes: []string{"orders.read"}, AuthStyle: style}
					tok, err := cfg.Token(ctx)
					if err != nil {
						t.Fatalf("style %v: %v", style, err)
					}
					parsed, err := jwt.Parse([]byte(tok.AccessToken), jwt.WithKeySet(set), jwt.WithIssuer(meta.Issuer),
						jwt.WithAudience("https://api.example.test"), jwt.WithSubject(c.ClientID), jwt.WithValidate(true))
					if err != nil {
						t.Fatalf("style %v: token does not verify against the served JWKS: %v", style, err)
					}
					var tenant, scope string
					if err := parsed.Get("tenant_id", &tenant); err != nil || tenant != "acme" {
						t.Errorf("tenant_id %q, %v", tenant, err)
					}
					if err := parsed.Get("scope", &scope); err != nil || scope != "orders.read" {
						t.Errorf("scope %q, %v", scope, err)
					}
					if tok.Expiry.Before(time.Now().Add(59 * time.Minute)) {
						t.Errorf("expiry %v: want about an hour", tok.Expiry)
					}
				}
				wrong := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: "wrong-wrong-wrong-1", TokenURL: meta.TokenEndpoint}
				if _, err := wrong.Token(ctx); err == nil {
					t.Error("a wrong secret got a token")
				}
			})
		})
	}
}

func TestJWKSPublishesCurrentAndPrevious(t *testing.T) {
	f := newFixture(t)
	w := httptest.NewRecorder()
	f.handler.ServeHTTP(w, httptest.NewRequest("GET", "/.well-known/jwks.json", nil))
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &set); err != nil || len(set.Keys) != 2 {
		t.Fatalf("JWKS %s", w.Body)
	}
	for i, want := range []string{f.keys.Current.ID, f.keys.Previous.ID} {
		k := set.Keys[i]
		got := map[string]any{"kid": k["kid"], "use": k["use"], "alg": k["alg"], "kty": k["kty"], "d": k["d"]}
		if diff := cmp.Diff(map[string]any{"kid": want, "use": "sig", "alg": "RS256", "kty": "RSA", "d": nil}, got); diff != "" {
			t.Errorf("key %d (-want +got; public only):\n%s", i, diff)
		}
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// jwtAuthorizer validates a token as API Gateway's JWT authorizer does
// (HTTP API, "Controlling access with JWT authorizers"): it reads jwks_uri
// from {issuer}/.well-known/openid-configuration, verifies the signature
// with the key the kid names (RSA only), requires iss to equal the
// configured issuer exactly, aud to hold the configured audience, exp and
// nbf to hold, and, when the route has scopes, the scope (or scp) claim to
// hold one of them.
func jwtAuthorizer(ctx context.Context, issuer, audience string, routeScopes []string, token string) error {
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	resp, err := http.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&disc); err != nil || disc.JWKSURI == "" {
		return fmt.Errorf("discovery document: %v %+v", err, disc)
	}
	set, err := jwk.Fetch(ctx, disc.JWKSURI)
	if err != nil {
		return err
	}
	// "Currently, only RSA-based algorithms are supported" (the HTTP API
	// developer guide; REST API JWT authorizers take ES256 too)
	if msg, err := jws.Parse([]byte(token)); err != nil {
		return err
	} else if alg, _ := msg.Signatures()[0].ProtectedHeaders().Algorithm(); alg != jwa.RS256() {
		return fmt.Errorf("token signed with %s: HTTP API JWT authorizers take RSA algorithms only", alg)
	}
	tok, err := jwt.Parse([]byte(token), jwt.WithKeySet(set), jwt.WithIssuer(issuer), jwt.WithAudience(audience), jwt.WithValidate(true))
	if err != nil {
		return err
	}
	if len(routeScopes) == 0 {
		return nil
	}
	var scope string
	_ = tok.Get("scope", &scope)
	for _, s := range strings.Fields(scope) {
		if slices.Contains(routeScopes, s) {
			return nil
		}
	}
	return fmt.Errorf("token scopes %q hold none of the route's %v", scope, routeScopes)
}

// TestAPIGatewayJWTAuthorizerAcceptsOurTokens: another API can guard its
// routes with API Gateway's native JWT authorizer, configured with this
// service's issuer and audience.
func TestAPIGatewayJWTAuthorizerAcceptsOurTokens(t *testing.T) {
	ctx := context.Background()
	b := testenv.Embedded(t)
	key, _ := signing.Generate(signing.RS256)
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	defer srv.Close()
	dummy, _ := testenv.FastHasher.Hash("dummy")
	const audience = "https://orders.example.test"
	h = oauth.NewEndpoint(oauth.Config{Issuer: srv.URL, Audience: audience}, oauth.Deps{
		Clients: b.Clients(), Hashes: b.Hashes, Limits: b.Limits(), Verifier: testenv.FastHasher, DummyHash: dummy,
		Keys: &signing.Cache[signing.KeySet]{Source: signing.Fixed(signing.KeySet{Current: key}), MaxAge: time.Hour},
	}).Handler()
	c, _, err := b.Service().Create(ctx, "acme", moduleInput("orders-client", trickySecret, "orders.read"), "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: trickySecret, TokenURL: srv.URL + "/oauth2/token"}
	tok, err := cfg.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := signing.Generate(signing.RS256)
	forged, _ := accesstoken.Issue(other, srv.URL, audience, c.ClientID, "acme", []string{"orders.read"}, time.Now(), time.Hour)
	ec, _ := signing.Generate(signing.ES256)
	es256, _ := accesstoken.Issue(ec, srv.URL, audience, c.ClientID, "acme", []string{"orders.read"}, time.Now(), time.Hour)
	expired, _ := accesstoken.Issue(key, srv.URL, audience, c.ClientID, "acme", []string{"orders.read"}, time.Now().Add(-2*time.Hour), time.Hour)
	for _, tt := range []struct {
		name, issuer, audience, token string
		scopes                        []string
		ok                            bool
	}{
		{"route without scopes", srv.URL, audience, tok.AccessToken, nil, true},
		{"route scope the token has", srv.URL, audience, tok.AccessToken, []string{"orders.read"}, true},
		{"route scope the token lacks", srv.URL, audience, tok.AccessToken, []string{"orders.write"}, false},
		{"issuer with a trailing slash (not byte-identical)", srv.URL + "/", audience, tok.AccessToken, nil, false},
		{"another audience", srv.URL, "https://billing.example.test", tok.AccessToken, nil, false},
		{"signed by a key not in the JWKS", srv.URL, audience, forged, nil, false},
		{"expired", srv.URL, audience, expired, nil, false},
		{"ES256 (AccessTokenAlgorithm ES256): refused by an HTTP API", srv.URL, audience, es256, nil, false},
	} {
		err := jwtAuthorizer(ctx, tt.issuer, tt.audience, tt.scopes, tt.token)
		if (err == nil) != tt.ok {
			t.Errorf("%s: %v, want accepted=%v", tt.name, err, tt.ok)
		}
	}
}
