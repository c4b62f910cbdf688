package module_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/testing/testenv"
)

func names(items []module.Module) []string {
	var out []string
	for _, m := range items {
		out = append(out, m.Name)
	}
	return out
}

// all pages through a list and returns the names in order.
func all(t *testing.T, svc *module.Service, tenant string, q module.ListQuery) []string {
	t.Helper()
	var got []string
	for pages := 0; ; pages++ {
		page, err := svc.List(context.Background(), tenant, q)
		if err != nil {
			t.Fatalf("list %+v: %v", q, err)
		}
		got = append(got, names(page.Items)...)
		if page.NextCursor == "" || pages > 50 {
			return got
		}
		q.Cursor = page.NextCursor
	}
}

// TestFindAndSort: sort by name or display name as compared for
// uniqueness, search by prefix of either, with cursors that page each
// list and fit no other.
func TestFindAndSort(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		svc := b.Service()
		for _, m := range [][2]string{
			{"zeta", "Accounts"}, {"Billing", "Zebra invoices"}, {"alpha", "Billing reports"},
			{"billing-sync", "Sync"}, {"mid", "middle"},
		} {
			mustCreate(t, svc, "acme", m[0], m[1])
		}
		mustCreate(t, svc, "globex", "billing", "Billing of globex")

		for _, tc := range []struct {
			q    module.ListQuery
			want []string
		}{
			{module.ListQuery{Limit: 2}, []string{"zeta", "Billing", "alpha", "billing-sync", "mid"}},
			{module.ListQuery{Limit: 2, Sort: module.SortName}, []string{"alpha", "Billing", "billing-sync", "mid", "zeta"}},
			{module.ListQuery{Limit: 2, Sort: module.SortDisplayName}, []string{"zeta", "alpha", "mid", "billing-sync", "Billing"}},
			// the name or the display name starts with it, folded; found
			// by name first, then by display name only, each in the order
			// of the folded name that matched, whatever the sort
			{module.ListQuery{Limit: 2, Q: "BIL", Sort: module.SortName}, []string{"Billing", "billing-sync", "alpha"}},
			{module.ListQuery{Limit: 1, Q: "bil"}, []string{"Billing", "billing-sync", "alpha"}},
			{module.ListQuery{Limit: 10, Q: "bіl", Sort: module.SortDisplayName}, []string{"Billing", "billing-sync", "alpha"}}, // Cyrillic і
			{module.ListQuery{Limit: 10, Q: "ｍｉｄ"}, []string{"mid"}},                                                            // fullwidth
			{module.ListQuery{Limit: 10, Q: "nothing"}, nil},
		} {
			if got := all(t, svc, "acme", tc.q); !slices.Equal(got, tc.want) {
				t.Errorf("%+v: %v, want %v", tc.q, got, tc.want)
			}
		}

		ctx := context.Background()
		page, err := svc.List(ctx, "acme", module.ListQuery{Limit: 2, Sort: module.SortName})
		if err != nil || page.NextCursor == "" {
			t.Fatalf("first page: %v", err)
		}
		for _, other := range []module.ListQuery{
			{Limit: 2, Cursor: page.NextCursor},                                  // another order
			{Limit: 2, Cursor: page.NextCursor, Sort: module.SortDisplayName},    // another order
			{Limit: 2, Cursor: page.NextCursor, Sort: module.SortName, Q: "bil"}, // another search
		} {
			if _, err := svc.List(ctx, "acme", other); !errors.Is(err, derrors.ErrInvalid) {
				t.Errorf("cursor of sort=name used for %+v: %v, want 400", other, err)
			}
		}
		for _, bad := range []module.ListQuery{{Limit: 2, Sort: "size"}, {Limit: 2, Q: string(make([]byte, 101))}} {
			if _, err := svc.List(ctx, "acme", bad); !errors.Is(err, derrors.ErrInvalid) {
				t.Errorf("%+v: %v, want 400", bad, err)
			}
		}
	})
}

// TestSearchShowsEachModuleOnce: a module whose name and display name both
// match is shown once, with the modules found by name, on whichever page
// size; those found by display name only follow.
func TestSearchShowsEachModuleOnce(t *testing.T) {
	svc := testenv.Embedded(t).Service()
	for _, m := range [][2]string{
		{"mod-1", "Mod 1"}, {"mod-2", "Other"}, {"xyz", "Mod 3"}, {"mod-4", "Mod 4"}, {"mod5", "mod-5"}, {"mod-6", "Mod-6"},
	} {
		mustCreate(t, svc, "acme", m[0], m[1])
	}
	// the names folded ("m" is "rn", "1" is "l"): "rnod-2", "rnod-4",
	// "rnod-6", "rnod-l", "rnod5"; then the display name of xyz, "rnod 3"
	want := []string{"mod-2", "mod-4", "mod-6", "mod-1", "mod5", "xyz"}
	for limit := 1; limit <= 7; limit++ {
		if got := all(t, svc, "acme", module.ListQuery{Limit: limit, Q: "MOD"}); !slices.Equal(got, want) {
			t.Errorf("limit %d: %v, want %v", limit, got, want)
		}
	}
}
