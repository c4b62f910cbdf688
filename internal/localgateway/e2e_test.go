package localgateway_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/modules-service/modules/internal/localgateway"
	"github.com/modules-service/modules/internal/openapi"
	"github.com/modules-service/modules/internal/testing/testenv"
)

const secret = "Known-Secret-4711-xyz"

// serve starts the local gateway behind a loopback HTTP server.
func serve(t *testing.T, o localgateway.Options) (*localgateway.Stack, string) {
	t.Helper()
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	o.Template = "../../template.yaml"
	if o.Issuer == "" {
		o.Issuer = srv.URL
	}
	if o.Table == "" {
		o.Table, o.SecretPrefix = "modules-local", "modules-local/modules"
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s, err := localgateway.Start(context.Background(), o)
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
	return callFrom(t, http.DefaultClient, method, url, bearer, body)
}

// callFrom is call through c (from c's address), the exchange checked
// against the API document.
func callFrom(t *testing.T, c *http.Client, method, url, bearer, body string) answer {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	reqHeader := req.Header.Clone()
	resp, err := c.Do(req)
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

// target is where the end-to-end suite (the TestEndToEnd tests) runs: the
// local gateway, or with -tags deployed the stack `make deploy-local`
// deployed (target_deployed_test.go). The tests are the same.
type target struct {
	base string
	// origin is the API's origin as a client in that place names it, for
	// DPoP's htu: the base locally; deployed, https on the API's domain,
	// as API Gateway's events name it (the emulator serves it as http on
	// its port).
	origin string
	// unauthorized is the status of an authorizer's "Unauthorized" error:
	// API Gateway's 401, which the local gateway gives; the deployment
	// layer's emulator answers any authorizer error 500 (a gap of its own,
	// docs/testing.md), so there the test can tell a refusal, not its code.
	unauthorized int
	bound        time.Duration // ClientCacheSeconds: how long a module change may take to reach tokens
	// manager makes the first manager of a tenant no test used before and
	// returns its token.
	manager func(t *testing.T, tenant string) localgateway.Manager
}

// tenant returns a tenant ID of its own for this run, since a deployed
// stack keeps what earlier runs made.
func tenant(name string) string {
	return fmt.Sprintf("%s-%d", name, time.Now().UnixNano())
}

// managerToken makes the first manager of a new tenant and returns the
// tenant and a token of that manager.
func (tg target) managerToken(t *testing.T, name string) (string, string, localgateway.Manager) {
	t.Helper()
	id := tenant(name)
	m := tg.manager(t, id)
	return id, token(t, tg.base, m.ClientID, m.ClientSecret, oauth2.AuthStyleInHeader), m
}

// TestEndToEnd: a tenant's manager → token with modules:manage → create a
// module → the module's own token → routes behind the authorizer; tenant
// isolation; a disabled module's token refused within the cache bound.
func TestEndToEnd(t *testing.T) {
	tg := open(t)
	base := tg.base
	acme, manager, _ := tg.managerToken(t, "acme")
	modules := base + "/tenants/" + acme + "/modules"

	created := call(t, "POST", modules, manager, `{"name":"billing","displayName":"Billing","clientSecret":"`+secret+`","scopes":["orders.read"]}`)
	if created.status != 201 {
		t.Fatalf("create: %d %v", created.status, created.body)
	}
	id, clientID := created.body["id"].(string), created.body["clientId"].(string)
	client := token(t, base, clientID, secret, oauth2.AuthStyleInParams)

	// a client token passes the authorizer but is no manager
	if a := call(t, "GET", modules, client, ""); a.status != 403 {
		t.Errorf("client token on a management route: %d, want 403", a.status)
	}
	if a := call(t, "GET", modules+"/"+id, manager, ""); a.status != 200 || a.header.Get("ETag") != `"1"` || a.body["lastUsedAt"] == nil {
		t.Errorf("manager reads the module: %d %v; want version 1 with lastUsedAt (its client got a token)", a.status, a.body)
	}
	// the manager of another tenant gets 403 on every route of acme
	_, other, _ := tg.managerToken(t, "globex")
	for _, r := range []struct{ method, path, body string }{
		{"POST", "", `{"name":"x-x-x","displayName":"X","clientSecret":"` + secret + `"}`},
		{"GET", "", ""},
		{"GET", "/" + id, ""},
		{"PATCH", "/" + id, `{"enabled":false}`},
		{"DELETE", "/" + id, ""},
	} {
		if a := call(t, r.method, modules+r.path, other, r.body); a.status != 403 {
			t.Errorf("globex manager %s %s: %d, want 403", r.method, r.path, a.status)
		}
	}
	if a := call(t, "GET", modules, "", ""); a.status != 401 {
		t.Errorf("no token: %d, want 401", a.status)
	}
	if a := call(t, "GET", modules, "not-a-token", ""); a.status != 403 {
		t.Errorf("garbage token: %d, want 403", a.status)
	}

	// disabling stops the module's token within the bound, not at expiry
	if a := call(t, "PATCH", modules+"/"+id, manager, `{"enabled":false}`); a.status != 200 {
		t.Fatalf("disable: %d %v", a.status, a.body)
	}
	deadline := time.Now().Add(tg.bound + 2*time.Second)
	for !refused(t, modules, client) {
		if time.Now().After(deadline) {
			t.Fatalf("the disabled module's token still passes the authorizer after %v", tg.bound)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// and the module's own credentials get no new token
	if a := call(t, "DELETE", modules+"/"+id, manager, ""); a.status != 204 {
		t.Errorf("delete: %d %v", a.status, a.body)
	}
	if a := call(t, "GET", modules+"/"+id, manager, ""); a.status != 404 {
		t.Errorf("deleted module: %d, want 404", a.status)
	}

	// the audit trail: each change, newest first, by whom and from where,
	// readable after the delete; and only by this tenant's managers
	if a := call(t, "GET", modules+"/"+id+"/events", manager, ""); a.status != 404 {
		t.Errorf("a deleted module's events sub-resource: %d, want 404", a.status)
	}
	trail := call(t, "GET", base+"/tenants/"+acme+"/events?moduleId="+id, manager, "")
	items, _ := trail.body["items"].([]any)
	var kinds []string
	for _, it := range items {
		e := it.(map[string]any)
		kinds = append(kinds, fmt.Sprint(e["type"]))
		actor, _ := e["actor"].(map[string]any)
		clientID, _ := actor["clientId"].(string)
		requestID, _ := e["requestId"].(string)
		sourceIP, _ := e["sourceIp"].(string)
		if actor["kind"] != "manager" || clientID == "" {
			t.Errorf("event %v: actor %v; want the manager with its client ID", e["type"], actor)
		}
		if requestID == "" || sourceIP == "" {
			t.Errorf("event %v: request ID %q, source %q; want both", e["type"], requestID, sourceIP)
		}
	}
	if trail.status != 200 || strings.Join(kinds, " ") != "module.deleted module.disabled module.created" {
		t.Errorf("module trail: %d %v; want deleted, disabled, created", trail.status, kinds)
	}
	if a := call(t, "GET", base+"/tenants/"+acme+"/events?type=module.disabled", manager, ""); a.status != 200 || len(a.body["items"].([]any)) != 1 {
		t.Errorf("tenant trail of disables: %d %v", a.status, a.body)
	}
	if a := call(t, "GET", base+"/tenants/"+acme+"/events", other, ""); a.status != 403 {
		t.Errorf("another tenant's manager on the trail: %d, want 403", a.status)
	}
}

// refused reports whether the authorizer denies the token on url (403
// from the gateway itself, with API Gateway's message body).
func refused(t *testing.T, url, tok string) bool {
	a := call(t, "GET", url, tok, "")
	return a.status == 403 && a.body["message"] == "Forbidden"
}

func TestDataDirKeepsDataAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	// one issuer across the restarts, as a deployment has, so that tokens
	// of one run are good in the next
	opts := localgateway.Options{DataDir: dir, Issuer: "https://modules.example.test", Bootstrap: localgateway.Bootstrap{Tenant: "acme"}}
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
	s2.Close()

	// a change of algorithm, as AccessTokenAlgorithm ES256 and a rotation:
	// the new key signs, the old stays published, a token of each is let in
	es := opts
	es.TokenAlgorithm = "ES256"
	s3, base3 := serve(t, es)
	jwks := call(t, "GET", base3+"/.well-known/jwks.json", "", "")
	var algs []string
	for _, k := range jwks.body["keys"].([]any) {
		algs = append(algs, fmt.Sprint(k.(map[string]any)["alg"]))
	}
	if got := strings.Join(algs, " "); got != "ES256 RS256" {
		t.Errorf("JWKS after the change holds %s; want ES256 (current) and RS256 (previous)", got)
	}
	mgr3 := token(t, base3, s1.Manager.ClientID, secret1, oauth2.AuthStyleInHeader)
	if alg := headerAlg(t, mgr3); alg != "ES256" {
		t.Errorf("token after the change signed with %s, want ES256", alg)
	}
	for name, tok := range map[string]string{"RS256 (before)": mgr2, "ES256 (after)": mgr3} {
		if a := call(t, "GET", base3+"/tenants/acme/modules", tok, ""); a.status != 200 {
			t.Errorf("%s token after the change: %d, want 200", name, a.status)
		}
	}
	s3.Close()

	// a wrong bootstrap secret for the existing manager is refused
	o := opts
	o.Bootstrap.ClientSecret = "not-the-managers-secret"
	if _, err := localgateway.Start(context.Background(), withTemplate(o)); err == nil || !strings.Contains(err.Error(), "not the secret") {
		t.Errorf("wrong bootstrap secret: %v", err)
	}
}

// TestAgainstMoto runs the flow with the functions on moto's DynamoDB and
// Secrets Manager, as with AWS_ENDPOINT_URL.
func TestAgainstMoto(t *testing.T) {
	testenv.UseMoto(t)
	suffix := fmt.Sprint(time.Now().UnixNano())
	s, base := serve(t, localgateway.Options{AWS: true, Table: "e2e-" + suffix, SecretPrefix: "e2e-" + suffix + "/modules", Bootstrap: localgateway.Bootstrap{Tenant: "acme"}})
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

func withTemplate(o localgateway.Options) localgateway.Options {
	o.Template, o.Table, o.SecretPrefix = "../../template.yaml", "modules-local", "modules-local/modules"
	o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	return o
}

// headerAlg is the alg a compact JWS names.
func headerAlg(t *testing.T, tok string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.SplitN(tok, ".", 2)[0])
	var h struct{ Alg string }
	if err != nil || json.Unmarshal(b, &h) != nil {
		t.Fatalf("token header %v", err)
	}
	return h.Alg
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

// TestEndToEndCORS: the portal origin of the deployment (PortalOrigins)
// passes preflight and reads ETag and Location; another origin does not.
func TestEndToEndCORS(t *testing.T) {
	const portal = "http://localhost:5173" // samconfig.toml [local] and open()
	base := open(t).base
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
	ok := preflight(portal, "POST")
	if ok.StatusCode != 204 || ok.Header.Get("Access-Control-Allow-Origin") != portal ||
		!strings.Contains(ok.Header.Get("Access-Control-Allow-Methods"), "PATCH") ||
		!strings.Contains(ok.Header.Get("Access-Control-Allow-Headers"), "idempotency-key") ||
		!strings.Contains(ok.Header.Get("Access-Control-Allow-Headers"), "if-match") || ok.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("allowed preflight: %d %v", ok.StatusCode, ok.Header)
	}
	if refused := preflight("https://evil.example", "DELETE"); refused.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("refused origin got %v", refused.Header)
	}
	req, _ := http.NewRequest("GET", base+"/.well-known/jwks.json", nil)
	req.Header.Set("Origin", portal)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	expose := strings.ToLower(resp.Header.Get("Access-Control-Expose-Headers"))
	if resp.Header.Get("Access-Control-Allow-Origin") != portal || !strings.Contains(expose, "etag") || !strings.Contains(expose, "location") {
		t.Errorf("actual request: %v; want the origin allowed and ETag, Location exposed", resp.Header)
	}
}

// TestEndToEndRemovedManagerScopeTakesRightsAway: a module's manager
// token loses its rights on every management route within
// ClientCacheSeconds of the scope's removal, though the token itself still
// says modules:manage.
func TestEndToEndRemovedManagerScopeTakesRightsAway(t *testing.T) {
	tg := open(t)
	base := tg.base
	acme, boss, first := tg.managerToken(t, "acme")
	modules := base + "/tenants/" + acme + "/modules"
	created := call(t, "POST", modules, boss, `{"name":"deputy","displayName":"Deputy","clientSecret":"`+secret+`","scopes":["modules:manage","orders.read"]}`)
	if created.status != 201 || created.body["manager"] != true {
		t.Fatalf("create a manager module: %d %v", created.status, created.body)
	}
	id, clientID := created.body["id"].(string), created.body["clientId"].(string)
	deputy := token(t, base, clientID, secret, oauth2.AuthStyleInParams)
	routes := []struct{ method, path, body string }{
		{"GET", "", ""},
		{"GET", "/" + id, ""},
		{"POST", "", `{"name":"backdoor","displayName":"Backdoor","clientSecret":"` + secret + `","scopes":["modules:manage"]}`},
		{"PATCH", "/" + id, `{"displayName":"Deputy 2"}`},
		{"DELETE", "/" + id, ""},
	}
	if a := call(t, "GET", modules, deputy, ""); a.status != 200 {
		t.Fatalf("the deputy manages: %d", a.status)
	}
	if a := call(t, "PATCH", modules+"/"+id, boss, `{"scopes":["orders.read"]}`); a.status != 200 || a.body["manager"] != false {
		t.Fatalf("remove the scope: %d %v", a.status, a.body)
	}
	time.Sleep(tg.bound + 200*time.Millisecond)
	for _, r := range routes {
		if a := call(t, r.method, modules+r.path, deputy, r.body); a.status != 403 {
			t.Errorf("%s %s with the old manager token after the bound: %d, want 403", r.method, r.path, a.status)
		}
	}
	// the last manager cannot be narrowed away
	if a := call(t, "PATCH", modules+"/"+findModule(t, modules, boss, first.ClientID), boss, `{"enabled":false}`); a.status != 409 {
		t.Errorf("disable the last manager: %d %v, want 409", a.status, a.body)
	}
}

// findModule returns the ID of the module with clientID among modules.
func findModule(t *testing.T, modules, tok, clientID string) string {
	t.Helper()
	list := call(t, "GET", modules+"?limit=100", tok, "")
	items, _ := list.body["items"].([]any)
	for _, it := range items {
		if m, _ := it.(map[string]any); m["clientId"] == clientID {
			return m["id"].(string)
		}
	}
	t.Fatalf("no module with client ID %s", clientID)
	return ""
}

// TestEndToEndPortalPage: the portal function serves the Modules page with
// its security headers, and its assets by digest, cached for a year.
func TestEndToEndPortalPage(t *testing.T) {
	base := open(t).base
	resp, err := http.Get(base + "/portal/index.html")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != 200 || !strings.Contains(string(page), "<title>Modules</title>") {
		t.Fatalf("page: %d, want 200 with the title Modules", resp.StatusCode)
	}
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q; want %s in it", csp, want)
		}
	}
	if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy %q, want no-referrer", got)
	}
	asset := regexp.MustCompile(`/portal/assets/[0-9a-f]+/app\.js`).FindString(string(page))
	a, err := http.Get(base + asset)
	if err != nil {
		t.Fatal(err)
	}
	a.Body.Close()
	if asset == "" || a.StatusCode != 200 || !strings.Contains(a.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("asset %q: %d %v", asset, a.StatusCode, a.Header)
	}
}
