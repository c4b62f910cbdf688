package localgateway_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/modules-service/modules/internal/dpop"
	"github.com/modules-service/modules/internal/localgateway"
	"github.com/modules-service/modules/internal/openapi"
	"github.com/modules-service/modules/internal/testing/clientkey"
)

// callDPoP sends a request with authorization as it is and proof, when
// not empty, as the DPoP header, the exchange checked against the API
// document.
func callDPoP(t *testing.T, method, target, authorization, proof string) answer {
	t.Helper()
	req, _ := http.NewRequest(method, target, nil)
	req.Header.Set("Authorization", authorization)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	reqHeader := req.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header}
	_ = json.Unmarshal(raw, &a.body)
	if err := openapi.Check(openapi.Exchange{Method: method, URL: strings.TrimPrefix(target, req.URL.Scheme+"://"+req.URL.Host), Header: reqHeader,
		Status: resp.StatusCode, RespHeader: resp.Header, RespBody: raw}); err != nil {
		t.Errorf("contract: %v", err)
	}
	return a
}

// boundToken creates a manager module whose tokens are DPoP-bound and gets
// one bound to k through the gateway.
func boundToken(t *testing.T, base, mgr string, k clientkey.Key) string {
	t.Helper()
	a := call(t, "POST", base+"/tenants/acme/modules", mgr, `{"name":"bound-manager","displayName":"Bound manager","clientSecret":"Bound-Secret-4711-xyz","scopes":["modules:manage"],"dpopBoundAccessTokens":true}`)
	if a.status != 201 {
		t.Fatalf("create: %d %v", a.status, a.body)
	}
	id := a.body["clientId"].(string)
	ask := func(proof string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", base+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, "Bound-Secret-4711-xyz")
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
		t.Errorf("a bound module's token request without a proof: %d %v, want 400 invalid_dpop_proof", status, body)
	}
	status, body := ask(k.Proof(t, clientkey.ProofClaims("POST", base+"/oauth2/token", "", time.Now(), nil), nil))
	if status != 200 || body["token_type"] != "DPoP" {
		t.Fatalf("token with a proof: %d %v", status, body)
	}
	return body["access_token"].(string)
}

// TestDPoPThroughTheGateway: a DPoP-bound manager token manages through
// the authorizer with a proof per request, and every refusal of RFC 9449
// §7 is API Gateway's 401.
func TestDPoPThroughTheGateway(t *testing.T) {
	s, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "acme"}})
	mgr := token(t, base, s.Manager.ClientID, s.Manager.ClientSecret, 0)
	k := clientkey.New(t, "", jose.ES256)
	tok := boundToken(t, base, mgr, k)
	list := base + "/tenants/acme/modules"
	proof := func(changes map[string]any) string {
		return k.Proof(t, clientkey.ProofClaims("GET", list, tok, time.Now(), changes), nil)
	}
	good := proof(nil)
	if a := callDPoP(t, "GET", list+"?limit=1", "DPoP "+tok, good); a.status != 200 {
		t.Fatalf("a good proof: %d %v", a.status, a.body)
	}
	hmac, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("the public key as an hmac secret!")},
		(&jose.SignerOptions{}).WithType(dpop.Type).WithHeader("jwk", k.Public(t)))
	hmacProof, _ := jwt.Signed(hmac).Claims(clientkey.ProofClaims("GET", list, tok, time.Now(), nil)).Serialize()
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	none := enc(map[string]any{"typ": dpop.Type, "alg": "none", "jwk": k.Public(t)}) + "." + enc(clientkey.ProofClaims("GET", list, tok, time.Now(), nil)) + "."
	other := clientkey.New(t, "", jose.ES256)
	for _, tt := range []struct {
		name, method, target, auth, proof string
	}{
		{"replayed", "GET", list, "DPoP " + tok, good},
		{"wrong htm", "GET", list, "DPoP " + tok, proof(map[string]any{"htm": "POST"})},
		{"wrong htu", "GET", list, "DPoP " + tok, proof(map[string]any{"htu": base + "/tenants/acme/events"})},
		{"wrong ath", "GET", list, "DPoP " + tok, proof(map[string]any{"ath": dpop.TokenHash(mgr)})},
		{"stale iat", "GET", list, "DPoP " + tok, proof(map[string]any{"iat": time.Now().Add(-2 * time.Minute).Unix()})},
		{"alg none", "GET", list, "DPoP " + tok, none},
		{"HMAC", "GET", list, "DPoP " + tok, hmacProof},
		{"private key in the header", "GET", list, "DPoP " + tok, k.Proof(t, clientkey.ProofClaims("GET", list, tok, time.Now(), nil), map[jose.HeaderKey]any{"jwk": clientkey.JWK(t, k.Priv, "")})},
		{"thumbprint mismatch", "GET", list, "DPoP " + tok, other.Proof(t, clientkey.ProofClaims("GET", list, tok, time.Now(), nil), nil)},
		{"no proof", "GET", list, "DPoP " + tok, ""},
		{"bound token as Bearer", "GET", list, "Bearer " + tok, ""},
		{"bearer token as DPoP", "GET", list, "DPoP " + mgr, k.Proof(t, clientkey.ProofClaims("GET", list, mgr, time.Now(), nil), nil)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if a := callDPoP(t, tt.method, tt.target, tt.auth, tt.proof); a.status != 401 || a.body["message"] != "Unauthorized" {
				t.Errorf("got %d %v, want API Gateway's 401", a.status, a.body)
			}
		})
	}
	if a := callDPoP(t, "GET", list, "DPoP "+tok, proof(nil)); a.status != 200 {
		t.Errorf("a fresh proof after the refusals: %d", a.status)
	}
}

