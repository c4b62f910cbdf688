package localgateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/modules-service/modules/internal/localgateway"
)

// TestPortalSignOut: DELETE /portal/session (the page's Sign out) ends the
// browser session: its cookie no longer signs a reload in, and the browser
// is told to drop it. Another site cannot sign a browser out.
func TestPortalSignOut(t *testing.T) {
	s, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "demo"}})
	value := strings.TrimPrefix(s.SignInURL(base), base+"/portal/#signin=")
	page := func(extra map[string]string) map[string]string {
		h := map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": base, "Content-Type": "application/json"}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	status, h, body := send(t, "POST", base, "/portal/session", "", `{"signin":"`+value+`"}`, page(nil))
	cookies := (&http.Response{Header: h}).Cookies()
	if status != 200 || len(cookies) != 1 {
		t.Fatalf("sign in with the link: %d %s %v", status, body, h.Values("Set-Cookie"))
	}
	cookie := map[string]string{"Cookie": cookies[0].Name + "=" + cookies[0].Value}

	if status, _, body := send(t, "DELETE", base, "/portal/session", "", "", page(map[string]string{"Cookie": cookie["Cookie"], "Sec-Fetch-Site": "cross-site"})); status != 403 {
		t.Errorf("sign out from another site: %d %s", status, body)
	}
	if status, _, body := send(t, "POST", base, "/portal/session", "", `{}`, page(cookie)); status != 200 {
		t.Fatalf("after a refused sign out the cookie still signs in: %d %s", status, body)
	}

	status, h, body = send(t, "DELETE", base, "/portal/session", "", "", page(cookie))
	dropped := (&http.Response{Header: h}).Cookies()
	if status != 204 || len(dropped) != 1 || dropped[0].Name != cookies[0].Name || dropped[0].MaxAge >= 0 || dropped[0].Value != "" {
		t.Errorf("sign out: %d %s %v, want 204 and the cookie dropped", status, body, h.Values("Set-Cookie"))
	}
	if status, _, body := send(t, "POST", base, "/portal/session", "", `{}`, page(cookie)); status != 403 || strings.Contains(body, "accessToken") {
		t.Errorf("the cookie after sign out: %d %s, want 403", status, body)
	}
}
