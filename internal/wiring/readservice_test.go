package wiring

import (
	"testing"

	"github.com/modules-service/modules/internal/config"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// TestReadServiceServesItsFunctions: list-modules and update-module run
// on ReadService, which holds only the storage roles their flows use (and
// no secret store): every route of theirs works on it, and it holds none
// of the roles they must not use.
func TestReadServiceServesItsFunctions(t *testing.T) {
	b := testenv.Embedded(t)
	ctx := t.Context()
	e := Env{Config: config.Config{Table: b.Table, SecretPrefix: b.SecretPrefix}, DynamoDB: b.DB}
	full := e.Service()
	full.Secrets, full.Hasher = b.Secrets, testenv.FastHasher
	c, err := full.CreateManager(ctx, "acme", "", "")
	if err != nil {
		t.Fatal(err)
	}
	svc := e.ReadService()
	if svc.Secrets != nil || svc.Hasher != nil || svc.Pending != nil || svc.Idempotency != nil || svc.Migration != nil {
		t.Errorf("ReadService holds more than its functions use: %+v", svc.Stores)
	}
	if err := svc.Warm(ctx); err != nil { // list-modules' start
		t.Fatal(err)
	}
	for _, q := range []module.ListQuery{{Limit: 5}, {Limit: 5, Sort: module.SortDisplayName}, {Limit: 5, Q: "tenant"}} {
		if p, err := svc.List(ctx, "acme", q); err != nil || len(p.Items) != 1 {
			t.Errorf("list %+v = %v, %v; want the manager", q, p.Items, err)
		}
	}
	if _, err := svc.Get(ctx, "acme", c.Module.ID); err != nil {
		t.Errorf("get: %v", err)
	}
	if _, err := svc.Events(ctx, "acme", module.EventQuery{Limit: 5}); err != nil {
		t.Errorf("events: %v", err)
	}
	if _, err := svc.Update(ctx, "acme", c.Module.ID, module.Patch{"displayName": []byte(`"Managers"`)}, 0); err != nil {
		t.Errorf("update: %v", err)
	}
	if _, err := svc.Update(ctx, "acme", c.Module.ID, module.Patch{"enabled": []byte("false")}, 0); err == nil {
		t.Error("update disabled the last manager") // the check ran, on the roles it has
	}
}