// TestDPoPFromARealClient: a maintained third-party OAuth library's own
// DPoP (Python requests-oauth2client, pinned in infra/requirements.txt,
// with jwskate) gets a DPoP-bound token for a module that requires one
// and manages the tenant through the authorizer with it, a fresh proof
// per request.
func TestDPoPFromARealClient(t *testing.T) {
	python := "../../.venv/bin/python"
	if _, err := os.Stat(python); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (.ci/run installs it)", python)
		}
		t.Skipf("%s is missing (make venv)", python)
	}
	s, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "acme"}})
	mgr := token(t, base, s.Manager.ClientID, s.Manager.ClientSecret, 0)
	a := call(t, "POST", base+"/tenants/acme/modules", mgr, `{"name":"py-dpop","displayName":"Python DPoP","clientSecret":"Python-Secret-4711-xyz","scopes":["modules:manage"],"dpopBoundAccessTokens":true}`)
	if a.status != 201 {
		t.Fatalf("create: %d %v", a.status, a.body)
	}
	cmd := exec.Command(python, "-c", `import json, os, requests
from requests_oauth2client import OAuth2Client
# testing=True lifts one check only: the library's refusal of plain-http
# endpoints (the local gateway listens on loopback http)
client = OAuth2Client(token_endpoint=os.environ["API"] + "/oauth2/token", client_id=os.environ["ID"],
    client_secret=os.environ["SECRET"], dpop_bound_access_tokens=True, testing=True)
token = client.client_credentials()
url = os.environ["API"] + "/tenants/acme/modules"
first = requests.get(url, params={"limit": "1"}, auth=token)
second = requests.get(url, auth=token)
print(json.dumps({"type": type(token).__name__, "token_type": token.token_type, "access_token": str(token.access_token),
    "statuses": [first.status_code, second.status_code], "proof": first.request.headers.get("DPoP", "")}))`)
	cmd.Env = append(os.Environ(), "API="+base, "ID="+a.body["clientId"].(string), "SECRET=Python-Secret-4711-xyz")
	out, err := cmd.CombinedOutput()
	var got struct {
		Type        string `json:"type"`
		TokenType   string `json:"token_type"`
		AccessToken string `json:"access_token"`
		Statuses    []int  `json:"statuses"`
		Proof       string `json:"proof"`
	}
	if err != nil || json.Unmarshal(out, &got) != nil {
		t.Fatalf("requests-oauth2client: %v\n%s", err, out)
	}
	if got.Type != "DPoPToken" || got.TokenType != "DPoP" {
		t.Errorf("the library holds a %s of type %q, want a DPoPToken", got.Type, got.TokenType)
	}
	if len(got.Statuses) != 2 || got.Statuses[0] != 200 || got.Statuses[1] != 200 {
		t.Errorf("its two calls to the management API: %v, want 200 each", got.Statuses)
	}
	// Its first proof, replayed, and its token as Bearer are refused.
	if r := callDPoP(t, "GET", base+"/tenants/acme/modules?limit=1", "DPoP "+got.AccessToken, got.Proof); r.status != 401 {
		t.Errorf("its proof replayed: %d, want 401", r.status)
	}
	if r := callDPoP(t, "GET", base+"/tenants/acme/modules", "Bearer "+got.AccessToken, ""); r.status != 401 {
		t.Errorf("its token as Bearer: %d, want 401", r.status)
	}
}
