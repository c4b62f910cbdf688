package localgateway_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/modules-service/modules/internal/localgateway"
)

// TestPortalWizard drives the Modules page in headless Chromium against
// the local gateway, as a tenant manager would.
func TestPortalWizard(t *testing.T) {
	s, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "acme"}})
	manager := token(t, base, s.Manager.ClientID, s.Manager.ClientSecret, oauth2.AuthStyleInHeader)
	modules := base + "/tenants/acme/modules"
	const moduleSecret = "Wizard-Secret-4711-abc"
	b := newBrowser(t)
	secretVisible := func(where string) { t.Helper(); b.nowhere(where, moduleSecret) }

	// the link make run prints signs the page in, once; it leaves the URL
	link := s.SignInURL(base)
	b.run("open the sign-in link", chromedp.Navigate(link))
	b.heading("Modules")
	value := link[strings.Index(link, "#signin=")+len("#signin="):]
	if got := evalJS[string](b, `location.href + JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)]) + document.cookie`); strings.Contains(got, value) {
		t.Errorf("the sign-in value stays on the page: %s", got)
	}
	b.atBothWidths("portal-list", "")

	// Next with nothing entered: every field at fault at once, by its label
	b.click("Add Module")
	b.heading("Add Module: Details")
	if h := b.hash(); h != "#/new/details" {
		t.Errorf("the wizard's URL: %q", h)
	}
	if b.leavingAsks() {
		t.Error("leaving Details asks first; nothing is at stake yet")
	}
	b.click("Next")
	for _, id := range []string{"f-name", "f-displayName", "f-clientSecret"} {
		b.fieldError(id)
	}
	alert := get(b, "the alert", chromedp.Poll[string](`document.getElementById("alert").textContent`))
	if !strings.Contains(alert, "Module Name") || !strings.Contains(alert, "Client Secret") || strings.Contains(alert, "displayName") || strings.Contains(alert, "clientSecret") {
		t.Errorf("the alert %q: want the fields' labels, not the API's member names", alert)
	}

	// the draft, but never the secret, survives a reload
	b.fill("f-name", "billing")
	b.fill("f-displayName", "Billing")
	b.fill("f-clientSecret", moduleSecret)
	b.fill("f-scopes", "reports:read")
	b.atBothWidths("portal-details", "")
	if evalJS[bool](b, `document.getElementById("f-scopes-manage").checked`) {
		t.Error("modules:manage is chosen by default")
	}
	b.click("Next")
	b.heading("Add Module: User Login")
	if h := b.hash(); h != "#/new/user-login" {
		t.Errorf("User Login's URL: %q", h)
	}
	secretVisible("on User Login")
	b.run("reload on User Login", chromedp.Reload())
	b.heading("Add Module: Details")
	if name, display, sec := b.value("f-name"), b.value("f-displayName"), b.value("f-clientSecret"); name != "billing" || display != "Billing" || sec != "" {
		t.Errorf("after a reload: name %q, display name %q, secret kept %v", name, display, sec != "")
	}
	b.run("asked for the secret again", chromedp.WaitVisible(`//p[contains(., "Enter the Client Secret again")]`))
	b.fill("f-clientSecret", moduleSecret)
	b.click("Next")
	b.heading("Add Module: User Login")
	if evalJS[bool](b, `document.querySelector('[role=switch]').checked`) {
		t.Error("User Login is on by default")
	}
	b.atBothWidths("portal-user-login", "")
	if hint := get(b, "User Login explained", chromedp.Text(chromedp.CSS(`[data-field="userLogin.enabled"] .hint`))); !strings.Contains(hint, "lets people sign in") {
		t.Errorf("User Login's explanation: %q", hint)
	}

	// one message per redirect URL line, naming the line
	b.run("switch on", chromedp.Click(chromedp.CSS(`[role=switch]`)))
	b.fill("f-userLogin-redirectUris", "https://app.example.com/callback\nnot a url\n\nftp://app.example.com/x")
	b.click("Next")
	msg := b.fieldError("f-userLogin-redirectUris")
	if !strings.Contains(msg, "Redirect URLs, line 2 (not a url)") || !strings.Contains(msg, "Redirect URLs, line 4 (ftp://app.example.com/x)") || strings.Contains(msg, "line 1") {
		t.Errorf("redirect URL faults: %q", msg)
	}
	b.run("switch off", chromedp.Click(chromedp.CSS(`[role=switch]`)))
	b.fill("f-userLogin-redirectUris", "")
	b.click("Next")
	b.heading("Add Module: Summary")
	summary := get(b, "summary", chromedp.Text(chromedp.CSS("#step")))
	if !strings.Contains(summary, "billing") || !strings.Contains(summary, "Billing") || !strings.Contains(summary, "reports:read") || strings.Contains(summary, moduleSecret) {
		t.Errorf("summary %q: want the entries and no secret", summary)
	}
	if !b.leavingAsks() {
		t.Error("leaving Summary does not ask first")
	}
	b.atBothWidths("portal-summary", "")
	// leaving the wizard inside the page asks too; refused, it stays
	evalJS[bool](b, `(() => { window.realConfirm = window.confirm; window.confirm = (m) => { window.asked = m; return false; }; location.hash = "#/modules"; return true; })()`)
	if asked := get(b, "asked", chromedp.Poll[string](`window.asked`)); !strings.Contains(asked, "client secret") {
		t.Errorf("leaving the wizard asked %q", asked)
	}
	get(b, "stays on Summary", chromedp.Poll[bool](`location.hash === "#/new/summary"`))
	b.heading("Add Module: Summary")
	evalJS[bool](b, `(() => { window.confirm = window.realConfirm; return true; })()`)
	// Back, change a field, forward again
	b.click("Back")
	b.heading("Add Module: User Login")
	b.click("Back")
	b.heading("Add Module: Details")
	b.fill("f-displayName", "Billing service")
	b.click("Next")
	b.heading("Add Module: User Login")
	b.click("Next")
	b.heading("Add Module: Summary")
	summary = get(b, "summary", chromedp.Text(chromedp.CSS("#step")))
	if !strings.Contains(summary, "Billing service") {
		t.Errorf("summary after Back %q: want the changed display name", summary)
	}
	b.click("Save")
	b.heading("Add Module: Client Credentials")
	clientID := b.value("f-clientId")
	shownSecret := b.value("f-clientSecret")
	warning := get(b, "warning", chromedp.Text(chromedp.CSS(".warning")))
	if clientID == "" || shownSecret != moduleSecret || warning != "The client secret will never be visible again." {
		t.Errorf("credentials: client ID %q, secret shown %v, warning %q", clientID, shownSecret == moduleSecret, warning)
	}
	if endpoint := b.value("f-tokenEndpoint"); endpoint != base+"/oauth2/token" {
		t.Errorf("token endpoint %q, want %s/oauth2/token", endpoint, base)
	}
	curl := b.value("f-curl")
	if !strings.Contains(curl, clientID) || !strings.Contains(curl, `"$CLIENT_SECRET"`) || !strings.Contains(curl, "-K -") || strings.Contains(curl, moduleSecret) {
		t.Errorf("curl example %q: want the client ID, the secret from $CLIENT_SECRET on stdin, never the secret", curl)
	}
	if !b.leavingAsks() {
		t.Error("leaving Client Credentials does not ask first")
	}
	b.atBothWidths("portal-credentials", "")
	b.click("Copy Client ID")
	b.message("Client ID copied.")
	if !evalJS[bool](b, `[...document.querySelectorAll("button")].find((e) => e.textContent === "Finish").disabled`) {
		t.Error("Finish is enabled before the secret is stored")
	}
	b.tick("stored")
	b.click("Finish")
	b.heading("Modules")
	b.message("Module Billing service is ready.")
	if b.leavingAsks() {
		t.Error("leaving the list asks first")
	}
	b.run("the list shows it", chromedp.WaitVisible(`//a[normalize-space()="Billing service"]`))
	secretVisible("after Finish")
	token(t, base, clientID, moduleSecret, oauth2.AuthStyleInHeader) // the Client ID works with that secret
	id := findModule(t, modules, manager, clientID)
	if m := call(t, "GET", modules+"/"+id, manager, "").body; fmt.Sprint(m["scopes"]) != "[reports:read]" {
		t.Errorf("the created module's scopes: %v", m["scopes"])
	}
	b.run("open billing", chromedp.Click(`//a[normalize-space()="Billing service"]`))
	b.heading("Billing service")
	if scopes := b.value("f-scopes"); scopes != "reports:read" {
		t.Errorf("the module's page shows scopes %q", scopes)
	}
	b.run("its history", chromedp.WaitVisible(`//ol[@class="trail"]/li[contains(., "Created")]`))
	b.atBothWidths("portal-module", "")
	b.click("Back to the list")
	b.heading("Modules")

	// a name taken in another case, and a weak secret: both reported at Next; nothing is created
	b.click("Add Module")
	b.fill("f-name", "BILLING")
	b.fill("f-displayName", "Another")
	b.fill("f-clientSecret", "short")
	b.click("Next")
	if msg := b.fieldError("f-name"); !strings.Contains(msg, "looks the same") {
		t.Errorf("taken name: %q", msg)
	}
	if msg := b.fieldError("f-clientSecret"); !strings.Contains(msg, "Client Secret") {
		t.Errorf("weak secret beside a taken name: %q", msg)
	}
	b.fill("f-clientSecret", "Another-Secret-4711-xyz")
	b.heading("Add Module: Details")
	if items := call(t, "GET", modules, manager, "").body["items"].([]any); len(items) != 2 {
		t.Errorf("%d modules after a refused Next, want 2 (manager, billing)", len(items))
	}
	// User Login on without a URL is refused on the field
	b.fill("f-name", "reports")
	b.click("Next")
	b.heading("Add Module: User Login")
	b.run("switch on", chromedp.Click(chromedp.CSS(`[role=switch]`)))
	b.click("Next")
	if msg := b.fieldError("f-userLogin-redirectUris"); !strings.Contains(msg, "Redirect URLs") {
		t.Errorf("User Login without URL: %q", msg)
	}
	b.click("Back")
	b.click("Cancel")
	b.heading("Modules")

}

