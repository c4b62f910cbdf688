package localstack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/modules-service/modules/internal/localstack"
	"github.com/modules-service/modules/internal/openapi"
)

const secret = "Known-Secret-4711-xyz"

// serve starts the local stack behind a loopback HTTP server.
func serve(t *testing.T, o localstack.Options) (*localstack.Stack, string) {
	t.Helper()
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	o.Template = "../../template.yaml"
	o.Issuer = srv.URL
	if o.Table == "" {
		o.Table, o.SecretPrefix = "modules-local", "modules-local/modules"
	}
	o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := localstack.Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	h = s.Handler
	return s, srv.URL
}

func token(t *testing.T, base, id, secret string, style oauth2.AuthStyle) string {
	t.Helper()
	cfg := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: base + "/oauth2/token", AuthStyle: style}
	tok, err := cfg.Token(context.Background())
	if err != nil {
		t.Fatalf("token for %s: %v", id, err)
	}
	return tok.AccessToken
}

type answer struct {
	status int
	body   map[string]any
	header http.Header
}

func call(t *testing.T, method, url, bearer, body string) answer {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	reqHeader := req.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header}
	_ = json.Unmarshal(raw, &a.body)
	if err := openapi.Check(openapi.Exchange{Method: method, URL: strings.TrimPrefix(url, req.URL.Scheme+"://"+req.URL.Host), Header: reqHeader,
		Body: []byte(body), Status: resp.StatusCode, RespHeader: resp.Header, RespBody: raw}); err != nil {
		t.Errorf("contract: %v", err)
	}
	return a
}

// TestEndToEnd: bootstrap manager → token with modules:manage → create a
// module → the module's own token → routes behind the authorizer; tenant
// isolation; a disabled module's token refused within the cache bound.
func TestEndToEnd(t *testing.T) {
	const bound = 300 * time.Millisecond
	s, base := serve(t, localstack.Options{ClientCacheTTL: bound,
		Bootstrap: localstack.Bootstrap{Tenant: "acme", ClientID: "acme-manager", ClientSecret: "acme-manager-secret-1"}})
	if s.Manager.ClientID != "acme-manager" || !s.Manager.Created {
		t.Fatalf("bootstrap manager %+v", s.Manager)
	}
	manager := token(t, base, "acme-manager", "acme-manager-secret-1", oauth2.AuthStyleInHeader)

	created := call(t, "POST", base+"/tenants/acme/modules", manager, `{"name":"billing","displayName":"Billing","clientSecret":"`+secret+`","scopes":["orders.read"]}`)
	if created.status != 201 {
		t.Fatalf("create: %d %v", created.status, created.body)
	}
	id, clientID := created.body["id"].(string), created.body["clientId"].(string)
	client := token(t, base, clientID, secret, oauth2.AuthStyleInParams)

	// a client token passes the authorizer but is no manager
	if a := call(t, "GET", base+"/tenants/acme/modules", client, ""); a.status != 403 {
		t.Errorf("client token on a management route: %d, want 403", a.status)
	}
	if a := call(t, "GET", base+"/tenants/acme/modules/"+id, manager, ""); a.status != 200 || a.header.Get("ETag") != `"1"` {
		t.Errorf("manager reads the module: %d", a.status)
	}
	// the manager of another tenant gets 403 on every route of acme
	other, _ := serveSecondTenant(t, s, base)
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/tenants/acme/modules", `{"name":"x-x-x","displayName":"X","clientSecret":"` + secret + `"}`},
		{"GET", "/tenants/acme/modules", ""},
		{"GET", "/tenants/acme/modules/" + id, ""},
		{"PATCH", "/tenants/acme/modules/" + id, `{"enabled":false}`},
		{"DELETE", "/tenants/acme/modules/" + id, ""},
	} {
		if a := call(t, r.method, base+r.path, other, r.body); a.status != 403 {
			t.Errorf("globex manager %s %s: %d, want 403", r.method, r.path, a.status)
		}
	}
	if a := call(t, "GET", base+"/tenants/acme/modules", "", ""); a.status != 401 {
		t.Errorf("no token: %d, want 401", a.status)
	}
	if a := call(t, "GET", base+"/tenants/acme/modules", "not-a-token", ""); a.status != 403 {
		t.Errorf("garbage token: %d, want 403", a.status)
	}

	// disabling stops the module's token within the bound, not at expiry
	if a := call(t, "PATCH", base+"/tenants/acme/modules/"+id, manager, `{"enabled":false}`); a.status != 200 {
		t.Fatalf("disable: %d %v", a.status, a.body)
	}
	deadline := time.Now().Add(bound + 2*time.Second)
	for !refused(t, base, client) {
		if time.Now().After(deadline) {
			t.Fatalf("the disabled module's token still passes the authorizer after %v", bound)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// refused reports whether the authorizer denies the token (403 from the
// gateway itself, with API Gateway's message body).
func refused(t *testing.T, base, tok string) bool {
	a := call(t, "GET", base+"/tenants/acme/modules", tok, "")
	return a.status == 403 && a.body["message"] == "Forbidden"
}

// serveSecondTenant creates the manager of tenant globex through the
// operator path and returns its token.
func serveSecondTenant(t *testing.T, s *localstack.Stack, base string) (string, string) {
	t.Helper()
	m, err := s.CreateManager(context.Background(), localstack.Bootstrap{Tenant: "globex"})
	if err != nil {
		t.Fatal(err)
	}
	return token(t, base, m.ClientID, m.ClientSecret, oauth2.AuthStyleInHeader), m.ClientID
}

func TestDataDirKeepsDataAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	opts := localstack.Options{DataDir: dir, Bootstrap: localstack.Bootstrap{Tenant: "acme"}}
	s1, base1 := serve(t, opts)
	secret1 := s1.Manager.ClientSecret
	mgr := token(t, base1, s1.Manager.ClientID, secret1, oauth2.AuthStyleInHeader)
	if a := call(t, "POST", base1+"/tenants/acme/modules", mgr, `{"name":"billing","displayName":"Billing","clientSecret":"`+secret+`"}`); a.status != 201 {
		t.Fatalf("create: %d", a.status)
	}
	k1 := kid(t, base1)
	s1.Close()

	s2, base2 := serve(t, opts)
	if s2.Manager.ClientID != s1.Manager.ClientID || s2.Manager.Created || s2.Manager.ClientSecret != "" {
		t.Errorf("restart: manager %+v, want the existing one, its secret not shown again", s2.Manager)
	}
	mgr2 := token(t, base2, s1.Manager.ClientID, secret1, oauth2.AuthStyleInParams)
	list := call(t, "GET", base2+"/tenants/acme/modules", mgr2, "")
	if items, _ := list.body["items"].([]any); len(items) != 2 {
		t.Errorf("after restart: %d modules, want the manager and billing", len(items))
	}
	// the signing key was kept: the same kid is published
	if k2 := kid(t, base2); k1 == "" || k1 != k2 {
		t.Errorf("signing key changed across the restart: %q, %q", k1, k2)
	}
	if info, err := os.Stat(dir + "/secrets.json"); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("secrets.json: %v, mode %v; want 0600", err, info.Mode().Perm())
	}
	// a wrong bootstrap secret for the existing manager is refused
	s2.Close()
	o := opts
	o.Bootstrap.ClientSecret = "not-the-managers-secret"
	if _, err := localstack.Start(context.Background(), withTemplate(o)); err == nil || !strings.Contains(err.Error(), "not the secret") {
		t.Errorf("wrong bootstrap secret: %v", err)
	}
}

