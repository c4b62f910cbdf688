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
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/modules-service/modules/internal/accesstoken"
	"github.com/modules-service/modules/internal/caller"
	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/dpop"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/obs"
	"github.com/modules-service/modules/internal/signing"
)

// Authorizer decides on one request.
type Authorizer struct {
	// Issuer and Audience of this service's tokens; empty Issuer means
	// https://<the API's domain>, as the token function uses; empty Audience
	// means the issuer.
	Issuer, Audience string
	// Keys are the public keys of this service's tokens, as the rotation
	// function publishes them: the authorizer never sees a private key.
	Keys *signing.Cache[signing.PublicKeys]
	// Clients reads client pointers: the instance's module.ClientCache,
	// whose TTL (ClientCacheSeconds) bounds how long a disabled, deleted or
	// narrowed module's tokens keep their rights.
	Clients module.ClientReader
	// IdP verifies the portal's identity provider tokens; nil when none.
	IdP *IdP
	// Proofs records the jti of every DPoP proof it accepts, across
	// instances (dynamo.Proofs); nil refuses every DPoP request.
	Proofs Replays
	Log    *slog.Logger
	Now    func() time.Time
}

// Replays remembers a DPoP proof's jti until it leaves the iat window, and
// reports whether no instance recorded it before.
type Replays interface {
	FirstUse(ctx context.Context, clientID, jti string, expires time.Time) (bool, error)
}

// Decision is what the authorizer hands API Gateway: allowed or not, and
// the context (caller.Caller.Context) every function behind it receives.
type Decision = events.APIGatewayV2CustomAuthorizerSimpleResponse

// Authorize implements the Lambda authorizer. Each decision is one log
// line (obs) whose outcome is allow or deny_<why>, a metric dimension;
// the detail of a refusal goes to the line only, never to the caller.
func (a *Authorizer) Authorize(ctx context.Context, e events.APIGatewayV2CustomAuthorizerV2Request) (Decision, error) {
	ctx, line := obs.Start(ctx, "authorizer")
	line.Set(obs.RequestID, e.RequestContext.RequestID)
	line.Set(obs.Route, e.RouteKey)
	defer line.End(ctx, a.log(), "authorize")
	c, err := a.decide(ctx, e)
	var refused refusal
	switch {
	case errors.As(err, &refused):
		line.SetOutcome("deny_" + refused.why)
		line.Set("reason", refused.detail)
		if refused.why == whyExpired || refused.why == whyDPoP {
			// RFC 6750 §3.1: an expired token is invalid_token, 401, so a
			// client knows to get a new one; 403 would say it may never.
			// RFC 9449 §7.1 answers a DPoP fault 401 too (a new proof may
			// pass). An HTTP API answers a simple-response denial 403
			// whatever the authorizer says; only this error gives 401.
			return deny(), ErrUnauthorized
		}
		return deny(), nil
	case err != nil:
		line.SetOutcome("error")
		line.Fail("store", err)
		if errors.Is(err, derrors.ErrThrottled) {
			// An HTTP API authorizer can only allow, deny or fail, and a
			// failure is API Gateway's 500: counted, so the alarm says why.
			line.Count(obs.MetricProviderThrottles, 1)
		}
		return deny(), err // the stores failed: an outage, not a bad token
	}
	line.SetOutcome("allow")
	line.Set(obs.Tenant, c.TenantID)
	if c.ClientID != "" {
		line.Set(obs.Client, c.ClientID)
	}
	return Decision{IsAuthorized: true, Context: c.Context()}, nil
}

func (a *Authorizer) decide(ctx context.Context, e events.APIGatewayV2CustomAuthorizerV2Request) (caller.Caller, error) {
	raw, scheme, ok := credentials(e)
	if !ok {
		return caller.Caller{}, refuse("no_token", "no bearer or DPoP token")
	}
	tok, err := jwt.ParseSigned(raw, allowedAlgs)
	if err != nil || len(tok.Headers) != 1 {
		return caller.Caller{}, refuse("malformed", "not a signed JWT with one signature and an allowed algorithm")
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return caller.Caller{}, refuse("malformed", "claims do not decode")
	}
	own := a.issuer(e)
	switch {
	case unverified.Issuer == own:
		return a.own(ctx, tok, own, request{event: e, token: raw, scheme: scheme})
	case scheme == dpop.Scheme:
		return caller.Caller{}, refuse(whyDPoP, "only this service's own tokens are DPoP-bound")
	case a.IdP != nil && unverified.Issuer == a.IdP.Issuer:
		return a.IdP.verify(ctx, tok, a.now())
	}
	return caller.Caller{}, refuse("issuer", "unknown issuer")
}

