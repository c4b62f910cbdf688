package oauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/modules-service/modules/internal/accesstoken"
	"github.com/modules-service/modules/internal/audit"
	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/dpop"
	"github.com/modules-service/modules/internal/edge"
	"github.com/modules-service/modules/internal/federation"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/obs"
	"github.com/modules-service/modules/internal/signing"
)

// Config is what the token endpoint is told at start.
type Config struct {
	// Issuer is the iss of every token and the base of the metadata URLs.
	// Empty: https://<the API's domain name>, read from each request.
	Issuer string
	// Audience is the aud of every token; empty means the issuer.
	Audience string
	// Lifetime of an access token; zero means accesstoken.DefaultLifetime.
	Lifetime time.Duration
}

// Endpoint serves POST /oauth2/token.
type Endpoint struct {
	cfg    Config
	auth   *authenticator
	keys   *signing.Cache[signing.KeySet]
	origin edge.Origin
	log    *slog.Logger
	now    func() time.Time
}

// Deps are the endpoint's collaborators.
type Deps struct {
	// Clients reads client pointers; give it the instance's
	// module.ClientCache, which bounds how long a disabled module works.
	Clients  module.ClientReader
	Hashes   HashStore
	Limits   LimitStore
	Verifier Verifier
	// DummyHash is a hash of a random secret with the production parameters,
	// verified against when the client is unknown so that every failure
	// costs the same.
	DummyHash string
	Keys      *signing.Cache[signing.KeySet]
	// Usage records last use and credential events; nil records none.
	Usage UsageStore
	// AuditRetention is how long credential events are kept.
	AuditRetention time.Duration
	// CacheEntries bounds each of the instance's caches (hashes, verified
	// secrets, known sources, last use); 0 is DefaultCacheEntries.
	CacheEntries int
	// Origin checks the origin secret CloudFront sends: with it, a
	// request's source is the viewer's address (internal/edge). The zero
	// Origin: no edge in front, the source is the connection's.
	Origin edge.Origin
	// FederatedIssuers are the operator's list of the issuers whose
	// tokens federated credentials may name (empty: none), and
	// FederatedKeys finds their keys (nil: a federation.Keys of its own).
	FederatedIssuers []string
	FederatedKeys    federation.KeyFinder
	Log              *slog.Logger
	Now              func() time.Time
}

// NewEndpoint builds the endpoint.
func NewEndpoint(cfg Config, d Deps) *Endpoint {
	if cfg.Lifetime == 0 {
		cfg.Lifetime = accesstoken.DefaultLifetime
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.FederatedKeys == nil {
		d.FederatedKeys = &federation.Keys{Now: d.Now}
	}
	if d.CacheEntries <= 0 {
		d.CacheEntries = DefaultCacheEntries
	}
	return &Endpoint{cfg: cfg, keys: d.Keys, origin: d.Origin, log: d.Log, now: d.Now,
		auth: newAuthenticator(d)}
}

// tokenResponse is RFC 6749 §5.1.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
}

// ServeHTTP implements the client credentials grant (RFC 6749 §4.4).
func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, oerr := parseRequest(r)
	switch {
	case oerr != nil:
		writeError(w, r, oerr)
		return
	case req.grantType != "client_credentials":
		writeError(w, r, ErrUnsupportedGrantType)
		return
	case req.clientID == "" || req.method != module.AuthPrivateKeyJWT && len(req.secrets) == 0:
		writeError(w, r, ErrInvalidClient.with("client authentication is required: HTTP Basic (client_secret_basic), client_id and client_secret in the body (client_secret_post), or a signed client_assertion (private_key_jwt)"))
		return
	}
	proof, oerr := e.checkProof(r)
	if oerr != nil {
		writeError(w, r, oerr)
		return
	}
	// The origin of any credential event; a context of its own rather than
	// a copy of the request, which the warm path would pay for every time.
	ctx := audit.WithOrigin(r.Context(), audit.Origin{RequestID: obs.RequestIDOf(r), UserAgent: r.UserAgent()})
	iss := issuer(e.cfg.Issuer, r)
	var client module.Client
	var err error
	switch {
	case req.federated:
		client, err = e.auth.authenticateFederated(ctx, req.clientID, req.assertion, sourceOf(r, e.origin))
	case req.method == module.AuthPrivateKeyJWT:
		client, err = e.auth.authenticateAssertion(ctx, req.clientID, req.assertion, []string{iss, iss + tokenPath}, sourceOf(r, e.origin))
	default:
		client, err = e.auth.authenticate(ctx, req.clientID, req.secrets, req.method, sourceOf(r, e.origin))
	}
	if err != nil {
		e.fail(w, r, err)
		return
	}
	scopes, oerr := grant(client.Scopes, req.scope)
	if oerr != nil {
		writeError(w, r, oerr)
		return
	}
	if err := e.bind(ctx, client, proof); err != nil {
		e.fail(w, r, err)
		return
	}
	token, err := e.sign(r.Context(), iss, client.ClientID, client.TenantID, scopes, proof.JKT)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.auth.usage.used(r.Context(), client)
	obs.Set(r.Context(), obs.Tenant, client.TenantID)
	obs.Set(r.Context(), obs.Module, client.ModuleID)
	obs.SetOutcome(r.Context(), "issued")
	tokenType := "Bearer"
	if proof.JKT != "" {
		tokenType = dpop.Scheme // RFC 9449 §5.1
	}
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: token, TokenType: tokenType, ExpiresIn: int64(e.cfg.Lifetime.Seconds()), Scope: strings.Join(scopes, " ")})
}

func (e *Endpoint) fail(w http.ResponseWriter, r *http.Request, err error) {
	var oerr *Error
	if errors.As(err, &oerr) {
		writeError(w, r, oerr)
		return
	}
	if errors.Is(err, derrors.ErrThrottled) || errors.Is(err, derrors.ErrUnavailable) {
		obs.Set(r.Context(), obs.ErrorKind, "throttled")
		if errors.Is(err, derrors.ErrThrottled) {
			obs.Count(r.Context(), obs.MetricProviderThrottles, 1)
		}
		writeError(w, r, errUnavailable)
		return
	}
	obs.From(r.Context()).Fail("server", err) // the request's line, at ERROR, says why
	writeError(w, r, errServer)
}

// grant returns the scopes to put in the token: those requested, each of
// which the module must have, or all of the module's when none is requested
// (§3.3).
func grant(allowed []string, requested string) ([]string, *Error) {
	if requested == "" {
		return allowed, nil
	}
	var scopes []string
	for _, s := range strings.Fields(requested) {
		if !slices.Contains(allowed, s) {
			return nil, ErrInvalidScope.with(fmt.Sprintf("scope %q is not among this client's scopes", s))
		}
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	return scopes, nil
}

// sign issues an RFC 9068 access token with the current key.
// A non-empty jkt binds it to that DPoP key (cnf.jkt).
func (e *Endpoint) sign(ctx context.Context, iss, clientID, tenantID string, scopes []string, jkt string) (string, error) {
	keys, err := e.keys.Get(ctx)
	if err != nil {
		return "", fmt.Errorf("load signing key: %w", err)
	}
	return accesstoken.IssueBound(keys.Current, iss, accesstoken.Audience(e.cfg.Audience, iss), clientID, tenantID, scopes, e.now(), e.cfg.Lifetime, jkt)
}

// issuer is the configured issuer, or https://<domain> of the API the
// request came through.
func issuer(configured string, r *http.Request) string {
	if configured != "" {
		return configured
	}
	return "https://" + r.Host
}
