package oauth

import (
	"context"
	"fmt"
	"github.com/modules-service/modules/internal/assertion"
	"log/slog"
	"net/http"
	"time"

	"github.com/modules-service/modules/internal/audit"
	"github.com/modules-service/modules/internal/edge"
	"github.com/modules-service/modules/internal/ttl"
)

// LimitStore keeps the brute-force counters and the sources each client
// authenticated from. Implemented by dynamo.Limits.
type LimitStore interface {
	// Reserve counts one attempt of clientID at source in the sliding
	// window of span ending at now, atomically across instances, if the
	// window then holds at most limit attempts and it held fewer than
	// maxFailures failures (0: no such check). An empty source is the
	// client's counter across sources; an empty clientID the source's
	// counter of client IDs that name no client. It reports whether the
	// attempt was counted and the time that matters: when counted, the
	// time it was counted at, which Release takes; when not, when the
	// window frees one (zero: unknown, as when it lost every race).
	Reserve(ctx context.Context, clientID, source string, now time.Time, span time.Duration, limit, maxFailures int) (bool, time.Time, error)
	// Release gives back an attempt that Reserve counted at at.
	Release(ctx context.Context, clientID, source string, at time.Time) error
	// Fail records a failed attempt at now (counted already by Reserve).
	Fail(ctx context.Context, clientID, source string, now time.Time) error
	// Slot takes the client's next slow-path slot, one every every; it
	// reports whether one was free and when the next one is.
	Slot(ctx context.Context, clientID string, now time.Time, every time.Duration) (bool, time.Time, error)
	// LastSuccess is when clientID last authenticated from source; zero
	// when never within KnownSourceTTL.
	LastSuccess(ctx context.Context, clientID, source string) (time.Time, error)
	// Remember records a success, writing at most once a day per source.
	Remember(ctx context.Context, clientID, source string, at, expires time.Time) error
	// Once reports whether this is the first call for (clientID, what,
	// window), across every instance.
	Once(ctx context.Context, clientID, what string, window time.Time) (bool, error)
	// The jti of every accepted client assertion, across instances.
	assertion.Replays
}

// Brute-force protection (RFC 6749 §2.3.1); docs/security.md, "Client
// authentication under attack", says what it promises. Client IDs are
// public and addresses are shared, so no limit may be a switch that locks
// the owner out. Every count is a sliding window: it holds over any
// FailureWindow-long span, not per fixed window.
//
//   - A source (an IPv4 address, an IPv6 /64) that never authenticated
//     this client has MaxPerSource attempts per FailureWindow, counted
//     atomically before argon2id and given back when they succeed; and
//     all such sources together have GuardThreshold. Concurrent guesses
//     get no more verifications than that.
//   - A known source (it authenticated within KnownSourceTTL) is refused
//     for failures, never for attempts in flight: it is admitted while it
//     has fewer than MaxPerSource failures in the window, with up to
//     KnownBurst attempts in flight on top, so the owner's fleet starting
//     at once on fresh instances gets its tokens.
//   - Past any of these limits a request does not meet a wall: it may
//     take the client's slow-path slot, one verification every SlowEvery
//     shared by all such requests, and otherwise gets 429 with the real
//     wait for the next slot in Retry-After. So the owner on a new or a
//     shared address gets through within seconds, and guesses through
//     the slow path stay at 3600/SlowEvery an hour.
//   - A client ID that names no client is counted by its source alone
//     (MaxPerSource), never under what was typed, which may be a secret.
const (
	MaxPerSource   = 10
	KnownBurst     = 64
	GuardThreshold = 100
	FailureWindow  = 5 * time.Minute
	SlowEvery      = 6 * time.Second
	KnownSourceTTL = 30 * 24 * time.Hour
)

// Why a request was sent to the slow path; each is a client.throttled
// event's reason, recorded at most once per client, reason and window.
const (
	reasonSource  = "a source reached the limit of failed authentications"
	reasonGuarded = "failures from many sources: new sources are limited to the slow path"
)

