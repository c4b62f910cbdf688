package module_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// FuzzLookAlikesCannotBothBeCreated: two valid names (or display names)
// with the same UniqueKey can never both be created in one tenant.
func FuzzLookAlikesCannotBothBeCreated(f *testing.F) {
	for _, p := range [][2]string{{"billing", "bіlling"}, {"ｂｉｌｌｉｎｇ", "billing"}, {"0rders", "orders"}, {"modem", "rnodem"}, {"Straße", "strasse"}, {"alpha", "beta"}} {
		f.Add(p[0], p[1])
	}
	b := testenv.Embedded(f)
	svc := b.Service()
	n := 0
	f.Fuzz(func(t *testing.T, x, y string) {
		if module.UniqueKey(x) != module.UniqueKey(y) {
			return
		}
		n++
		tenant := fmt.Sprintf("fuzz-%d", n)
		ctx := context.Background()
		for _, field := range []string{"name", "displayName"} {
			first, second := module.CreateInput{Name: "first-" + field, DisplayName: "First " + field, ClientSecret: "Known-Secret-4711-xyz"}, module.CreateInput{Name: "second-" + field, DisplayName: "Second " + field, ClientSecret: "Known-Secret-4711-xyz"}
			if field == "name" {
				first.Name, second.Name = x, y
			} else {
				first.DisplayName, second.DisplayName = x, y
			}
			if _, _, err := svc.Create(ctx, tenant, first, ""); err != nil {
				return // not a valid name: nothing to compare
			}
			if _, _, err := svc.Create(ctx, tenant, second, ""); err == nil {
				t.Fatalf("%s %q and %q look alike (key %q) and were both created", field, x, y, module.UniqueKey(x))
			} else if !errors.Is(err, derrors.ErrConflict) && !errors.Is(err, derrors.ErrInvalid) {
				t.Fatalf("second create: %v", err)
			}
		}
	})
}
