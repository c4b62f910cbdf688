package module

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/modules-service/modules/internal/audit"
	"github.com/modules-service/modules/internal/derrors"
)

// Trail reads the audit trail; the writes that change a module write its
// events in their own transactions (Writer).
type Trail interface {
	// Events returns up to limit audit events of the tenant (of one
	// module when moduleID is set), newest first, of type t when t is
	// set, with IDs below before (when set) and not below from (when
	// set), and the ID a next page continues below ("" when none
	// follows). A filtered read may stop early with a short page.
	Events(ctx context.Context, tenantID, moduleID string, t audit.Type, before, from string, limit int) (items []audit.Event, next string, err error)
}

// event is the audit event of a change from old to m (old is the zero
// Module for a create, m for a delete): created, deleted, or for an
// update its changed fields, before and after. An update that switches
// the module on or off is module.enabled or module.disabled (with any
// other changes listed too), since that is what an auditor looks for.
func (s *Service) event(ctx context.Context, t audit.Type, old, m Module) audit.Event {
	ev := audit.New(ctx, t, s.now(), m.TenantID, m.ID, m.Name)
	if t == audit.ModuleUpdated {
		ev.Changes = changes(old, m)
		if _, ok := ev.Changes["enabled"]; ok {
			ev.Type = audit.ModuleDisabled
			if m.Enabled {
				ev.Type = audit.ModuleEnabled
			}
		}
	}
	ev.KeepFor(s.AuditRetention)
	return ev
}

// changes lists the editable fields that differ between old and m.
func changes(old, m Module) map[string]audit.Change {
	c := map[string]audit.Change{}
	diff := func(field string, from, to any, same bool) {
		if !same {
			c[field] = audit.Change{From: from, To: to}
		}
	}
	diff("name", old.Name, m.Name, old.Name == m.Name)
	diff("displayName", old.DisplayName, m.DisplayName, old.DisplayName == m.DisplayName)
	diff("enabled", old.Enabled, m.Enabled, old.Enabled == m.Enabled)
	diff("scopes", old.Scopes, m.Scopes, slices.Equal(old.Scopes, m.Scopes))
	diff("tokenEndpointAuthMethods", old.TokenEndpointAuthMethods, m.TokenEndpointAuthMethods,
		slices.Equal(old.TokenEndpointAuthMethods, m.TokenEndpointAuthMethods))
	diff("dpopBoundAccessTokens", old.DPoPBoundAccessTokens, m.DPoPBoundAccessTokens, old.DPoPBoundAccessTokens == m.DPoPBoundAccessTokens)
	diff("jwks", keySummary(old.JWKS), keySummary(m.JWKS), bytes.Equal(old.JWKS, m.JWKS))
	diff("federatedCredentials", federatedSummary(old.FederatedCredentials), federatedSummary(m.FederatedCredentials),
		slices.Equal(old.FederatedCredentials, m.FederatedCredentials))
	diff("userLogin.enabled", old.UserLogin.Enabled, m.UserLogin.Enabled, old.UserLogin.Enabled == m.UserLogin.Enabled)
	diff("userLogin.redirectUris", old.UserLogin.RedirectURIs, m.UserLogin.RedirectURIs,
		slices.Equal(old.UserLogin.RedirectURIs, m.UserLogin.RedirectURIs))
	diff("userLogin.postLogoutRedirectUris", old.UserLogin.PostLogoutRedirectURIs, m.UserLogin.PostLogoutRedirectURIs,
		slices.Equal(old.UserLogin.PostLogoutRedirectURIs, m.UserLogin.PostLogoutRedirectURIs))
	return c
}

// EventQuery selects a page of the audit trail, newest first.
type EventQuery struct {
	// ModuleID, when set, keeps the events of that module only.
	ModuleID string
	Cursor   string // the NextCursor of the previous page, or ""
	Limit    int    // 1..MaxLimit
	Type     audit.Type
	Since    time.Time // zero: from the oldest kept
}

// EventPage is one page of the audit trail.
type EventPage struct {
	Items      []audit.Event `json:"items"`
	NextCursor string        `json:"nextCursor,omitempty"`
}

// Events returns a page of the tenant's audit trail. A deleted module's
// events stay in the tenant's trail until they expire.
func (s *Service) Events(ctx context.Context, tenantID string, q EventQuery) (EventPage, error) {
	if err := CheckTenantID(tenantID); err != nil {
		return EventPage{}, err
	}
	if q.ModuleID != "" && !moduleIDPattern.MatchString(q.ModuleID) {
		return EventPage{}, derrors.New(derrors.ErrNotFound, "this tenant has no module with that ID (module IDs are 26 lowercase characters)")
	}
	var bad []derrors.Field
	if q.Limit < 1 || q.Limit > MaxLimit {
		bad = append(bad, derrors.Field{Name: "limit", Code: derrors.CodeInvalidValue, Reason: fmt.Sprintf("must be between 1 and %d", MaxLimit)})
	}
	if q.Type != "" && !slices.Contains(audit.Types, q.Type) {
		bad = append(bad, derrors.Field{Name: "type", Code: derrors.CodeInvalidValue, Reason: fmt.Sprintf("must be one of %v", audit.Types)})
	}
	if len(bad) > 0 {
		return EventPage{}, derrors.Invalid(bad...)
	}
	key, err := s.listKey(ctx)
	if err != nil {
		return EventPage{}, err
	}
	// A cursor is good for its own trail, filter and start only.
	scope := tenantID + "\x00events\x00" + q.ModuleID + "\x00" + string(q.Type) + "\x00" + q.Since.UTC().Format(time.RFC3339Nano)
	before := ""
	if q.Cursor != "" {
		if before, err = openCursor(key, scope, q.Cursor); err != nil {
			return EventPage{}, err
		}
	}
	from := ""
	if !q.Since.IsZero() {
		from = audit.FirstID(q.Since)
	}
	events, next, err := s.Trail.Events(ctx, tenantID, q.ModuleID, q.Type, before, from, q.Limit)
	if err != nil {
		return EventPage{}, fmt.Errorf("read events of %s: %w", tenantID, err)
	}
	page := EventPage{Items: events}
	if page.Items == nil {
		page.Items = []audit.Event{}
	}
	if next != "" {
		page.NextCursor = sealCursor(key, scope, next)
	}
	return page, nil
}
