package authz_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/modules-service/modules/internal/authz"
	"github.com/modules-service/modules/internal/caller"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/oauth"
	"github.com/modules-service/modules/internal/signing"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// clientTTL is the fixture's ClientCacheSeconds.
const clientTTL = 30 * time.Second

const (
	issuer    = "https://api.example.test"
	idpIssuer = "https://idp.example.test"
	secret    = "Known-Secret-4711-xyz"
)

type fixture struct {
	backend testenv.Backend
	svc     *module.Service
	clock   *testenv.Clock
	key     signing.Key
	token   http.Handler
	authz   *authz.Authorizer
	idpKey  *ecdsa.PrivateKey

	idpMu      sync.Mutex
	idpKeys    jose.JSONWebKeySet
	idpFetches int
}

func newFixture(t testing.TB) *fixture { return newFixtureFor(t, signing.RS256) }

// newFixtureFor is a token endpoint and an authorizer whose signing key is
// of alg.
func newFixtureFor(t testing.TB, alg jose.SignatureAlgorithm) *fixture {
	t.Helper()
	f := &fixture{backend: testenv.Embedded(t), clock: testenv.NewClock()}
	f.svc = f.backend.Service()
	var err error
	if f.key, err = signing.Generate(alg); err != nil {
		t.Fatal(err)
	}
	keys := &signing.Cache[signing.KeySet]{Source: signing.Fixed(signing.KeySet{Current: f.key}), MaxAge: time.Hour, MinRefresh: time.Minute}
	public := &signing.Cache[signing.PublicKeys]{Source: signing.Fixed(signing.KeySet{Current: f.key}.Public()), MaxAge: time.Hour, MinRefresh: time.Minute}
	dummy, _ := testenv.FastHasher.Hash("dummy")
	f.token = oauth.NewEndpoint(oauth.Config{Issuer: issuer}, oauth.Deps{
		Clients: f.backend.Clients(), Hashes: f.backend.Hashes, Limits: f.backend.Limits(),
		Verifier: testenv.FastHasher, DummyHash: dummy, Keys: keys, Now: f.clock.Now,
	}).Handler()

	// a test identity provider: its own key, its JWKS on loopback
	f.idpKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.idpKeys = jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &f.idpKey.PublicKey, KeyID: "idp-1", Algorithm: "ES256", Use: "sig"}}}
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.idpMu.Lock()
		defer f.idpMu.Unlock()
		f.idpFetches++
		_ = json.NewEncoder(w).Encode(f.idpKeys)
	}))
	t.Cleanup(idp.Close)

	f.authz = &authz.Authorizer{Issuer: issuer, Keys: public, Clients: module.NewClientCache(f.backend.Clients(), clientTTL, f.clock.Now), Now: f.clock.Now,
		IdP: &authz.IdP{Issuer: idpIssuer, JWKSURL: idp.URL, Audience: "portal", TenantClaim: "tenant", RoleClaim: "roles", ManagerRole: "tenant-manager"}}
	return f
}

// issue gets a real access token from the token endpoint.
func (f *fixture) issue(t testing.TB, c module.Credentials, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {secret}}
	if scope != "" {
		form.Set("scope", scope)
	}
	r := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	f.token.ServeHTTP(w, r)
	var body map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	tok, _ := body["access_token"].(string)
	if tok == "" {
		t.Fatalf("no token: %s", w.Body)
	}
	return tok
}

