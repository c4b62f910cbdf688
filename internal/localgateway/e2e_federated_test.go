package localgateway_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"golang.org/x/oauth2"

	"github.com/modules-service/modules/internal/assertion"
	"github.com/modules-service/modules/internal/localgateway"
)

// TestEndToEndFederatedCredential: a real OpenID provider on loopback
// (zitadel/oidc's example provider, as the portal's sign-in tests run it)
// stands for a workload platform. The operator lists it; a manager gives
// a key-less module a federated credential for one of its subjects; the
// provider's token, sent with client_id, gets the module's client a token
// that passes the authorizer. Another subject, a replay and, once the
// credential is removed, a fresh token are refused; a module cannot name
// an issuer the operator does not list.
func TestEndToEndFederatedCredential(t *testing.T) {
	var provider http.Handler
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { provider.ServeHTTP(w, r) }))
	t.Cleanup(idp.Close)
	issuer := idp.URL
	st := storage.NewStorage(storage.NewUserStore(issuer))
	provider = exampleop.SetupServer(issuer, st, slog.New(slog.NewTextHandler(io.Discard, nil)), false)
	const bound = 300 * time.Millisecond
	s, base := serve(t, localgateway.Options{ClientCacheTTL: bound, FederatedIssuers: []string{issuer}})
	m, err := s.CreateManager(context.Background(), localgateway.Bootstrap{Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	manager := token(t, base, m.ClientID, m.ClientSecret, oauth2.AuthStyleInHeader)
	modules := base + "/tenants/acme/modules"

	const subject, audience = "system:serviceaccount:billing:exporter", "modules"
	cred := map[string]string{"issuer": issuer, "subject": subject, "audience": audience}
	body, _ := json.Marshal(map[string]any{"name": "exporter", "displayName": "Exporter", "clientSecret": secret, "scopes": []string{"modules:manage"},
		"tokenEndpointAuthMethods": []string{"private_key_jwt"}, "federatedCredentials": []any{cred}})
	created := call(t, "POST", modules, manager, string(body))
	if created.status != 201 {
		t.Fatalf("create: %d %v", created.status, created.body)
	}
	id, clientID := created.body["id"].(string), created.body["clientId"].(string)

	// the provider's own signing key, as it signs its tokens
	key, err := st.SigningKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.SignatureAlgorithm(), Key: key.Key()}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", key.ID()))
	if err != nil {
		t.Fatal(err)
	}
	platformToken := func(sub string) string {
		now := time.Now()
		raw, err := jwt.Signed(signer).Claims(map[string]any{"iss": issuer, "sub": sub, "aud": []string{audience},
			"iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(), "jti": "t-" + now.Format(time.RFC3339Nano)}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	ask := func(raw string) (int, string) {
		t.Helper()
		resp, err := http.PostForm(base+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID},
			"client_assertion_type": {assertion.Type}, "client_assertion": {raw}})
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
	first := platformToken(subject)
	status, tok := ask(first)
	if status != 200 {
		t.Fatalf("a token with the platform's token: %d", status)
	}
	if a := call(t, "GET", modules, tok, ""); a.status != 200 {
		t.Errorf("its token (modules:manage) lists the modules: %d %v", a.status, a.body)
	}
	if status, _ := ask(first); status != 401 {
		t.Errorf("the same platform token again: %d, want 401", status)
	}
	if status, _ := ask(platformToken("system:serviceaccount:billing:other")); status != 401 {
		t.Errorf("another subject's token: %d, want 401", status)
	}
	bad, _ := json.Marshal(map[string]any{"federatedCredentials": []any{map[string]string{"issuer": "https://token.actions.githubusercontent.com", "subject": subject, "audience": audience}}})
	if a := call(t, "PATCH", modules+"/"+id, manager, string(bad)); a.status != 400 {
		t.Errorf("an issuer the operator does not list: %d %v, want 400", a.status, a.body)
	}
	// the credential removed: the platform's tokens stop within the bound
	if a := call(t, "PATCH", modules+"/"+id, manager, `{"federatedCredentials":null,"tokenEndpointAuthMethods":null}`); a.status != 200 {
		t.Fatalf("remove the credential: %d %v", a.status, a.body)
	}
	deadline := time.Now().Add(bound + 2*time.Second)
	for {
		status, _ := ask(platformToken(subject))
		if status == 401 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a platform token %v after the credential was removed: %d, want 401", bound, status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
