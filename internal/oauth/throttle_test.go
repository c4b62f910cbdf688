package oauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/modules-service/modules/internal/audit"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/oauth"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// basicGrant is the form of every request here; credentials go in Basic.
var basicGrant = form("grant_type", "client_credentials")

// TestGuesserIsThrottledNotTheOwner: 30 wrong secrets from one source get
// 10 verifications and then 429 with Retry-After, while the owner, from
// another source and on instances that never saw its secret, gets 200
// every time.
func TestGuesserIsThrottledNotTheOwner(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		f := newFixtureOn(t, b)
		c := f.module(t, "billing", plainSecret)
		guess := []string{c.ClientID, "guess-guess-guess-guess"}
		var unauthorized, throttled int
		for i := range 30 {
			before := f.verifier.n.Load()
			r := f.post(t, basicGrant, guess, from("198.51.100.7"))
			switch r.status {
			case 401:
				unauthorized++
			case 429:
				throttled++
				if r.body["error"] != "slow_down" || r.header.Get("Retry-After") == "" {
					t.Errorf("throttled: %s, Retry-After %q; want slow_down with Retry-After", r.raw, r.header.Get("Retry-After"))
				}
				if f.verifier.n.Load() != before {
					t.Errorf("attempt %d was throttled after an argon2id run", i)
				}
			default:
				t.Fatalf("guess %d: %d %s", i, r.status, r.raw)
			}
			if owner := f.postTo(t, f.instance(), basicGrant, []string{c.ClientID, plainSecret}, from("203.0.113.9")); owner.status != 200 {
				t.Fatalf("owner after %d guesses: %d %s", i+1, owner.status, owner.raw)
			}
		}
		// An SDK retry of an increment whose answer moto's server lost counts
		// that attempt twice: it can only throttle sooner, by one or two.
		if unauthorized > oauth.MaxPerSource || unauthorized < oauth.MaxPerSource-2 || unauthorized+throttled != 30 {
			t.Errorf("%d answered 401 and %d 429; want %d (at least %d) and the rest", unauthorized, throttled, oauth.MaxPerSource, oauth.MaxPerSource-2)
		}
		// the window ends, and with it the throttle
		f.clock.Add(oauth.FailureWindow)
		if r := f.post(t, basicGrant, guess, from("198.51.100.7")); r.status != 401 {
			t.Errorf("next window: %d, want 401 again", r.status)
		}
	})
}

// TestParallelGuessesAreCountedBeforeVerifying: the increment comes first,
// so 24 concurrent guesses from one source get at most 10 verifications.
func TestParallelGuessesAreCountedBeforeVerifying(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		f := newFixtureOn(t, b)
		c := f.module(t, "billing", plainSecret)
		statuses := make(chan int, 24)
		var wg sync.WaitGroup
		for i := range 24 {
			wg.Go(func() {
				statuses <- f.postTo(t, f.instance(), basicGrant, []string{c.ClientID, fmt.Sprintf("guess-guess-guess-%02d", i)}, from("198.51.100.7")).status
			})
		}
		wg.Wait()
		close(statuses)
		count := map[int]int{}
		for s := range statuses {
			count[s]++
		}
		if count[401] > oauth.MaxPerSource || count[401]+count[429] != 24 {
			t.Errorf("answers %v: want at most %d 401s and 429 for the rest", count, oauth.MaxPerSource)
		}
		if n := f.verifier.n.Load(); n > oauth.MaxPerSource {
			t.Errorf("%d argon2id verifications, want at most %d", n, oauth.MaxPerSource)
		}
	})
}

// gate holds every verification until release is closed, so that a test
// can have many attempts in flight at once.
type gate struct {
	oauth.Verifier
	release chan struct{}
}

func (g gate) Verify(secret, hash string) (bool, error) {
	<-g.release
	return g.Verifier.Verify(secret, hash)
}

