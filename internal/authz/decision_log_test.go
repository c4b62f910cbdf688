package authz_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// TestEachDecisionIsOneLine: every decision writes one line whose outcome
// (a metric dimension) says allow or why it denied, with the tenant and
// client of an allowed token, and never the token itself.
func TestEachDecisionIsOneLine(t *testing.T) {
	f := newFixture(t)
	var buf bytes.Buffer
	f.authz.Log = slog.New(slog.NewJSONHandler(&buf, nil))
	c := f.module(t, "billing", "orders.read")
	tok := f.issue(t, c, "")
	forged := tok[:len(tok)-4] + "AAAA"
	for _, h := range []string{"Bearer " + tok, "", "Bearer not-a-jwt", "Bearer " + forged} {
		f.decide(t, h)
	}
	var got []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON line: %s", l)
		}
		got = append(got, m)
	}
	want := []string{"allow", "deny_no_token", "deny_malformed", "deny_token"}
	if len(got) != len(want) {
		t.Fatalf("%d lines for %d decisions:\n%s", len(got), len(want), buf.String())
	}
	for i, w := range want {
		if got[i]["outcome"] != w || got[i]["function"] != "authorizer" || got[i]["_aws"] == nil {
			t.Errorf("decision %d: outcome %v, function %v; want %s with metrics", i, got[i]["outcome"], got[i]["function"], w)
		}
	}
	if got[0]["tenantId"] != "acme" || got[0]["clientId"] != c.ClientID {
		t.Errorf("allowed line %v: want tenant and client", got[0])
	}
	if strings.Contains(buf.String(), tok[20:60]) {
		t.Errorf("a line quotes the token:\n%s", buf.String())
	}
}
