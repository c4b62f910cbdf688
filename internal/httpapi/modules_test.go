package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCreateModule(t *testing.T) {
	s := newStack(t)
	r := s.do(t, req{method: "POST", path: "/tenants/acme/modules", token: "manager-acme",
		body: `{"name":" billing ","displayName":"Billing","clientSecret":"` + secret + `","scopes":["orders.read"],
		"userLogin":{"enabled":true,"redirectUris":["https://app.example.com/cb"]}}`})
	if r.status != http.StatusCreated {
		t.Fatalf("status %d, want 201: %s", r.status, r.body)
	}
	m := r.json(t)
	id, _ := m["id"].(string)
	for h, want := range map[string]string{
		"Location":      "/tenants/acme/modules/" + id,
		"ETag":          `"1"`,
		"Cache-Control": "no-store",
		"Content-Type":  "application/json",
	} {
		if got := r.header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	want := map[string]any{"clientSecret": secret, "name": "billing", "tenantId": "acme", "enabled": true, "version": 1.0}
	if diff := cmp.Diff(want, m, only(want)); diff != "" {
		t.Errorf("create response (-want +got; the trimmed name, the secret once):\n%s", diff)
	}
	for _, key := range []string{"id", "clientId", "createdAt", "updatedAt", "userLogin", "scopes", "displayName"} {
		if _, ok := m[key]; !ok {
			t.Errorf("body lacks %s: %s", key, r.body)
		}
	}
	if strings.Contains(string(r.body), "argon2id") || strings.Contains(string(r.body), "secretName") {
		t.Errorf("body exposes the hash or its location: %s", r.body)
	}
	// reads never carry the secret
	got := s.do(t, req{method: "GET", path: "/tenants/acme/modules/" + id, token: "manager-acme"})
	if got.status != http.StatusOK || strings.Contains(string(got.body), "clientSecret") {
		t.Errorf("GET: %d %s", got.status, got.body)
	}
}

func TestCreateModuleRefusesBadInput(t *testing.T) {
	valid := `{"name":"billing","displayName":"Billing","clientSecret":"` + secret + `"}`
	tests := []struct {
		name        string
		body        string
		contentType string
		status      int
		fields      []string // fields the problem must name
		detail      string   // text the detail must contain
	}{
		{"missing fields", `{}`, "", 400, []string{"name", "displayName", "clientSecret"}, "is required"},
		{"malformed JSON", `{"name":`, "", 400, nil, "ends too early"},
		{"syntax error", `{"name" "x"}`, "", 400, nil, "syntax error at byte"},
		{"unknown field", `{"name":"billing","displayName":"Billing","clientSecret":"` + secret + `","colour":"red"}`, "", 400, []string{"colour"}, "is not a member"},
		{"wrong type", `{"name":7,"displayName":"Billing","clientSecret":"` + secret + `"}`, "", 400, []string{"name"}, "must be of type string"},
		{"repeated member", `{"name":"a-a-a","name":"billing","displayName":"Billing","clientSecret":"` + secret + `"}`, "", 400, []string{"name"}, "appears more than once"},
		{"member name in another case", `{"name":"billing","NAME":"other","displayName":"Billing","clientSecret":"` + secret + `"}`, "", 400, []string{"NAME"}, "case-sensitive"},
		{"capitalised member name", `{"Name":"billing","displayName":"Billing","clientSecret":"` + secret + `"}`, "", 400, []string{"Name"}, "case-sensitive"},
		{"repeated nested member", `{"name":"billing","displayName":"Billing","clientSecret":"` + secret + `","userLogin":{"enabled":false,"enabled":true}}`, "", 400, []string{"userLogin.enabled"}, "appears more than once"},
		{"array body", `[]`, "", 400, nil, "must be a JSON object"},
		{"two objects", valid + valid, "", 400, nil, "exactly one JSON object"},
		{"empty body", ``, "", 415, nil, "application/json"},
		{"wrong content type", valid, "text/plain", 415, nil, "send the body as application/json"},
		{"form content type", valid, "application/x-www-form-urlencoded", 415, nil, "application/json"},
		{"body over 64 KiB", `{"name":"billing","displayName":"` + strings.Repeat("x", 70000) + `"}`, "", 413, nil, "at most 65536 bytes"},
		{"short name", `{"name":"ab","displayName":"Billing","clientSecret":"` + secret + `"}`, "", 400, []string{"name"}, "3 to 64"},
		{"weak secret", `{"name":"billing","displayName":"Billing","clientSecret":"billing"}`, "", 400, []string{"clientSecret"}, "16 to 256"},
		{"secret equal to the name", `{"name":"billing-service-x","displayName":"Billing","clientSecret":"Billing-Service-X"}`, "", 400, []string{"clientSecret"}, "must not equal the name"},
		{"http redirect URI", `{"name":"billing","displayName":"Billing","clientSecret":"` + secret + `","userLogin":{"enabled":true,"redirectUris":["http://app.example.com/cb"]}}`, "", 400, []string{"userLogin.redirectUris[0]"}, "https"},
		{"User Login on without URIs", `{"name":"billing","displayName":"Billing","clientSecret":"` + secret + `","userLogin":{"enabled":true}}`, "", 400, []string{"userLogin.redirectUris"}, "at least one"},
		{"bad scope", `{"name":"billing","displayName":"Billing","clientSecret":"` + secret + `","scopes":["a b"]}`, "", 400, []string{"scopes[0]"}, "RFC 6749"},
		{"client ID chosen by the caller", `{"name":"billing","displayName":"Billing","clientSecret":"` + secret + `","clientId":"mine"}`, "", 400, []string{"clientId"}, "is not a member"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStack(t)
			q := req{method: "POST", path: "/tenants/acme/modules", token: "manager-acme", body: tt.body}
			if tt.contentType != "" {
				q.header = map[string]string{"Content-Type": tt.contentType}
			}
			r := s.do(t, q)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q, want application/problem+json", ct)
			}
			p := r.json(t)
			if d, _ := p["detail"].(string); !strings.Contains(d, tt.detail) {
				t.Errorf("detail %q, want it to contain %q", d, tt.detail)
			}
			if p["status"] != float64(tt.status) || p["title"] != http.StatusText(tt.status) {
				t.Errorf("problem %s: status and title do not match %d", r.body, tt.status)
			}
			errs, _ := p["errors"].([]any)
			for _, f := range tt.fields {
				if !strings.Contains(fmt.Sprint(errs), "name:"+f+" ") {
					t.Errorf("errors %v do not name %s", errs, f)
				}
			}
			// nothing written
			page := s.do(t, req{method: "GET", path: "/tenants/acme/modules", token: "manager-acme"})
			if !strings.Contains(string(page.body), `"items":[]`) {
				t.Errorf("a refused create left a module: %s", page.body)
			}
			if hashes, _ := s.backend.Secrets.List(t.Context(), ""); len(hashes) != 0 {
				t.Errorf("a refused create left %d hashes", len(hashes))
			}
		})
	}
}

