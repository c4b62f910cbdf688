package module_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/testing/testenv"
)

const secret = "s3cret-Value-for-tests"

func input(name, display string) module.CreateInput {
	return module.CreateInput{Name: name, DisplayName: display, ClientSecret: secret}
}

func mustCreate(t *testing.T, svc *module.Service, tenant, name, display string) module.Module {
	t.Helper()
	c, _, err := svc.Create(context.Background(), tenant, input(name, display), "")
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return c.Module
}

// conflictField returns the first field a conflict names, or "".
func conflictField(err error) string {
	de, ok := errors.AsType[*derrors.Error](err)
	if !ok || !errors.Is(err, derrors.ErrConflict) || len(de.Fields) == 0 {
		return ""
	}
	return de.Fields[0].Name
}

func TestCreateGetListContract(t *testing.T) {
	testenv.AllWithService(t, func(t *testing.T, ctx context.Context, svc *module.Service, b testenv.Backend) {
		c, replayed, err := svc.Create(ctx, "acme", module.CreateInput{
			Name: " billing ", DisplayName: "Billing", ClientSecret: secret, Scopes: []string{"orders.read"},
		}, "")
		if err != nil || replayed {
			t.Fatalf("Create = %v, replayed %v", err, replayed)
		}
		want := c
		want.Name, want.ClientSecret, want.Enabled, want.Version, want.UserLogin.Enabled = "billing", secret, true, 1, false
		if diff := cmp.Diff(want, c); diff != "" {
			t.Errorf("created (-want +got; trimmed name, the secret once, User Login off):\n%s", diff)
		}
		if len(c.ClientID) != 26 || c.ClientID == c.ID {
			t.Errorf("client ID %q: want 26 base32 characters, distinct from the module ID", c.ClientID)
		}
		got, err := svc.Get(ctx, "acme", c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c.Module, got); diff != "" {
			t.Errorf("Get (-created +got):\n%s", diff)
		}
		if _, err := svc.Get(ctx, "globex", c.ID); !errors.Is(err, derrors.ErrNotFound) {
			t.Errorf("Get from another tenant: %v, want ErrNotFound", err)
		}
		hashes, _ := b.Secrets.List(ctx, b.SecretPrefix+"/")
		if len(hashes) != 1 || hashes[0].Name != b.SecretPrefix+"/acme/"+c.ClientID ||
			hashes[0].Tags[module.TagTenant] != "acme" || hashes[0].Tags[module.TagModule] != c.ID {
			t.Errorf("secret hashes = %+v, want one named <prefix>/acme/<clientId> tagged with tenant and module", hashes)
		}
	})
}

func TestNamesAreUniquePerTenantAndKind(t *testing.T) {
	testenv.AllWithService(t, func(t *testing.T, ctx context.Context, svc *module.Service, b testenv.Backend) {
		mustCreate(t, svc, "acme", "Billing", "Billing Service")
		tests := []struct {
			name, tenant, mname, display, field string
		}{
			{"folded-equal name", "acme", "billing ", "Other", "name"},
			{"folded-equal display name", "acme", "other", " billing service", "displayName"},
			{"both taken", "acme", "BILLING", "BILLING SERVICE", "name"},
			{"a name may equal another module's display name", "acme", "Billing.Service", "Billing", ""},
			{"same names in another tenant", "globex", "billing", "Billing Service", ""},
			{"name equal to own display name", "acme", "reports", "Reports", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, _, err := svc.Create(ctx, tt.tenant, input(tt.mname, tt.display), "")
				if got := conflictField(err); got != tt.field || (tt.field == "" && err != nil) {
					t.Errorf("Create = %v (field %q), want conflict on %q", err, got, tt.field)
				}
			})
		}
		// a refused create leaves no hash behind
		hashes, _ := b.Secrets.List(ctx, b.SecretPrefix+"/")
		if len(hashes) != 4 {
			t.Errorf("%d secret hashes, want 4 (one per created module)", len(hashes))
		}
	})
}

