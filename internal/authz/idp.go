package authz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/modules-service/modules/internal/accesstoken"
	"github.com/modules-service/modules/internal/caller"
	"github.com/modules-service/modules/internal/module"
)

// IdP verifies tokens of the portal's identity provider against its JWKS.
type IdP struct {
	Issuer, JWKSURL, Audience string
	// TenantClaim holds the tenant ID; RoleClaim (a string or an array of
	// strings) marks a tenant manager when it holds ManagerRole.
	TenantClaim, RoleClaim, ManagerRole string
	// HTTP fetches the JWKS; nil means a client with a 3 s timeout.
	HTTP *http.Client

	mu        sync.Mutex
	keys      jose.JSONWebKeySet
	fetchedAt time.Time
}

// JWKS refresh bounds: keys are refetched hourly, and on an unknown kid at
// most once a minute, so tokens with made-up kids cannot flood the IdP.
const (
	jwksMaxAge     = time.Hour
	jwksMinRefetch = time.Minute
	jwksMaxBytes   = 1 << 20
)

func (p *IdP) verify(ctx context.Context, tok *jwt.JSONWebToken, now time.Time) (caller.Caller, error) {
	kid := tok.Headers[0].KeyID
	key, err := p.key(ctx, kid, now)
	if err != nil {
		return caller.Caller{}, err
	}
	if key == nil {
		return caller.Caller{}, refuse("key", "unknown IdP kid")
	}
	var std jwt.Claims
	var all map[string]any
	if err := tok.Claims(key.Key, &std, &all); err != nil {
		return caller.Caller{}, refuse("token", "bad IdP signature")
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: p.Issuer, AnyAudience: jwt.Audience{p.Audience}, Time: now}, accesstoken.Leeway); err != nil {
		if errors.Is(err, jwt.ErrExpired) {
			return caller.Caller{}, refuse(whyExpired, "IdP token: "+err.Error())
		}
		return caller.Caller{}, refuse("token", "IdP token: "+err.Error())
	}
	if std.Expiry == nil {
		return caller.Caller{}, refuse("token", "IdP token has no exp")
	}
	tenant, _ := all[p.TenantClaim].(string)
	if module.CheckTenantID(tenant) != nil {
		return caller.Caller{}, refuse("token", "IdP token has no valid tenant claim")
	}
	kind := caller.User
	if hasRole(all[p.RoleClaim], p.ManagerRole) {
		kind = caller.Manager
	}
	return caller.Caller{TenantID: tenant, Kind: kind, Subject: std.Subject}, nil
}

func hasRole(v any, role string) bool {
	switch r := v.(type) {
	case string:
		return r == role
	case []any:
		return slices.ContainsFunc(r, func(x any) bool { s, _ := x.(string); return s == role })
	}
	return false
}

// key returns the IdP's key with kid, fetching the JWKS when it is stale or
// lacks kid (within the refresh bounds); nil when there is none.
func (p *IdP) key(ctx context.Context, kid string, now time.Time) (*jose.JSONWebKey, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	find := func() *jose.JSONWebKey {
		for _, k := range p.keys.Key(kid) {
			if k.Use == "" || k.Use == "sig" {
				return &k
			}
		}
		return nil
	}
	k := find()
	age := now.Sub(p.fetchedAt)
	if p.fetchedAt.IsZero() || age > jwksMaxAge || (k == nil && age > jwksMinRefetch) {
		if err := p.fetch(ctx); err != nil {
			if p.fetchedAt.IsZero() {
				return nil, err
			}
			// keep the keys we have; an IdP hiccup must not deny everyone
		} else {
			p.fetchedAt = now
			k = find()
		}
	}
	return k, nil
}

func (p *IdP) fetch(ctx context.Context) error {
	c := p.HTTP
	if c == nil {
		c = &http.Client{Timeout: 3 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.JWKSURL, nil)
	if err != nil {
		return fmt.Errorf("IdP JWKS URL: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("fetch IdP JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch IdP JWKS: status %d", resp.StatusCode)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, jwksMaxBytes)).Decode(&set); err != nil {
		return fmt.Errorf("decode IdP JWKS: %w", err)
	}
	for _, k := range set.Keys {
		if !k.IsPublic() {
			return fmt.Errorf("IdP JWKS holds a private or symmetric key %q", k.KeyID)
		}
	}
	p.keys = set
	return nil
}