func TestNameConflictNamesTheField(t *testing.T) {
	s := newStack(t)
	s.create(t, "billing", "Billing")
	for _, tt := range []struct{ body, field string }{
		{`{"name":"BILLING ","displayName":"Other","clientSecret":"` + secret + `"}`, "name"},
		{`{"name":"other","displayName":" billing","clientSecret":"` + secret + `"}`, "displayName"},
		{`{"name":"bіlling","displayName":"Other","clientSecret":"` + secret + `"}`, "name"},
		{`{"name":"ｂｉｌｌｉｎｇ","displayName":"Other","clientSecret":"` + secret + `"}`, "name"},
		{`{"name":"other","displayName":"Bіlling","clientSecret":"` + secret + `"}`, "displayName"},
	} {
		r := s.do(t, req{method: "POST", path: "/tenants/acme/modules", token: "manager-acme", body: tt.body})
		if r.status != http.StatusConflict || !strings.Contains(string(r.body), `"name":"`+tt.field+`"`) {
			t.Errorf("status %d body %s, want 409 naming %s", r.status, r.body, tt.field)
		}
	}
}

func TestAccessControl(t *testing.T) {
	s := newStack(t)
	id := s.create(t, "billing", "Billing")["id"].(string)
	routes := []struct{ method, path, body string }{
		{"POST", "/tenants/acme/modules", `{"name":"x-y-z","displayName":"X","clientSecret":"` + secret + `"}`},
		{"GET", "/tenants/acme/modules", ""},
		{"GET", "/tenants/acme/modules/" + id, ""},
		{"PATCH", "/tenants/acme/modules/" + id, `{"enabled":false}`},
		{"DELETE", "/tenants/acme/modules/" + id, ""},
	}
	for _, rt := range routes {
		for _, tt := range []struct {
			name, token string
			status      int
		}{
			{"no token", "", http.StatusUnauthorized},
			{"unknown token", "forged", http.StatusForbidden},
			{"manager of another tenant", "manager-globex", http.StatusForbidden},
			{"client without modules:manage", "client-acme", http.StatusForbidden},
		} {
			t.Run(rt.method+" "+rt.path+" "+tt.name, func(t *testing.T) {
				r := s.do(t, req{method: rt.method, path: rt.path, body: rt.body, token: tt.token})
				if r.status != tt.status {
					t.Errorf("status %d, want %d: %s", r.status, tt.status, r.body)
				}
			})
		}
	}
	// A module of another tenant is not found, even for that tenant's own manager path.
	r := s.do(t, req{method: "GET", path: "/tenants/globex/modules/" + id, token: "manager-globex"})
	if r.status != http.StatusNotFound {
		t.Errorf("other tenant's module: %d, want 404", r.status)
	}
	if got := s.do(t, req{method: "GET", path: "/tenants/acme/modules/" + id, token: "manager-acme"}); got.status != 200 {
		t.Errorf("the module was changed by a refused request: %d", got.status)
	}
}

