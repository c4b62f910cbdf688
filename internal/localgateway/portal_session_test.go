package localgateway_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/modules-service/modules/internal/localgateway"
)

// lostNotice is the XPath of the notice the page shows when the API
// refuses its token.
const lostNotice = `//section[@id="session"]//h2[normalize-space()="Your sign-in has expired or lost its rights. Sign in again"]`

// expireNextCall makes the page's next API call answer as API Gateway's JWT
// authorizer answers an expired token: 401 {"message":"Unauthorized"}. The
// local gateway's session tokens live an hour, longer than a test.
func (b *browser) expireNextCall() {
	b.t.Helper()
	b.answerNext(`String(url).startsWith("/tenants/")`, 401, "application/json", `{"message":"Unauthorized"}`)
}

// answerNext makes the page's next fetch whose url the JavaScript
// condition matches answer status with body, once, without reaching the
// API: a stand-in for answers a test cannot provoke.
func (b *browser) answerNext(condition string, status int, contentType, body string) {
	b.t.Helper()
	evalJS[bool](b, fmt.Sprintf(`(() => {
		const real = window.fetch;
		window.fetch = (url, opts) => {
			if (!(%s)) return real(url, opts);
			window.fetch = real;
			return Promise.resolve(new Response(%s, {status: %d, headers: {"Content-Type": %q}}));
		};
		return true;
	})()`, condition, "`"+body+"`", status, contentType))
}

// TestPortalSessionExpired: an expired sign-in in the middle of the wizard
// asks to sign in again right there; signing in again goes on where the
// manager was, with the entries. Sign out then ends the session, across a
// reload.
func TestPortalSessionExpired(t *testing.T) {
	s, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "acme"}})
	b := newBrowser(t)
	b.run("open the sign-in link", chromedp.Navigate(s.SignInURL(base)))
	b.heading("Modules")
	b.click("Add Module")
	b.fill("f-name", "expiring")
	b.fill("f-displayName", "Expiring")
	b.fill("f-clientSecret", "Expiring-Secret-4711-abc")
	b.expireNextCall()
	b.click("Next")
	b.run("asked to sign in again", chromedp.WaitVisible(lostNotice))
	b.heading("Add Module: Details")
	if focused := evalJS[string](b, `document.activeElement.closest("#session") ? "notice" : document.activeElement.outerHTML`); focused != "notice" {
		t.Errorf("focus is on %s, want the sign-in of the notice", focused)
	}
	b.run("sign in again", chromedp.Click(`//section[@id="session"]//button[normalize-space()="Sign in"]`))
	b.run("the notice goes", chromedp.WaitNotVisible(chromedp.CSS("#session")))
	b.heading("Add Module: Details")
	if name := b.value("f-name"); name != "expiring" {
		t.Errorf("after signing in again the name is %q, want the entry kept", name)
	}
	b.click("Next")
	b.heading("Add Module: User Login")

	// Sign out: the page forgets the token, and a reload stays signed out
	b.click("Sign out")
	b.heading("Sign in")
	b.run("reload", chromedp.Reload())
	b.heading("Sign in")
	if who := evalJS[string](b, `document.getElementById("who").textContent`); who != "" {
		t.Errorf("signed out, yet the page names %q", who)
	}
}

// TestPortalSessionRevoked: a manager module that loses modules:manage
// while its token is in the page: the next call is refused, the page asks
// to sign in again right there (a manager's credentials, as deployed
// without an identity provider), and goes on where it was with another
// manager.
func TestPortalSessionRevoked(t *testing.T) {
	s, base := serve(t, localgateway.Options{NoPortalSession: true, Bootstrap: localgateway.Bootstrap{Tenant: "acme"}})
	manager := token(t, base, s.Manager.ClientID, s.Manager.ClientSecret, oauth2.AuthStyleInHeader)
	modules := base + "/tenants/acme/modules"
	const opsSecret = "Ops-Secret-4711-abcdef"
	ops := call(t, "POST", modules, manager, `{"name":"ops","displayName":"Ops","clientSecret":"`+opsSecret+`","scopes":["modules:manage"]}`)
	if ops.status != 201 {
		t.Fatalf("create ops: %d %v", ops.status, ops.body)
	}
	b := newBrowser(t)
	b.run("open the page", chromedp.Navigate(base+"/portal/"))
	b.heading("Sign in")
	b.fill("f-clientId", ops.body["clientId"].(string))
	b.fill("f-clientSecret", opsSecret)
	b.click("Sign in")
	b.heading("Modules")
	b.click("Add Module")
	b.fill("f-name", "revoked")
	b.fill("f-displayName", "Revoked")
	b.fill("f-clientSecret", "Revoked-Secret-4711-abc")
	b.click("Next")
	b.heading("Add Module: User Login")

	if a := call(t, "PATCH", modules+"/"+ops.body["id"].(string), manager, `{"scopes":[]}`); a.status != 200 {
		t.Fatalf("take modules:manage from ops: %d %v", a.status, a.body)
	}
	b.click("Next")
	b.run("asked to sign in again", chromedp.WaitVisible(lostNotice))
	b.heading("Add Module: User Login")
	b.fill("f-clientId", s.Manager.ClientID)
	b.fill("f-clientSecret", s.Manager.ClientSecret)
	b.run("sign in again", chromedp.Click(`//section[@id="session"]//button[normalize-space()="Sign in"]`))
	b.heading("Add Module: User Login")
	b.click("Next")
	b.heading("Add Module: Summary")
	summary := get(b, "summary", chromedp.Text(chromedp.CSS("#step")))
	if !strings.Contains(summary, "revoked") || !strings.Contains(summary, "Revoked") {
		t.Errorf("summary after signing in again %q: want the entries", summary)
	}
	if who := evalJS[string](b, `document.getElementById("who").textContent`); !strings.Contains(who, s.Manager.ClientID) {
		t.Errorf("signed in again as %q", who)
	}
	if got := evalJS[string](b, `document.documentElement.outerHTML + JSON.stringify([Object.entries(sessionStorage), Object.entries(localStorage), document.cookie, location.href])`); strings.Contains(got, s.Manager.ClientSecret) || strings.Contains(got, opsSecret) {
		t.Error("a manager's secret is kept on the page")
	}
}
