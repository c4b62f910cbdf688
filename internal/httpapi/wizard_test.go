package httpapi_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fieldsOf returns the names in a problem's errors[].
func fieldsOf(t *testing.T, r resp) []string {
	t.Helper()
	var names []string
	errs, _ := r.json(t)["errors"].([]any)
	for _, e := range errs {
		names = append(names, e.(map[string]any)["name"].(string))
	}
	slices.Sort(names)
	return names
}

// nothingCreated checks that acme has no module and no hash.
func nothingCreated(t *testing.T, s *stack, want int) {
	t.Helper()
	page := s.do(t, req{method: "GET", path: "/tenants/acme/modules", token: "manager-acme"})
	if items, _ := page.json(t)["items"].([]any); len(items) != want {
		t.Errorf("%d modules in acme, want %d", len(items), want)
	}
	if hashes, _ := s.backend.Secrets.List(t.Context(), ""); len(hashes) != want {
		t.Errorf("%d hashes, want %d", len(hashes), want)
	}
}

// TestValidateCreate: POST /modules/validation runs every rule of a
// create, uniqueness included, and writes nothing; it answers 200 with the
// module as it would be, or byte for byte the problem a create would give.
// The retired ?dryRun on a create is refused, so an old client's check
// creates nothing.
func TestValidateCreate(t *testing.T) {
	s := newStack(t)
	const dry = "/tenants/acme/modules/validation"
	ok := s.do(t, req{method: "POST", path: dry, token: "manager-acme",
		body: `{"name":" billing ","displayName":"Billing","clientSecret":"` + secret + `","scopes":["orders.read"]}`})
	if ok.status != 200 || strings.Contains(string(ok.body), secret) || strings.Contains(string(ok.body), `"id"`) || strings.Contains(string(ok.body), "clientId") {
		t.Fatalf("dry run: %d %s; want 200 without id, clientId or secret", ok.status, ok.body)
	}
	want := map[string]any{"name": "billing", "displayName": "Billing", "enabled": true}
	if diff := cmp.Diff(want, ok.json(t), only(want)); diff != "" {
		t.Errorf("dry run body (-want +got):\n%s", diff)
	}
	if loc := ok.header.Get("Location"); loc != "" {
		t.Errorf("dry run Location %q; want none", loc)
	}
	nothingCreated(t, s, 0)

	s.create(t, "billing", "Billing")
	for _, tc := range []struct {
		body   string
		status int
		fields []string
	}{
		{`{"name":"BILLING","displayName":"Other","clientSecret":"` + secret + `"}`, 409, []string{"name"}},
		{`{"name":"bіlling","displayName":"billing","clientSecret":"` + secret + `"}`, 409, []string{"displayName", "name"}},
		{`{"name":"ab","displayName":"","clientSecret":"short"}`, 400, []string{"clientSecret", "displayName", "name"}},
		// a weak secret does not hide taken names: one 400 names all three
		{`{"name":"Billing","displayName":"BILLING","clientSecret":"short"}`, 400, []string{"clientSecret", "displayName", "name"}},
	} {
		dryRun := s.do(t, req{method: "POST", path: dry, token: "manager-acme", body: tc.body})
		real := s.do(t, req{method: "POST", path: "/tenants/acme/modules", token: "manager-acme", body: tc.body})
		if dryRun.status != tc.status || !slices.Equal(fieldsOf(t, dryRun), tc.fields) {
			t.Errorf("dry run of %s: %d %v, want %d %v", tc.body, dryRun.status, fieldsOf(t, dryRun), tc.status, tc.fields)
		}
		if real.status != dryRun.status || string(real.body) != string(dryRun.body) {
			t.Errorf("dry run and create differ:\n%d %s\n%d %s", dryRun.status, dryRun.body, real.status, real.body)
		}
	}
	nothingCreated(t, s, 1)
	for _, q := range []string{"dryRun=true", "dryRun=false", "dryrun=1", "x=1&dryRun=true"} {
		r := s.do(t, req{method: "POST", path: "/tenants/acme/modules?" + q, token: "manager-acme",
			body: `{"name":"x-y-z","displayName":"X","clientSecret":"` + secret + `"}`})
		if r.status != 400 || !strings.Contains(string(r.body), `"code":"unknown_member"`) || !strings.Contains(string(r.body), "/modules/validation") {
			t.Errorf("create ?%s: %d %s; want 400 pointing to the validation", q, r.status, r.body)
		}
	}
	nothingCreated(t, s, 1)
}

