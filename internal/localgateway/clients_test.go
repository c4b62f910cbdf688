package localgateway_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/modules-service/modules/internal/localgateway"
	"github.com/modules-service/modules/internal/testing/clientkey"
)

// TestBasicFromRealClients: the HTTP clients people use put Basic
// credentials together as they do, not as RFC 6749 §2.3.1 says, and each
// gets a token for secrets with '+', '%', ':', spaces and non-ASCII: curl
// (-u, given on stdin), Python requests (auth=, Latin-1), Node's fetch
// (a UTF-8 header) and Java's HttpClient (a UTF-8 header). Secrets reach
// each client through its environment, never its command line.
func TestBasicFromRealClients(t *testing.T) {
	python := "../../.venv/bin/python"
	clients := map[string][]string{
		"curl -u": {"bash", "-c", `printf 'user = "%s:%s"\n' "$ID" "$SECRET" | curl -sS -K - -d grant_type=client_credentials "$API/oauth2/token"`},
		"Python requests": {python, "-c", `import os, requests
r = requests.post(os.environ["API"] + "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(os.environ["ID"], os.environ["SECRET"]))
print(r.text)`},
		"Node fetch": {"node", "-e", `const {API, ID, SECRET} = process.env;
fetch(API + "/oauth2/token", {method: "POST", body: new URLSearchParams({grant_type: "client_credentials"}),
  headers: {Authorization: "Basic " + Buffer.from(ID + ":" + SECRET, "utf8").toString("base64")}})
  .then(r => r.text()).then(console.log)`},
		"Java HttpClient": {"java", "clients/Token.java"},
	}
	for name, argv := range clients {
		if _, err := exec.LookPath(argv[0]); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s: %s is missing (.ci/run installs it)", name, argv[0])
			}
			t.Skipf("%s: %s is missing", name, argv[0])
		}
	}
	s, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "acme"}})
	mgr := token(t, base, s.Manager.ClientID, s.Manager.ClientSecret, 0)
	secrets := []string{
		"a+b%c:d ü€ =&?/#x-1234", // requests cannot send '€' as a str: Latin-1 only
		"Known+Secret%41-4711",   // reads two ways
		"Ünïcödé sëcrét: 100%",
	}
	for i, secret := range secrets {
		body, _ := json.Marshal(map[string]string{"name": "client-" + string(rune('a'+i)), "displayName": "Client " + string(rune('A'+i)), "clientSecret": secret})
		a := call(t, "POST", base+"/tenants/acme/modules", mgr, string(body))
		if a.status != 201 {
			t.Fatalf("create: %d %v", a.status, a.body)
		}
		id := a.body["clientId"].(string)
		for name, argv := range clients {
			if name == "Python requests" && strings.ContainsRune(secret, '€') {
				continue // requests encodes a str password as Latin-1 and fails before sending
			}
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Env = append(os.Environ(), "API="+base, "ID="+id, "SECRET="+secret)
			out, err := cmd.CombinedOutput()
			var tok struct {
				AccessToken string `json:"access_token"`
			}
			if err != nil || json.Unmarshal(out, &tok) != nil || tok.AccessToken == "" {
				t.Errorf("%s with secret %q: %v\n%s", name, secret, err, out)
			}
		}
	}
}

// TestPrivateKeyJWTFromARealClient: a maintained third-party OAuth
// library's own private_key_jwt (Python requests-oauth2client, pinned in
// infra/requirements.txt) gets a token for a module that holds only its
// public key and accepts no secret, and the token manages nothing it
// was not given.
func TestPrivateKeyJWTFromARealClient(t *testing.T) {
	python := "../../.venv/bin/python"
	if _, err := os.Stat(python); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (.ci/run installs it)", python)
		}
		t.Skipf("%s is missing (make venv)", python)
	}
	s, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "acme"}})
	mgr := token(t, base, s.Manager.ClientID, s.Manager.ClientSecret, 0)
	for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.EdDSA} {
		k := clientkey.New(t, "py-"+strings.ToLower(string(alg)), alg)
		body, _ := json.Marshal(map[string]any{"name": "py-" + strings.ToLower(string(alg)), "displayName": "Python " + string(alg),
			"clientSecret": "Unused-Secret-4711-xyz", "scopes": []string{"orders.read"},
			"jwks": json.RawMessage(clientkey.Set(t, k)), "tokenEndpointAuthMethods": []string{"private_key_jwt"}})
		a := call(t, "POST", base+"/tenants/acme/modules", mgr, string(body))
		if a.status != 201 {
			t.Fatalf("create: %d %v", a.status, a.body)
		}
		private := clientkey.JWK(t, k.Priv, k.KID)
		private["alg"] = string(alg)
		key, _ := json.Marshal(private)
		cmd := exec.Command(python, "-c", `import json, os
from jwskate import Jwk
from requests_oauth2client import OAuth2Client, PrivateKeyJwt
auth = PrivateKeyJwt(os.environ["ID"], Jwk(json.loads(os.environ["KEY"])))
# testing=True lifts one check only: the library's refusal of plain-http
# endpoints (the local gateway listens on loopback http)
client = OAuth2Client(token_endpoint=os.environ["API"] + "/oauth2/token", auth=auth, testing=True)
print(json.dumps({"access_token": str(client.client_credentials(scope="orders.read").access_token)}))`)
		id := a.body["clientId"].(string)
		cmd.Env = append(os.Environ(), "API="+base, "ID="+id, "KEY="+string(key))
		out, err := cmd.CombinedOutput()
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if err != nil || json.Unmarshal(out, &tok) != nil || tok.AccessToken == "" {
			t.Errorf("requests-oauth2client with an %s key: %v\n%s", alg, err, out)
			continue
		}
		if got := call(t, "GET", base+"/tenants/acme/modules", tok.AccessToken, ""); got.status != 403 {
			t.Errorf("its token (orders.read only) on the management API: %d, want 403", got.status)
		}
	}
}
