package oauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/modules-service/modules/internal/dpop"
	"github.com/modules-service/modules/internal/testing/clientkey"
)

// withProof sends proof as the DPoP header.
func withProof(proof string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Add(dpop.Header, proof) }
}

// TestDPoPBindsTheToken: a token request with a good proof gets a token
// bound to the proof's key (cnf.jkt, token_type DPoP, RFC 9449 §5), with a
// secret or an assertion, at the token endpoint URL of the metadata or as
// the request reached the function; without a proof, a bearer token.
func TestDPoPBindsTheToken(t *testing.T) {
	f := newFixture(t)
	c := f.module(t, "dpop-client", plainSecret, "orders.read")
	for _, alg := range dpop.Algorithms {
		t.Run(string(alg), func(t *testing.T) {
			k := clientkey.New(t, "", alg)
			for _, htu := range []string{issuer + "/oauth2/token", "https://example.com/oauth2/token"} {
				proof := k.Proof(t, clientkey.ProofClaims("POST", htu+"?ignored=1", "", f.clock.Now(), nil), nil)
				r := f.post(t, form("grant_type", "client_credentials"), []string{c.ClientID, plainSecret}, withProof(proof))
				if r.status != 200 || r.body["token_type"] != "DPoP" {
					t.Fatalf("htu %s: %d %s", htu, r.status, r.raw)
				}
				cnf, _ := f.verify(t, r.body["access_token"].(string))["cnf"].(map[string]any)
				if got, want := cnf["jkt"], k.Thumbprint(t); got != want {
					t.Errorf("cnf.jkt %v, want %s", got, want)
				}
			}
		})
	}
	r := f.post(t, form("grant_type", "client_credentials"), []string{c.ClientID, plainSecret})
	if r.status != 200 || r.body["token_type"] != "Bearer" {
		t.Fatalf("without a proof: %d %s", r.status, r.raw)
	}
	if _, bound := f.verify(t, r.body["access_token"].(string))["cnf"]; bound {
		t.Error("a token without a proof carries cnf")
	}
}

// TestDPoPProofRefused: every bad proof is 400 invalid_dpop_proof and
// issues nothing; a proof's jti is good once, on any instance.
func TestDPoPProofRefused(t *testing.T) {
	f := newFixture(t)
	c := f.module(t, "dpop-refused", plainSecret, "orders.read")
	k := clientkey.New(t, "", jose.ES256)
	now := f.clock.Now()
	tokenURL := issuer + "/oauth2/token"
	good := func(changes map[string]any) map[string]any {
		return clientkey.ProofClaims("POST", tokenURL, "", now, changes)
	}
	send := func(t *testing.T, h http.Handler, proofs ...string) result {
		t.Helper()
		mutate := make([]func(*http.Request), len(proofs))
		for i, p := range proofs {
			mutate[i] = withProof(p)
		}
		return f.postTo(t, h, form("grant_type", "client_credentials"), []string{c.ClientID, plainSecret}, mutate...)
	}
	refused := func(t *testing.T, r result) {
		t.Helper()
		if r.status != 400 || r.body["error"] != "invalid_dpop_proof" || r.body["access_token"] != nil {
			t.Errorf("got %d %s, want 400 invalid_dpop_proof", r.status, r.raw)
		}
	}
	for _, tt := range []struct {
		name  string
		proof string
	}{
		{"wrong htm", k.Proof(t, good(map[string]any{"htm": "GET"}), nil)},
		{"wrong htu", k.Proof(t, good(map[string]any{"htu": "https://other.example.test/oauth2/token"}), nil)},
		{"stale iat", k.Proof(t, good(map[string]any{"iat": now.Add(-2 * time.Minute).Unix()}), nil)},
		{"ath at the token endpoint", k.Proof(t, good(map[string]any{"ath": dpop.TokenHash("x")}), nil)},
		{"private key in the header", k.Proof(t, good(nil), map[jose.HeaderKey]any{"jwk": clientkey.JWK(t, k.Priv, "")})},
		{"typ JWT", k.Proof(t, good(nil), map[jose.HeaderKey]any{"typ": "JWT"})},
		{"not a JWT", "proof"},
	} {
		t.Run(tt.name, func(t *testing.T) { refused(t, send(t, f.handler, tt.proof)) })
	}
	t.Run("two DPoP headers", func(t *testing.T) {
		refused(t, send(t, f.handler, k.Proof(t, good(nil), nil), k.Proof(t, good(nil), nil)))
	})
	t.Run("replayed on the same and on another instance", func(t *testing.T) {
		proof := k.Proof(t, good(nil), nil)
		if r := send(t, f.handler, proof); r.status != 200 {
			t.Fatalf("first use: %d %s", r.status, r.raw)
		}
		refused(t, send(t, f.handler, proof))
		refused(t, send(t, f.instance(), proof))
	})
}

// TestMetadataAdvertisesDPoP: dpop_signing_alg_values_supported (RFC 9449 §5.1).
func TestMetadataAdvertisesDPoP(t *testing.T) {
	f := newFixture(t)
	w := httptest.NewRecorder()
	f.handler.ServeHTTP(w, httptest.NewRequest("GET", "/.well-known/oauth-authorization-server", nil))
	var r map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	algs, _ := r["dpop_signing_alg_values_supported"].([]any)
	if len(algs) != len(dpop.Algorithms) {
		t.Fatalf("dpop_signing_alg_values_supported %v, want %v", algs, dpop.Algorithms)
	}
	for i, a := range dpop.Algorithms {
		if algs[i] != string(a) {
			t.Errorf("[%d] = %v, want %s", i, algs[i], a)
		}
	}
}

// TestDPoPBoundModule: a module with DPoPBoundAccessTokens gets no token
// without a proof (RFC 9449 §5.2), and a bound one with it.
func TestDPoPBoundModule(t *testing.T) {
	f := newFixture(t)
	in := moduleInput("bound-only", plainSecret, "orders.read")
	in.DPoPBoundAccessTokens = true
	c, _, err := f.svc.Create(context.Background(), "acme", in, "")
	if err != nil {
		t.Fatal(err)
	}
	r := f.post(t, form("grant_type", "client_credentials"), []string{c.ClientID, plainSecret})
	if r.status != 400 || r.body["error"] != "invalid_dpop_proof" {
		t.Errorf("without a proof: %d %s, want 400 invalid_dpop_proof", r.status, r.raw)
	}
	k := clientkey.New(t, "", jose.ES256)
	proof := k.Proof(t, clientkey.ProofClaims("POST", issuer+"/oauth2/token", "", f.clock.Now(), nil), nil)
	r = f.post(t, form("grant_type", "client_credentials"), []string{c.ClientID, plainSecret}, withProof(proof))
	if r.status != 200 || r.body["token_type"] != "DPoP" {
		t.Errorf("with a proof: %d %s", r.status, r.raw)
	}
}
