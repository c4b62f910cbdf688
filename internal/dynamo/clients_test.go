package dynamo_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/testenv"
)

func TestClientPointerFollowsTheModule(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		svc := b.Service()
		c, _, err := svc.Create(ctx, "acme", module.CreateInput{Name: "billing", DisplayName: "Billing", ClientSecret: "Known-Secret-4711-xyz", Scopes: []string{"a"}}, "")
		if err != nil {
			t.Fatal(err)
		}
		clients := b.Clients()
		got, err := clients.Client(ctx, c.ClientID)
		if err != nil || got.TenantID != "acme" || got.ModuleID != c.ID || !got.Enabled || got.SecretName != c.SecretName || len(got.Scopes) != 1 {
			t.Fatalf("Client = %+v, %v", got, err)
		}
		if _, err := svc.Update(ctx, "acme", c.ID, module.Patch{"enabled": []byte("false"), "scopes": []byte(`["a","b"]`)}, 0); err != nil {
			t.Fatal(err)
		}
		if got, _ := clients.Client(ctx, c.ClientID); got.Enabled || len(got.Scopes) != 2 {
			t.Errorf("after disabling: %+v, want disabled with the new scopes", got)
		}
		if err := svc.Delete(ctx, "acme", c.ID, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := clients.Client(ctx, c.ClientID); !errors.Is(err, derrors.ErrNotFound) {
			t.Errorf("after delete: %v, want ErrNotFound", err)
		}
	})
}

func TestFailureCounterIsAtomic(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		clients := b.Clients()
		window := time.Unix(1_800_000_000, 0)
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				if _, err := clients.AddFailure(ctx, "c1", window, window.Add(5*time.Minute)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if n, err := clients.Failures(ctx, "c1", window); err != nil || n != 20 {
			t.Errorf("Failures = %d, %v; want 20", n, err)
		}
		if n, _ := clients.Failures(ctx, "c1", window.Add(5*time.Minute)); n != 0 {
			t.Errorf("next window starts at %d, want 0", n)
		}
		if n, _ := clients.Failures(ctx, "c2", window); n != 0 {
			t.Errorf("another client has %d failures, want 0", n)
		}
	})
}