// throttle applies those limits.
type throttle struct {
	store LimitStore
	usage *usage // records the credential events
	log   *slog.Logger
	now   func() time.Time
	// remembered is (client, source) pairs this instance recorded as known
	// today, so a busy client costs no write per token.
	remembered ttl.Cache[string, struct{}]
	// refused is (client, source, reason, window) this instance refused,
	// so that it logs and records each once, however often it is asked.
	refused ttl.Cache[string, struct{}]
}

func newThrottle(store LimitStore, u *usage, log *slog.Logger, now func() time.Time, entries int) *throttle {
	return &throttle{store: store, usage: u, log: log, now: now,
		remembered: ttl.Cache[string, struct{}]{TTL: 24 * time.Hour, Max: entries, Now: now},
		refused:    ttl.Cache[string, struct{}]{TTL: FailureWindow, Max: entries, Now: now}}
}

// attempt is one admitted authentication attempt and the counters it
// holds until its outcome is known.
type attempt struct {
	t                *throttle
	clientID, source string // clientID is empty for one that names no client
	at               time.Time
	reserved         []count // the counts it holds, one per verification
	known            bool    // from a known source: a failure is recorded as one
	slow             bool    // admitted through the slow path
}

// count is one attempt counted on the counter of source ("" is the
// client's across sources) at at.
type count struct {
	source string
	at     time.Time
}

// admit decides, before any verification, whether this attempt may make
// verifications (1, or 2 for Basic credentials that read two ways), and
// counts each. exists says whether clientID names a client. Refusals are
// ErrSlowDown (429) with the real wait in Retry-After.
func (t *throttle) admit(ctx context.Context, clientID string, exists bool, source string, verifications int) (*attempt, error) {
	now := t.now()
	a := &attempt{t: t, clientID: clientID, source: source, at: now}
	if !exists {
		a.clientID = "" // never a key, a log line or an event
		ok, frees, err := a.reserve(ctx, source, MaxPerSource, 0, verifications)
		if err != nil || !ok {
			return a, refusal(err, now, frees, "too many failed authentications from your address")
		}
		return a, nil
	}
	last, err := t.store.LastSuccess(ctx, clientID, source)
	if err != nil {
		return a, err
	}
	limit, maxFailures := MaxPerSource, 0
	if a.known = !last.IsZero() && now.Sub(last) <= KnownSourceTTL; a.known {
		limit, maxFailures = MaxPerSource+KnownBurst, MaxPerSource
	}
	ok, _, err := a.reserve(ctx, source, limit, maxFailures, verifications)
	if err != nil {
		return a, err
	}
	if !ok {
		return a, t.slowPath(ctx, a, reasonSource)
	}
	if a.known {
		return a, nil
	}
	if ok, _, err = a.reserve(ctx, "", GuardThreshold, 0, verifications); err != nil || !ok {
		t.record(ctx, a.release(ctx))
		if err != nil {
			return a, err
		}
		return a, t.slowPath(ctx, a, reasonGuarded)
	}
	return a, nil
}

// reserve counts n attempts on the counter of source ("" is the client's
// across sources), all or none.
func (a *attempt) reserve(ctx context.Context, source string, limit, maxFailures, n int) (bool, time.Time, error) {
	for i := range n {
		ok, at, err := a.t.store.Reserve(ctx, a.clientID, source, a.at, FailureWindow, limit, maxFailures)
		if err != nil || !ok {
			for range i { // give back this call's part, keep the rest
				last := a.reserved[len(a.reserved)-1]
				a.t.record(ctx, a.t.store.Release(ctx, a.clientID, last.source, last.at))
				a.reserved = a.reserved[:len(a.reserved)-1]
			}
			return false, at, err // at: when the window frees one
		}
		a.reserved = append(a.reserved, count{source, at})
	}
	return true, time.Time{}, nil
}

// slowPath admits a over a limit if the client's slow-path slot is free,
// and otherwise refuses it with the wait for the next slot. One slot
// covers the attempt's verifications (two at most).
func (t *throttle) slowPath(ctx context.Context, a *attempt, reason string) error {
	ok, next, err := t.store.Slot(ctx, a.clientID, a.at, SlowEvery)
	if err != nil {
		return err
	}
	if ok {
		a.slow = true
		return nil
	}
	t.refuse(ctx, a, reason)
	return refusal(nil, a.at, next, "too many failed authentications for this client from your address or from new addresses")
}