// TestEveryFaultAtOnce: one 400 names every field at fault, whether the
// JSON member is unknown or of the wrong type or the value breaks a rule;
// the same for a patch.
func TestEveryFaultAtOnce(t *testing.T) {
	s := newStack(t)
	for _, tc := range []struct {
		body   string
		fields []string
	}{
		{`{}`, []string{"clientSecret", "displayName", "name"}},
		{`{"name":"","displayName":"Billing","clientSecret":"short"}`, []string{"clientSecret", "name"}},
		{`{"name":7,"displayName":"   ","clientSecret":"` + secret + `","colour":"red"}`, []string{"colour", "displayName", "name"}},
		{`{"name":"ok-name","displayName":"OK","clientSecret":"` + secret + `","scopes":"orders","userLogin":{"enabled":true}}`, []string{"scopes", "userLogin.redirectUris"}},
	} {
		r := s.do(t, req{method: "POST", path: "/tenants/acme/modules", token: "manager-acme", body: tc.body})
		if got := fieldsOf(t, r); r.status != 400 || !slices.Equal(got, tc.fields) {
			t.Errorf("%s: %d %v, want 400 %v", tc.body, r.status, got, tc.fields)
		}
	}
	nothingCreated(t, s, 0)

	m := s.create(t, "billing", "Billing")
	patch := s.do(t, req{method: "PATCH", path: "/tenants/acme/modules/" + m["id"].(string), token: "manager-acme",
		body: `{"displayName":"","colour":"red","enabled":"yes","userLogin":{"enabled":true}}`})
	if got := fieldsOf(t, patch); patch.status != 400 || !slices.Equal(got, []string{"colour", "displayName", "enabled", "userLogin.redirectUris"}) {
		t.Errorf("patch: %d %v", patch.status, got)
	}
	// both names taken: one 409 names both
	r := s.do(t, req{method: "POST", path: "/tenants/acme/modules", token: "manager-acme",
		body: `{"name":"Billing","displayName":"BILLING","clientSecret":"` + secret + `"}`})
	if got := fieldsOf(t, r); r.status != 409 || !slices.Equal(got, []string{"displayName", "name"}) {
		t.Errorf("both taken: %d %v", r.status, got)
	}
}

// TestFindAndSortOverHTTP: q and sort through the gateway, the cursor
// kept to its own list, bad values refused naming the parameter.
func TestFindAndSortOverHTTP(t *testing.T) {
	s := newStack(t)
	for _, n := range []string{"zeta", "alpha", "Billing", "billing-sync"} {
		s.create(t, n, "Display "+n)
	}
	names := func(path string) ([]string, string) {
		r := s.do(t, req{method: "GET", path: path, token: "manager-acme"})
		if r.status != 200 {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		var got []string
		items, _ := r.json(t)["items"].([]any)
		for _, it := range items {
			got = append(got, it.(map[string]any)["name"].(string))
		}
		next, _ := r.json(t)["nextCursor"].(string)
		return got, next
	}
	if got, _ := names("/tenants/acme/modules?sort=name"); !slices.Equal(got, []string{"alpha", "Billing", "billing-sync", "zeta"}) {
		t.Errorf("sort=name: %v", got)
	}
	if got, _ := names("/tenants/acme/modules?q=BILL&sort=name"); !slices.Equal(got, []string{"Billing", "billing-sync"}) {
		t.Errorf("q=BILL: %v", got)
	}
	first, next := names("/tenants/acme/modules?sort=name&limit=2")
	second, _ := names("/tenants/acme/modules?sort=name&limit=2&cursor=" + next)
	if !slices.Equal(append(first, second...), []string{"alpha", "Billing", "billing-sync", "zeta"}) {
		t.Errorf("pages %v %v", first, second)
	}
	for _, bad := range []struct{ query, field string }{
		{"sort=size", "sort"}, {"sort=", "sort"}, {"q=" + strings.Repeat("x", 101), "q"}, {"sort=displayName&cursor=" + next, "cursor"},
	} {
		r := s.do(t, req{method: "GET", path: "/tenants/acme/modules?" + bad.query, token: "manager-acme"})
		if r.status != 400 || !slices.Contains(fieldsOf(t, r), bad.field) {
			t.Errorf("%s: %d %s, want 400 naming %s", bad.query, r.status, r.body, bad.field)
		}
	}
}