func TestFunctionRefusesMissingAuthorizerContext(t *testing.T) {
	// A function reached without an authorizer (a misconfigured route) answers 401.
	s := newStack(t)
	r := httptestServe(t, s, "GET", "/tenants/acme/modules")
	if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" {
		t.Errorf("status %d, headers %v; want 401 with WWW-Authenticate", r.status, r.header)
	}
}

func TestListModules(t *testing.T) {
	s := newStack(t)
	for i := range 5 {
		s.create(t, fmt.Sprintf("mod-%d", i), fmt.Sprintf("Module %d", i))
	}
	r := s.do(t, req{method: "GET", path: "/tenants/acme/modules?limit=2", token: "manager-acme"})
	page := r.json(t)
	items, _ := page["items"].([]any)
	cursor, _ := page["nextCursor"].(string)
	if r.status != 200 || len(items) != 2 || cursor == "" {
		t.Fatalf("first page: %d %s", r.status, r.body)
	}
	if first := items[0].(map[string]any); first["name"] != "mod-0" {
		t.Errorf("first item %v, want mod-0 (creation order)", first["name"])
	}
	seen := 2
	for cursor != "" {
		r = s.do(t, req{method: "GET", path: "/tenants/acme/modules?limit=2&cursor=" + cursor, token: "manager-acme"})
		page = r.json(t)
		items, _ = page["items"].([]any)
		seen += len(items)
		cursor, _ = page["nextCursor"].(string)
	}
	if seen != 5 {
		t.Errorf("paged through %d modules, want 5", seen)
	}
	def := s.do(t, req{method: "GET", path: "/tenants/acme/modules", token: "manager-acme"}).json(t)
	if items, _ := def["items"].([]any); len(items) != 5 || def["nextCursor"] != nil {
		t.Errorf("default page: %v", def)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=abc", "cursor=forged", "cursor=" + strings.Repeat("A", 30) + ".AAAA"} {
		r := s.do(t, req{method: "GET", path: "/tenants/acme/modules?" + q, token: "manager-acme"})
		if r.status != http.StatusBadRequest || r.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s, want 400 problem", q, r.status, r.body)
		}
	}
	// a cursor of acme's list is refused on globex's
	cur := s.do(t, req{method: "GET", path: "/tenants/acme/modules?limit=1", token: "manager-acme"}).json(t)["nextCursor"].(string)
	if r := s.do(t, req{method: "GET", path: "/tenants/globex/modules?cursor=" + cur, token: "manager-globex"}); r.status != 400 {
		t.Errorf("cursor replayed on another tenant: %d, want 400", r.status)
	}
}

