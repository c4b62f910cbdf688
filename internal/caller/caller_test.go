package caller_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/modules-service/modules/internal/caller"
)

// TestContextRoundTrip: what the authorizer writes, after the JSON trip
// through API Gateway, is what a function reads.
func TestContextRoundTrip(t *testing.T) {
	for _, c := range []caller.Caller{
		{TenantID: "acme", Kind: caller.Manager, ClientID: "client-1", Scopes: []string{"modules:manage", "orders.read"}},
		{TenantID: "acme", Kind: caller.Client, ClientID: "client-2", Scopes: []string{"orders.read"}, DPoPJKT: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"},
		{TenantID: "acme", Kind: caller.User, Subject: "user-7"},
	} {
		raw, _ := json.Marshal(c.Context())
		var ctx map[string]any
		_ = json.Unmarshal(raw, &ctx)
		got, ok := caller.FromContext(ctx)
		if !ok || !reflect.DeepEqual(got, c) {
			t.Errorf("round trip of %+v: %+v, %v", c, got, ok)
		}
	}
	for name, ctx := range map[string]map[string]any{
		"nil":               nil,
		"no tenant":         {"kind": "manager"},
		"unknown kind":      {"tenantId": "acme", "kind": "admin"},
		"kind not a string": {"tenantId": "acme", "kind": 1},
	} {
		if c, ok := caller.FromContext(ctx); ok {
			t.Errorf("%s: read as %+v", name, c)
		}
	}
}