// allowedAlgs are the only algorithms a token may name: asymmetric ones, so
// "none" and HS256-with-the-public-key are refused before any key is used.
var allowedAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.ES256, jose.ES384}

// ErrUnauthorized is the error by which a Lambda authorizer makes API
// Gateway answer 401 {"message":"Unauthorized"} instead of a denial's 403:
// API Gateway matches its message exactly. Any other error is a 500. The
// 401 is API Gateway's own response: it carries no WWW-Authenticate, and an
// HTTP API's gateway responses cannot be customised to add one.
var ErrUnauthorized = errors.New("Unauthorized")

// whyExpired is the refusal of a well-signed token past its exp; whyDPoP
// of a sender-constrained request that does not prove its key (RFC 9449
// §7: a bound token as Bearer, a bearer token as DPoP, a bad proof).
const (
	whyExpired = "expired"
	whyDPoP    = "dpop"
)

// refusal is why a token was denied: why is one of a few words (a metric
// dimension), detail says more; both go to the log only.
type refusal struct{ why, detail string }

func refuse(why, detail string) refusal { return refusal{why, detail} }

func (r refusal) Error() string { return r.why + ": " + r.detail }

// own verifies this service's access token (RFC 9068). Rights follow the
// module, not the token: the module must still exist, be enabled and be
// the token's tenant's, and the scopes handed on (and so the manager
// decision) are those of the token that the module still has.
func (a *Authorizer) own(ctx context.Context, tok *jwt.JSONWebToken, iss string, req request) (caller.Caller, error) {
	kid := tok.Headers[0].KeyID
	keys, err := a.Keys.Get(ctx)
	if err != nil {
		return caller.Caller{}, err
	}
	pub, ok := keys.Key(kid)
	if !ok { // perhaps a rotation this instance has not seen yet
		if keys, err = a.Keys.Refresh(ctx); err != nil {
			return caller.Caller{}, err
		}
		if pub, ok = keys.Key(kid); !ok {
			return caller.Caller{}, refuse("key", "unknown kid")
		}
	}
	c, err := accesstoken.Verify(tok, pub, iss, accesstoken.Audience(a.Audience, iss), a.now())
	if errors.Is(err, jwt.ErrExpired) { // signature checked first: only our own expired tokens
		return caller.Caller{}, refuse(whyExpired, err.Error())
	}
	if err != nil {
		return caller.Caller{}, refuse("token", err.Error())
	}
	if err := a.checkBinding(ctx, c, req); err != nil {
		return caller.Caller{}, err
	}
	m, err := a.Clients.Client(ctx, c.ClientID)
	switch {
	case errors.Is(err, derrors.ErrNotFound):
		return caller.Caller{}, refuse("module", "module deleted")
	case err != nil:
		return caller.Caller{}, err
	case !m.Enabled || m.TenantID != c.TenantID:
		return caller.Caller{}, refuse("module", "module disabled or of another tenant")
	}
	if m.DPoPBound && c.JKT() == "" {
		// Rights follow the module: once it requires DPoP, its bearer
		// tokens stop working within ClientCacheSeconds, not at expiry.
		return caller.Caller{}, refuse(whyDPoP, "the module's tokens must be DPoP-bound; this one is a bearer token")
	}
	var scopes []string
	for _, s := range c.Scopes() {
		if slices.Contains(m.Scopes, s) {
			scopes = append(scopes, s)
		}
	}
	kind := caller.Client
	if slices.Contains(scopes, module.ScopeManage) {
		kind = caller.Manager
	}
	return caller.Caller{TenantID: c.TenantID, Kind: kind, ClientID: c.ClientID, Scopes: scopes, DPoPJKT: c.JKT()}, nil
}

// credentials returns the token of "Authorization: Bearer <token>"
// (RFC 6750) or "Authorization: DPoP <token>" (RFC 9449 §7.1), and the
// scheme, as Bearer or DPoP.
func credentials(e events.APIGatewayV2CustomAuthorizerV2Request) (string, string, bool) {
	h := e.Headers["authorization"]
	if h == "" && len(e.IdentitySource) > 0 {
		h = e.IdentitySource[0]
	}
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	tok = strings.TrimSpace(tok)
	switch {
	case !ok || tok == "":
		return "", "", false
	case strings.EqualFold(scheme, "Bearer"):
		return tok, "Bearer", true
	case strings.EqualFold(scheme, dpop.Scheme):
		return tok, dpop.Scheme, true
	}
	return "", "", false
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