// TestPortalAccessibility: axe-core finds no serious or critical
// violation on the list, every tab of the wizard, a module's page and the
// notice that asks to sign in again, at a desktop's and a phone's width.
func TestPortalAccessibility(t *testing.T) {
	source := axe(t)
	s, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "acme"}})
	b := newBrowser(t)
	b.run("open the sign-in link", chromedp.Navigate(s.SignInURL(base)))
	b.heading("Modules")
	b.atBothWidths("the list", source)
	b.click("Add Module")
	b.heading("Add Module: Details")
	b.atBothWidths("Details", source)
	b.fill("f-name", "billing")
	b.fill("f-displayName", "Billing")
	b.fill("f-clientSecret", "Axe-Secret-4711-abcdef")
	b.click("Next")
	b.heading("Add Module: User Login")
	b.atBothWidths("User Login", source)
	b.click("Next")
	b.heading("Add Module: Summary")
	b.atBothWidths("Summary", source)
	b.click("Save")
	b.heading("Add Module: Client Credentials")
	b.atBothWidths("Client Credentials", source)
	b.tick("stored")
	b.click("Finish")
	b.run("open billing", chromedp.Click(`//a[normalize-space()="Billing"]`))
	b.heading("Billing")
	b.run("its history", chromedp.WaitVisible(`//ol[@class="trail"]/li`))
	b.atBothWidths("the module's page", source)
	b.expireNextCall()
	b.click("Save changes")
	b.run("asked to sign in again", chromedp.WaitVisible(lostNotice))
	b.atBothWidths("the notice to sign in again", source)
	b.signInAgain("Billing")
	// errors shown on fields stay accessible too
	b.fill("f-name", "x")
	b.click("Save changes")
	b.fieldError("f-name")
	b.atBothWidths("the module's page with an error", source)
	// and the check can fail: an input without a label is reported
	get(b, "add an unlabelled input", chromedp.Evaluate[any](`document.body.append(Object.assign(document.createElement("input"), {id: "unlabelled"})); 1`))
	if found := b.violations("an unlabelled input", source); len(found) == 0 || !strings.Contains(strings.Join(found, " "), "#unlabelled") {
		t.Errorf("axe found %v, want the unlabelled input", found)
	}
}