func TestGetModuleNotFound(t *testing.T) {
	s := newStack(t)
	for id, want := range map[string]string{
		"01kbx7m3q9b2c4d6e8f0g2h4j6": "no module with ID 01kbx7m3q9b2c4d6e8f0g2h4j6",
		"not-a-module-id":            "module IDs are 26 lowercase characters",
	} {
		r := s.do(t, req{method: "GET", path: "/tenants/acme/modules/" + id, token: "manager-acme"})
		if r.status != http.StatusNotFound || !strings.Contains(string(r.body), want) {
			t.Errorf("%s: %d %s", id, r.status, r.body)
		}
	}
}

func TestUpdateModule(t *testing.T) {
	s := newStack(t)
	id := s.create(t, "billing", "Billing")["id"].(string)
	s.create(t, "taken", "Taken")
	path := "/tenants/acme/modules/" + id
	tests := []struct {
		name, body, ifMatch, contentType string
		status                           int
		want                             string // in the body
	}{
		{"rename both", `{"name":"invoicing","displayName":"Invoicing"}`, `"1"`, "application/merge-patch+json", 200, `"name":"invoicing"`},
		{"stale If-Match", `{"enabled":false}`, `"1"`, "", 412, "has changed since you read it"},
		{"weak ETag in If-Match: matches no version", `{"enabled":false}`, `W/"2"`, "", 412, "has changed since you read it"},
		{"malformed If-Match", `{"enabled":false}`, `2`, "", 400, "If-Match"},
		{"invalid patch with a stale If-Match: the 400 wins", `{"name":"a"}`, `"1"`, "", 400, "3 to 64"},
		{"disable", `{"enabled":false}`, `"2"`, "", 200, `"enabled":false`},
		{"switch User Login on", `{"userLogin":{"enabled":true,"redirectUris":["https://app.example.com/cb","http://localhost:8080/cb"]}}`, "", "", 200, `"redirectUris":["https://app.example.com/cb","http://localhost:8080/cb"]`},
		{"edit one User Login option", `{"userLogin":{"postLogoutRedirectUris":["https://app.example.com/bye"]}}`, "", "", 200, `"redirectUris":["https://app.example.com/cb","http://localhost:8080/cb"],"postLogoutRedirectUris":["https://app.example.com/bye"]`},
		{"User Login on without URIs", `{"userLogin":{"redirectUris":null}}`, "", "", 400, "at least one redirect URI"},
		{"switch User Login off", `{"userLogin":null}`, "", "", 200, `"userLogin":{"enabled":false,"redirectUris":[],"postLogoutRedirectUris":[]}`},
		{"set scopes", `{"scopes":["a","b"]}`, "", "", 200, `"scopes":["a","b"]`},
		{"clear scopes", `{"scopes":null}`, "", "", 200, `"scopes":[]`},
		{"change the secret", `{"clientSecret":"another-secret-1234"}`, "", "", 400, "can never be changed"},
		{"change the client ID", `{"clientId":"abc"}`, "", "", 400, "can never be changed"},
		{"change the ID", `{"id":"abc"}`, "", "", 400, "can never be changed"},
		{"read-only field", `{"version":9}`, "", "", 400, "is read-only"},
		{"unknown field", `{"colour":"red"}`, "", "", 400, "is not a field of a module"},
		{"remove the name", `{"name":null}`, "", "", 400, "cannot be removed"},
		{"taken name", `{"name":"TAKEN"}`, "", "", 409, `"name":"name"`},
		{"bad name", `{"name":"a"}`, "", "", 400, "3 to 64"},
		{"not an object", `[1]`, "", "", 400, "must be a JSON object"},
		{"repeated member", `{"enabled":true,"enabled":false}`, "", "", 400, "appears more than once"},
		{"member name in another case", `{"Enabled":false}`, "", "", 400, `"name":"Enabled"`},
		{"name and NAME", `{"name":"alpha-1","NAME":"beta-2"}`, "", "", 400, `"name":"NAME"`},
		{"repeated User Login member", `{"userLogin":{"enabled":false,"enabled":true}}`, "", "", 400, `"name":"userLogin.enabled"`},
		{"null body", `null`, "", "", 400, "must be a JSON object"},
		{"wrong content type", `{"enabled":true}`, "", "text/plain", 415, "merge-patch+json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			if tt.ifMatch != "" {
				h["If-Match"] = tt.ifMatch
			}
			if tt.contentType != "" {
				h["Content-Type"] = tt.contentType
			}
			before := s.do(t, req{method: "GET", path: path, token: "manager-acme"})
			r := s.do(t, req{method: "PATCH", path: path, token: "manager-acme", body: tt.body, header: h})
			if r.status != tt.status || !strings.Contains(string(r.body), tt.want) {
				t.Fatalf("status %d body %s; want %d containing %s", r.status, r.body, tt.status, tt.want)
			}
			after := s.do(t, req{method: "GET", path: path, token: "manager-acme"})
			if r.status == 200 && r.header.Get("ETag") != after.header.Get("ETag") {
				t.Errorf("ETag %s, want the new version's %s", r.header.Get("ETag"), after.header.Get("ETag"))
			}
			if r.status != 200 && string(before.body) != string(after.body) {
				t.Errorf("a refused update changed the module:\n%s\n%s", before.body, after.body)
			}
		})
	}
}

