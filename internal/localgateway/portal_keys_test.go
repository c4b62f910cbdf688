package localgateway_test

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/modules-service/modules/internal/assertion"
	"github.com/modules-service/modules/internal/localgateway"
	"github.com/modules-service/modules/internal/testing/clientkey"
)

// TestPortalModuleKeys: on a module's page a manager adds public keys
// (a pasted JWK, and a PEM key the page converts), refuses a pasted
// private key and forgets it, turns the secret off for private_key_jwt,
// and removes a key; the API and the token endpoint follow. Removing the
// last key of a key-only module is refused on its field.
func TestPortalModuleKeys(t *testing.T) {
	s, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "acme"}})
	manager := token(t, base, s.Manager.ClientID, s.Manager.ClientSecret, oauth2.AuthStyleInHeader)
	modules := base + "/tenants/acme/modules"
	made := call(t, "POST", modules, manager, `{"name":"signer","displayName":"Signer","clientSecret":"Signer-Secret-4711-abc"}`)
	if made.status != 201 {
		t.Fatalf("create: %d %v", made.status, made.body)
	}
	id, clientID := made.body["id"].(string), made.body["clientId"].(string)
	ec := clientkey.New(t, "laptop", jose.ES256)
	rsaKey := clientkey.New(t, "", jose.RS256)
	der, err := x509.MarshalPKIXPublicKey(rsaKey.Priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))

	b := newBrowser(t)
	b.run("open the sign-in link", chromedp.Navigate(s.SignInURL(base)))
	b.heading("Modules")
	b.run("open signer", chromedp.Click(`//a[normalize-space()="Signer"]`))
	b.heading("Signer")

	pub, _ := json.Marshal(ec.Public(t))
	b.fill("f-new-key", string(pub))
	b.click("Add key")
	b.fill("f-new-key", pemKey)
	b.fill("f-new-kid", "server-pem")
	b.click("Add key")
	b.run("two keys listed", chromedp.WaitVisible(`//ul[@class="keys"]/li[2]/code[.="server-pem"]`))
	if v, kid := b.value("f-new-key"), b.value("f-new-kid"); v != "" || kid != "" {
		t.Errorf("after adding, the paste box holds %.20q… and the kid %q: want both empty", v, kid)
	}
	private, _ := json.Marshal(clientkey.JWK(t, ec.Priv, "oops"))
	b.fill("f-new-key", string(private))
	b.click("Add key")
	b.run("the private key refused", chromedp.WaitVisible(`//p[@id="f-new-key-error" and contains(., "private")]`))
	if v := b.value("f-new-key"); v != "" {
		t.Errorf("the pasted private key stays on the page: %.20q…", v)
	}
	b.tick("f-method-private_key_jwt")
	b.tick("f-method-client_secret_basic")
	b.tick("f-method-client_secret_post")
	b.tick("f-dpop")
	b.run("a new key is not saved yet", chromedp.WaitVisible(`//ul[@class="keys"]/li[1]/span[.="not saved yet"]`))
	b.click("Save changes")
	b.message("Changes saved.")
	// when each key was added, from the History
	b.run("the keys' dates", chromedp.WaitVisible(`//ul[@class="keys"]/li[2]/span[starts-with(., "added ")]`))
	if n := evalJS[int](b, `[...document.querySelectorAll("ul.keys > li > span")].filter((s) => s.textContent.startsWith("added ")).length`); n != 2 {
		t.Errorf("%d keys show when they were added, want 2", n)
	}

	m := call(t, "GET", modules+"/"+id, manager, "")
	kids := func(m answer) []string {
		var out []string
		set, _ := m.body["jwks"].(map[string]any)
		keys, _ := set["keys"].([]any)
		for _, k := range keys {
			out = append(out, k.(map[string]any)["kid"].(string))
		}
		return out
	}
	if got := kids(m); !slices.Equal(got, []string{"laptop", "server-pem"}) {
		t.Errorf("keys after the save: %v", got)
	}
	if methods, _ := json.Marshal(m.body["tokenEndpointAuthMethods"]); string(methods) != `["private_key_jwt"]` || m.body["dpopBoundAccessTokens"] != true {
		t.Errorf("methods after the save: %s, DPoP-bound %v", methods, m.body["dpopBoundAccessTokens"])
	}
	// the PEM key, converted by the page, signs for the client (which must
	// now send a DPoP proof too)
	pemSigner := clientkey.Key{KID: "server-pem", Alg: jose.RS256, Priv: rsaKey.Priv}
	form := url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {assertion.Type},
		"client_assertion": {pemSigner.Sign(t, clientkey.Claims(clientID, base+"/oauth2/token", time.Now(), nil), nil)}}
	holder := clientkey.New(t, "", jose.ES256) // the DPoP key, the client's own
	req, _ := http.NewRequest("POST", base+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("DPoP", holder.Proof(t, clientkey.ProofClaims("POST", base+"/oauth2/token", "", time.Now(), nil), nil))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		TokenType string `json:"token_type"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != 200 || tok.TokenType != "DPoP" {
		t.Errorf("a DPoP-bound token with the PEM key added in the page: %d %q", resp.StatusCode, tok.TokenType)
	}

	b.run("remove server-pem", chromedp.Click(`//button[@aria-label="Remove key server-pem"]`))
	b.click("Save changes")
	b.message("Changes saved.")
	if got := kids(call(t, "GET", modules+"/"+id, manager, "")); !slices.Equal(got, []string{"laptop"}) {
		t.Errorf("keys after removing one: %v", got)
	}
	b.run("remove laptop", chromedp.Click(`//button[@aria-label="Remove key laptop"]`))
	b.click("Save changes")
	b.run("the last key's refusal on its field", chromedp.WaitVisible(`//div[@data-field="jwks"]/p[@class="error" and contains(., "at least one public key")]`))
	if got := kids(call(t, "GET", modules+"/"+id, manager, "")); !slices.Equal(got, []string{"laptop"}) {
		t.Errorf("keys after a refused save: %v", got)
	}
}

