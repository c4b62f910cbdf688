package oauth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/modules-service/modules/internal/signing"
)

// Config is what the token endpoint is told at start.
type Config struct {
	// Issuer is the iss of every token and the base of the metadata URLs.
	// Empty: https://<the API's domain name>, read from each request.
	Issuer string
	// Audience is the aud of every token; empty means the issuer.
	Audience string
	// Lifetime of an access token; zero means DefaultLifetime.
	Lifetime time.Duration
	// ClientCacheTTL is how long a client pointer is trusted (the
	// template's ClientCacheSeconds); zero means it is read every time.
	ClientCacheTTL time.Duration
}

// DefaultLifetime of an access token.
const DefaultLifetime = time.Hour

// Endpoint serves POST /oauth2/token.
type Endpoint struct {
	cfg  Config
	auth *authenticator
	keys *signing.Cache
	log  *slog.Logger
	now  func() time.Time
}

// Deps are the endpoint's collaborators.
type Deps struct {
	Clients  ClientStore
	Hashes   HashStore
	Limits   LimitStore
	Verifier Verifier
	// DummyHash is a hash of a random secret with the production parameters,
	// verified against when the client is unknown so that every failure
	// costs the same.
	DummyHash string
	Keys      *signing.Cache
	Log       *slog.Logger
	Now       func() time.Time
}

// NewEndpoint builds the endpoint.
func NewEndpoint(cfg Config, d Deps) *Endpoint {
	if cfg.Lifetime == 0 {
		cfg.Lifetime = DefaultLifetime
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Endpoint{cfg: cfg, keys: d.Keys, log: d.Log, now: d.Now,
		auth: newAuthenticator(d, cfg.ClientCacheTTL)}
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
		writeError(w, oerr)
		return
	case req.grantType != "client_credentials":
		writeError(w, ErrUnsupportedGrantType)
		return
	case req.clientID == "" || req.secret == "":
		writeError(w, ErrInvalidClient.with("client authentication is required: HTTP Basic (client_secret_basic) or client_id and client_secret in the body (client_secret_post)"))
		return
	}
	client, err := e.auth.authenticate(r.Context(), req.clientID, req.secret, sourceOf(r))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	scopes, oerr := grant(client.Scopes, req.scope)
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	token, err := e.sign(r.Context(), issuer(e.cfg.Issuer, r), client.ClientID, client.TenantID, scopes)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: token, TokenType: "Bearer", ExpiresIn: int64(e.cfg.Lifetime.Seconds()), Scope: strings.Join(scopes, " ")})
}

func (e *Endpoint) fail(w http.ResponseWriter, r *http.Request, err error) {
	var oerr *Error
	if errors.As(err, &oerr) {
		writeError(w, oerr)
		return
	}
	e.log.ErrorContext(r.Context(), "token request failed", "error", err.Error())
	writeError(w, errServer)
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

// claims of an RFC 9068 access token.
type claims struct {
	jwt.Claims
	ClientID string `json:"client_id"`
	Scope    string `json:"scope,omitempty"`
	TenantID string `json:"tenant_id"`
}

// sign issues an RFC 9068 JWT: typ at+jwt, RS256 (the only family API
// Gateway's JWT authorizers accept), kid of the current key.
func (e *Endpoint) sign(ctx context.Context, iss, clientID, tenantID string, scopes []string) (string, error) {
	keys, err := e.keys.Get(ctx)
	if err != nil {
		return "", fmt.Errorf("load signing key: %w", err)
	}
	signer, err := signerFor(keys.Current)
	if err != nil {
		return "", err
	}
	now := e.now()
	aud := e.cfg.Audience
	if aud == "" {
		aud = iss
	}
	c := claims{
		Claims: jwt.Claims{
			Issuer: iss, Subject: clientID, Audience: jwt.Audience{aud},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			Expiry: jwt.NewNumericDate(now.Add(e.cfg.Lifetime)),
			ID:     rand.Text(),
		},
		ClientID: clientID, TenantID: tenantID, Scope: strings.Join(scopes, " "),
	}
	return jwt.Signed(signer).Claims(c).Serialize()
}

// signers caches one jose.Signer per key ID.
var (
	signerMu sync.Mutex
	signers  = map[string]jose.Signer{}
)

func signerFor(k signing.Key) (jose.Signer, error) {
	signerMu.Lock()
	defer signerMu.Unlock()
	if s, ok := signers[k.ID]; ok {
		return s, nil
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k.Private, KeyID: k.ID}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	signers[k.ID] = s
	return s, nil
}

// issuer is the configured issuer, or https://<domain> of the API the
// request came through.
func issuer(configured string, r *http.Request) string {
	if configured != "" {
		return configured
	}
	return "https://" + r.Host
}