func (f *fixture) module(t *testing.T, name string, scopes ...string) module.Credentials {
	t.Helper()
	c, _, err := f.svc.Create(context.Background(), "acme", module.CreateInput{Name: name, DisplayName: name, ClientSecret: secret, Scopes: scopes}, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) decide(t *testing.T, authorization string) authz.Decision {
	t.Helper()
	e := events.APIGatewayV2CustomAuthorizerV2Request{Version: "2.0", Type: "REQUEST", Headers: map[string]string{}}
	if authorization != "" {
		e.Headers["authorization"] = authorization
		e.IdentitySource = []string{authorization}
	}
	d, err := f.authz.Authorize(context.Background(), e)
	if err != nil {
		t.Fatalf("Authorize returned an error (a 500): %v", err)
	}
	return d
}

// decideStatus runs the authorizer and checks the status API Gateway
// would answer: 200 when allowed, 403 for a denial, 401 for the error
// "Unauthorized"; any other error would be a 500.
func (f *fixture) decideStatus(t *testing.T, authorization string, want int) authz.Decision {
	t.Helper()
	e := events.APIGatewayV2CustomAuthorizerV2Request{Version: "2.0", Type: "REQUEST", Headers: map[string]string{"authorization": authorization}}
	d, err := f.authz.Authorize(context.Background(), e)
	got := http.StatusOK
	switch {
	case err != nil && err.Error() == "Unauthorized":
		got = http.StatusUnauthorized
	case err != nil:
		t.Fatalf("Authorize returned an error (a 500): %v", err)
	case !d.IsAuthorized:
		got = http.StatusForbidden
	}
	if got != want {
		t.Fatalf("API Gateway would answer %d, want %d", got, want)
	}
	if err != nil && (d.IsAuthorized || d.Context != nil) {
		t.Errorf("an error carries a decision: %+v", d)
	}
	return d
}

// sign makes a JWS with the given header fields and claims.
func sign(t *testing.T, alg jose.SignatureAlgorithm, key any, kid, typ string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("kid", kid)
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// ownClaims are valid claims of this service's token for client c.
func ownClaims(now time.Time, c module.Credentials, scope string) map[string]any {
	return map[string]any{"iss": issuer, "aud": issuer, "sub": c.ClientID, "client_id": c.ClientID, "tenant_id": "acme",
		"scope": scope, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "x"}
}

func with(m map[string]any, kv ...any) map[string]any {
	c := map[string]any{}
	for k, v := range m {
		c[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

// TestOwnTokens runs with a signing key of each algorithm: a token must
// name its key's algorithm, so one of the other, even under the key's kid,
// is refused.
func TestOwnTokens(t *testing.T) {
	for _, alg := range signing.Algorithms {
		t.Run(string(alg), func(t *testing.T) { testOwnTokens(t, alg) })
	}
}

func testOwnTokens(t *testing.T, alg jose.SignatureAlgorithm) {
	f := newFixtureFor(t, alg)
	manager := f.module(t, "manager", module.ScopeManage, "orders.read")
	client := f.module(t, "client", "orders.read")
	now := f.clock.Now()
	pemless, _ := signing.Generate(alg) // a key of another issuer
	otherAlg := signing.ES256
	if alg == signing.ES256 {
		otherAlg = signing.RS256
	}
	other, _ := signing.Generate(otherAlg)
	pubDER, _ := x509.MarshalPKIXPublicKey(f.key.Private.Public())
	good := ownClaims(now, client, "orders.read")

	tests := []struct {
		name string
		auth string
		// status is API Gateway's answer: 200 (allowed), 403 (denied)
		// or 401 (the authorizer's "Unauthorized" error: RFC 6750 §3.1).
		status int
		kind   caller.Kind
	}{
		{"manager token", "Bearer " + f.issue(t, manager, ""), http.StatusOK, caller.Manager},
		{"manager without modules:manage requested", "Bearer " + f.issue(t, manager, "orders.read"), http.StatusOK, caller.Client},
		{"client token", "Bearer " + f.issue(t, client, ""), http.StatusOK, caller.Client},
		{"lowercase bearer scheme", "bearer " + f.issue(t, client, ""), http.StatusOK, caller.Client},
		{"no header", "", http.StatusForbidden, ""},
		{"Basic scheme", "Basic " + base64.StdEncoding.EncodeToString([]byte("a:b")), http.StatusForbidden, ""},
		{"not a JWT", "Bearer not.a.jwt", http.StatusForbidden, ""},
		{"garbage", "Bearer %%%", http.StatusForbidden, ""},
		{"alg none", "Bearer " + noneToken(good), http.StatusForbidden, ""},
		{"HS256 with the public key as secret", "Bearer " + sign(t, jose.HS256, pubDER, f.key.ID, "at+jwt", good), http.StatusForbidden, ""},
		{"key of another issuer, same kid", "Bearer " + sign(t, alg, pemless.Private, f.key.ID, "at+jwt", good), http.StatusForbidden, ""},
		{"the other algorithm, same kid", "Bearer " + sign(t, otherAlg, other.Private, f.key.ID, "at+jwt", good), http.StatusForbidden, ""},
		{"tampered payload", "Bearer " + tamper(t, f.issue(t, client, ""), "tenant_id", "globex"), http.StatusForbidden, ""},
		{"unknown kid", "Bearer " + sign(t, alg, f.key.Private, "kid-nobody-has", "at+jwt", good), http.StatusForbidden, ""},
		{"typ JWT instead of at+jwt", "Bearer " + sign(t, alg, f.key.Private, f.key.ID, "JWT", good), http.StatusForbidden, ""},
		{"wrong issuer", "Bearer " + sign(t, alg, f.key.Private, f.key.ID, "at+jwt", with(good, "iss", "https://evil.test")), http.StatusForbidden, ""},
		{"wrong audience", "Bearer " + sign(t, alg, f.key.Private, f.key.ID, "at+jwt", with(good, "aud", "someone-else")), http.StatusForbidden, ""},
		{"expired", "Bearer " + sign(t, alg, f.key.Private, f.key.ID, "at+jwt", with(good, "exp", now.Add(-time.Hour).Unix())), http.StatusUnauthorized, ""},
		{"no exp", "Bearer " + sign(t, alg, f.key.Private, f.key.ID, "at+jwt", with(good, "exp", nil)), http.StatusForbidden, ""},
		{"not yet valid", "Bearer " + sign(t, alg, f.key.Private, f.key.ID, "at+jwt", with(good, "nbf", now.Add(time.Hour).Unix())), http.StatusForbidden, ""},
		{"unknown client", "Bearer " + sign(t, alg, f.key.Private, f.key.ID, "at+jwt", with(good, "client_id", "ghost", "sub", "ghost")), http.StatusForbidden, ""},
		{"tenant differs from the module's", "Bearer " + sign(t, alg, f.key.Private, f.key.ID, "at+jwt", with(good, "tenant_id", "globex")), http.StatusForbidden, ""},
		{"validly signed with our key", "Bearer " + sign(t, alg, f.key.Private, f.key.ID, "at+jwt", good), http.StatusOK, caller.Client},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := f.decideStatus(t, tt.auth, tt.status)
			if tt.status != http.StatusOK {
				if d.Context != nil {
					t.Errorf("a denial carries context %v", d.Context)
				}
				return
			}
			c, ok := caller.FromContext(d.Context)
			if !ok {
				t.Fatalf("context %v carries no caller", d.Context)
			}
			if c.TenantID != "acme" || c.Kind != tt.kind || c.ClientID == "" {
				t.Errorf("caller: tenant %q, kind %q, client ID %q; want acme, %s and the client ID", c.TenantID, c.Kind, c.ClientID, tt.kind)
			}
		})
	}
}

func TestDisabledOrDeletedModuleStopsWithinClientTTL(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, stop := range []string{"disable", "delete"} {
		t.Run(stop, func(t *testing.T) {
			c := f.module(t, "mod-"+stop)
			tok := "Bearer " + f.issue(t, c, "")
			if !f.decide(t, tok).IsAuthorized {
				t.Fatal("a fresh token was refused")
			}
			var err error
			if stop == "disable" {
				_, err = f.svc.Update(ctx, "acme", c.ID, module.Patch{"enabled": []byte("false")}, 0)
			} else {
				err = f.svc.Delete(ctx, "acme", c.ID, 0)
			}
			if err != nil {
				t.Fatal(err)
			}
			f.clock.Add(clientTTL + time.Second)
			if f.decide(t, tok).IsAuthorized {
				t.Errorf("token still accepted %v after %s", clientTTL, stop)
			}
		})
	}
}

func TestIdentityProviderTokens(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	claims := map[string]any{"iss": idpIssuer, "aud": "portal", "sub": "user-1", "tenant": "acme", "roles": []string{"tenant-manager"},
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tests := []struct {
		name, token string
		status      int // API Gateway's answer, as in testOwnTokens
		kind        caller.Kind
	}{
		{"tenant manager", sign(t, jose.ES256, f.idpKey, "idp-1", "JWT", claims), http.StatusOK, caller.Manager},
		{"role as a string", sign(t, jose.ES256, f.idpKey, "idp-1", "JWT", with(claims, "roles", "tenant-manager")), http.StatusOK, caller.Manager},
		{"not a manager", sign(t, jose.ES256, f.idpKey, "idp-1", "JWT", with(claims, "roles", []string{"viewer"})), http.StatusOK, caller.User},
		{"wrong audience", sign(t, jose.ES256, f.idpKey, "idp-1", "JWT", with(claims, "aud", "other")), http.StatusForbidden, ""},
		{"expired", sign(t, jose.ES256, f.idpKey, "idp-1", "JWT", with(claims, "exp", now.Add(-time.Hour).Unix())), http.StatusUnauthorized, ""},
		{"no tenant", sign(t, jose.ES256, f.idpKey, "idp-1", "JWT", with(claims, "tenant", nil)), http.StatusForbidden, ""},
		{"bad tenant", sign(t, jose.ES256, f.idpKey, "idp-1", "JWT", with(claims, "tenant", "a b")), http.StatusForbidden, ""},
		{"another key, IdP's kid", sign(t, jose.ES256, other, "idp-1", "JWT", claims), http.StatusForbidden, ""},
		{"unknown kid", sign(t, jose.ES256, f.idpKey, "idp-9", "JWT", claims), http.StatusForbidden, ""},
		{"HS256 with the IdP's public key", sign(t, jose.HS256, mustDER(t, &f.idpKey.PublicKey), "idp-1", "JWT", claims), http.StatusForbidden, ""},
		{"unknown issuer", sign(t, jose.ES256, f.idpKey, "idp-1", "JWT", with(claims, "iss", "https://other-idp.test")), http.StatusForbidden, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := f.decideStatus(t, "Bearer "+tt.token, tt.status)
			if c, _ := caller.FromContext(d.Context); tt.status == http.StatusOK && (c.TenantID != "acme" || c.Kind != tt.kind || c.Subject != "user-1") {
				t.Errorf("context %v, want tenant acme, kind %s", d.Context, tt.kind)
			}
		})
	}
}

// noneToken is an unsigned JWT (alg none) with the given claims.
func noneToken(claims map[string]any) string {
	h, _ := json.Marshal(map[string]any{"alg": "none", "typ": "at+jwt"})
	p, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p) + "."
}

// tamper changes one claim of a signed token and keeps the signature.
func tamper(t *testing.T, tok, claim string, value any) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	_ = json.Unmarshal(raw, &c)
	c[claim] = value
	b, _ := json.Marshal(c)
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

func mustDER(t *testing.T, pub any) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// rotating is a key source whose keys a test can change.
type rotating struct {
	mu  sync.Mutex
	set signing.KeySet
}

func (r *rotating) Load(context.Context) (signing.PublicKeys, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.set.Public(), nil
}

func TestKeyRotationIsPickedUpOnUnknownKid(t *testing.T) {
	f := newFixture(t)
	c := f.module(t, "client")
	src := &rotating{set: signing.KeySet{Current: f.key}}
	f.authz.Keys = &signing.Cache[signing.PublicKeys]{Source: src, MaxAge: time.Hour, MinRefresh: time.Minute, Now: f.clock.Now}
	if !f.decide(t, "Bearer "+f.issue(t, c, "")).IsAuthorized {
		t.Fatal("token of the current key refused")
	}
	// the rotation also changes the algorithm, RS256 to ES256: both keys
	// are published, so tokens of either verify
	next, _ := signing.Generate(signing.ES256)
	src.mu.Lock()
	src.set = signing.KeySet{Current: next, Previous: &f.key}
	src.mu.Unlock()
	tok := sign(t, jose.ES256, next.Private, next.ID, "at+jwt", ownClaims(f.clock.Now(), c, ""))
	if f.decide(t, "Bearer "+tok).IsAuthorized {
		t.Fatal("accepted a new kid within MinRefresh of the last load: refreshes are not bounded")
	}
	f.clock.Add(time.Minute + time.Second)
	if !f.decide(t, "Bearer "+tok).IsAuthorized {
		t.Error("token of the rotated-in key refused after MinRefresh")
	}
	if !f.decide(t, "Bearer "+f.issue(t, c, "")).IsAuthorized {
		t.Error("token of the previous key refused after the rotation")
	}
}

// TestIdPKeysRefreshOnUnknownKidWithABound: a key the IdP adds is picked up
// when a token names it, but unknown kids refetch at most once a minute.
func TestIdPKeysRefreshOnUnknownKidWithABound(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	claims := map[string]any{"iss": idpIssuer, "aud": "portal", "sub": "u", "tenant": "acme", "roles": "tenant-manager",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	if !f.decide(t, "Bearer "+sign(t, jose.ES256, f.idpKey, "idp-1", "JWT", claims)).IsAuthorized {
		t.Fatal("the IdP's token was refused")
	}
	next, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.idpMu.Lock()
	f.idpKeys.Keys = append(f.idpKeys.Keys, jose.JSONWebKey{Key: &next.PublicKey, KeyID: "idp-2", Algorithm: "ES256", Use: "sig"})
	f.idpMu.Unlock()
	fetches := func() int { f.idpMu.Lock(); defer f.idpMu.Unlock(); return f.idpFetches }
	before := fetches()
	for i := range 20 { // a flood of made-up kids
		f.decide(t, "Bearer "+sign(t, jose.ES256, next, fmt.Sprintf("made-up-%d", i), "JWT", claims))
	}
	if got := fetches() - before; got != 0 {
		t.Errorf("%d JWKS fetches within a minute of the last, want 0", got)
	}
	f.clock.Add(time.Minute + time.Second)
	claims["exp"] = f.clock.Now().Add(time.Hour).Unix()
	if !f.decide(t, "Bearer "+sign(t, jose.ES256, next, "idp-2", "JWT", claims)).IsAuthorized {
		t.Error("the IdP's new key was not picked up after the refresh bound")
	}
	if got := fetches() - before; got != 1 {
		t.Errorf("%d JWKS fetches, want exactly 1", got)
	}
}

// TestRightsFollowTheModule: the scopes handed on, and so the manager
// decision, are those of the token that the module still has, read within
// the client cache bound.
func TestRightsFollowTheModule(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.module(t, "backup-manager", module.ScopeManage) // so ops is not the tenant's last manager
	m := f.module(t, "ops", module.ScopeManage, "orders.read", "orders.write")
	tok := "Bearer " + f.issue(t, m, "")
	rights := func() (caller.Kind, []string) {
		t.Helper()
		d := f.decide(t, tok)
		c, ok := caller.FromContext(d.Context)
		if !d.IsAuthorized || !ok {
			t.Fatalf("token refused: %+v", d)
		}
		return c.Kind, c.Scopes
	}
	if kind, scopes := rights(); kind != caller.Manager || len(scopes) != 3 {
		t.Fatalf("before: %s %v, want a manager with three scopes", kind, scopes)
	}
	if _, err := f.svc.Update(ctx, "acme", m.ID, module.Patch{"scopes": []byte(`["orders.read"]`)}, 0); err != nil {
		t.Fatal(err)
	}
	if kind, _ := rights(); kind != caller.Manager {
		t.Errorf("within the cache bound the old rights may stand; got %s", kind)
	}
	f.clock.Add(clientTTL + time.Second)
	if kind, scopes := rights(); kind != caller.Client || fmt.Sprint(scopes) != "[orders.read]" {
		t.Errorf("after the bound: %s %v, want a client with [orders.read] only", kind, scopes)
	}
	// adding the scope back restores it to this token, which carries it...
	if _, err := f.svc.Update(ctx, "acme", m.ID, module.Patch{"scopes": []byte(`["modules:manage","orders.read"]`)}, 0); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(clientTTL + time.Second)
	if kind, scopes := rights(); kind != caller.Manager || fmt.Sprint(scopes) != "[modules:manage orders.read]" {
		t.Errorf("scope added back: %s %v", kind, scopes)
	}
	// ...but never to a token that does not carry it
	narrow := "Bearer " + f.issue(t, m, "orders.read")
	if c, _ := caller.FromContext(f.decide(t, narrow).Context); c.Kind != caller.Client || fmt.Sprint(c.Scopes) != "[orders.read]" {
		t.Errorf("a token without modules:manage: %+v", c)
	}
}
