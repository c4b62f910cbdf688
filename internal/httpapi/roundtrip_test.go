package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestSendBackWhatYouRead: a client may PATCH the module it just read,
// read-only members included: unchanged values are no change (200, same
// version); a changed read-only value is 400 naming it; a weak ETag in
// If-Match matches no version (RFC 9110 §13.1.1): 412, not 400.
func TestSendBackWhatYouRead(t *testing.T) {
	s := newStack(t)
	m := s.create(t, "billing", "Billing")
	path := "/tenants/acme/modules/" + m["id"].(string)
	read := s.do(t, req{method: "GET", path: path, token: "manager-acme"})
	if read.status != 200 {
		t.Fatal(read.status)
	}
	back := s.do(t, req{method: "PATCH", path: path, token: "manager-acme", body: string(read.body), header: map[string]string{"If-Match": `"1"`}})
	if back.status != 200 || back.header.Get("ETag") != `"1"` {
		t.Errorf("the module as read, sent back: %d %s, ETag %s; want 200 and version 1 unchanged", back.status, back.body, back.header.Get("ETag"))
	}
	// lastUsedAt moves outside the version: an older value sent back is no change.
	withOldUse := strings.Replace(string(read.body), `"version":1`, `"version":1,"lastUsedAt":"2020-01-01T00:00:00Z"`, 1)
	if withOldUse == string(read.body) {
		t.Fatalf("the read module has no \"version\":1 to put lastUsedAt after: %s", read.body)
	}
	if r := s.do(t, req{method: "PATCH", path: path, token: "manager-acme", body: withOldUse}); r.status != 200 || r.header.Get("ETag") != `"1"` {
		t.Errorf("the module as read with an older lastUsedAt: %d %s; want 200, version 1 unchanged", r.status, r.body)
	}
	if r := s.do(t, req{method: "PATCH", path: path, token: "manager-acme", body: `{"lastUsedAt":5}`}); r.status != 400 || !strings.Contains(string(r.body), `"name":"lastUsedAt"`) {
		t.Errorf("lastUsedAt of the wrong type: %d %s; want 400 naming it", r.status, r.body)
	}
	renamed := strings.Replace(string(read.body), `"name":"billing"`, `"name":"invoicing"`, 1)
	if r := s.do(t, req{method: "PATCH", path: path, token: "manager-acme", body: renamed}); r.status != 200 || r.json(t)["version"] != 2.0 {
		t.Errorf("the module as read with a new name: %d %s; want 200, version 2", r.status, r.body)
	}
	for _, tc := range []struct{ name, body, field string }{
		{"another version", `{"version":7}`, "version"},
		{"another creation time", `{"createdAt":"2020-01-01T00:00:00Z"}`, "createdAt"},
		{"another client ID", `{"clientId":"xxxxxxxxxxxxxxxx"}`, "clientId"},
		{"manager when it is none", `{"manager":true}`, "manager"},
		{"a secret", `{"clientSecret":"` + secret + `"}`, "clientSecret"},
	} {
		r := s.do(t, req{method: "PATCH", path: path, token: "manager-acme", body: tc.body})
		if r.status != 400 || !strings.Contains(string(r.body), `"name":"`+tc.field+`"`) {
			t.Errorf("%s: %d %s; want 400 naming %s", tc.name, r.status, r.body, tc.field)
		}
	}
	if r := s.do(t, req{method: "PATCH", path: path, token: "manager-acme", body: `{"enabled":false}`, header: map[string]string{"If-Match": `W/"2"`}}); r.status != http.StatusPreconditionFailed {
		t.Errorf("weak ETag in If-Match: %d %s; want 412", r.status, r.body)
	}
	if r := s.do(t, req{method: "DELETE", path: path, token: "manager-acme", header: map[string]string{"If-Match": `W/"2"`}}); r.status != http.StatusPreconditionFailed {
		t.Errorf("weak ETag on delete: %d; want 412", r.status)
	}
}