// TestAgainstMoto runs the flow with the functions on moto's DynamoDB and
// Secrets Manager, as with AWS_ENDPOINT_URL.
func TestAgainstMoto(t *testing.T) {
	endpoint := os.Getenv("MOTO_ENDPOINT")
	if endpoint == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but MOTO_ENDPOINT is not set")
		}
		t.Skip("no moto server")
	}
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	suffix := fmt.Sprint(time.Now().UnixNano())
	s, base := serve(t, localstack.Options{AWS: true, Table: "e2e-" + suffix, SecretPrefix: "e2e-" + suffix + "/modules", Bootstrap: localstack.Bootstrap{Tenant: "acme"}})
	mgr := token(t, base, s.Manager.ClientID, s.Manager.ClientSecret, oauth2.AuthStyleInHeader)
	c := call(t, "POST", base+"/tenants/acme/modules", mgr, `{"name":"billing","displayName":"Billing","clientSecret":"`+secret+`"}`)
	if c.status != 201 {
		t.Fatalf("create on moto: %d %v", c.status, c.body)
	}
	token(t, base, c.body["clientId"].(string), secret, oauth2.AuthStyleInParams)
	if a := call(t, "DELETE", base+"/tenants/acme/modules/"+c.body["id"].(string), mgr, ""); a.status != 204 {
		t.Errorf("delete on moto: %d", a.status)
	}
}

func withTemplate(o localstack.Options) localstack.Options {
	o.Template, o.Table, o.SecretPrefix = "../../template.yaml", "modules-local", "modules-local/modules"
	o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	return o
}

// kid is the first key ID of the served JWKS.
func kid(t *testing.T, base string) string {
	t.Helper()
	a := call(t, "GET", base+"/.well-known/jwks.json", "", "")
	keys, _ := a.body["keys"].([]any)
	if len(keys) == 0 {
		return ""
	}
	k, _ := keys[0].(map[string]any)["kid"].(string)
	return k
}

