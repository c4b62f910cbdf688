package oauth

import (
	"context"
	"log/slog"
	"time"

	"github.com/modules-service/modules/internal/audit"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/ttl"
)

// UsageStore keeps what a module's owner and its auditors see of its
// client's use. Implemented by dynamo.Clients.
type UsageStore interface {
	// Used moves the module's lastUsedAt forward to at, when it is more
	// than module.UsedEvery older; it never moves it back.
	Used(ctx context.Context, tenantID, moduleID string, at time.Time) error
	// Record writes a credential event to the audit trail.
	Record(ctx context.Context, ev audit.Event) error
}

// usage records, beside the token path, a module's last use and the
// security-relevant credential events. Its writes never decide an answer:
// a failed one is logged and the request goes on.
type usage struct {
	store     UsageStore // nil: record nothing
	clients   module.ClientReader
	limits    LimitStore
	retention time.Duration
	log       *slog.Logger
	now       func() time.Time
	// recent holds the modules whose use this instance recorded within
	// module.UsedEvery, so a busy client costs no write per token.
	recent ttl.Cache[string, struct{}]
}

func newUsage(d Deps) *usage {
	return &usage{store: d.Usage, clients: d.Clients, limits: d.Limits, retention: d.AuditRetention, log: d.Log, now: d.Now,
		recent: ttl.Cache[string, struct{}]{TTL: module.UsedEvery, Max: d.CacheEntries, Now: d.Now}}
}

// used records that c got a token now.
func (u *usage) used(ctx context.Context, c module.Client) {
	if u.store == nil {
		return
	}
	if _, ok := u.recent.Get(c.ModuleID); ok {
		return
	}
	if err := u.store.Used(ctx, c.TenantID, c.ModuleID, u.now()); err != nil {
		u.log.ErrorContext(ctx, "record last use", "clientId", c.ClientID, "error", err.Error())
		return
	}
	u.recent.Put(c.ModuleID, struct{}{})
}

// event writes a credential event of type t about clientID, once per
// mark and window across every instance; a client ID that is no module's
// has no trail to write to (and the throttle never names one).
func (u *usage) event(ctx context.Context, t audit.Type, mark, clientID, source, outcome, reason string, window time.Time) {
	if u.store == nil {
		return
	}
	first, err := u.limits.Once(ctx, clientID, mark, window)
	if err != nil || !first {
		if err != nil {
			u.log.ErrorContext(ctx, "mark credential event", "clientId", clientID, "error", err.Error())
		}
		return
	}
	c, err := u.clients.Client(ctx, clientID)
	if err != nil {
		return // not a module (or unreadable): nobody's trail
	}
	ev := audit.New(ctx, t, u.now(), c.TenantID, c.ModuleID, c.ModuleName)
	ev.Actor = audit.Actor{Kind: "client", ClientID: clientID}
	ev.SourceIP, ev.Outcome, ev.Reason = source, outcome, reason
	ev.KeepFor(u.retention)
	if err := u.store.Record(ctx, ev); err != nil {
		u.log.ErrorContext(ctx, "record credential event", "clientId", clientID, "type", string(t), "error", err.Error())
	}
}
