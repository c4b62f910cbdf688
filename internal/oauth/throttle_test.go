package oauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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
				if r.body["error"] != "slow_down" || retryAfter(t, r) > oauth.SlowEvery {
					t.Errorf("throttled: %s, Retry-After %q; want slow_down with a wait of at most %v", r.raw, r.header.Get("Retry-After"), oauth.SlowEvery)
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
		// An SDK retry of a reservation whose answer moto's server lost
		// counts that attempt twice: it can only throttle sooner, by one.
		if unauthorized > oauth.MaxPerSource || unauthorized < oauth.MaxPerSource-1 || unauthorized+throttled != 30 {
			t.Errorf("%d answered 401 and %d 429; want %d and the rest", unauthorized, throttled, oauth.MaxPerSource)
		}
		// the window slides on, and with it the throttle
		f.clock.Add(oauth.FailureWindow + time.Minute)
		if r := f.post(t, basicGrant, guess, from("198.51.100.7")); r.status != 401 {
			t.Errorf("once the window passed: %d, want 401 again", r.status)
		}
	})
}

// retryAfter reads a 429's Retry-After, which must be whole seconds > 0.
func retryAfter(t *testing.T, r result) time.Duration {
	t.Helper()
	n, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || n < 1 {
		t.Fatalf("Retry-After %q: want a number of seconds", r.header.Get("Retry-After"))
	}
	return time.Duration(n) * time.Second
}

// untilToken is an owner honouring Retry-After: it asks fresh instances
// until it gets a token, waiting as told, and returns how long it waited.
func (f *fixture) untilToken(t *testing.T, creds []string, src string) time.Duration {
	t.Helper()
	var waited time.Duration
	for range 20 {
		r := f.postTo(t, f.instance(), basicGrant, creds, from(src))
		switch r.status {
		case 200:
			return waited
		case 429:
			d := retryAfter(t, r)
			waited += d
			f.clock.Add(d)
		default:
			t.Fatalf("owner from %s: %d %s", src, r.status, r.raw)
		}
	}
	t.Fatalf("owner from %s: no token after %v of waiting", src, waited)
	return waited
}

// TestParallelGuessesAreCountedBeforeVerifying: the reservation comes
// first, so 24 concurrent guesses from one source get at most 10
// verifications.
func TestParallelGuessesAreCountedBeforeVerifying(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		f := newFixtureOn(t, b)
		c := f.module(t, "billing", plainSecret)
		count := f.concurrently(t, 24, false, func(i int) ([]string, string) {
			return []string{c.ClientID, fmt.Sprintf("guess-guess-guess-%02d", i)}, "198.51.100.7"
		})
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

// concurrently sends n token requests at once, each to a fresh instance,
// with the credentials and source req(i) gives, and counts the answers.
// With hold, verifications wait until every request was admitted or
// refused, so that all of them are in flight together.
func (f *fixture) concurrently(t *testing.T, n int, hold bool, req func(i int) ([]string, string)) map[int]int {
	t.Helper()
	release := make(chan struct{})
	if hold {
		f.verifier.Verifier = gate{testenv.FastHasher, release}
		defer func() { f.verifier.Verifier = testenv.FastHasher }()
	}
	before := f.verifier.n.Load()
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		creds, src := req(i)
		h := f.instance()
		wg.Go(func() { statuses <- f.postTo(t, h, basicGrant, creds, from(src)).status })
	}
	// every request is either answered or waiting at the gate
	for deadline := time.Now().Add(10 * time.Second); hold && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if int(f.verifier.n.Load()-before)+len(statuses) >= n {
			break
		}
	}
	close(release)
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	return count
}

// held sends n requests with the same credentials from one source, all in
// flight together.
func (f *fixture) held(t *testing.T, n int, creds []string, src string) map[int]int {
	t.Helper()
	return f.concurrently(t, n, true, func(int) ([]string, string) { return creds, src })
}

