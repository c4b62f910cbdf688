//go:build !race

// Not under the race detector: loading 100,000 modules takes a few seconds
// without it; infra/test.sh runs it on its own without -race.

package dynamo

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/module"
)

// pageReads is what one tenant's reads cost: items read by a search's
// first and third page, by the first page of a search that matches display
// names only, and by a last-manager check.
type pageReads struct{ first, third, display, check int64 }

// TestReadsBoundedByThePage: on a tenant of 10,000 and of 100,000 modules
// a search page (q matching every module, by name and by display name)
// and a last-manager check read the same number of items: what the page
// shows, not what the tenant has.
func TestReadsBoundedByThePage(t *testing.T) {
	var got []pageReads
	sizes := []int{10000, 100000}
	for _, n := range sizes {
		start := time.Now()
		r := boundedReads(t, n)
		t.Logf("%d modules: a search page reads %d items (page 1) and %d (page 3), by display name only %d; a last-manager check %d (%s)",
			n, r.first, r.third, r.display, r.check, time.Since(start).Round(time.Second))
		got = append(got, r)
	}
	if got[0] != got[1] {
		t.Errorf("reads at %d modules %+v, at %d %+v; want the same", sizes[0], got[0], sizes[1], got[1])
	}
	// a page of 25 reads at most 26 guards of each index and their
	// modules; a check the module and at most two manager markers
	if r := got[1]; r.first > 2*(26+25) || r.third > 2*(26+25) || r.display > 2*(26+25) || r.check > 3 {
		t.Errorf("reads %+v; want at most 102 per page of 25 and 3 per check", r)
	}
}

// boundedReads loads a tenant of n modules (the items a search and the
// manager check read) and its one manager into a sortedTable, and counts
// what a search page and a last-manager check read.
func boundedReads(t *testing.T, n int) pageReads {
	t.Helper()
	ctx := context.Background()
	db := &sortedTable{}
	put := func(v any) {
		item, err := attributevalue.MarshalMap(v)
		if err != nil {
			t.Fatal(err)
		}
		db.load(item)
	}
	created := time.Now()
	modules := func(m module.Module) {
		m.NameKey, m.DisplayKey = module.UniqueKey(m.Name), module.UniqueKey(m.DisplayName)
		m.CreatedAt, m.UpdatedAt, m.Version = created, created, 1
		put(toItem(m))
		put(guardItem{tenantPK("big"), nameSK(m.NameKey), m.ID})
		put(guardItem{tenantPK("big"), displaySK(m.DisplayKey), m.ID})
	}
	for i := range n {
		// "mod-000042" and "Mod 000042": both start with "mod", so a
		// search for it meets every module twice
		modules(module.Module{ID: fmt.Sprintf("01a%023d", i), TenantID: "big", ClientID: fmt.Sprintf("client%020d", i),
			Name: fmt.Sprintf("mod-%06d", i), DisplayName: fmt.Sprintf("Mod %06d", i), Scopes: []string{}, Enabled: true})
	}
	// the tenant's one manager, last in ID order, with its marker (as
	// Create writes it)
	manager := module.Module{ID: "01zzzzzzzzzzzzzzzzzzzzzzzz", TenantID: "big", ClientID: "managerclient", Name: "tenant-manager",
		DisplayName: "Tenant manager", Scopes: []string{module.ScopeManage}, Enabled: true}
	modules(manager)
	put(guardItem{tenantPK("big"), "MANAGER#" + manager.ID, manager.ID})
	db.sortKeys()
	count := &counting{StoreAPI: db}
	svc := &module.Service{Stores: module.StoresOf(&Store{DB: count, Table: "modules"})}
	if _, err := svc.List(ctx, "big", module.ListQuery{Limit: 1}); err != nil { // reads the cursor key, once per instance
		t.Fatal(err)
	}
	var r pageReads
	q := module.ListQuery{Limit: 25, Q: "mod", Sort: module.SortName}
	seen := map[string]bool{}
	for page := 1; page <= 3; page++ {
		count.items.Store(0)
		p, err := svc.List(ctx, "big", q)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != 25 || p.NextCursor == "" {
			t.Fatalf("search page %d: %d items, cursor %q; want 25 and a cursor", page, len(p.Items), p.NextCursor)
		}
		for _, m := range p.Items {
			if seen[m.ID] {
				t.Errorf("search page %d: %s again", page, m.Name)
			}
			seen[m.ID] = true
		}
		switch page {
		case 1:
			r.first = count.items.Load()
		case 3:
			r.third = count.items.Load()
		}
		q.Cursor = p.NextCursor
	}

	// "Mod 00…" matches the display names of modules 0 to 9,999 and no name
	count.items.Store(0)
	p, err := svc.List(ctx, "big", module.ListQuery{Limit: 25, Q: "Mod 00"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 25 || p.NextCursor == "" {
		t.Fatalf("search by display name: %d items, cursor %q; want 25 and a cursor", len(p.Items), p.NextCursor)
	}
	r.display = count.items.Load()

	count.items.Store(0)
	if _, err := svc.Update(ctx, "big", manager.ID, module.Patch{"enabled": []byte("false")}, 0); !errors.Is(err, derrors.ErrConflict) {
		t.Fatalf("disabling the only manager: %v, want a conflict", err)
	}
	r.check = count.items.Load()
	return r
}