// refusal is err, or a slow_down whose Retry-After is the wait until at
// (at least a second).
func refusal(err error, now, at time.Time, why string) error {
	if err != nil {
		return err
	}
	wait := max(int(at.Sub(now).Seconds()+0.999), 1)
	e := ErrSlowDown.with(fmt.Sprintf("%s; retry in %d s", why, wait))
	e.retryAfter = wait
	return e
}

// refuse logs a refusal and records the client.throttled event, once per
// instance, reason and window (the event once across instances).
func (t *throttle) refuse(ctx context.Context, a *attempt, reason string) {
	window := a.at.Truncate(FailureWindow)
	k := a.clientID + " " + a.source + " " + reason + " " + window.String()
	if _, ok := t.refused.Get(k); ok {
		return
	}
	t.refused.Put(k, struct{}{})
	t.log.WarnContext(ctx, "client authentication throttled", "clientId", a.clientID, "source", a.source, "reason", reason)
	t.usage.event(ctx, audit.ClientThrottled, markOf(reason), a.clientID, a.source, audit.Refused, reason, window)
}

// markOf names a reason's once-per-window marker: each reason has its
// own, so a source's refusal never hides that the client was guarded.
func markOf(reason string) string {
	if reason == reasonGuarded {
		return string(audit.ClientThrottled) + "/guarded"
	}
	return string(audit.ClientThrottled) + "/source"
}

// succeeded gives the attempt's counts back and remembers its source.
func (a *attempt) succeeded(ctx context.Context) error {
	if err := a.release(ctx); err != nil {
		return err
	}
	if a.slow {
		a.t.usage.event(ctx, audit.ClientAuthenticatedAfterGuarding, string(audit.ClientAuthenticatedAfterGuarding), a.clientID, a.source, audit.Success,
			"authenticated through the slow path while the client's limits were reached", a.at.Truncate(FailureWindow))
	}
	k := a.clientID + " " + a.source
	if _, ok := a.t.remembered.Get(k); ok {
		return nil
	}
	now := a.t.now()
	if err := a.t.store.Remember(ctx, a.clientID, a.source, now, now.Add(KnownSourceTTL)); err != nil {
		return err
	}
	a.t.remembered.Put(k, struct{}{})
	return nil
}

// forgive gives the attempt back: the right secret is never a failure,
// even for a disabled module, which must work again once it is enabled.
func (a *attempt) forgive(ctx context.Context) error { return a.release(ctx) }

// release gives back every count the attempt holds.
func (a *attempt) release(ctx context.Context) error {
	for len(a.reserved) > 0 {
		c := a.reserved[0]
		if err := a.t.store.Release(ctx, a.clientID, c.source, c.at); err != nil {
			return err
		}
		a.reserved = a.reserved[1:]
	}
	return nil
}

// failed keeps the attempt's counts, which now stand for its failed
// verifications; a known source's are also recorded as failures, since
// only failures refuse it.
func (a *attempt) failed(ctx context.Context) error {
	if !a.known {
		return nil
	}
	for range a.reserved {
		if err := a.t.store.Fail(ctx, a.clientID, a.source, a.t.now()); err != nil {
			return err
		}
	}
	return nil
}

// record logs a failed counter write after the decision was made: the
// answer stands, and the counter is at worst one off.
func (t *throttle) record(ctx context.Context, err error) {
	if err != nil {
		t.log.ErrorContext(ctx, "update authentication counters", "error", err.Error())
	}
}

// sourceOf is the address the request came from: the viewer's, when the
// origin secret proves CloudFront forwarded it, else the one API Gateway saw
// (the TCP peer, which no header can set); an IPv6 address by its /64,
// which one host may hold whole.
func sourceOf(r *http.Request, origin edge.Origin) string {
	addr := edge.ViewerAddress(r, origin.Verified(r))
	if !addr.IsValid() {
		return "unknown"
	}
	if addr.Is4() {
		return addr.String()
	}
	p, _ := addr.Prefix(64)
	return p.String()
}
