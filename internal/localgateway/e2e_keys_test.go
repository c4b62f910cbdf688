package localgateway_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/modules-service/modules/internal/assertion"
	"github.com/modules-service/modules/internal/testing/clientkey"
)

// TestEndToEndPrivateKeyJWT: a manager gives a module a public key and
// turns its secret off; its client gets tokens with signed assertions
// (aud the token endpoint the metadata names), which pass the authorizer;
// its secret, a replayed assertion and, once the key is removed, a new
// assertion are refused. Locally and, with -tags deployed, on the stack.
func TestEndToEndPrivateKeyJWT(t *testing.T) {
	tg := open(t)
	acme, manager, _ := tg.managerToken(t, "keys")
	modules := tg.base + "/tenants/" + acme + "/modules"
	k := clientkey.New(t, "ci", jose.ES256)
	body, _ := json.Marshal(map[string]any{"name": "signer", "displayName": "Signer", "clientSecret": secret,
		"scopes": []string{"modules:manage"}, "jwks": json.RawMessage(clientkey.Set(t, k)), "tokenEndpointAuthMethods": []string{"private_key_jwt"}})
	created := call(t, "POST", modules, manager, string(body))
	if created.status != 201 {
		t.Fatalf("create: %d %v", created.status, created.body)
	}
	id, clientID := created.body["id"].(string), created.body["clientId"].(string)
	var meta struct {
		TokenEndpoint string   `json:"token_endpoint"`
		Methods       []string `json:"token_endpoint_auth_methods_supported"`
	}
	if a := call(t, "GET", tg.base+"/.well-known/oauth-authorization-server", "", ""); a.status == 200 {
		b, _ := json.Marshal(a.body)
		_ = json.Unmarshal(b, &meta)
	}
	if !strings.Contains(strings.Join(meta.Methods, " "), "private_key_jwt") {
		t.Fatalf("metadata does not advertise private_key_jwt: %+v", meta)
	}
	ask := func(form url.Values) (int, string) {
		t.Helper()
		resp, err := http.PostForm(tg.base+"/oauth2/token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v struct {
			AccessToken string `json:"access_token"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&v)
		return resp.StatusCode, v.AccessToken
	}
	signed := func() url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {assertion.Type},
			"client_assertion": {k.Sign(t, clientkey.Claims(clientID, meta.TokenEndpoint, time.Now(), nil), nil)}}
	}
	first := signed()
	status, tok := ask(first)
	if status != 200 {
		t.Fatalf("a token with a signed assertion: %d", status)
	}
	if a := call(t, "GET", modules, tok, ""); a.status != 200 {
		t.Errorf("its token (modules:manage) lists the modules: %d %v", a.status, a.body)
	}
	if status, _ := ask(first); status != 401 {
		t.Errorf("the same assertion again: %d, want 401", status)
	}
	if status, _ := ask(url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}); status != 401 {
		t.Errorf("its secret, turned off: %d, want 401", status)
	}
	// the key removed (and the secret back on): assertions stop within the bound
	if a := call(t, "PATCH", modules+"/"+id, manager, `{"tokenEndpointAuthMethods":null,"jwks":null}`); a.status != 200 {
		t.Fatalf("remove the key: %d %v", a.status, a.body)
	}
	deadline := time.Now().Add(tg.bound + 2*time.Second)
	for {
		status, _ := ask(signed())
		if status == 401 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("an assertion %v after its key was removed: %d, want 401", tg.bound, status)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
