package module

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/modules-service/modules/internal/federation"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/obs"
	"github.com/modules-service/modules/internal/ttl"
)

// Client is a module as the token endpoint and the authorizer see it: the
// client pointer item, one GetItem away from a client ID.
type Client struct {
	ClientID   string
	TenantID   string
	ModuleID   string
	ModuleName string // empty for a pointer written before it was kept
	Enabled    bool
	Scopes     []string
	SecretName string
	// AuthMethods and JWKS are the module's TokenEndpointAuthMethods and
	// JWKS; AuthMethods is empty on a pointer written before they were
	// kept (Accepts).
	AuthMethods []string
	JWKS        json.RawMessage
	// FederatedCredentials are the module's.
	FederatedCredentials []federation.Credential
	// DPoPBound is the module's DPoPBoundAccessTokens: a token request
	// without a DPoP proof is refused (RFC 9449 §5.2).
	DPoPBound bool
}

// ScopeManage is the scope that makes a module's tokens those of a tenant
// manager.
const ScopeManage = "modules:manage"

// UsedEvery is how often a module's lastUsedAt moves forward: at most once
// per this interval, so a busy client costs one write an hour, not one
// per token, and lastUsedAt is exact to the hour.
const UsedEvery = time.Hour

// ClientReader finds client pointers. Implemented by dynamo.Clients and
// ClientCache.
type ClientReader interface {
	// Client returns derrors.ErrNotFound for an unknown client ID.
	Client(ctx context.Context, clientID string) (Client, error)
}

// ClientCache remembers what a ClientReader said of a client ID, found or
// not, for TTL: the one bound (the template's ClientCacheSeconds) on how
// long a disabled, deleted or narrowed module keeps working on a warm
// instance, shared by the token endpoint and the authorizer. A zero TTL
// reads every time.
type ClientCache struct {
	reader ClientReader
	cache  ttl.Cache[string, clientEntry]
}

type clientEntry struct {
	client Client
	found  bool
}

// clientCacheMax bounds the entries a warm instance keeps by default.
const clientCacheMax = 10000

// NewClientCache caches r's answers for ttl; now may be nil.
func NewClientCache(r ClientReader, ttlBound time.Duration, now func() time.Time) *ClientCache {
	return NewClientCacheOf(r, ttlBound, now, clientCacheMax)
}

// NewClientCacheOf is NewClientCache holding at most entries clients (the
// least recently used go first).
func NewClientCacheOf(r ClientReader, ttlBound time.Duration, now func() time.Time, entries int) *ClientCache {
	return &ClientCache{reader: r, cache: ttl.Cache[string, clientEntry]{TTL: ttlBound, Max: entries, Now: now}}
}

// Client implements ClientReader.
func (c *ClientCache) Client(ctx context.Context, clientID string) (Client, error) {
	if e, ok := c.cache.Get(clientID); ok {
		obs.Count(ctx, obs.MetricClientCacheHit, 1)
		if !e.found {
			return Client{}, derrors.ErrNotFound
		}
		return e.client, nil
	}
	obs.Count(ctx, obs.MetricClientCacheMiss, 1)
	cl, err := c.reader.Client(ctx, clientID)
	if err != nil && !errors.Is(err, derrors.ErrNotFound) {
		return Client{}, err
	}
	if c.cache.TTL > 0 {
		c.cache.Put(clientID, clientEntry{cl, err == nil})
	}
	return cl, err
}
