package dynamo_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/testing/testenv"
)

func TestClientPointerFollowsTheModule(t *testing.T) {
	testenv.AllWithService(t, func(t *testing.T, ctx context.Context, svc *module.Service, b testenv.Backend) {
		c, _, err := svc.Create(ctx, "acme", module.CreateInput{Name: "billing", DisplayName: "Billing", ClientSecret: "Known-Secret-4711-xyz", Scopes: []string{"a"}}, "")
		if err != nil {
			t.Fatal(err)
		}
		clients := b.Clients()
		got, err := clients.Client(ctx, c.ClientID)
		want := module.Client{ClientID: c.ClientID, TenantID: "acme", ModuleID: c.ID, ModuleName: "billing", Enabled: true, Scopes: []string{"a"}, SecretName: c.SecretName}
		if err != nil {
			t.Fatal(err)
		} else if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("Client (-want +got):\n%s", diff)
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

func TestLimitCountersAreAtomicAndApart(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		limits := b.Limits()
		window := time.Unix(1_800_000_000, 0)
		var wg sync.WaitGroup
		seen := make(chan int, 20)
		for range 20 {
			wg.Go(func() {
				n, err := limits.Add(ctx, "client-1", "198.51.100.7", window, 1)
				if err != nil {
					t.Error(err)
				}
				seen <- n
			})
		}
		wg.Wait()
		close(seen)
		distinct := map[int]bool{}
		for n := range seen {
			distinct[n] = true
		}
		if len(distinct) != 20 {
			t.Errorf("20 concurrent increments returned %d distinct counts, want 20 (each attempt its own number)", len(distinct))
		}
		if n, err := limits.Add(ctx, "client-1", "198.51.100.7", window, -1); err != nil || n != 19 {
			t.Errorf("giving one back: %d, %v; want 19", n, err)
		}
		for name, got := range map[string]func() (int, error){
			"next window":     func() (int, error) { return limits.Count(ctx, "client-1", "198.51.100.7", window.Add(5*time.Minute)) },
			"another source":  func() (int, error) { return limits.Count(ctx, "client-1", "198.51.100.8", window) },
			"another client":  func() (int, error) { return limits.Count(ctx, "client-2", "198.51.100.7", window) },
			"the all-sources": func() (int, error) { return limits.Count(ctx, "client-1", "", window) },
		} {
			if n, err := got(); err != nil || n != 0 {
				t.Errorf("%s counter: %d, %v; want 0", name, n, err)
			}
		}
		if n, _ := limits.Add(ctx, "client-1", "", window, 1); n != 1 {
			t.Errorf("all-sources counter after one failure: %d", n)
		}
	})
}

func TestKnownSourcesAreWrittenOnceADay(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		limits := b.Limits()
		if at, err := limits.LastSuccess(ctx, "client-1", "198.51.100.7"); err != nil || !at.IsZero() {
			t.Fatalf("unknown source: %v, %v; want zero", at, err)
		}
		t0 := time.Unix(1_800_000_000, 0)
		for _, at := range []time.Time{t0, t0.Add(time.Hour), t0.Add(23 * time.Hour)} {
			if err := limits.Remember(ctx, "client-1", "198.51.100.7", at, at.Add(30*24*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		if at, _ := limits.LastSuccess(ctx, "client-1", "198.51.100.7"); !at.Equal(t0) {
			t.Errorf("after three successes within a day: %v, want the first, %v (one write a day)", at, t0)
		}
		next := t0.Add(25 * time.Hour)
		if err := limits.Remember(ctx, "client-1", "198.51.100.7", next, next.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if at, _ := limits.LastSuccess(ctx, "client-1", "198.51.100.7"); !at.Equal(next) {
			t.Errorf("a day later: %v, want %v", at, next)
		}
		if at, _ := limits.LastSuccess(ctx, "client-2", "198.51.100.7"); !at.IsZero() {
			t.Errorf("another client knows the source: %v", at)
		}
	})
}
