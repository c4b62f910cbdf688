package localgateway_test

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"slices"
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
	b.click("Save changes")
	b.message("Changes saved.")

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
	if methods, _ := json.Marshal(m.body["tokenEndpointAuthMethods"]); string(methods) != `["private_key_jwt"]` {
		t.Errorf("methods after the save: %s", methods)
	}
	// the PEM key, converted by the page, signs for the client
	pemSigner := clientkey.Key{KID: "server-pem", Alg: jose.RS256, Priv: rsaKey.Priv}
	form := url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {assertion.Type},
		"client_assertion": {pemSigner.Sign(t, clientkey.Claims(clientID, base+"/oauth2/token", time.Now(), nil), nil)}}
	resp, err := http.PostForm(base+"/oauth2/token", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("a token with the PEM key added in the page: %d", resp.StatusCode)
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
