package module_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/testing/testenv"
)

func createManager(t *testing.T, svc *module.Service, tenant, name string) module.Module {
	t.Helper()
	c, _, err := svc.Create(context.Background(), tenant, module.CreateInput{Name: name, DisplayName: name, ClientSecret: secret, Scopes: []string{module.ScopeManage, "x"}}, "")
	if err != nil {
		t.Fatalf("create manager %s: %v", name, err)
	}
	return c.Module
}

// TestTheLastManagerStays: disabling, deleting or removing modules:manage
// from a tenant's last enabled manager is a 409; with another enabled
// manager it works; another tenant's managers do not count.
func TestTheLastManagerStays(t *testing.T) {
	testenv.AllWithService(t, func(t *testing.T, ctx context.Context, svc *module.Service, b testenv.Backend) {
		only := createManager(t, svc, "acme", "only-manager")
		createManager(t, svc, "globex", "globex-manager")
		mustCreate(t, svc, "acme", "plain-client", "Plain client")
		changes := map[string]func() error{
			"disable": func() error {
				_, err := svc.Update(ctx, "acme", only.ID, module.Patch{"enabled": []byte("false")}, 0)
				return err
			},
			"remove the scope": func() error {
				_, err := svc.Update(ctx, "acme", only.ID, module.Patch{"scopes": []byte(`["x"]`)}, 0)
				return err
			},
			"remove every scope": func() error {
				_, err := svc.Update(ctx, "acme", only.ID, module.Patch{"scopes": []byte("null")}, 0)
				return err
			},
			"delete":               func() error { return svc.Delete(ctx, "acme", only.ID, 0) },
			"delete with If-Match": func() error { return svc.Delete(ctx, "acme", only.ID, only.Version) },
		}
		for name, change := range changes {
			if err := change(); !errors.Is(err, derrors.ErrConflict) {
				t.Errorf("%s the last manager: %v, want a conflict", name, err)
			}
		}
		if m, err := svc.Get(ctx, "acme", only.ID); err != nil {
			t.Fatal(err)
		} else if diff := cmp.Diff(only, m); diff != "" {
			t.Fatalf("the last manager changed (-before +after):\n%s", diff)
		}
		// renaming it is fine: it stays a manager
		if _, err := svc.Update(ctx, "acme", only.ID, module.Patch{"name": []byte(`"still-manager"`)}, 0); err != nil {
			t.Errorf("rename of the last manager: %v", err)
		}
		// with a second enabled manager, the first may go
		second := createManager(t, svc, "acme", "second-manager")
		if _, err := svc.Update(ctx, "acme", only.ID, module.Patch{"enabled": []byte("false")}, 0); err != nil {
			t.Fatalf("disable with another manager: %v", err)
		}
		// a disabled manager does not count: now second is the last one
		if err := svc.Delete(ctx, "acme", second.ID, 0); !errors.Is(err, derrors.ErrConflict) {
			t.Errorf("delete of the last enabled manager (the other is disabled): %v, want a conflict", err)
		}
		if err := svc.Delete(ctx, "acme", only.ID, 0); err != nil {
			t.Errorf("delete of a disabled manager: %v", err)
		}
	})
}

// TestManagersCannotRemoveEachOther: two managers disabled concurrently,
// each the other's keeper: at most one succeeds, so one stays.
func TestManagersCannotRemoveEachOther(t *testing.T) {
	testenv.AllWithService(t, func(t *testing.T, ctx context.Context, svc *module.Service, b testenv.Backend) {
		for round := range 5 {
			tenant := "race" + string(rune('a'+round))
			a, c := createManager(t, svc, tenant, "manager-a"), createManager(t, svc, tenant, "manager-b")
			var wg sync.WaitGroup
			for _, m := range []module.Module{a, c} {
				wg.Go(func() {
					_, _ = svc.Update(ctx, tenant, m.ID, module.Patch{"enabled": []byte("false")}, 0)
				})
			}
			wg.Wait()
			other, err := svc.Writes.OtherManager(ctx, tenant, "")
			if err != nil || other == "" {
				t.Fatalf("round %d: no enabled manager left (%v)", round, err)
			}
		}
	})
}

// TestRepresentationSaysManager: "manager" is derived from the scopes,
// shown in every representation (the create response too) and read-only.
func TestRepresentationSaysManager(t *testing.T) {
	ctx := context.Background()
	svc := testenv.Embedded(t).Service()
	c, _, err := svc.Create(ctx, "acme", module.CreateInput{Name: "boss", DisplayName: "Boss", ClientSecret: secret, Scopes: []string{module.ScopeManage}}, "")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	raw, _ := json.Marshal(c)
	_ = json.Unmarshal(raw, &got)
	if got["manager"] != true || got["clientSecret"] != secret || got["name"] != "boss" {
		t.Errorf("create response %s: want manager true, the secret and the module's members", raw)
	}
	plain := mustCreate(t, svc, "acme", "worker", "Worker")
	raw, _ = json.Marshal(plain)
	got = nil
	_ = json.Unmarshal(raw, &got)
	if got["manager"] != false || got["clientSecret"] != nil {
		t.Errorf("module %s: want manager false and no secret", raw)
	}
	if _, err := svc.Update(ctx, "acme", plain.ID, module.Patch{"manager": []byte("true")}, 0); !errors.Is(err, derrors.ErrInvalid) {
		t.Errorf("patching manager: %v, want invalid (read-only)", err)
	}
}
