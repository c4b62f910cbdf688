package authz_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/go-jose/go-jose/v4"

	"github.com/modules-service/modules/internal/authz"
	"github.com/modules-service/modules/internal/caller"
	"github.com/modules-service/modules/internal/dpop"
	"github.com/modules-service/modules/internal/dynamo"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/testing/clientkey"
)

const resource = "/tenants/acme/modules"

// issueBound gets a token bound to k from the token endpoint.
func (f *fixture) issueBound(t testing.TB, c module.Credentials, k clientkey.Key) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {secret}}
	r := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("DPoP", k.Proof(t, clientkey.ProofClaims("POST", issuer+"/oauth2/token", "", f.clock.Now(), nil), nil))
	w := httptest.NewRecorder()
	f.token.ServeHTTP(w, r)
	var body map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	if body["token_type"] != "DPoP" {
		t.Fatalf("no DPoP-bound token: %s", w.Body)
	}
	return body["access_token"].(string)
}

// withProofs is the fixture's authorizer, or another instance of it, that
// records proofs in the fixture's table.
func (f *fixture) withProofs() *authz.Authorizer {
	a := *f.authz
	a.Clients = module.NewClientCache(f.backend.Clients(), clientTTL, f.clock.Now)
	a.Proofs = &dynamo.Proofs{DB: f.backend.DB, Table: f.backend.Table}
	return &a
}

// dpopEvent is the event API Gateway makes of a request to path on the
// API's own domain.
func dpopEvent(method, path, authorization, proof string) events.APIGatewayV2CustomAuthorizerV2Request {
	e := events.APIGatewayV2CustomAuthorizerV2Request{Version: "2.0", Type: "REQUEST", RawPath: path,
		Headers: map[string]string{"authorization": authorization}, IdentitySource: []string{authorization}}
	if proof != "" {
		e.Headers["dpop"] = proof
	}
	e.RequestContext.DomainName = strings.TrimPrefix(issuer, "https://")
	e.RequestContext.HTTP.Method = method
	return e
}

// status is what API Gateway answers a decision: 200, 403 for a denial,
// 401 for the error "Unauthorized"; any other error fails the test (500).
func status(t *testing.T, a *authz.Authorizer, e events.APIGatewayV2CustomAuthorizerV2Request) (int, authz.Decision) {
	t.Helper()
	d, err := a.Authorize(context.Background(), e)
	switch {
	case err != nil && err.Error() == "Unauthorized":
		return http.StatusUnauthorized, d
	case err != nil:
		t.Fatalf("Authorize returned an error (a 500): %v", err)
	case !d.IsAuthorized:
		return http.StatusForbidden, d
	}
	return http.StatusOK, d
}