// TestOwnersBurstDoesNotLockItsAddress: the owner's own burst to fresh
// instances, three times MaxPerSource at once from one address, gets
// MaxPerSource verifications and slow_down for the rest; but the refused
// attempts proved nothing, so once the admitted ones succeed the next
// fresh instance verifies again instead of the address being locked out
// for the rest of the window.
func TestOwnersBurstDoesNotLockItsAddress(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		f := newFixtureOn(t, b)
		c := f.module(t, "billing", plainSecret)
		release := make(chan struct{})
		f.verifier.Verifier = gate{testenv.FastHasher, release}
		const burst = 3 * oauth.MaxPerSource
		statuses := make(chan int, burst)
		var wg sync.WaitGroup
		for range burst {
			wg.Go(func() {
				statuses <- f.postTo(t, f.instance(), basicGrant, []string{c.ClientID, plainSecret}, from("198.51.100.7")).status
			})
		}
		count := map[int]int{}
		for timeout := time.After(10 * time.Second); count[429] < burst-oauth.MaxPerSource; {
			select {
			case s := <-statuses:
				count[s]++
			case <-timeout:
				t.Fatalf("answers before the verifications ran: %v; want %d slow_down", count, burst-oauth.MaxPerSource)
			}
		}
		close(release)
		wg.Wait()
		close(statuses)
		for s := range statuses {
			count[s]++
		}
		if count[200] != oauth.MaxPerSource || count[429] != burst-oauth.MaxPerSource {
			t.Errorf("answers %v: want %d 200 and %d 429", count, oauth.MaxPerSource, burst-oauth.MaxPerSource)
		}
		f.verifier.Verifier = testenv.FastHasher
		if r := f.postTo(t, f.instance(), basicGrant, []string{c.ClientID, plainSecret}, from("198.51.100.7")); r.status != 200 {
			t.Errorf("a fresh instance after the burst: %d %s; want 200 (the refused attempts must not count)", r.status, r.raw)
		}
	})
}

// TestDisabledClientIsNotLockedOut: a client that keeps asking while its
// module is disabled gets the same 401 as a wrong secret, and gets tokens
// again within the client cache bound once the module is enabled.
func TestDisabledClientIsNotLockedOut(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.module(t, "billing", plainSecret)
	if _, err := f.svc.Update(ctx, "acme", c.ID, module.Patch{"enabled": []byte("false")}, 0); err != nil {
		t.Fatal(err)
	}
	wrong := f.post(t, basicGrant, []string{c.ClientID, plainSecret + "!"}, from("203.0.113.9"))
	polling := f.instance()
	for i := range 3 * oauth.MaxPerSource {
		h := polling
		if i%2 == 1 {
			h = f.instance() // a cold instance verifies with argon2id
		}
		r := f.postTo(t, h, basicGrant, []string{c.ClientID, plainSecret}, from("203.0.113.9"))
		if r.status != 401 || r.raw != wrong.raw {
			t.Fatalf("poll %d while disabled: %d %s; want the wrong secret's 401 %s", i, r.status, r.raw, wrong.raw)
		}
	}
	if _, err := f.svc.Update(ctx, "acme", c.ID, module.Patch{"enabled": []byte("true")}, 0); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(clientTTL + time.Second)
	for name, h := range map[string]http.Handler{"the polling instance": polling, "a fresh instance": f.instance()} {
		if r := f.postTo(t, h, basicGrant, []string{c.ClientID, plainSecret}, from("203.0.113.9")); r.status != 200 {
			t.Errorf("%s, after enabling: %d %s; want 200", name, r.status, r.raw)
		}
	}
}

