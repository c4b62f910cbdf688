package localgateway_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/modules-service/modules/internal/localgateway"
)

// send makes one request to the gateway at base with the given Host
// (empty: base's own) and headers, and returns status, headers and body.
func send(t *testing.T, method, base, path, host, body string, header map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// The gateway answers only requests addressed to a loopback name with its
// own port, on every route: a DNS-rebinding page (Host: evil.example) or a
// loopback forwarder gets 421 and nothing runs.
func TestLoopbackNamesOnly(t *testing.T) {
	_, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "demo"}})
	u, _ := url.Parse(base)
	port := u.Port()
	for _, tc := range []struct {
		name, method, path, host string
		want                     int
	}{
		{"the gateway's own address", "GET", "/.well-known/jwks.json", "", 200},
		{"localhost", "GET", "/.well-known/jwks.json", "localhost:" + port, 200},
		{"LOCALHOST", "GET", "/.well-known/jwks.json", "LOCALHOST:" + port, 200},
		{"another 127 address", "GET", "/.well-known/jwks.json", "127.0.0.2:" + port, 200},
		{"[::1]", "GET", "/.well-known/jwks.json", "[::1]:" + port, 200},
		{"DNS rebinding", "GET", "/.well-known/jwks.json", "evil.example:" + port, 421},
		{"DNS rebinding, port 80", "GET", "/portal/", "evil.example", 421},
		{"DNS rebinding to the session route", "POST", "/portal/session", "evil.example:" + port, 421},
		{"DNS rebinding to the token endpoint", "POST", "/oauth2/token", "evil.example:" + port, 421},
		{"DNS rebinding to a management route", "GET", "/tenants/demo/modules", "evil.example:" + port, 421},
		{"a forwarder's name", "GET", "/", "abc123.ngrok-free.app", 421},
		{"a loopback name, another port", "GET", "/.well-known/jwks.json", "localhost:5173", 421},
		{"a name that ends in localhost", "GET", "/.well-known/jwks.json", "localhost.evil.example:" + port, 421},
		{"a loopback address in another form", "GET", "/.well-known/jwks.json", "2130706433:" + port, 421},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := send(t, tc.method, base, tc.path, tc.host, "", nil)
			if status != tc.want {
				t.Fatalf("status %d, want %d: %s", status, tc.want, body)
			}
			if tc.want != 421 {
				return
			}
			if got := h.Get("Content-Type"); got != "application/problem+json" {
				t.Errorf("Content-Type %q", got)
			}
			if !strings.Contains(body, "http://127.0.0.1:"+port) || strings.Contains(body, "accessToken") {
				t.Errorf("the problem does not say what to use instead: %s", body)
			}
		})
	}
}

// The loopback sign-in: POST /portal/session hands out a manager token
// only for the one-time value of the printed link (once) or the session
// cookie that exchange set (a reload), and only to the portal page itself.
func TestPortalSessionSignIn(t *testing.T) {
	s, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "demo"}})
	link := s.SignInURL(base)
	value, ok := strings.CutPrefix(link, base+"/portal/#signin=")
	if !ok || len(value) < 26 {
		t.Fatalf("sign-in URL %q", link)
	}
	sameOrigin := func(extra map[string]string) map[string]string {
		h := map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": base, "Content-Type": "application/json"}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	withLink := `{"signin":"` + value + `"}`

	refused := []struct {
		name, method, body string
		header             map[string]string
	}{
		{"as before: a plain GET from loopback", "GET", "", nil},
		{"no value", "POST", `{}`, sameOrigin(nil)},
		{"an empty body", "POST", "", sameOrigin(nil)},
		{"a wrong value", "POST", `{"signin":"` + strings.Repeat("A", len(value)) + `"}`, sameOrigin(nil)},
		{"the value, cross-site", "POST", withLink, sameOrigin(map[string]string{"Sec-Fetch-Site": "cross-site"})},
		{"the value, same-site (another port of localhost)", "POST", withLink, sameOrigin(map[string]string{"Sec-Fetch-Site": "same-site"})},
		{"the value, from a dev server's origin", "POST", withLink, sameOrigin(map[string]string{"Origin": "http://localhost:5173"})},
		{"the value, Origin null", "POST", withLink, sameOrigin(map[string]string{"Origin": "null"})},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := send(t, tc.method, base, "/portal/session", "", tc.body, tc.header)
			if status == 200 || strings.Contains(body, "accessToken") || h.Get("Set-Cookie") != "" {
				t.Fatalf("status %d, want a refusal: %s", status, body)
			}
		})
	}

	// the page itself, with the link: a token and the session cookie
	status, h, body := send(t, "POST", base, "/portal/session", "", withLink, sameOrigin(nil))
	if status != 200 {
		t.Fatalf("with the link: %d %s", status, body)
	}
	var got struct{ Tenant, AccessToken string }
	if err := json.Unmarshal([]byte(body), &got); err != nil || got.Tenant != "demo" || strings.Count(got.AccessToken, ".") != 2 {
		t.Fatalf("session %s", body)
	}
	if status, _, body := send(t, "GET", base, "/tenants/demo/modules", "", "", map[string]string{"Authorization": "Bearer " + got.AccessToken}); status != 200 {
		t.Errorf("the session token lists the tenant's modules: %d %s", status, body)
	}
	if cc := h.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	resp := http.Response{Header: h}
	cookies := resp.Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode || cookies[0].Path != "/portal/session" || cookies[0].Value == value {
		t.Fatalf("session cookie %v", h.Values("Set-Cookie"))
	}
	cookie := cookies[0].Name + "=" + cookies[0].Value

	// the link works once; a reload has the cookie
	if status, _, body := send(t, "POST", base, "/portal/session", "", withLink, sameOrigin(nil)); status != 403 {
		t.Errorf("the link a second time: %d %s", status, body)
	}
	if status, _, body := send(t, "POST", base, "/portal/session", "", `{}`, sameOrigin(map[string]string{"Cookie": cookie})); status != 200 || !strings.Contains(body, "accessToken") {
		t.Errorf("a reload with the cookie: %d %s", status, body)
	}
	if status, _, body := send(t, "POST", base, "/portal/session", "", `{}`, sameOrigin(map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "same-site"})); status != 403 {
		t.Errorf("the cookie from another port of localhost: %d %s", status, body)
	}
}

// A frontend's dev server on another loopback port still reaches the API
// routes through CORS (the default: any http://localhost:<port>).
func TestCORSFromLoopbackDevServer(t *testing.T) {
	_, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "demo"}})
	const origin = "http://localhost:5173"
	status, h, body := send(t, "OPTIONS", base, "/tenants/demo/modules", "", "", map[string]string{
		"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"})
	if status != http.StatusNoContent && status != http.StatusOK {
		t.Fatalf("preflight: %d %s", status, body)
	}
	if got := h.Get("Access-Control-Allow-Origin"); got != origin {
		t.Errorf("Access-Control-Allow-Origin %q, want %q", got, origin)
	}
	status, h, _ = send(t, "GET", base, "/.well-known/jwks.json", "", "", map[string]string{"Origin": origin})
	if status != 200 || h.Get("Access-Control-Allow-Origin") != origin {
		t.Errorf("a simple request: %d, Access-Control-Allow-Origin %q", status, h.Get("Access-Control-Allow-Origin"))
	}
}
