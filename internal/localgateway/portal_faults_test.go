package localgateway_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/modules-service/modules/internal/localgateway"
)

// answerNextCheck makes the wizard's next dry run answer problem, a
// problem+json body with status 400, as a later API version with stable
// fault codes would.
func (b *browser) answerNextCheck(problem string) {
	b.t.Helper()
	b.answerNext(`String(url).endsWith("/modules/validation")`, 400, "application/problem+json", problem)
}

// TestPortalFaultCodes: a fault with a stable code gets the page's own
// sentence, by the field's label; one without a code the API's reason; a
// fault of a field on another step is named by that field's label.
func TestPortalFaultCodes(t *testing.T) {
	s, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "acme"}})
	b := newBrowser(t)
	b.run("open the sign-in link", chromedp.Navigate(s.SignInURL(base)))
	b.heading("Modules")
	b.click("Add Module")
	b.heading("Add Module: Details")
	b.answerNextCheck(`{"title": "Bad Request", "status": 400, "detail": "3 fields", "errors": [
		{"name": "name", "reason": "is required", "code": "required"},
		{"name": "displayName", "reason": "must be at most 100 characters", "code": "too_long"},
		{"name": "clientSecret", "reason": "a reason of a future rule", "code": "a_future_code"},
		{"name": "userLogin.redirectUris[0]", "reason": "must be https", "code": "invalid_url"}]}`)
	b.click("Next")
	for id, want := range map[string]string{
		"f-name":         "Enter the Module Name.",
		"f-displayName":  "The Module Display Name is too long: must be at most 100 characters",
		"f-clientSecret": "Client Secret: a reason of a future rule",
	} {
		if got := b.fieldError(id); got != want {
			t.Errorf("%s: %q, want %q", id, got, want)
		}
	}
	notice := get(b, "the notice", chromedp.Text(chromedp.CSS(".problem")))
	if !strings.Contains(notice, "Redirect URLs") || strings.Contains(notice, "userLogin") {
		t.Errorf("a fault of another step: %q, want it named by its label", notice)
	}
	alert := get(b, "the alert", chromedp.Poll[string](`document.getElementById("alert").textContent`))
	if !strings.Contains(alert, "Enter the Module Name.") || strings.Contains(alert, "displayName") {
		t.Errorf("the alert %q: want the sentences, by label", alert)
	}
}
