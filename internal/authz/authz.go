// Package authz is the Lambda authorizer of the HTTP API (payload 2.0,
// simple responses). It admits two kinds of bearer token: this service's own
// access tokens, whose module must still exist and be enabled, and tokens of
// the portal's identity provider. Every other token is denied; a bad token
// never causes an error (and so never a 500).
package authz

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/httpapi"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/signing"
	"github.com/modules-service/modules/internal/ttl"
)

// ClientStore finds client pointers. Implemented by dynamo.Clients.
type ClientStore interface {
	// Client returns derrors.ErrNotFound for an unknown client ID.
	Client(ctx context.Context, clientID string) (module.Client, error)
}

// DefaultClientTTL is how long the authorizer trusts what it read of a
// module. It bounds how long a disabled or deleted module's tokens keep
// working: at most this, not until they expire.
const DefaultClientTTL = 30 * time.Second

// leeway tolerates clock skew on exp and nbf.
const leeway = 30 * time.Second

// Authorizer decides on one request.
type Authorizer struct {
	// Issuer and Audience of this service's tokens; empty Issuer means
	// https://<the API's domain>, as the token function uses; empty Audience
	// means the issuer.
	Issuer, Audience string
	Keys             *signing.Cache
	Clients          ClientStore
	ClientTTL        time.Duration
	// IdP verifies the portal's identity provider tokens; nil when none.
	IdP *IdP
	Log *slog.Logger
	Now func() time.Time

	once    sync.Once
	clients ttl.Cache[string, clientEntry]
}

type clientEntry struct {
	client module.Client
	found  bool
}

// Decision is what the authorizer hands API Gateway: allowed or not, and
// the context (httpapi.Ctx* keys) every function behind it receives.
type Decision = events.APIGatewayV2CustomAuthorizerSimpleResponse

// Authorize implements the Lambda authorizer.
func (a *Authorizer) Authorize(ctx context.Context, e events.APIGatewayV2CustomAuthorizerV2Request) (Decision, error) {
	raw, ok := bearer(e)
	if !ok {
		return deny(), nil
	}
	tok, err := jwt.ParseSigned(raw, allowedAlgs)
	if err != nil || len(tok.Headers) != 1 {
		return deny(), nil
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return deny(), nil
	}
	own := a.issuer(e)
	var c map[string]any
	switch {
	case unverified.Issuer == own:
		c, err = a.own(ctx, tok, own)
	case a.IdP != nil && unverified.Issuer == a.IdP.Issuer:
		c, err = a.IdP.verify(ctx, tok, a.now())
	default:
		return deny(), nil
	}
	var refused refusal
	switch {
	case errors.As(err, &refused):
		a.log().InfoContext(ctx, "token refused", "reason", string(refused))
		return deny(), nil
	case err != nil:
		return deny(), err // the stores failed: an outage, not a bad token
	}
	return Decision{IsAuthorized: true, Context: c}, nil
}

// allowedAlgs are the only algorithms a token may name: asymmetric ones, so
// "none" and HS256-with-the-public-key are refused before any key is used.
var allowedAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.ES256, jose.ES384}

// refusal is why a token was denied; it goes to the log only.
type refusal string

func (r refusal) Error() string { return string(r) }

// own verifies this service's access token (RFC 9068) and that its module
// still exists and is enabled.
func (a *Authorizer) own(ctx context.Context, tok *jwt.JSONWebToken, iss string) (map[string]any, error) {
	h := tok.Headers[0]
	if h.Algorithm != string(jose.RS256) {
		return nil, refusal("own tokens are RS256")
	}
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(strings.TrimPrefix(strings.ToLower(typ), "application/"), "at+jwt") {
		return nil, refusal("typ is not at+jwt")
	}
	keys, err := a.Keys.Get(ctx)
	if err != nil {
		return nil, err
	}
	pub, ok := keys.Public(h.KeyID)
	if !ok { // perhaps a rotation this instance has not seen yet
		if keys, err = a.Keys.Refresh(ctx); err != nil {
			return nil, err
		}
		if pub, ok = keys.Public(h.KeyID); !ok {
			return nil, refusal("unknown kid")
		}
	}
	var c struct {
		jwt.Claims
		ClientID string `json:"client_id"`
		TenantID string `json:"tenant_id"`
		Scope    string `json:"scope"`
	}
	if err := tok.Claims(pub, &c); err != nil {
		return nil, refusal("bad signature")
	}
	aud := a.Audience
	if aud == "" {
		aud = iss
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: iss, AnyAudience: jwt.Audience{aud}, Time: a.now()}, leeway); err != nil {
		return nil, refusal(err.Error())
	}
	if c.Expiry == nil || c.ClientID == "" || c.TenantID == "" || c.Subject != c.ClientID {
		return nil, refusal("missing exp, client_id, tenant_id or sub")
	}
	m, found, err := a.client(ctx, c.ClientID)
	if err != nil {
		return nil, err
	}
	if !found || !m.Enabled || m.TenantID != c.TenantID {
		return nil, refusal("module deleted or disabled")
	}
	kind := httpapi.KindClient
	if slices.Contains(strings.Fields(c.Scope), module.ScopeManage) {
		kind = httpapi.KindManager
	}
	return map[string]any{httpapi.CtxTenant: c.TenantID, httpapi.CtxKind: kind, httpapi.CtxClientID: c.ClientID, httpapi.CtxScope: c.Scope}, nil
}

func (a *Authorizer) client(ctx context.Context, id string) (module.Client, bool, error) {
	a.once.Do(func() {
		a.clients.TTL, a.clients.Max, a.clients.Now = a.ClientTTL, 10000, a.Now
		if a.clients.TTL == 0 {
			a.clients.TTL = DefaultClientTTL
		}
	})
	if e, ok := a.clients.Get(id); ok {
		return e.client, e.found, nil
	}
	m, err := a.Clients.Client(ctx, id)
	if err != nil && !errors.Is(err, derrors.ErrNotFound) {
		return module.Client{}, false, err
	}
	a.clients.Put(id, clientEntry{m, err == nil})
	return m, err == nil, nil
}

// bearer returns the token of "Authorization: Bearer <token>" (RFC 6750).
func bearer(e events.APIGatewayV2CustomAuthorizerV2Request) (string, bool) {
	h := e.Headers["authorization"]
	if h == "" && len(e.IdentitySource) > 0 {
		h = e.IdentitySource[0]
	}
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

func (a *Authorizer) issuer(e events.APIGatewayV2CustomAuthorizerV2Request) string {
	if a.Issuer != "" {
		return a.Issuer
	}
	return "https://" + e.RequestContext.DomainName
}

func (a *Authorizer) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Authorizer) log() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.Default()
}

func deny() Decision { return Decision{IsAuthorized: false} }
