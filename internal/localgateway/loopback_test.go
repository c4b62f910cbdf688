package localgateway_test

import (
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
