package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestSecretNeverLeaks runs every route, on good and bad input, with a known
// secret, and scans every response and every log line for it: it may appear
// only in the create responses. (A manager who renames a module to its own
// secret publishes it; update-module cannot see the hash to refuse that, by
// design, so that case is not the service's leak and is not run here.)
func TestSecretNeverLeaks(t *testing.T) {
	s := newStack(t)
	created := s.create(t, "billing", "Billing")
	id := created["id"].(string)
	path := "/tenants/acme/modules/" + id
	withSecret := func(extra string) string {
		return `{"name":"other","displayName":"Other","clientSecret":"` + secret + `"` + extra + `}`
	}
	var responses []resp
	for _, q := range []req{
		{method: "POST", path: "/tenants/acme/modules", token: "manager-acme", body: `{"name":"billing","displayName":"Again","clientSecret":"` + secret + `"}`}, // 409
		{method: "POST", path: "/tenants/acme/modules", token: "manager-acme", body: withSecret(`,"bogus":1`)},                                                   // unknown field
		{method: "POST", path: "/tenants/acme/modules", token: "manager-acme", body: withSecret(`,"scopes":"x"`)},                                                // wrong type
		{method: "POST", path: "/tenants/acme/modules", token: "manager-acme", body: `{"clientSecret":"` + secret + `" "x"}`},                                    // syntax error
		{method: "POST", path: "/tenants/acme/modules", token: "manager-acme", body: `{"name":"` + secret + `","displayName":"X","clientSecret":"` + secret + `"}`},
		{method: "POST", path: "/tenants/acme/modules", token: "manager-globex", body: withSecret("")}, // 403
		{method: "POST", path: "/tenants/acme/modules", body: withSecret("")},                          // 401
		{method: "POST", path: "/tenants/acme/modules", token: "manager-acme", body: withSecret(""), header: map[string]string{"Content-Type": "text/plain"}},
		{method: "GET", path: "/tenants/acme/modules", token: "manager-acme"},
		{method: "GET", path: path, token: "manager-acme"},
		{method: "GET", path: "/tenants/acme/modules?cursor=" + secret, token: "manager-acme"},
		{method: "PATCH", path: path, token: "manager-acme", body: `{"clientSecret":"` + secret + `"}`},
		{method: "PATCH", path: path, token: "manager-acme", body: `{"displayName":"Billing 2"}`},
		{method: "DELETE", path: path, token: "manager-acme"},
		{method: "GET", path: "/tenants/acme/events", token: "manager-acme"}, // the audit trail of all the above
		{method: "GET", path: path + "/events?since=" + secret, token: "manager-acme"},
		{method: "GET", path: "/tenants/acme/events?moduleId=" + id, token: "manager-acme"},
	} {
		responses = append(responses, s.do(t, q))
	}
	for i, r := range responses {
		if strings.Contains(string(r.body), secret) || strings.Contains(r.header.Get("Location")+r.header.Get("ETag"), secret) {
			t.Errorf("response %d (%d) carries the secret: %s", i, r.status, r.body)
		}
	}
	if strings.Contains(s.logs.String(), secret) {
		t.Errorf("logs carry the secret:\n%s", s.logs.String())
	}
	if !strings.Contains(s.logs.String(), `"route":"POST /tenants/{tenantId}/modules"`) {
		t.Errorf("no access log lines captured; the scan proves nothing:\n%s", s.logs.String())
	}
	if n := strings.Count(string(responses[14].body), `"type":"module.`); responses[14].status != 200 || n < 3 {
		t.Errorf("tenant trail: %d with %d events; the scan must cover a trail with the creates, update and delete", responses[14].status, n)
	}
	if !strings.Contains(s.logs.String(), `"_aws":{`) || !strings.Contains(s.logs.String(), `"requestId":"`) {
		t.Errorf("request lines without metrics or request ID:\n%s", s.logs.String())
	}
	if created["clientSecret"] != secret {
		t.Errorf("the create response must carry the secret once")
	}
	if statuses := []int{responses[0].status, responses[6].status, responses[12].status}; statuses[0] != http.StatusConflict || statuses[1] != http.StatusUnauthorized {
		t.Errorf("statuses %v: the requests did not take the paths this test means to cover", statuses)
	}
}