// TestDPoPAtTheAuthorizer: a DPoP-bound token passes as DPoP with a
// proof by its key for this very request, once; each refusal is 401.
func TestDPoPAtTheAuthorizer(t *testing.T) {
	f := newFixture(t)
	a, other := f.withProofs(), f.withProofs()
	c := f.module(t, "bound", module.ScopeManage)
	k := clientkey.New(t, "", jose.ES256)
	tok := f.issueBound(t, c, k)
	now := f.clock.Now()
	url := issuer + resource
	proof := func(changes map[string]any) string {
		return k.Proof(t, clientkey.ProofClaims("GET", url, tok, now, changes), nil)
	}

	good := proof(nil)
	got, d := status(t, a, dpopEvent("GET", resource, "DPoP "+tok, good))
	if got != 200 {
		t.Fatalf("a good proof: %d", got)
	}
	cl, _ := caller.FromContext(d.Context)
	if cl.DPoPJKT != k.Thumbprint(t) || cl.Kind != caller.Manager {
		t.Errorf("context %+v: want the manager and the key's thumbprint", cl)
	}
	if got, _ := status(t, a, dpopEvent("GET", resource+"?limit=5", "dpop "+tok, proof(nil))); got != 200 {
		t.Errorf("with a query and the scheme in lower case: %d, want 200", got)
	}

	other401 := clientkey.New(t, "", jose.ES256)
	bearer := f.issue(t, c, "")
	for _, tt := range []struct {
		name               string
		a                  *authz.Authorizer
		method, path, auth string
		proof              string
	}{
		{"replayed on the same instance", a, "GET", resource, "DPoP " + tok, good},
		{"replayed on another instance", other, "GET", resource, "DPoP " + tok, good},
		{"wrong htm", a, "POST", resource, "DPoP " + tok, proof(nil)},
		{"wrong htu", a, "GET", resource + "/other", "DPoP " + tok, proof(nil)},
		{"wrong ath", a, "GET", resource, "DPoP " + tok, proof(map[string]any{"ath": dpop.TokenHash(bearer)})},
		{"stale iat", a, "GET", resource, "DPoP " + tok, proof(map[string]any{"iat": now.Add(-2 * time.Minute).Unix()})},
		{"private key in the header", a, "GET", resource, "DPoP " + tok, k.Proof(t, clientkey.ProofClaims("GET", url, tok, now, nil), map[jose.HeaderKey]any{"jwk": clientkey.JWK(t, k.Priv, "")})},
		{"another key's proof", a, "GET", resource, "DPoP " + tok, other401.Proof(t, clientkey.ProofClaims("GET", url, tok, now, nil), nil)},
		{"two proofs, joined", a, "GET", resource, "DPoP " + tok, proof(nil) + "," + proof(nil)},
		{"no proof", a, "GET", resource, "DPoP " + tok, ""},
		{"a bound token as Bearer", a, "GET", resource, "Bearer " + tok, proof(nil)},
		{"a bearer token as DPoP", a, "GET", resource, "DPoP " + bearer, k.Proof(t, clientkey.ProofClaims("GET", url, bearer, now, nil), nil)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, d := status(t, tt.a, dpopEvent(tt.method, tt.path, tt.auth, tt.proof)); got != 401 || d.IsAuthorized {
				t.Errorf("got %d, want 401", got)
			}
		})
	}
	if got, _ := status(t, a, dpopEvent("GET", resource, "Bearer "+bearer, "")); got != 200 {
		t.Errorf("a bearer token as Bearer: %d, want 200", got)
	}
	if got, _ := status(t, f.authz, dpopEvent("GET", resource, "DPoP "+tok, proof(nil))); got != 401 {
		t.Errorf("without a proof store: %d, want 401", got)
	}
}

// TestDPoPBehindTheEdge: behind a front door (Issuer set to its URL) the
// client calls the issuer's host while API Gateway's event names the
// API's own domain; a proof for either URL passes, one for a third host
// does not.
func TestDPoPBehindTheEdge(t *testing.T) {
	f := newFixture(t)
	a := f.withProofs()
	c := f.module(t, "edge-bound", "orders.read")
	k := clientkey.New(t, "", jose.EdDSA)
	tok := f.issueBound(t, c, k)
	const apiDomain = "abc123.execute-api.eu-west-1.amazonaws.com"
	for _, tt := range []struct {
		htu  string
		want int
	}{{issuer + resource, 200}, {"https://" + apiDomain + resource, 200}, {"https://third.example.test" + resource, 401}} {
		e := dpopEvent("GET", resource, "DPoP "+tok, k.Proof(t, clientkey.ProofClaims("GET", tt.htu, tok, f.clock.Now(), nil), nil))
		e.RequestContext.DomainName = apiDomain
		if got, _ := status(t, a, e); got != tt.want {
			t.Errorf("htu %s: %d, want %d", tt.htu, got, tt.want)
		}
	}
}

// TestDPoPBoundModuleRefusesItsBearerTokens: rights follow the module:
// once it requires DPoP, its bearer tokens issued before stop passing
// within ClientCacheSeconds; its bound tokens keep passing.
func TestDPoPBoundModuleRefusesItsBearerTokens(t *testing.T) {
	f := newFixture(t)
	a := f.withProofs()
	c := f.module(t, "turned-bound", module.ScopeManage)
	bearer := f.issue(t, c, "")
	k := clientkey.New(t, "", jose.ES256)
	bound := f.issueBound(t, c, k)
	if got, _ := status(t, a, dpopEvent("GET", resource, "Bearer "+bearer, "")); got != 200 {
		t.Fatalf("before: %d", got)
	}
	if _, err := f.svc.Update(context.Background(), "acme", c.ID, module.Patch{"dpopBoundAccessTokens": []byte("true")}, 0); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(clientTTL + time.Second)
	if got, _ := status(t, a, dpopEvent("GET", resource, "Bearer "+bearer, "")); got != 401 {
		t.Errorf("its bearer token after ClientCacheSeconds: %d, want 401", got)
	}
	proof := k.Proof(t, clientkey.ProofClaims("GET", issuer+resource, bound, f.clock.Now(), nil), nil)
	if got, _ := status(t, a, dpopEvent("GET", resource, "DPoP "+bound, proof)); got != 200 {
		t.Errorf("its bound token: %d, want 200", got)
	}
}