// TestPortalFederatedCredentials: on a module's page a manager adds a
// federated credential for an issuer the operator lists; one for another
// issuer is refused on its field, named by its entry; removing it saves.
func TestPortalFederatedCredentials(t *testing.T) {
	const actions = "https://token.actions.githubusercontent.com"
	s, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "acme"}, FederatedIssuers: []string{actions}})
	manager := token(t, base, s.Manager.ClientID, s.Manager.ClientSecret, oauth2.AuthStyleInHeader)
	modules := base + "/tenants/acme/modules"
	made := call(t, "POST", modules, manager, `{"name":"deployer","displayName":"Deployer","clientSecret":"Deployer-Secret-4711-abc"}`)
	if made.status != 201 {
		t.Fatalf("create: %d %v", made.status, made.body)
	}
	id := made.body["id"].(string)
	b := newBrowser(t)
	b.run("open the sign-in link", chromedp.Navigate(s.SignInURL(base)))
	b.heading("Modules")
	b.run("open deployer", chromedp.Click(`//a[normalize-space()="Deployer"]`))
	b.heading("Deployer")
	add := func(issuer, subject string) {
		b.fill("f-fed-issuer", issuer)
		b.fill("f-fed-subject", subject)
		b.fill("f-fed-audience", "modules")
		b.click("Add credential")
	}
	add(actions, "repo:acme/billing:ref:refs/heads/main")
	b.tick("f-method-private_key_jwt")
	b.click("Save changes")
	b.message("Changes saved.")
	creds := func() []any {
		got, _ := call(t, "GET", modules+"/"+id, manager, "").body["federatedCredentials"].([]any)
		return got
	}
	if got := creds(); len(got) != 1 || got[0].(map[string]any)["subject"] != "repo:acme/billing:ref:refs/heads/main" {
		t.Errorf("credentials after the save: %v", got)
	}
	add("https://issuer.example.net", "anyone")
	b.click("Save changes")
	b.run("the unlisted issuer refused on its field", chromedp.WaitVisible(`//div[@data-field="federatedCredentials"]/p[@class="error" and contains(., "Federated credential 2 (issuer)")]`))
	if got := creds(); len(got) != 1 {
		t.Errorf("credentials after a refused save: %v", got)
	}
	b.run("remove it", chromedp.Click(`//button[@aria-label="Remove federated credential 2"]`))
	b.click("Save changes")
	b.message("Changes saved.")
}
