package httpapi_test

import (
	"strings"
	"testing"
)

// TestDPoPBoundAccessTokens: off unless asked for, set at create or by
// merge patch, shown, audited; not a boolean is a 400 naming it.
func TestDPoPBoundAccessTokens(t *testing.T) {
	s := newStack(t)
	r := s.do(t, req{method: "POST", path: "/tenants/acme/modules", token: "manager-acme",
		body: `{"name":"bound","displayName":"Bound","clientSecret":"` + secret + `"}`})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	m := r.json(t)
	if m["dpopBoundAccessTokens"] != false {
		t.Errorf("dpopBoundAccessTokens %v at create, want false", m["dpopBoundAccessTokens"])
	}
	path := "/tenants/acme/modules/" + m["id"].(string)
	r = s.do(t, req{method: "PATCH", path: path, token: "manager-acme", body: `{"dpopBoundAccessTokens":"yes"}`})
	if r.status != 400 || !strings.Contains(string(r.body), `"name":"dpopBoundAccessTokens"`) {
		t.Errorf("a string: %d %s, want 400 naming the member", r.status, r.body)
	}
	r = s.do(t, req{method: "PATCH", path: path, token: "manager-acme", body: `{"dpopBoundAccessTokens":true}`})
	if r.status != 200 || r.json(t)["dpopBoundAccessTokens"] != true {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	if got := s.do(t, req{method: "GET", path: path, token: "manager-acme"}).json(t)["dpopBoundAccessTokens"]; got != true {
		t.Errorf("read back %v, want true", got)
	}
	events := s.do(t, req{method: "GET", path: path + "/events", token: "manager-acme"}).json(t)["items"].([]any)
	change, _ := events[0].(map[string]any)["changes"].(map[string]any)["dpopBoundAccessTokens"].(map[string]any)
	if change["from"] != false || change["to"] != true {
		t.Errorf("the event's change %v, want false to true", change)
	}

	r = s.do(t, req{method: "POST", path: "/tenants/acme/modules", token: "manager-acme",
		body: `{"name":"bound-at-create","displayName":"Bound at create","clientSecret":"` + secret + `","dpopBoundAccessTokens":true}`})
	if r.status != 201 || r.json(t)["dpopBoundAccessTokens"] != true {
		t.Errorf("create bound: %d %s", r.status, r.body)
	}
}
