package module_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// widest is a letter whose UniqueKey is the longest there is: NFKC turns
// U+FDFA into 18 characters (33 bytes of UTF-8).
const widest = "\uFDFA"

// worstInput is the largest create the rules accept: names of the
// widest-folding letter at their maximum lengths, every redirect URI and
// scope at its maximum count and length. tail makes display names differ
// only past their first 3,000 bytes of UniqueKey.
func worstInput(tail string) module.CreateInput {
	uris := func(path string) []string {
		var out []string
		for i := range module.MaxRedirectURIs {
			u := fmt.Sprintf("https://app.example.com/%s/%02d/", path, i)
			out = append(out, u+strings.Repeat("a", module.MaxURILength-len(u)))
		}
		return out
	}
	var scopes []string
	for i := range module.MaxScopes {
		s := fmt.Sprintf("scope.%02d.", i)
		scopes = append(scopes, s+strings.Repeat("x", module.MaxScopeLength-len(s)))
	}
	return module.CreateInput{
		Name:         strings.Repeat(widest, module.NameMax-1) + tail,
		DisplayName:  strings.Repeat(widest, module.DisplayNameMax-1) + tail,
		ClientSecret: secret,
		UserLogin:    &module.UserLogin{Enabled: true, RedirectURIs: uris("cb"), PostLogoutRedirectURIs: uris("bye")},
		Scopes:       scopes,
	}
}

// TestWorstInputsFitDynamoDB: for the largest inputs the rules accept, the
// dry run and the create agree, and every key and item written or read
// stays within DynamoDB's limits (testenv refuses any request beyond
// them, as DynamoDB does; minidyn and moto would not). Searches longer
// than a hashed guard's readable head still find exactly their modules.
func TestWorstInputsFitDynamoDB(t *testing.T) {
	testenv.AllWithService(t, func(t *testing.T, ctx context.Context, svc *module.Service, b testenv.Backend) {
		in := worstInput("a")
		if n := len(module.UniqueKey(in.DisplayName)); n < 2500 {
			t.Fatalf("UniqueKey of the display name is %d bytes: not the worst case this test means", n)
		}
		if _, err := svc.Validate(ctx, "acme", in); err != nil {
			t.Fatalf("dry run: %v", err)
		}
		c, _, err := svc.Create(ctx, "acme", in, strings.Repeat("k", module.MaxIdempotencyKey))
		if err != nil {
			t.Fatalf("create after a dry run that passed: %v", err)
		}
		if _, err := svc.Validate(ctx, "acme", in); conflictField(err) != "name" {
			t.Errorf("dry run of the same names: %v, want a conflict on name", err)
		}
		// a look-alike differing only at the end: its own guards
		other, _, err := svc.Create(ctx, "acme", worstInput("b"), "")
		if err != nil {
			t.Fatalf("create of names differing only at their end: %v", err)
		}
		if _, _, err := svc.Create(ctx, "acme", worstInput("A"), ""); conflictField(err) != "name" {
			t.Errorf("create of a case variant: %v, want a conflict on name", err)
		}
		for _, tt := range []struct {
			name, q string
			want    []string
		}{
			{"the whole display name", in.DisplayName, []string{c.ID}},
			{"the whole name", in.Name, []string{c.ID}},
			{"the other's display name", worstInput("b").DisplayName, []string{other.ID}},
			{"a prefix both share", strings.Repeat(widest, 50), []string{c.ID, other.ID}},
			{"a prefix longer than the readable head", strings.Repeat(widest, 90), []string{c.ID, other.ID}},
			{"a longer one neither has", strings.Repeat(widest, 99) + "z", nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				page, err := svc.List(ctx, "acme", module.ListQuery{Q: tt.q, Limit: 10, Sort: module.SortCreated})
				if err != nil {
					t.Fatalf("search: %v", err)
				}
				var got []string
				for _, m := range page.Items {
					got = append(got, m.ID)
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("search found %v, want %v", got, tt.want)
				}
			})
		}
		for _, by := range []module.Sort{module.SortName, module.SortDisplayName} {
			page, err := svc.List(ctx, "acme", module.ListQuery{Limit: 1, Sort: by})
			if err != nil || len(page.Items) != 1 || page.NextCursor == "" {
				t.Fatalf("list by %s: %v, %v", by, page, err)
			}
			next, err := svc.List(ctx, "acme", module.ListQuery{Limit: 1, Sort: by, Cursor: page.NextCursor})
			if err != nil || len(next.Items) != 1 || next.Items[0].ID == page.Items[0].ID {
				t.Errorf("second page by %s: %v, %v; want the other module", by, next, err)
			}
		}
		renamed, err := svc.Update(ctx, "acme", c.ID, module.Patch{"displayName": []byte(fmt.Sprintf("%q", worstInput("c").DisplayName))}, 0)
		if err != nil {
			t.Fatalf("rename to another long display name: %v", err)
		}
		if _, _, err := svc.Create(ctx, "acme", module.CreateInput{Name: "fresh", DisplayName: in.DisplayName, ClientSecret: secret}, ""); err != nil {
			t.Errorf("the old display name after the rename: %v, want free", err)
		}
		if err := svc.Delete(ctx, "acme", renamed.ID, 0); err != nil {
			t.Fatalf("delete: %v", err)
		}
		if _, err := svc.Validate(ctx, "acme", worstInput("c")); err != nil {
			t.Errorf("dry run after the delete: %v, want the names free", err)
		}
	})
}