// TestOwnersBurstPasses: 50 valid requests at once from an address that
// authenticated before, to fresh instances, all in flight together: all
// 200, since attempts in flight never count against a known source. A new
// address's first burst gets MaxPerSource verifications at once and a
// short Retry-After for the rest; then it is known and passes.
func TestOwnersBurstPasses(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		f := newFixtureOn(t, b)
		c := f.module(t, "billing", plainSecret)
		good := []string{c.ClientID, plainSecret}
		if r := f.post(t, basicGrant, good, from("198.51.100.7")); r.status != 200 {
			t.Fatalf("first token: %d %s", r.status, r.raw)
		}
		if count := f.held(t, 50, good, "198.51.100.7"); count[200] != 50 {
			t.Errorf("50 at once from a known address: %v, want 50 200s", count)
		}
		count := f.held(t, 30, good, "192.0.2.77")
		if count[200] < oauth.MaxPerSource-1 || count[200]+count[429] != 30 {
			t.Errorf("30 at once from a new address: %v; want %d 200s and 429 for the rest", count, oauth.MaxPerSource)
		}
		if waited := f.untilToken(t, good, "192.0.2.77"); waited > oauth.SlowEvery {
			t.Errorf("the new address waited %v after its burst, want at most %v", waited, oauth.SlowEvery)
		}
		if count := f.held(t, 30, good, "192.0.2.77"); count[200] != 30 {
			t.Errorf("the next burst from the now known address: %v, want 30 200s", count)
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

// TestGuardedClientStillServesItsOwner: distributed guessing past
// GuardThreshold guards the client: a source it authenticated from still
// gets tokens at once, and the owner from a new address gets one within
// seconds through the slow path, honouring Retry-After, where it used to
// meet a wall. Both events are in the trail, each with its own marker.
func TestGuardedClientStillServesItsOwner(t *testing.T) {
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
	// a source over its own limit first: its event must not hide the guard's
	if r := f.post(t, basicGrant, []string{c.ClientID, "guess-guess-guess-guess"}, from("198.51.100.0")); r.status != 429 {
		t.Fatalf("the 11th guess from one source: %d", r.status)
	}
	before := f.verifier.n.Load()
	r := f.postTo(t, f.instance(), basicGrant, good, from("192.0.2.1"))
	if r.status != 429 || retryAfter(t, r) > oauth.SlowEvery {
		t.Errorf("the right secret from a new source while guarded: %d %s; want 429 with a wait of at most %v", r.status, r.raw, oauth.SlowEvery)
	}
	if f.verifier.n.Load() != before {
		t.Error("a refused new source still ran argon2id")
	}
	if r := f.postTo(t, f.instance(), basicGrant, good, from("203.0.113.9")); r.status != 200 {
		t.Errorf("the owner's known source while guarded: %d %s; want 200", r.status, r.raw)
	}
	if waited := f.untilToken(t, good, "192.0.2.1"); waited > 15*time.Second {
		t.Errorf("the owner from a new address waited %v while guarded, want at most 15 s", waited)
	}
	evs := f.trail(t, c.ID)
	if got := types(evs); got != "client.authenticated_after_guarding client.throttled client.throttled module.created" {
		t.Errorf("trail %s; want the source's and the guard's throttling and the slow path's success", got)
	} else {
		if e := evs[0]; e.SourceIP != "192.0.2.1" || e.Outcome != audit.Success {
			t.Errorf("authenticated_after_guarding: source %q, outcome %q; want 192.0.2.1, success", e.SourceIP, e.Outcome)
		}
		reasons := evs[1].Reason + " | " + evs[2].Reason
		if !strings.Contains(reasons, "many sources") || !strings.Contains(reasons, "a source reached") {
			t.Errorf("throttled reasons %q: want one for the source and one for the guard", reasons)
		}
	}
	// IPv6: the /64 is the source, so the owner's other address in it is known
	v6 := newFixture(t)
	c6 := v6.module(t, "billing", plainSecret)
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

// TestOwnerSharingTheGuessersAddress: a guesser behind the owner's NAT
// spends the address's failures; the owner's right secret from there, on
// a fresh instance, gets a token within seconds honouring Retry-After.
func TestOwnerSharingTheGuessersAddress(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		f := newFixtureOn(t, b)
		c := f.module(t, "billing", plainSecret)
		good := []string{c.ClientID, plainSecret}
		if r := f.post(t, basicGrant, good, from("198.51.100.7")); r.status != 200 {
			t.Fatal(r.raw)
		}
		for range 2 * oauth.MaxPerSource {
			f.postTo(t, f.instance(), basicGrant, []string{c.ClientID, "guess-guess-guess-guess"}, from("198.51.100.7"))
		}
		if waited := f.untilToken(t, good, "198.51.100.7"); waited > 15*time.Second {
			t.Errorf("the owner behind the guesser's address waited %v, want at most 15 s", waited)
		}
	})
}

// TestGuardCountsAtomically: 190 guesses at once from 19 addresses, each
// within its own limit, get at most GuardThreshold verifications: the
// guard counts before verifying, not after.
func TestGuardCountsAtomically(t *testing.T) {
	f := newFixture(t)
	c := f.module(t, "billing", plainSecret)
	count := f.concurrently(t, 190, false, func(i int) ([]string, string) {
		return []string{c.ClientID, "guess-guess-guess-guess"}, fmt.Sprintf("198.51.100.%d", i%19)
	})
	if n := f.verifier.n.Load(); n > oauth.GuardThreshold {
		t.Errorf("%d verifications (answers %v), want at most %d", n, count, oauth.GuardThreshold)
	}
	if count[401]+count[429] != 190 {
		t.Errorf("answers %v, want 401 or 429 only", count)
	}
}

// TestKnownAddressBoundsGuessesInFlight: a guesser sharing a known address
// and sending everything at once gets at most MaxPerSource+KnownBurst
// verifications in the window, in flight or not.
func TestKnownAddressBoundsGuessesInFlight(t *testing.T) {
	f := newFixture(t)
	c := f.module(t, "billing", plainSecret)
	if r := f.post(t, basicGrant, []string{c.ClientID, plainSecret}, from("198.51.100.7")); r.status != 200 {
		t.Fatal(r.raw)
	}
	before := f.verifier.n.Load()
	count := f.held(t, 2*(oauth.MaxPerSource+oauth.KnownBurst), []string{c.ClientID, "guess-guess-guess-guess"}, "198.51.100.7")
	if n := f.verifier.n.Load() - before; n > oauth.MaxPerSource+oauth.KnownBurst {
		t.Errorf("%d verifications (answers %v), want at most %d", n, count, oauth.MaxPerSource+oauth.KnownBurst)
	}
	if r := f.postTo(t, f.instance(), basicGrant, []string{c.ClientID, "guess-guess-guess-guess"}, from("198.51.100.7")); r.status != 429 {
		t.Errorf("after the burst failed: %d, want 429 (failures count)", r.status)
	}
}

// TestGuessesPerHourAreBounded: the strongest attack on one client that
// these limits allow, for an hour of simulated time: every 6 s (the slow
// path's period), three guesses from a fresh address (more than the guard
// admits over five minutes) and three from an address the owner shares
// (more than its failures allow), each taking the slow path when refused. The guesses that
// reach a verification stay within the bound docs/security.md states:
// 12×GuardThreshold + 3600/SlowEvery + 12×(MaxPerSource+KnownBurst) per
// shared address.
func TestGuessesPerHourAreBounded(t *testing.T) {
	f := newFixture(t)
	c := f.module(t, "billing", plainSecret)
	if r := f.post(t, basicGrant, []string{c.ClientID, plainSecret}, from("198.51.100.7")); r.status != 200 {
		t.Fatal(r.raw)
	}
	guess := []string{c.ClientID, "guess-guess-guess-guess"}
	h := f.instance()
	before := f.verifier.n.Load()
	steps := int(time.Hour / oauth.SlowEvery)
	for i := range steps {
		for range 3 {
			f.postTo(t, h, basicGrant, guess, from(fmt.Sprintf("10.%d.%d.1", i/250, i%250)))
			f.postTo(t, h, basicGrant, guess, from("198.51.100.7"))
		}
		f.clock.Add(oauth.SlowEvery)
	}
	bound := 12*oauth.GuardThreshold + int(time.Hour/oauth.SlowEvery) + 12*(oauth.MaxPerSource+oauth.KnownBurst)
	n := int(f.verifier.n.Load() - before)
	if n > bound {
		t.Errorf("%d guesses verified in an hour, want at most %d", n, bound)
	}
	t.Logf("%d guesses verified in an hour of attack (bound %d)", n, bound)
	if r := f.postTo(t, f.instance(), basicGrant, []string{c.ClientID, plainSecret}, from("198.51.100.7")); r.status != 200 && r.status != 429 {
		t.Errorf("owner at the end: %d", r.status)
	}
}

// TestUnknownClientIDsAreNotKept: a secret pasted into client_id (and the
// client ID into client_secret) never reaches a log line or a table key,
// and random client IDs from one address are bounded by that address.
func TestUnknownClientIDsAreNotKept(t *testing.T) {
	f := newFixture(t)
	c := f.module(t, "billing", plainSecret)
	f.logs.Reset()
	swapped := "Zq8xV3mK9pL2wR7tY4uN6bH1cJ5dF0gA" // what the wizard's Generate button makes
	r := f.post(t, basicGrant, []string{swapped, c.ClientID}, from("198.51.100.7"))
	if r.status != 401 {
		t.Fatalf("swapped credentials: %d %s", r.status, r.raw)
	}
	if strings.Contains(f.logs.String(), swapped) {
		t.Errorf("the log quotes what was typed as the client ID: %s", f.logs.String())
	}
	out, err := f.backend.DB.Scan(context.Background(), &dynamodb.ScanInput{TableName: &f.backend.Table})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range out.Items {
		for name, v := range it {
			if s, ok := v.(*ddb.AttributeValueMemberS); ok && strings.Contains(s.Value, swapped) {
				t.Errorf("the table keeps what was typed as the client ID in %s: %q", name, s.Value)
			}
		}
	}
	before := f.verifier.n.Load()
	count := map[int]int{}
	for i := range 3 * oauth.MaxPerSource {
		count[f.post(t, basicGrant, []string{fmt.Sprintf("random-client-id-%04d", i), "guess-guess-guess-guess"}, from("198.51.100.8")).status]++
	}
	if n := f.verifier.n.Load() - before; n > oauth.MaxPerSource {
		t.Errorf("%d verifications for random client IDs from one address (answers %v), want at most %d", n, count, oauth.MaxPerSource)
	}
	if r := f.post(t, basicGrant, []string{c.ClientID, plainSecret}, from("198.51.100.8")); r.status != 200 {
		t.Errorf("the real client from that address: %d, want 200 (unknown IDs are counted apart)", r.status)
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

// TestNoDoublingAcrossAWindowBoundary: ten guesses just before a 5-minute
// boundary and ten just after, 2 s apart, get ten verifications, not
// twenty: the limit holds over any five-minute span.
func TestNoDoublingAcrossAWindowBoundary(t *testing.T) {
	f := newFixture(t)
	c := f.module(t, "billing", plainSecret)
	now := f.clock.Now()
	f.clock.Add(now.Truncate(oauth.FailureWindow).Add(oauth.FailureWindow - time.Second).Sub(now)) // 1 s before a boundary
	before := f.verifier.n.Load()
	for i := range 2 * oauth.MaxPerSource {
		if i == oauth.MaxPerSource {
			f.clock.Add(2 * time.Second) // across the boundary
		}
		f.postTo(t, f.instance(), basicGrant, []string{c.ClientID, "guess-guess-guess-guess"}, from("198.51.100.7"))
	}
	if n := f.verifier.n.Load() - before; n > oauth.MaxPerSource {
		t.Errorf("%d verifications across a window boundary in 2 s, want at most %d", n, oauth.MaxPerSource)
	}
}
