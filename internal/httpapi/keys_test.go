package httpapi_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/modules-service/modules/internal/testing/clientkey"
)

// TestModuleKeys: a manager gives a module public keys and the methods its
// client may use, at create and by patch; a private key, or private_key_jwt
// without a key, is a 400 that names what to fix; the trail keeps kids and
// thumbprints, never key material.
func TestModuleKeys(t *testing.T) {
	s := newStack(t)
	k := clientkey.New(t, "laptop", jose.ES256)
	body := func(jwks any, methods string) string {
		b, _ := json.Marshal(jwks)
		return `{"name":"signer","displayName":"Signer","clientSecret":"` + secret + `","jwks":` + string(b) + `,"tokenEndpointAuthMethods":` + methods + `}`
	}
	private := map[string]any{"keys": []any{clientkey.JWK(t, k.Priv, "laptop")}}
	r := s.do(t, req{method: "POST", path: "/tenants/acme/modules", token: "manager-acme", body: body(private, `["private_key_jwt"]`)})
	if r.status != 400 || !strings.Contains(string(r.body), `"name":"jwks.keys[0]"`) || !strings.Contains(string(r.body), `private member \"d\"`) {
		t.Errorf("a private key: %d %s, want 400 naming jwks.keys[0] and its private member", r.status, r.body)
	}
	if strings.Contains(string(r.body), private["keys"].([]any)[0].(map[string]any)["d"].(string)) {
		t.Error("the refusal repeats the private key")
	}

	withExtra := k.Public(t)
	withExtra["note"] = "kept nowhere"
	r = s.do(t, req{method: "POST", path: "/tenants/acme/modules", token: "manager-acme", body: body(map[string]any{"keys": []any{withExtra}}, `["private_key_jwt"]`)})
	if r.status != 201 {
		t.Fatalf("create with a public key: %d %s", r.status, r.body)
	}
	m := r.json(t)
	keys := m["jwks"].(map[string]any)["keys"].([]any)
	if len(keys) != 1 || keys[0].(map[string]any)["kid"] != "laptop" || keys[0].(map[string]any)["note"] != nil {
		t.Errorf("jwks %v: want the one key as parsed, without members beside it", m["jwks"])
	}
	if methods, _ := json.Marshal(m["tokenEndpointAuthMethods"]); string(methods) != `["private_key_jwt"]` {
		t.Errorf("tokenEndpointAuthMethods %s", methods)
	}

	path := "/tenants/acme/modules/" + m["id"].(string)
	r = s.do(t, req{method: "PATCH", path: path, token: "manager-acme", body: `{"jwks":null}`})
	if r.status != 400 || !strings.Contains(string(r.body), "must hold at least one public key while tokenEndpointAuthMethods includes private_key_jwt") {
		t.Errorf("removing the last key of a key-only module: %d %s, want 400", r.status, r.body)
	}
	rotated := clientkey.New(t, "server", jose.EdDSA)
	b, _ := json.Marshal(map[string]any{"keys": []any{k.Public(t), rotated.Public(t)}})
	r = s.do(t, req{method: "PATCH", path: path, token: "manager-acme", body: `{"jwks":` + string(b) + `}`})
	if r.status != 200 {
		t.Fatalf("adding a key: %d %s", r.status, r.body)
	}
	events := s.do(t, req{method: "GET", path: path + "/events", token: "manager-acme"}).json(t)["items"].([]any)
	change := events[0].(map[string]any)["changes"].(map[string]any)["jwks"].(map[string]any)
	summary := regexp.MustCompile(`^(laptop|server) [A-Za-z0-9_-]{43}$`) // kid and RFC 7638 thumbprint
	to, _ := change["to"].([]any)
	for _, v := range to {
		if s, _ := v.(string); !summary.MatchString(s) {
			t.Errorf("the event's jwks change lists %q: want a kid and a thumbprint", v)
		}
	}
	if len(to) != 2 {
		t.Errorf("the event's jwks change %v: want both keys", change)
	}
}
