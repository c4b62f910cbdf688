package oauth_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/modules-service/modules/internal/audit"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/oauth"
	"github.com/modules-service/modules/internal/testing/testenv"
)

func (f *fixture) trail(t *testing.T, moduleID string) []audit.Event {
	t.Helper()
	page, err := f.svc.Events(context.Background(), "acme", module.EventQuery{ModuleID: moduleID, Limit: module.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return page.Items
}

func types(evs []audit.Event) string {
	s := ""
	for i, e := range evs {
		if i > 0 {
			s += " "
		}
		s += string(e.Type)
	}
	return s
}

// TestLastUsedAt: a token moves the module's lastUsedAt, at most once per
// module.UsedEvery, forward only; an edit of the module leaves it be.
func TestLastUsedAt(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		f := newFixtureOn(t, b)
		c := f.module(t, "billing", plainSecret)
		ctx := context.Background()
		get := func() *time.Time {
			t.Helper()
			m, err := f.svc.Get(ctx, "acme", c.ID)
			if err != nil {
				t.Fatal(err)
			}
			return m.LastUsedAt
		}
		if got := get(); got != nil {
			t.Fatalf("new module lastUsedAt %v; want none", got)
		}
		creds := []string{c.ClientID, plainSecret}
		if r := f.post(t, basicGrant, creds); r.status != 200 {
			t.Fatalf("token: %d %s", r.status, r.raw)
		}
		first := get()
		if first == nil || first.Sub(f.clock.Now()).Abs() > time.Second {
			t.Fatalf("lastUsedAt %v after a token at %v", first, f.clock.Now())
		}
		// Within the hour, on this instance and on a fresh one: no move.
		f.clock.Add(30 * time.Minute)
		f.post(t, basicGrant, creds)
		f.postTo(t, f.instance(), basicGrant, creds)
		if got := get(); !got.Equal(*first) {
			t.Errorf("lastUsedAt moved within the hour: %v -> %v", first, got)
		}
		// An edit keeps it.
		if _, err := f.svc.Update(ctx, "acme", c.ID, module.Patch{"displayName": []byte(`"Billing 2"`)}, 0); err != nil {
			t.Fatal(err)
		}
		if got := get(); got == nil || !got.Equal(*first) {
			t.Errorf("lastUsedAt after an edit: %v; want %v kept", got, first)
		}
		// Past the hour, a fresh instance moves it.
		f.clock.Add(31 * time.Minute)
		f.postTo(t, f.instance(), basicGrant, creds)
		if got := get(); got == nil || !got.After(*first) {
			t.Errorf("lastUsedAt after an hour: %v; want later than %v", got, first)
		}
		// Never back: a store write with an older time is refused.
		later := get()
		if err := b.Clients().Used(ctx, "acme", c.ID, first.Add(-2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got := get(); !got.Equal(*later) {
			t.Errorf("lastUsedAt moved back: %v -> %v", later, got)
		}
	})
}

// TestThrottleIsAudited: a source reaching the limit writes one
// client.throttled event to the module's trail, however many sources
// follow in that window; a new window may write another.
func TestThrottleIsAudited(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		f := newFixtureOn(t, b)
		c := f.module(t, "billing", plainSecret)
		guess := []string{c.ClientID, "guess-guess-guess-guess"}
		for _, src := range []string{"198.51.100.7", "198.51.100.8"} {
			for range oauth.MaxPerSource + 3 {
				f.post(t, basicGrant, guess, from(src))
			}
		}
		evs := f.trail(t, c.ID)
		if len(evs) != 2 || evs[0].Type != audit.ClientThrottled {
			t.Fatalf("trail %+v; want the create and one client.throttled", evs)
		}
		e := evs[0]
		want := e
		want.Outcome, want.SourceIP, want.Actor, want.ModuleName = audit.Refused, "198.51.100.7", audit.Actor{Kind: "client", ClientID: c.ClientID}, "billing"
		if diff := cmp.Diff(want, e); diff != "" {
			t.Errorf("throttled event (-want +got; the first source, the client as actor):\n%s", diff)
		}
		if e.Reason == "" {
			t.Error("throttled event without a reason")
		}
		f.clock.Add(oauth.FailureWindow)
		for range oauth.MaxPerSource + 2 { // the first over the limit may take the free slow-path slot

			f.post(t, basicGrant, guess, from("198.51.100.9"))
		}
		if evs := f.trail(t, c.ID); len(evs) != 3 {
			t.Errorf("after a second window: %d events; want a second client.throttled", len(evs))
		}
	})
}
