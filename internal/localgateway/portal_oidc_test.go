package localgateway_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/modules-service/modules/internal/config"
	"github.com/modules-service/modules/internal/localgateway"
)

// providerStorage is the in-memory storage of zitadel/oidc's example
// OpenID provider, with the claims this service's authorizer reads from an
// identity provider's tokens (tenant and role) and JWT access tokens.
type providerStorage struct{ *storage.Storage }

func (providerStorage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return map[string]any{"tenant_id": "acme", "roles": []string{"tenant-manager"}}, nil
}

func (s providerStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return jwtClient{c}, nil
}

// jwtClient is a public client (PKCE, no secret) that gets JWT access
// tokens, which the authorizer verifies with the provider's keys. Dev mode
// lets its redirect URI be http on 127.0.0.1.
type jwtClient struct{ op.Client }

func (jwtClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (jwtClient) DevMode() bool                       { return true }

// TestPortalSignsInAtTheIdentityProvider: with IdpIssuer and PortalClientId
// set, the page signs in with the authorization code flow and PKCE at a
// real OpenID provider on loopback (zitadel/oidc's example provider, its
// login form included), checks state and nonce, keeps the tokens in
// memory, and manages modules with the provider's access token.
func TestPortalSignsInAtTheIdentityProvider(t *testing.T) {
	var provider http.Handler
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { provider.ServeHTTP(w, r) }))
	t.Cleanup(idp.Close)
	issuer := idp.URL
	_, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "acme"}, PortalClientID: "modules-portal",
		IdP: config.IdP{Issuer: issuer, JWKSURL: issuer + "/keys", Audience: "modules-portal", TenantClaim: "tenant_id", RoleClaim: "roles", ManagerRole: "tenant-manager"}})
	st := storage.NewStorageWithClients(storage.NewUserStore(issuer),
		map[string]*storage.Client{"modules-portal": storage.NativeClient("modules-portal", base+"/portal/")})
	provider = exampleop.SetupServer(issuer, providerStorage{st}, slog.New(slog.NewTextHandler(io.Discard, nil)), false)

	b := newBrowser(t)
	// a link to the wizard: the page comes back to it after the provider
	b.run("open the wizard's link", chromedp.Navigate(base+"/portal/#/new/details"))
	b.heading("Sign in")
	b.click("Sign in")
	b.run("the provider's login form", chromedp.WaitVisible(chromedp.CSS("#username")))
	b.run("log in", chromedp.SetValue(chromedp.CSS("#username"), "test-user@127.0.0.1"),
		chromedp.SetValue(chromedp.CSS("#password"), "verysecure"), chromedp.Click(button("Login")))
	b.heading("Add Module: Details")
	if who := evalJS[string](b, `document.getElementById("who").textContent`); !strings.Contains(who, "acme") || !strings.Contains(who, "id1") {
		t.Errorf("signed in as %q", who)
	}
	// the subject of the ID token (id1, the example user); the provider's token manages modules
	b.fill("f-name", "idp-made")
	b.fill("f-displayName", "Made with an IdP token")
	b.fill("f-clientSecret", "Idp-Secret-4711-abcdef")
	b.click("Next")
	b.heading("Add Module: User Login")
	if u := evalJS[string](b, `location.href`); strings.Contains(u, "code=") || strings.Contains(u, "state=") {
		t.Errorf("the code stayed in the URL: %s", u)
	}
	// storage holds the wizard's draft (no secret) and nothing of the sign-in
	if s := evalJS[string](b, `JSON.stringify([Object.keys(sessionStorage), Object.entries(localStorage), document.cookie])`); s != `[["modules.draft"],[],""]` {
		t.Errorf("storage after sign-in: %s", s)
	}
	if d := evalJS[string](b, `sessionStorage.getItem("modules.draft")`); strings.Contains(d, "Idp-Secret") {
		t.Errorf("the draft holds the secret: %s", d)
	}
	// an answer that belongs to no sign-in of this page is refused
	b.run("forged answer", chromedp.Navigate(base+"/portal/?code=forged&state=forged"))
	b.run("refused", chromedp.WaitVisible(`//div[contains(@class,"problem") and contains(., "state")]`))
}