// TestPortalSignsInWithClientCredentials: without a session (as deployed
// without an identity provider) the page asks for a manager module's
// Client ID and Client Secret, refuses wrong ones on the page, and signs in
// with right ones; the secret is not kept anywhere.
func TestPortalSignsInWithClientCredentials(t *testing.T) {
	s, base := serve(t, localgateway.Options{NoPortalSession: true, Bootstrap: localgateway.Bootstrap{Tenant: "acme"}})
	b := newBrowser(t)
	b.run("open the page", chromedp.Navigate(base+"/portal/"))
	b.heading("Sign in")
	b.atBothWidths("the sign-in form", "")
	b.fill("f-clientId", s.Manager.ClientID)
	b.fill("f-clientSecret", "not-the-managers-secret")
	b.click("Sign in")
	b.run("refused", chromedp.WaitVisible(`//div[contains(@class,"problem") and contains(., "Client Secret")]`))
	b.fill("f-clientSecret", s.Manager.ClientSecret)
	b.click("Sign in")
	b.heading("Modules")
	if who := evalJS[string](b, `document.getElementById("who").textContent`); !strings.Contains(who, s.Manager.ClientID) {
		t.Errorf("signed in as %q", who)
	}
	if got := evalJS[string](b, `document.documentElement.outerHTML + JSON.stringify([Object.entries(sessionStorage), Object.entries(localStorage), document.cookie, location.href])`); strings.Contains(got, s.Manager.ClientSecret) {
		t.Error("the manager's secret is kept on the page")
	}
}

