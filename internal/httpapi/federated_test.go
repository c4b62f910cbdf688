package httpapi_test

import (
	"strings"
	"testing"
)

// TestFederatedCredentials: a manager gives a module federated
// credentials at create, replaces and removes them by patch; each fault
// (an issuer off the operator's list, over http, an empty subject, a
// duplicate, an unknown member, too many) is a 400 naming the entry; the
// trail keeps what changed.
func TestFederatedCredentials(t *testing.T) {
	s := newStack(t)
	const gh = "https://token.actions.githubusercontent.com"
	s.svc.FederatedIssuers = []string{gh}
	cred := func(iss, sub string) string {
		return `{"issuer":"` + iss + `","subject":"` + sub + `","audience":"modules"}`
	}
	body := func(creds string) string {
		return `{"name":"deployer","displayName":"Deployer","clientSecret":"` + secret + `","tokenEndpointAuthMethods":["private_key_jwt"],"federatedCredentials":` + creds + `}`
	}
	for _, tt := range []struct{ name, creds, want string }{
		{"an issuer off the operator's list", `[` + cred("https://oidc.eks.eu-west-1.amazonaws.com/id/ABC", "system:serviceaccount:a:b") + `]`, `"name":"federatedCredentials[0].issuer","code":"invalid_value"`},
		{"http", `[` + cred("http://token.actions.githubusercontent.com", "repo:acme/x:ref:refs/heads/main") + `]`, `"name":"federatedCredentials[0].issuer","code":"not_https"`},
		{"an empty subject", `[` + cred(gh, "") + `]`, `"name":"federatedCredentials[0].subject","code":"required"`},
		{"a duplicate", `[` + cred(gh, "repo:acme/x:ref:refs/heads/main") + `,` + cred(gh, "repo:acme/x:ref:refs/heads/main") + `]`, `"name":"federatedCredentials[1]","code":"duplicate"`},
		{"an unknown member", `[{"issuer":"` + gh + `","subject":"s","audience":"a","extra":1}]`, `federatedCredentials`},
		{"six", `[` + strings.Repeat(cred(gh, "s")+`,`, 5) + cred(gh, "s") + `]`, `"code":"too_many"`},
	} {
		r := s.do(t, req{method: "POST", path: "/tenants/acme/modules", token: "manager-acme", body: body(tt.creds)})
		if r.status != 400 || !strings.Contains(string(r.body), tt.want) {
			t.Errorf("%s: %d %s, want 400 with %s", tt.name, r.status, r.body, tt.want)
		}
	}
	r := s.do(t, req{method: "POST", path: "/tenants/acme/modules", token: "manager-acme", body: body(`[` + cred(gh, "repo:acme/x:environment:prod") + `]`)})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	m := r.json(t)
	if creds, _ := m["federatedCredentials"].([]any); len(creds) != 1 || creds[0].(map[string]any)["subject"] != "repo:acme/x:environment:prod" {
		t.Errorf("federatedCredentials %v", m["federatedCredentials"])
	}
	path := "/tenants/acme/modules/" + m["id"].(string)
	r = s.do(t, req{method: "PATCH", path: path, token: "manager-acme", body: `{"federatedCredentials":null}`})
	if r.status != 400 || !strings.Contains(string(r.body), "unless federatedCredentials holds a credential") {
		t.Errorf("removing the only credential of a key-less private_key_jwt module: %d %s, want 400", r.status, r.body)
	}
	r = s.do(t, req{method: "PATCH", path: path, token: "manager-acme", body: `{"federatedCredentials":[` + cred(gh, "repo:acme/x:environment:staging") + `]}`})
	if r.status != 200 || !strings.Contains(string(r.body), "environment:staging") || strings.Contains(string(r.body), "environment:prod") {
		t.Fatalf("replacing the list: %d %s", r.status, r.body)
	}
	events := s.do(t, req{method: "GET", path: path + "/events", token: "manager-acme"}).json(t)["items"].([]any)
	change, _ := events[0].(map[string]any)["changes"].(map[string]any)["federatedCredentials"].(map[string]any)
	if to, _ := change["to"].([]any); len(to) != 1 || to[0] != gh+" repo:acme/x:environment:staging modules" {
		t.Errorf("the event's change %v: want the new credential", change)
	}
	r = s.do(t, req{method: "PATCH", path: path, token: "manager-acme", body: `{"federatedCredentials":null,"tokenEndpointAuthMethods":null}`})
	if r.status != 200 || !strings.Contains(string(r.body), `"federatedCredentials":[]`) {
		t.Errorf("removing them: %d %s", r.status, r.body)
	}
}
