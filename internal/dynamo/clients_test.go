package dynamo_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/testing/clientkey"
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
		want := module.Client{ClientID: c.ClientID, TenantID: "acme", ModuleID: c.ID, ModuleName: "billing", Enabled: true, Scopes: []string{"a"}, SecretName: c.SecretName, AuthMethods: module.DefaultAuthMethods}
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

// TestLimitCountersAreAtomicAndSliding: concurrent reservations never
// pass the limit, a give-back makes room, counters are apart per client,
// source and the unknown-client counter, and the window slides: the limit
// holds over any five-minute span, not per fixed window.
func TestLimitCountersAreAtomicAndSliding(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		limits := b.Limits()
		const span, limit = 5 * time.Minute, 10
		t0 := time.Unix(1_800_000_000, 0).Truncate(time.Minute).Add(50 * time.Second) // late in a minute
		var wg sync.WaitGroup
		var mu sync.Mutex
		counted := 0
		for range 3 * limit {
			wg.Go(func() {
				ok, _, err := limits.Reserve(ctx, "client-1", "198.51.100.7", t0, span, limit, 0)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					counted++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if counted > limit || counted < limit-2 { // a reservation may lose every race: refused, never over
			t.Fatalf("%d of %d concurrent reservations counted, want %d", counted, 3*limit, limit)
		}
		for counted < limit { // fill what contention left
			if ok, _, err := limits.Reserve(ctx, "client-1", "198.51.100.7", t0, span, limit, 0); err != nil || !ok {
				t.Fatalf("filling the window: %v, %v", ok, err)
			}
			counted++
		}
		ok, frees, err := limits.Reserve(ctx, "client-1", "198.51.100.7", t0.Add(20*time.Second), span, limit, 0)
		if err != nil || ok {
			t.Fatalf("a full window counted another: %v, %v", ok, err)
		}
		if want := t0.Truncate(time.Minute).Add(time.Minute + span); !frees.Equal(want) {
			t.Errorf("the window frees at %v, want %v (when the oldest minute leaves it)", frees, want)
		}
		// across the fixed-window boundary, still within five minutes: full
		if ok, _, _ := limits.Reserve(ctx, "client-1", "198.51.100.7", t0.Add(4*time.Minute), span, limit, 0); ok {
			t.Error("four minutes later the window counted another: the limit must hold over any five-minute span")
		}
		if err := limits.Release(ctx, "client-1", "198.51.100.7", t0); err != nil {
			t.Fatal(err)
		}
		if ok, _, _ := limits.Reserve(ctx, "client-1", "198.51.100.7", t0.Add(time.Minute), span, limit, 0); !ok {
			t.Error("after a give-back the window did not count one more")
		}
		if ok, _, _ := limits.Reserve(ctx, "client-1", "198.51.100.7", frees, span, limit, 0); !ok {
			t.Error("when the oldest minute left the window it still refused")
		}
		for name, src := range map[string][2]string{
			"another source":  {"client-1", "198.51.100.8"},
			"another client":  {"client-2", "198.51.100.7"},
			"the all-sources": {"client-1", ""},
			"unknown clients": {"", "198.51.100.7"},
		} {
			if ok, _, err := limits.Reserve(ctx, src[0], src[1], t0, span, 1, 0); err != nil || !ok {
				t.Errorf("%s counter: %v, %v; want a fresh counter", name, ok, err)
			}
		}
		// failures: a counter may admit while it holds fewer than maxFailures
		for range 2 {
			if err := limits.Fail(ctx, "client-3", "198.51.100.7", t0); err != nil {
				t.Fatal(err)
			}
		}
		if ok, _, _ := limits.Reserve(ctx, "client-3", "198.51.100.7", t0, span, 100, 2); ok {
			t.Error("two failures, at most two allowed: counted")
		}
		if ok, _, _ := limits.Reserve(ctx, "client-3", "198.51.100.7", t0, span, 100, 3); !ok {
			t.Error("two failures, three allowed: refused")
		}
	})
}

// TestSlowPathIsOneSlotAtATime: the first call opens the slow path and
// waits; then one slot every period, whoever asks.
func TestSlowPathIsOneSlotAtATime(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		limits := b.Limits()
		const every = 6 * time.Second
		t0 := time.Unix(1_800_000_000, 0)
		ok, next, err := limits.Slot(ctx, "client-1", t0, every)
		if err != nil || ok || !next.Equal(t0.Add(every)) {
			t.Fatalf("first call: %v %v %v; want no slot, the next at +6 s", ok, next, err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := 0
		for range 10 {
			wg.Go(func() {
				if ok, _, err := limits.Slot(ctx, "client-1", t0.Add(every), every); err == nil && ok {
					mu.Lock()
					got++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if got != 1 {
			t.Errorf("10 concurrent callers at the slot's time got %d slots, want 1", got)
		}
		if ok, next, _ := limits.Slot(ctx, "client-1", t0.Add(every+time.Second), every); ok || !next.Equal(t0.Add(2*every)) {
			t.Errorf("a second later: %v, next %v; want none until %v", ok, next, t0.Add(2*every))
		}
		if ok, _, _ := limits.Slot(ctx, "client-2", t0.Add(every), every); ok {
			t.Error("another client's first call got a slot; it must open its own slow path")
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

// TestReserveAfterALaterMinute: an instance whose request took its time
// just before a minute turned, after another counted in the new minute,
// still counts (in the later minute) rather than losing every try and
// sending a legitimate client to the slow path.
func TestReserveAfterALaterMinute(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		limits := b.Limits()
		turn := time.Unix(1_800_000_000, 0).Truncate(time.Minute).Add(time.Minute)
		if ok, at, err := limits.Reserve(ctx, "client-1", "", turn.Add(time.Second), 5*time.Minute, 100, 0); err != nil || !ok || !at.Equal(turn.Add(time.Second)) {
			t.Fatalf("in the new minute: %v %v %v", ok, at, err)
		}
		ok, at, err := limits.Reserve(ctx, "client-1", "", turn.Add(-time.Second), 5*time.Minute, 100, 0)
		if err != nil || !ok {
			t.Fatalf("a second before the minute turned, after one counted in it: %v, %v; want counted", ok, err)
		}
		if !at.Equal(turn) {
			t.Errorf("counted at %v, want the later minute's start %v", at, turn)
		}
		if err := limits.Release(ctx, "client-1", "", at); err != nil {
			t.Fatal(err)
		}
		if ok, _, _ := limits.Reserve(ctx, "client-1", "", turn.Add(2*time.Second), 5*time.Minute, 2, 0); !ok {
			t.Error("after the give-back there is room for a second attempt of two")
		}
	})
}

// TestClearedMembersStayCleared: a patch that empties a member (scopes,
// keys, the DPoP switch) is stored on both backends, on the module and on
// its client pointer: the embedded stand-in ignores REMOVE, so an update
// writes NULL instead (txn.replace).
func TestClearedMembersStayCleared(t *testing.T) {
	testenv.AllWithService(t, func(t *testing.T, ctx context.Context, svc *module.Service, b testenv.Backend) {
		k := clientkey.New(t, "k1", jose.ES256)
		c, _, err := svc.Create(ctx, "acme", module.CreateInput{Name: "billing", DisplayName: "Billing", ClientSecret: "Known-Secret-4711-xyz",
			Scopes: []string{"a"}, JWKS: clientkey.Set(t, k), DPoPBoundAccessTokens: true}, "")
		if err != nil {
			t.Fatal(err)
		}
		patch := module.Patch{"scopes": json.RawMessage(`null`), "jwks": json.RawMessage(`null`), "dpopBoundAccessTokens": json.RawMessage(`false`)}
		if _, err := svc.Update(ctx, "acme", c.ID, patch, 0); err != nil {
			t.Fatal(err)
		}
		m, err := svc.Get(ctx, "acme", c.ID)
		if err != nil || len(m.Scopes) != 0 || m.JWKS != nil || m.DPoPBoundAccessTokens {
			t.Errorf("module after clearing: scopes %v, jwks %s, DPoP %v (%v)", m.Scopes, m.JWKS, m.DPoPBoundAccessTokens, err)
		}
		p, err := b.Clients().Client(ctx, c.ClientID)
		if err != nil || len(p.Scopes) != 0 || p.JWKS != nil || p.DPoPBound {
			t.Errorf("pointer after clearing: %+v (%v)", p, err)
		}
	})
}