func TestDeleteModule(t *testing.T) {
	s := newStack(t)
	id := s.create(t, "billing", "Billing")["id"].(string)
	path := "/tenants/acme/modules/" + id
	if r := s.do(t, req{method: "DELETE", path: path, token: "manager-acme", header: map[string]string{"If-Match": `"5"`}}); r.status != 412 {
		t.Errorf("stale delete: %d", r.status)
	}
	if r := s.do(t, req{method: "DELETE", path: path, token: "manager-acme", header: map[string]string{"If-Match": `"1"`}}); r.status != 204 || len(r.body) != 0 {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	if r := s.do(t, req{method: "GET", path: path, token: "manager-acme"}); r.status != 404 {
		t.Errorf("get after delete: %d", r.status)
	}
	if r := s.do(t, req{method: "DELETE", path: path, token: "manager-acme"}); r.status != 404 {
		t.Errorf("delete twice: %d", r.status)
	}
	s.create(t, "billing", "Billing") // names freed
}

func TestIdempotencyKey(t *testing.T) {
	s := newStack(t)
	body := `{"name":"billing","displayName":"Billing","clientSecret":"` + secret + `"}`
	key := map[string]string{"Idempotency-Key": "3f1c-retry"}
	first := s.do(t, req{method: "POST", path: "/tenants/acme/modules", token: "manager-acme", body: body, header: key})
	again := s.do(t, req{method: "POST", path: "/tenants/acme/modules", token: "manager-acme", body: body, header: key})
	if first.status != 201 || again.status != 201 {
		t.Fatalf("create %d %s, retry %d %s; want 201 both", first.status, first.body, again.status, again.body)
	}
	if first.json(t)["id"] != again.json(t)["id"] || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry: id %v (first %v), Idempotent-Replayed %q; want the same module, replayed true", again.json(t)["id"], first.json(t)["id"], again.header.Get("Idempotent-Replayed"))
	}
	other := strings.Replace(body, "Billing", "Billing 2", 1)
	if r := s.do(t, req{method: "POST", path: "/tenants/acme/modules", token: "manager-acme", body: other, header: key}); r.status != 422 {
		t.Errorf("same key, other body: %d %s", r.status, r.body)
	}
	long := map[string]string{"Idempotency-Key": strings.Repeat("k", 256)}
	if r := s.do(t, req{method: "POST", path: "/tenants/acme/modules", token: "manager-acme", body: other, header: long}); r.status != 400 {
		t.Errorf("overlong key: %d %s", r.status, r.body)
	}
	if items := s.do(t, req{method: "GET", path: "/tenants/acme/modules", token: "manager-acme"}).json(t)["items"].([]any); len(items) != 1 {
		t.Errorf("%d modules, want 1", len(items))
	}
}

func TestConcurrentCreatesOverHTTP(t *testing.T) {
	s := newStack(t)
	statuses := make(chan int, 50)
	for i := range 50 {
		go func() {
			name := []string{"Billing", "billing", " BILLING"}[i%3]
			statuses <- s.do(t, req{method: "POST", path: "/tenants/acme/modules", token: "manager-acme",
				body: fmt.Sprintf(`{"name":%q,"displayName":"D %d","clientSecret":"%s"}`, name, i, secret)}).status
		}()
	}
	count := map[int]int{}
	for range 50 {
		count[<-statuses]++
	}
	if count[201] != 1 || count[409] != 49 {
		t.Errorf("statuses %v, want one 201 and 49 409", count)
	}
}
