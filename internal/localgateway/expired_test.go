//go:build !deployed

package localgateway_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/modules-service/modules/internal/config"
	"github.com/modules-service/modules/internal/localgateway"
	"github.com/modules-service/modules/internal/samtemplate"
)

// TestExpiredTokenIs401OnEveryManagementRoute: RFC 6750 §3.1, an expired
// token is invalid_token, 401, not 403, so a portal knows to sign in again.
// The authorizer's refusal is API Gateway's own 401 {"message":"Unauthorized"},
// which an HTTP API cannot make carry WWW-Authenticate. A token of the same
// manager that has not expired passes every route, and one of another
// tenant is still 403.
func TestExpiredTokenIs401OnEveryManagementRoute(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "idp-1", Algorithm: "ES256", Use: "sig"}}})
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
	}))
	t.Cleanup(idp.Close)
	_, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "acme"},
		IdP: config.IdP{Issuer: idp.URL, JWKSURL: idp.URL + "/keys", Audience: "modules-portal", TenantClaim: "tenant_id", RoleClaim: "roles", ManagerRole: "tenant-manager"}})
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "idp-1"))
	if err != nil {
		t.Fatal(err)
	}
	idpToken := func(tenant string, exp time.Time) string {
		tok, err := jwt.Signed(signer).Claims(map[string]any{"iss": idp.URL, "aud": "modules-portal", "sub": "person-1",
			"tenant_id": tenant, "roles": []string{"tenant-manager"}, "iat": exp.Add(-time.Hour).Unix(), "exp": exp.Unix()}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	expired, fresh, other := idpToken("acme", time.Now().Add(-time.Minute)), idpToken("acme", time.Now().Add(time.Hour)), idpToken("globex", time.Now().Add(time.Hour))

	tpl, err := samtemplate.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	paths := strings.NewReplacer("{tenantId}", "acme", "{moduleId}", "01jz0000000000000000000000")
	routes := 0
	for _, f := range tpl.Functions {
		for _, rt := range f.Routes {
			if !rt.Authorized || !strings.HasPrefix(rt.Path, "/tenants/") {
				continue
			}
			routes++
			t.Run(rt.Key(), func(t *testing.T) {
				url, body := base+paths.Replace(rt.Path), ""
				if rt.Method == http.MethodPost || rt.Method == http.MethodPatch {
					body = "{}"
				}
				a := call(t, rt.Method, url, expired, body)
				if a.status != http.StatusUnauthorized || a.body["message"] != "Unauthorized" {
					t.Errorf("expired token: %d %v, want 401 {\"message\":\"Unauthorized\"}", a.status, a.body)
				}
				if a := call(t, rt.Method, url, other, body); a.status != http.StatusForbidden {
					t.Errorf("another tenant's token: %d %v, want 403", a.status, a.body)
				}
				if a := call(t, rt.Method, url, fresh, body); a.status == http.StatusUnauthorized || a.status == http.StatusForbidden {
					t.Errorf("a fresh token: %d %v, want the function's answer", a.status, a.body)
				}
			})
		}
	}
	if routes < 7 {
		t.Fatalf("%d management routes in template.yaml; want at least 7", routes)
	}
}
