package localgateway_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/modules-service/modules/internal/testing/clientkey"
)

// TestEndToEndDPoP: a module that requires DPoP gets a DPoP-bound token
// with a proof (htu the token endpoint the metadata names) and manages
// through the authorizer with a fresh proof per request; without a proof,
// with a replayed one or as a Bearer token it is refused. Locally and,
// with -tags deployed, on the stack.
func TestEndToEndDPoP(t *testing.T) {
	tg := open(t)
	acme, manager, _ := tg.managerToken(t, "dpop")
	modules := tg.base + "/tenants/" + acme + "/modules"
	created := call(t, "POST", modules, manager, `{"name":"bound","displayName":"Bound","clientSecret":"`+secret+`","scopes":["modules:manage"],"dpopBoundAccessTokens":true}`)
	if created.status != 201 {
		t.Fatalf("create: %d %v", created.status, created.body)
	}
	clientID := created.body["clientId"].(string)
	meta := call(t, "GET", tg.base+"/.well-known/oauth-authorization-server", "", "")
	endpoint, _ := meta.body["token_endpoint"].(string)
	k := clientkey.New(t, "", jose.ES256)
	ask := func(proof string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("POST", tg.base+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(clientID, secret)
		if proof != "" {
			req.Header.Set("DPoP", proof)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	if status, body := ask(""); status != 400 || body["error"] != "invalid_dpop_proof" {
		t.Errorf("a token request without a proof: %d %v, want 400 invalid_dpop_proof", status, body)
	}
	status, body := ask(k.Proof(t, clientkey.ProofClaims("POST", endpoint, "", time.Now(), nil), nil))
	if status != 200 || body["token_type"] != "DPoP" {
		t.Fatalf("a token request with a proof for %s: %d %v", endpoint, status, body)
	}
	tok := body["access_token"].(string)
	htu := tg.origin + "/tenants/" + acme + "/modules"
	proof := func() string { return k.Proof(t, clientkey.ProofClaims("GET", htu, tok, time.Now(), nil), nil) }
	first := proof()
	if a := callDPoP(t, "GET", modules, "DPoP "+tok, first); a.status != 200 {
		t.Fatalf("manage with the bound token and a proof for %s: %d %v", htu, a.status, a.body)
	}
	if a := callDPoP(t, "GET", modules, "DPoP "+tok, proof()); a.status != 200 {
		t.Errorf("a second request with a fresh proof: %d %v", a.status, a.body)
	}
	for name, a := range map[string]answer{
		"the same proof again": callDPoP(t, "GET", modules, "DPoP "+tok, first),
		"no proof":             callDPoP(t, "GET", modules, "DPoP "+tok, ""),
		"the token as Bearer":  call(t, "GET", modules, tok, ""),
	} {
		if a.status != tg.unauthorized {
			t.Errorf("%s: %d %v, want %d (the authorizer's Unauthorized)", name, a.status, a.body, tg.unauthorized)
		}
	}
}