func TestCORS(t *testing.T) {
	_, base := serve(t, localstack.Options{CORSOrigins: []string{"https://portal.example.com", "http://localhost:5173"}})
	preflight := func(origin, method string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", base+"/tenants/demo/modules", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", method)
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,idempotency-key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	ok := preflight("http://localhost:5173", "POST")
	if ok.StatusCode != 204 || ok.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" ||
		!strings.Contains(ok.Header.Get("Access-Control-Allow-Methods"), "PATCH") ||
		!strings.Contains(ok.Header.Get("Access-Control-Allow-Headers"), "idempotency-key") ||
		!strings.Contains(ok.Header.Get("Access-Control-Allow-Headers"), "if-match") || ok.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("allowed preflight: %d %v", ok.StatusCode, ok.Header)
	}
	if refused := preflight("https://evil.example", "DELETE"); refused.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("refused origin got %v", refused.Header)
	}
	req, _ := http.NewRequest("GET", base+"/.well-known/jwks.json", nil)
	req.Header.Set("Origin", "https://portal.example.com")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	expose := strings.ToLower(resp.Header.Get("Access-Control-Expose-Headers"))
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://portal.example.com" || !strings.Contains(expose, "etag") || !strings.Contains(expose, "location") {
		t.Errorf("actual request: %v; want the origin allowed and ETag, Location exposed", resp.Header)
	}
}

// TestRemovedManagerScopeTakesRightsAway: a module's manager token loses
// its rights on every management route within ClientCacheSeconds of the
// scope's removal, though the token itself still says modules:manage.
func TestRemovedManagerScopeTakesRightsAway(t *testing.T) {
	const bound = 300 * time.Millisecond
	s, base := serve(t, localstack.Options{ClientCacheTTL: bound, Bootstrap: localstack.Bootstrap{Tenant: "acme"}})
	boss := token(t, base, s.Manager.ClientID, s.Manager.ClientSecret, oauth2.AuthStyleInHeader)
	created := call(t, "POST", base+"/tenants/acme/modules", boss, `{"name":"deputy","displayName":"Deputy","clientSecret":"`+secret+`","scopes":["modules:manage","orders.read"]}`)
	if created.status != 201 || created.body["manager"] != true {
		t.Fatalf("create a manager module: %d %v", created.status, created.body)
	}
	id, clientID := created.body["id"].(string), created.body["clientId"].(string)
	deputy := token(t, base, clientID, secret, oauth2.AuthStyleInParams)
	routes := []struct{ method, path, body string }{
		{"GET", "/tenants/acme/modules", ""},
		{"GET", "/tenants/acme/modules/" + id, ""},
		{"POST", "/tenants/acme/modules", `{"name":"backdoor","displayName":"Backdoor","clientSecret":"` + secret + `","scopes":["modules:manage"]}`},
		{"PATCH", "/tenants/acme/modules/" + id, `{"displayName":"Deputy 2"}`},
		{"DELETE", "/tenants/acme/modules/" + id, ""},
	}
	if a := call(t, "GET", base+"/tenants/acme/modules", deputy, ""); a.status != 200 {
		t.Fatalf("the deputy manages: %d", a.status)
	}
	if a := call(t, "PATCH", base+"/tenants/acme/modules/"+id, boss, `{"scopes":["orders.read"]}`); a.status != 200 || a.body["manager"] != false {
		t.Fatalf("remove the scope: %d %v", a.status, a.body)
	}
	time.Sleep(bound + 200*time.Millisecond)
	for _, r := range routes {
		if a := call(t, r.method, base+r.path, deputy, r.body); a.status != 403 {
			t.Errorf("%s %s with the old manager token after the bound: %d, want 403", r.method, r.path, a.status)
		}
	}
	// the last manager cannot be narrowed away
	if a := call(t, "PATCH", base+"/tenants/acme/modules/"+findModule(t, base, boss, s.Manager.ClientID), boss, `{"enabled":false}`); a.status != 409 {
		t.Errorf("disable the last manager: %d %v, want 409", a.status, a.body)
	}
}

// findModule returns the ID of the module with clientID.
func findModule(t *testing.T, base, tok, clientID string) string {
	t.Helper()
	list := call(t, "GET", base+"/tenants/acme/modules?limit=100", tok, "")
	items, _ := list.body["items"].([]any)
	for _, it := range items {
		if m, _ := it.(map[string]any); m["clientId"] == clientID {
			return m["id"].(string)
		}
	}
	t.Fatalf("no module with client ID %s", clientID)
	return ""
}