func TestListPagesThroughEveryModuleOnce(t *testing.T) {
	testenv.AllWithService(t, func(t *testing.T, ctx context.Context, svc *module.Service, b testenv.Backend) {
		want := map[string]bool{}
		for i := range 7 {
			want[mustCreate(t, svc, "acme", fmt.Sprintf("mod-%02d", i), fmt.Sprintf("Module %d", i)).ID] = true
		}
		mustCreate(t, svc, "globex", "mod-00", "Module 0")
		seen := map[string]bool{}
		cursor, pages := "", 0
		for {
			page, err := svc.List(ctx, "acme", module.ListQuery{Cursor: cursor, Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, m := range page.Items {
				if seen[m.ID] {
					t.Errorf("module %s listed twice", m.ID)
				}
				seen[m.ID] = true
			}
			if pages == 1 { // created while paging: appears at the end, once
				id := mustCreate(t, svc, "acme", "late", "Late").ID
				want[id] = true
			}
			if page.NextCursor == "" {
				break
			}
			if _, err := svc.List(ctx, "globex", module.ListQuery{Cursor: page.NextCursor, Limit: 3}); !errors.Is(err, derrors.ErrInvalid) {
				t.Errorf("cursor replayed on another tenant: %v, want ErrInvalid", err)
			}
			cursor = page.NextCursor
		}
		if len(seen) != len(want) || pages != 3 {
			t.Errorf("listed %d modules in %d pages, want %d in 3", len(seen), pages, len(want))
		}
		for _, limit := range []int{0, 101, -1} {
			if _, err := svc.List(ctx, "acme", module.ListQuery{Cursor: "", Limit: limit}); !errors.Is(err, derrors.ErrInvalid) {
				t.Errorf("List limit %d: %v, want ErrInvalid", limit, err)
			}
		}
	})
}

func TestRenameFreesOldNameAndTakesNew(t *testing.T) {
	testenv.AllWithService(t, func(t *testing.T, ctx context.Context, svc *module.Service, b testenv.Backend) {
		a := mustCreate(t, svc, "acme", "alpha", "Alpha")
		mustCreate(t, svc, "acme", "gamma", "Gamma")
		m, err := svc.Update(ctx, "acme", a.ID, module.Patch{"name": []byte(`"beta"`), "displayName": []byte(`"Beta"`)}, a.Version)
		if err != nil || m.Name != "beta" || m.Version != 2 {
			t.Fatalf("rename = %+v, %v", m, err)
		}
		if _, _, err := svc.Create(ctx, "acme", input("BETA", "other"), ""); conflictField(err) != "name" {
			t.Errorf("create with the new name: %v, want conflict on name", err)
		}
		mustCreate(t, svc, "acme", "Alpha", "ALPHA") // the old names are free
		if _, err := svc.Update(ctx, "acme", a.ID, module.Patch{"name": []byte(`"Gamma"`)}, 0); conflictField(err) != "name" {
			t.Errorf("rename onto a taken name: %v, want conflict on name", err)
		}
		if _, err := svc.Update(ctx, "acme", a.ID, module.Patch{"enabled": []byte(`false`)}, 1); !errors.Is(err, derrors.ErrPreconditionFailed) {
			t.Errorf("update with a stale version: %v, want ErrPreconditionFailed", err)
		}
		// a case-only rename keeps its own guard
		if m, err := svc.Update(ctx, "acme", a.ID, module.Patch{"name": []byte(`"BETA"`)}, 0); err != nil || m.Name != "BETA" {
			t.Errorf("case-only rename = %+v, %v", m, err)
		}
	})
}

func TestDeleteFreesNamesAndHash(t *testing.T) {
	testenv.AllWithService(t, func(t *testing.T, ctx context.Context, svc *module.Service, b testenv.Backend) {
		m := mustCreate(t, svc, "acme", "alpha", "Alpha")
		if err := svc.Delete(ctx, "acme", m.ID, 7); !errors.Is(err, derrors.ErrPreconditionFailed) {
			t.Errorf("delete with a stale version: %v", err)
		}
		if err := svc.Delete(ctx, "acme", m.ID, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Get(ctx, "acme", m.ID); !errors.Is(err, derrors.ErrNotFound) {
			t.Errorf("get after delete: %v", err)
		}
		if err := svc.Delete(ctx, "acme", m.ID, 0); !errors.Is(err, derrors.ErrNotFound) {
			t.Errorf("second delete: %v, want ErrNotFound", err)
		}
		if hashes, _ := b.Secrets.List(ctx, b.SecretPrefix+"/"); len(hashes) != 0 {
			t.Errorf("hashes after delete: %+v", hashes)
		}
		mustCreate(t, svc, "acme", "ALPHA", "alpha")
	})
}

func TestIdempotentCreate(t *testing.T) {
	testenv.AllWithService(t, func(t *testing.T, ctx context.Context, svc *module.Service, b testenv.Backend) {
		first, replayed, err := svc.Create(ctx, "acme", input("alpha", "Alpha"), "key-1")
		if err != nil || replayed {
			t.Fatalf("first create: %v %v", err, replayed)
		}
		again, replayed, err := svc.Create(ctx, "acme", input(" alpha", "Alpha "), "key-1")
		if err != nil || !replayed {
			t.Errorf("retry: replayed %v, %v; want a replay", replayed, err)
		} else if diff := cmp.Diff(first.Module, again.Module); diff != "" {
			t.Errorf("retry (-first +again):\n%s", diff)
		}
		other := input("alpha", "Alpha")
		other.ClientSecret = "another-secret-value"
		if _, _, err := svc.Create(ctx, "acme", other, "key-1"); !errors.Is(err, derrors.ErrUnprocessable) {
			t.Errorf("same key, other secret: %v, want ErrUnprocessable", err)
		}
		if _, _, err := svc.Create(ctx, "globex", input("alpha", "Alpha"), "key-1"); err != nil {
			t.Errorf("same key in another tenant is another key: %v", err)
		}
		page, _ := svc.List(ctx, "acme", module.ListQuery{Cursor: "", Limit: 10})
		if hashes, _ := b.Secrets.List(ctx, b.SecretPrefix+"/acme/"); len(page.Items) != 1 || len(hashes) != 1 {
			t.Errorf("%d modules and %d hashes in acme, want 1 and 1", len(page.Items), len(hashes))
		}
	})
}

// TestConcurrentCreatesOneWins: 50 parallel creates with folded-equal names
// give exactly one module and 49 conflicts.
func TestConcurrentCreatesOneWins(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		svc := b.Service()
		names := []string{"Billing", "billing", "BILLING ", " billing", "bILLING"}
		var wg sync.WaitGroup
		errs := make([]error, 50)
		for i := range errs {
			wg.Go(func() {
				_, _, errs[i] = svc.Create(context.Background(), "acme", input(names[i%len(names)], fmt.Sprintf("Display %d", i)), "")
			})
		}
		wg.Wait()
		created, conflicts := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				created++
			case conflictField(err) == "name":
				conflicts++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if created != 1 || conflicts != 49 {
			t.Errorf("%d created, %d conflicts; want 1 and 49", created, conflicts)
		}
		assertConsistent(t, b, "acme", 1)
	})
}

// TestRenamesRaceCreates: renames onto a name race creates of it; exactly one
// holder wins and every name guard points at a module that holds the name.
func TestRenamesRaceCreates(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		svc := b.Service()
		var movers []module.Module
		for i := range 10 {
			movers = append(movers, mustCreate(t, svc, "acme", fmt.Sprintf("mover-%d", i), fmt.Sprintf("Mover %d", i)))
		}
		var wg sync.WaitGroup
		errs := make([]error, 40)
		for i := range errs {
			wg.Go(func() {
				ctx := context.Background()
				if i < len(movers) {
					_, errs[i] = svc.Update(ctx, "acme", movers[i].ID, module.Patch{"name": []byte(`"Target"`)}, 0)
				} else {
					_, _, errs[i] = svc.Create(ctx, "acme", input("target", fmt.Sprintf("New %d", i)), "")
				}
			})
		}
		wg.Wait()
		wins, created := 0, 0
		for i, err := range errs {
			switch {
			case err == nil:
				wins++
				if i >= len(movers) {
					created++
				}
			case conflictField(err) != "name":
				t.Errorf("unexpected error: %v", err)
			}
		}
		if wins != 1 {
			t.Errorf("%d requests got the name, want 1", wins)
		}
		assertConsistent(t, b, "acme", len(movers)+created)
		page, _ := svc.List(context.Background(), "acme", module.ListQuery{Limit: module.MaxLimit})
		holders := 0
		for _, m := range page.Items {
			if module.UniqueKey(m.Name) == "target" {
				holders++
			}
		}
		if holders != 1 {
			t.Errorf("%d modules are named target, want 1", holders)
		}
	})
}

// assertConsistent checks the invariants: every module has exactly its two
// name guards and one hash, and no folded name is held twice.
func assertConsistent(t *testing.T, b testenv.Backend, tenant string, want int) {
	t.Helper()
	ctx := context.Background()
	page, err := b.Service().List(ctx, tenant, module.ListQuery{Cursor: "", Limit: module.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != want {
		t.Errorf("%d modules, want %d", len(page.Items), want)
	}
	names, displays := map[string]bool{}, map[string]bool{}
	for _, m := range page.Items {
		if names[module.UniqueKey(m.Name)] || displays[module.UniqueKey(m.DisplayName)] {
			t.Errorf("name of %+v held twice", m)
		}
		names[module.UniqueKey(m.Name)], displays[module.UniqueKey(m.DisplayName)] = true, true
	}
	hashes, _ := b.Secrets.List(ctx, b.SecretPrefix+"/"+tenant+"/")
	if len(hashes) != want {
		t.Errorf("%d hashes, want %d", len(hashes), want)
	}
}