// TestPortalSignInLinkOnce: the page signs in only with the link make run
// printed, and only once; a browser without it (or with it used) gets the
// sign-in form and is told why.
func TestPortalSignInLinkOnce(t *testing.T) {
	s, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "acme"}})
	b := newBrowser(t)
	b.run("open the page without the link", chromedp.Navigate(base+"/portal/"))
	b.heading("Sign in")
	b.run("open the sign-in link", chromedp.Navigate(s.SignInURL(base)))
	b.heading("Modules")
	other := newBrowser(t)
	other.run("open the used link", chromedp.Navigate(s.SignInURL(base)))
	other.heading("Sign in")
	other.run("told why", chromedp.WaitVisible(`//div[contains(@class,"problem") and contains(., "sign-in link")]`))
}

// TestPortalModulePage: the list's search and sort and a module's page
// have their own URLs (reload, Back, forward); the page shows the module's
// dates and its history, paged; saves, a 412, a delete.
func TestPortalModulePage(t *testing.T) {
	s, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "acme"}})
	manager := token(t, base, s.Manager.ClientID, s.Manager.ClientSecret, oauth2.AuthStyleInHeader)
	modules := base + "/tenants/acme/modules"
	const moduleSecret = "Module-Secret-4711-abc"
	made := call(t, "POST", modules, manager, `{"name":"billing","displayName":"Billing service","clientSecret":"`+moduleSecret+`"}`)
	if made.status != 201 {
		t.Fatalf("create: %d %v", made.status, made.body)
	}
	id, clientID := made.body["id"].(string), made.body["clientId"].(string)
	token(t, base, clientID, moduleSecret, oauth2.AuthStyleInHeader) // it was used
	b := newBrowser(t)
	secretVisible := func(where string) { t.Helper(); b.nowhere(where, moduleSecret) }
	b.run("open the sign-in link", chromedp.Navigate(s.SignInURL(base)))
	b.heading("Modules")

	// the list's search and sort are in its URL, which a reload keeps
	b.fill("search", "bill")
	get(b, "sort by name", chromedp.Evaluate[bool](`(() => { const s = document.getElementById("sort"); s.value = "name"; return s.dispatchEvent(new Event("change")); })()`))
	get(b, "the URL follows", chromedp.Poll[bool](`location.hash === "#/modules?q=bill&sort=name"`))
	b.run("reload the list", chromedp.Reload())
	b.heading("Modules")
	if q, sort := b.value("search"), b.value("sort"); q != "bill" || sort != "name" {
		t.Errorf("after a reload: search %q, sort %q", q, sort)
	}
	b.run("only billing", chromedp.WaitVisible(`//a[normalize-space()="Billing service"]`))
	if rows := evalJS[int](b, `document.querySelectorAll("tbody tr").length`); rows != 1 {
		t.Errorf("%d rows for q=bill, want 1", rows)
	}

	// a module's page has its own URL: reload and Back work; the secret is nowhere
	b.run("open billing", chromedp.Click(`//a[normalize-space()="Billing service"]`))
	b.heading("Billing service")
	if h := b.hash(); h != "#/modules/"+id {
		t.Errorf("the module's URL: %q", h)
	}
	b.run("reload the module", chromedp.Reload())
	b.heading("Billing service")
	secretVisible("on the module's page after a reload")
	facts := get(b, "facts", chromedp.Text(chromedp.CSS(".facts")))
	for _, want := range []string{"Created", "Updated", "Last used", clientID} {
		if !strings.Contains(facts, want) {
			t.Errorf("the module's facts %q lack %q", facts, want)
		}
	}
	if strings.Contains(facts, "Never") {
		t.Errorf("the module got a token, yet: %q", facts)
	}
	b.run("its history", chromedp.WaitVisible(`//ol[@class="trail"]/li[contains(., "Created")]`))
	b.atBothWidths("the module's page", "")
	b.run("back to the list", chromedp.NavigateBack())
	b.heading("Modules")
	b.run("forward to the module", chromedp.NavigateForward())
	b.heading("Billing service")

	// switch User Login on later, with a valid URL
	b.run("switch on", chromedp.Click(`//div[@data-field="userLogin.enabled"]//input`))
	b.fill("f-userLogin-redirectUris", "https://app.example.com/callback")
	b.fill("f-name", "billing-renamed")
	b.click("Save changes")
	b.message("Changes saved.")
	if m := call(t, "GET", modules+"/"+id, manager, "").body; m["name"] != "billing-renamed" || m["userLogin"].(map[string]any)["enabled"] != true {
		t.Errorf("after Save: %v", m)
	}
	b.run("the change in its history", chromedp.WaitVisible(`//ol[@class="trail"]/li[contains(., "Changed") and contains(., "name")]`))

	// changed behind the page's back: 412, and a Reload offered
	if a := call(t, "PATCH", modules+"/"+id, manager, `{"displayName":"Changed elsewhere"}`); a.status != 200 {
		t.Fatalf("patch behind the page: %d", a.status)
	}
	b.run("disable", chromedp.Click(`//div[@data-field="enabled"]//input`))
	b.click("Save changes")
	b.run("412 notice", chromedp.WaitVisible(`//div[@role="alert"]//button[normalize-space()="Reload"]`))
	b.click("Reload")
	b.heading("Changed elsewhere")
	b.run("disable", chromedp.Click(`//div[@data-field="enabled"]//input`))
	b.click("Save changes")
	b.message("Changes saved.")
	if m := call(t, "GET", modules+"/"+id, manager, "").body; m["enabled"] != false {
		t.Errorf("after disable: %v", m)
	}

	// the history is paged: ten events, then the older ones
	for i := range 10 {
		if a := call(t, "PATCH", modules+"/"+id, manager, fmt.Sprintf(`{"displayName":"Billing %d"}`, i)); a.status != 200 {
			t.Fatalf("patch %d: %d", i, a.status)
		}
	}
	b.run("reload the module", chromedp.Reload())
	b.heading("Billing 9")
	b.run("a page of history", chromedp.WaitVisible(button("Older events")))
	if n := evalJS[int](b, `document.querySelectorAll(".trail li").length`); n != 10 {
		t.Errorf("%d events on the first page, want 10", n)
	}
	b.click("Older events")
	get(b, "the older events", chromedp.Poll[bool](`document.querySelectorAll(".trail li").length > 10`))

	// delete, with confirmation
	b.click("Delete")
	b.click("Delete module")
	b.heading("Modules")
	b.message("Module Billing 9 deleted.")
	if h := b.hash(); h != "#/modules?q=bill&sort=name" {
		t.Errorf("after delete the list is at %q, want its search and sort kept", h)
	}
	if a := call(t, "GET", modules+"/"+id, manager, ""); a.status != 404 {
		t.Errorf("after delete: %d", a.status)
	}
}
