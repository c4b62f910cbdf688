package oauth

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/modules-service/modules/internal/audit"
	"github.com/modules-service/modules/internal/ttl"
)

// LimitStore keeps the brute-force counters and the sources each client
// authenticated from. Implemented by dynamo.Limits.
type LimitStore interface {
	// Add adds delta to the counter of (clientID, source, window) atomically
	// and returns the new value; an empty source counts across sources.
	Add(ctx context.Context, clientID, source string, window time.Time, delta int) (int, error)
	// Count reads such a counter; 0 when there is none.
	Count(ctx context.Context, clientID, source string, window time.Time) (int, error)
	// LastSuccess is when clientID last authenticated from source; zero
	// when never within KnownSourceTTL.
	LastSuccess(ctx context.Context, clientID, source string) (time.Time, error)
	// Remember records a success, writing at most once a day per source.
	Remember(ctx context.Context, clientID, source string, at, expires time.Time) error
	// Once reports whether this is the first call for (clientID, what,
	// window), across every instance.
	Once(ctx context.Context, clientID, what string, window time.Time) (bool, error)
}

// Brute-force protection (RFC 6749 §2.3.1), README.md "Client
// authentication under attack". Client IDs are public, so nothing is keyed by
// the client ID alone, which would let anyone lock the owner out:
//
//   - Each source (an IPv4 address, an IPv6 /64) may make MaxPerSource
//     attempts per client ID and FailureWindow that do not succeed. The
//     attempt is counted before argon2id, by one atomic increment, and
//     given back when it succeeds; so even concurrent guesses get at most
//     MaxPerSource verifications, and the 11th on gets 429 with no
//     verification at all. A refused attempt proved nothing and is not
//     counted (a read finds the source over its limit, or the increment
//     that went over is given back): else a burst of the owner's own
//     requests to fresh instances, more than MaxPerSource at once, would
//     lock its address out for the rest of the window though no secret
//     was ever wrong. A guesser's failures stay counted either way.
//   - Across sources, GuardThreshold failures of one client ID in a window
//     mean distributed guessing: the client is guarded for the rest of the
//     window, and only sources it authenticated from within KnownSourceTTL
//     still reach verification. The owner's running clients keep working.
const (
	MaxPerSource   = 10
	GuardThreshold = 100
	FailureWindow  = 5 * time.Minute
	KnownSourceTTL = 30 * 24 * time.Hour
)

// The reasons of client.throttled events. The event is written at most
// once per client and window, whichever limit is hit first.
const (
	reasonSource  = "a source reached the limit of failed authentications"
	reasonGuarded = "failures from many sources: the client is guarded, only known sources are admitted"
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
	// refused is (client, source, window) triples this instance refused,
	// so that it logs and records each once, however often it is asked.
	refused ttl.Cache[string, struct{}]
}

func newThrottle(store LimitStore, u *usage, log *slog.Logger, now func() time.Time) *throttle {
	return &throttle{store: store, usage: u, log: log, now: now,
		remembered: ttl.Cache[string, struct{}]{TTL: 24 * time.Hour, Max: cacheMax, Now: now},
		refused:    ttl.Cache[string, struct{}]{TTL: FailureWindow, Max: cacheMax, Now: now}}
}

// attempt is one admitted authentication attempt, counted against its
// source until it is known to have succeeded.
type attempt struct {
	t                *throttle
	clientID, source string
	window           time.Time
	guarded          bool // admitted as a known source of a guarded client
}

// admit counts the attempt and decides, before any verification, whether
// it may verify: ErrSlowDown (429) when its source is over the limit, or
// when the client is guarded and the source is not one it knows.
func (t *throttle) admit(ctx context.Context, clientID, source string) (attempt, error) {
	now := t.now()
	a := attempt{t: t, clientID: clientID, source: source, window: now.Truncate(FailureWindow)}
	n, err := t.store.Count(ctx, clientID, source, a.window)
	if err != nil {
		return a, err
	}
	admitted := false
	if n < MaxPerSource {
		if n, err = t.store.Add(ctx, clientID, source, a.window, 1); err != nil {
			return a, err
		}
		if admitted = n <= MaxPerSource; !admitted { // others got there first
			if err := a.forgive(ctx); err != nil {
				return a, err
			}
		}
	}
	if !admitted {
		t.refuse(ctx, a)
		return a, a.slowDown(now, "too many failed authentications from your address for this client")
	}
	total, err := t.store.Count(ctx, clientID, "", a.window)
	if err != nil {
		return a, err
	}
	if total < GuardThreshold {
		return a, nil
	}
	last, err := t.store.LastSuccess(ctx, clientID, source)
	if err != nil {
		return a, err
	}
	if last.IsZero() || now.Sub(last) > KnownSourceTTL {
		return a, a.slowDown(now, "this client is refusing new addresses while it is under attack")
	}
	a.guarded = true
	return a, nil
}

// refuse logs a source over its limit and records the client.throttled
// event, once per instance and window (the event once across instances).
func (t *throttle) refuse(ctx context.Context, a attempt) {
	k := a.clientID + " " + a.source + " " + a.window.String()
	if _, ok := t.refused.Get(k); ok {
		return
	}
	t.refused.Put(k, struct{}{})
	t.log.WarnContext(ctx, "client authentication throttled", "clientId", a.clientID, "source", a.source, "reason", "source over limit")
	t.usage.event(ctx, audit.ClientThrottled, a.clientID, a.source, audit.Refused, reasonSource, a.window)
}

func (a attempt) slowDown(now time.Time, why string) *Error {
	end := a.window.Add(FailureWindow)
	e := ErrSlowDown.with(fmt.Sprintf("%s; retry after %s", why, end.Format(time.RFC3339)))
	e.retryAfter = int(end.Sub(now).Seconds()) + 1
	return e
}

// succeeded gives the attempt back and remembers its source as known.
func (a attempt) succeeded(ctx context.Context) error {
	if err := a.forgive(ctx); err != nil {
		return err
	}
	if a.guarded {
		a.t.usage.event(ctx, audit.ClientAuthenticatedAfterGuarding, a.clientID, a.source, audit.Success, "a known source authenticated while the client was guarded", a.window)
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
func (a attempt) forgive(ctx context.Context) error {
	_, err := a.t.store.Add(ctx, a.clientID, a.source, a.window, -1)
	return err
}

// failed counts a failure across sources, and says so once when the
// client becomes guarded.
func (a attempt) failed(ctx context.Context) error {
	n, err := a.t.store.Add(ctx, a.clientID, "", a.window, 1)
	if n == GuardThreshold {
		a.t.log.WarnContext(ctx, "client guarded: distributed guessing", "clientId", a.clientID, "failures", n)
		a.t.usage.event(ctx, audit.ClientThrottled, a.clientID, a.source, audit.Refused, reasonGuarded, a.window)
	}
	return err
}

// sourceOf is the address the request came from, as API Gateway saw it
// (requestContext.http.sourceIp, which a client cannot set by a header), or
// the peer address outside Lambda. IPv6 counts by /64, the block one
// subscriber usually gets, so a single host cannot rotate through addresses.
func sourceOf(r *http.Request) string {
	ip := ""
	if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok {
		ip = rc.HTTP.SourceIP
	}
	if ip == "" {
		ip, _, _ = net.SplitHostPort(r.RemoteAddr)
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return "unknown"
	}
	if addr = addr.Unmap(); addr.Is4() {
		return addr.String()
	}
	p, _ := addr.WithZone("").Prefix(64)
	return p.String()
}