// TestGuardedClientAdmitsKnownSources: distributed guessing past
// GuardThreshold guards the client; then a source it authenticated from
// still gets tokens and a new one gets 429 without verification.
func TestGuardedClientAdmitsKnownSources(t *testing.T) {
	f := newFixture(t)
	c := f.module(t, "billing", plainSecret)
	good := []string{c.ClientID, plainSecret}
	if r := f.post(t, basicGrant, good, from("203.0.113.9")); r.status != 200 {
		t.Fatalf("owner: %d", r.status)
	}
	for i := range oauth.GuardThreshold {
		src := fmt.Sprintf("198.51.100.%d", i/oauth.MaxPerSource)
		if r := f.post(t, basicGrant, []string{c.ClientID, "guess-guess-guess-guess"}, from(src)); r.status != 401 {
			t.Fatalf("guess %d from %s: %d", i, src, r.status)
		}
	}
	before := f.verifier.n.Load()
	if r := f.postTo(t, f.instance(), basicGrant, good, from("192.0.2.1")); r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Errorf("the right secret from a new source while guarded: %d %s; want 429 with Retry-After", r.status, r.raw)
	}
	if f.verifier.n.Load() != before {
		t.Error("a refused new source still ran argon2id")
	}
	if r := f.postTo(t, f.instance(), basicGrant, good, from("203.0.113.9")); r.status != 200 {
		t.Errorf("the owner's known source while guarded: %d %s; want 200", r.status, r.raw)
	}
	f.postTo(t, f.instance(), basicGrant, good, from("203.0.113.9")) // once per window
	evs := f.trail(t, c.ID)
	if got := types(evs); got != "client.authenticated_after_guarding client.throttled module.created" {
		t.Errorf("trail %s; want the guarding and the known source's success, once each", got)
	} else {
		if e := evs[0]; e.SourceIP != "203.0.113.9" || e.Outcome != audit.Success {
			t.Errorf("authenticated_after_guarding: source %q, outcome %q; want 203.0.113.9, success", e.SourceIP, e.Outcome)
		}
		if e := evs[1]; e.SourceIP == "" || e.Outcome != audit.Refused {
			t.Errorf("throttled: source %q, outcome %q; want a source, refused", e.SourceIP, e.Outcome)
		}
	}
	// IPv6: the /64 is the source, so the owner's other address in it is known
	v6 := newFixture(t)
	c6 := v6.module(t, "billing", plainSecret)
	if r := v6.post(t, basicGrant, []string{c6.ClientID, plainSecret}, from("[2001:db8:1:2::10]")); r.status != 200 {
		t.Fatal(r.raw)
	}
	for i := range oauth.MaxPerSource + 1 {
		r := v6.post(t, basicGrant, []string{c6.ClientID, "guess-guess-guess-guess"}, from(fmt.Sprintf("[2001:db8:1:2::%x]", 100+i)))
		if i == oauth.MaxPerSource && r.status != 429 {
			t.Errorf("guess %d from the same /64: %d, want 429", i, r.status)
		}
	}
	if r := v6.post(t, basicGrant, []string{c6.ClientID, "guess-guess-guess-guess"}, from("[2001:db8:1:3::1]")); r.status != 401 {
		t.Errorf("another /64: %d, want 401", r.status)
	}
}

// TestClientIDShapeIsCheckedBeforeIO: what cannot be a client ID costs
// the same argon2id run as any failure, answers the same 401, writes
// nothing to the table and is never quoted in a log line.
func TestClientIDShapeIsCheckedBeforeIO(t *testing.T) {
	f := newFixture(t)
	c := f.module(t, "billing", plainSecret)
	wrong := f.post(t, basicGrant, []string{c.ClientID, plainSecret + "!"})
	itemsBefore := items(t, f)
	f.logs.Reset()
	for name, id := range map[string]string{
		"3,000 characters":   strings.Repeat("a", 3000),
		"65 characters":      strings.Repeat("b", 65),
		"control characters": "client\x00\x01id-12",
		"spaces":             "client id 1234",
		"non-ASCII letters":  "clíent-ïd-1234",
		"too short":          "abc",
	} {
		before := f.verifier.n.Load()
		r := f.post(t, basicGrant, []string{id, plainSecret})
		if r.status != 401 || r.raw != wrong.raw || r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d %s; want the 401 of a wrong secret, with a challenge", name, r.status, r.raw)
		}
		if f.verifier.n.Load()-before != 1 {
			t.Errorf("%s: %d argon2id runs, want 1 like any failure", name, f.verifier.n.Load()-before)
		}
		quoted, _ := json.Marshal(id) // as a JSON log line would spell it
		needle := strings.Trim(string(quoted), `"`)
		if len(id) > 3 && (strings.Contains(f.logs.String(), needle[:min(10, len(needle))]) || strings.Contains(f.logs.String(), id)) {
			t.Errorf("%s: the log quotes the client ID: %s", name, f.logs.String())
		}
	}
	if after := items(t, f); after != itemsBefore {
		t.Errorf("the table went from %d to %d items: malformed client IDs reached DynamoDB", itemsBefore, after)
	}
}

// TestEvery401Challenges: RFC 9110 §11.6.1, whatever the method used.
func TestEvery401Challenges(t *testing.T) {
	f := newFixture(t)
	c := f.module(t, "billing", plainSecret)
	for name, r := range map[string]result{
		"Basic":          f.post(t, basicGrant, []string{c.ClientID, "wrong-wrong-wrong-wrong"}),
		"post":           f.post(t, form("grant_type", "client_credentials", "client_id", c.ClientID, "client_secret", "wrong-wrong-wrong"), nil),
		"no credentials": f.post(t, basicGrant, nil),
	} {
		if r.status != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), `Basic realm=`) {
			t.Errorf("%s: %d WWW-Authenticate %q; want 401 with a Basic challenge", name, r.status, r.header.Get("WWW-Authenticate"))
		}
	}
}

func items(t *testing.T, f *fixture) int {
	t.Helper()
	out, err := f.backend.DB.Scan(context.Background(), &dynamodb.ScanInput{TableName: &f.backend.Table})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Items)
}
