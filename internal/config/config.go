// Package config reads a function's settings from its environment, as
// template.yaml sets them, and fails at start when one is missing.
package config

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Environment variable names, as template.yaml sets them.
const (
	EnvTable          = "TABLE_NAME"
	EnvSecretPrefix   = "SECRET_PREFIX"
	EnvSigningKey     = "SIGNING_KEY_SECRET"
	EnvPublicKeys     = "PUBLIC_KEYS_SECRET"
	EnvIdempotencyKey = "IDEMPOTENCY_KEY_SECRET"
	// EnvEdgeOriginSecret names the origin secret CloudFront sends (the
	// token function, with EdgeRateLimiting); unset: no edge in front.
	EnvEdgeOriginSecret = "EDGE_ORIGIN_SECRET"
	EnvIssuer           = "ISSUER"
	EnvAudience         = "AUDIENCE"
	EnvTokenLifetime    = "TOKEN_LIFETIME_SECONDS"
	EnvClientCacheTTL   = "CLIENT_CACHE_SECONDS"
	EnvKeyCacheTTL      = "KEY_CACHE_SECONDS"
	EnvIdPIssuer        = "IDP_ISSUER"
	EnvIdPJWKSURL       = "IDP_JWKS_URL"
	EnvIdPAudience      = "IDP_AUDIENCE"
	EnvIdPTenantClaim   = "IDP_TENANT_CLAIM"
	EnvIdPRoleClaim     = "IDP_ROLE_CLAIM"
	EnvIdPManagerRole   = "IDP_MANAGER_ROLE"
	EnvPortalClientID   = "PORTAL_CLIENT_ID"
	EnvAuditRetention   = "AUDIT_RETENTION_DAYS"
	EnvTokenAlgorithm   = "ACCESS_TOKEN_ALGORITHM"
	// EnvFederatedIssuers is the operator's comma-separated list of the
	// issuers federated credentials may name; unset: none.
	EnvFederatedIssuers = "FEDERATED_ISSUERS"
)

// DefaultAuditRetention is AuditRetention when AUDIT_RETENTION_DAYS is
// unset, the same as the template's AuditRetentionDays default: a year
// and a month, so a yearly review still finds last year's changes.
const DefaultAuditRetention = 400 * 24 * time.Hour

// DefaultClientCache is ClientCacheTTL when CLIENT_CACHE_SECONDS is unset,
// the same as the template's ClientCacheSeconds default.
const DefaultClientCache = 30 * time.Second

// DefaultKeyCache is KeyCacheTTL when KEY_CACHE_SECONDS is unset, the same
// as the template's KeyCacheSeconds default.
const DefaultKeyCache = 15 * time.Minute

// Config holds every function's settings; each function requires the ones
// it uses.
type Config struct {
	Table            string        // the one DynamoDB table
	SecretPrefix     string        // secret hashes live under <prefix>/<tenant>/<client>
	SigningKeySecret string        // ARN or name of the token-signing key secret (token, rotation)
	PublicKeysSecret string        // ARN or name of the published public keys (authorizer, rotation)
	IdempotencyKey   string        // ARN or name of the key of idempotency fingerprints (create-module)
	EdgeOriginSecret string        // ARN or name of CloudFront's origin secret (token); empty: no edge
	Issuer           string        // iss of access tokens; empty: https://<API domain>
	Audience         string        // aud of access tokens; empty: the issuer
	TokenLifetime    time.Duration // zero: the token endpoint's default
	// TokenAlgorithm is what the rotation function makes new signing keys
	// for (signing.ParseAlgorithm checks it); empty: RS256.
	TokenAlgorithm string
	// ClientCacheTTL is how long the token endpoint and the authorizer
	// trust what they read of a module: the one bound on how long a
	// disabled, deleted or narrowed module keeps working. Zero: no cache.
	ClientCacheTTL time.Duration
	// KeyCacheTTL is how long the token endpoint and the authorizer keep
	// the keys they loaded: after a rotation, new tokens carry the new key
	// within it. Zero: the default.
	KeyCacheTTL time.Duration
	// AuditRetention is how long audit events are kept (their TTL).
	AuditRetention time.Duration
	// FederatedIssuers are the issuers whose tokens a module's federated
	// credentials may name (the create, update and validation functions
	// check them, the token function verifies against them): https URLs,
	// http only on loopback hosts. Empty: federation is off.
	FederatedIssuers []string

	IdP IdP // the portal's identity provider, for the authorizer
	// PortalClientID is the portal page's OpenID Connect client at the
	// identity provider; with IdP.Issuer set, the page signs in there.
	PortalClientID string
}

// IdP configures the portal's identity provider; empty Issuer: none.
type IdP struct {
	Issuer, JWKSURL, Audience string
	TenantClaim, RoleClaim    string
	ManagerRole               string
}

// FromEnv reads Config and fails naming every required variable that is
// missing or any that is malformed.
func FromEnv(required ...string) (Config, error) {
	c := Config{
		Table:            os.Getenv(EnvTable),
		SecretPrefix:     strings.TrimSuffix(os.Getenv(EnvSecretPrefix), "/"),
		SigningKeySecret: os.Getenv(EnvSigningKey),
		PublicKeysSecret: os.Getenv(EnvPublicKeys),
		IdempotencyKey:   os.Getenv(EnvIdempotencyKey),
		EdgeOriginSecret: os.Getenv(EnvEdgeOriginSecret),
		PortalClientID:   os.Getenv(EnvPortalClientID),
		Issuer:           strings.TrimSuffix(os.Getenv(EnvIssuer), "/"),
		Audience:         os.Getenv(EnvAudience),
		TokenAlgorithm:   os.Getenv(EnvTokenAlgorithm),
		ClientCacheTTL:   DefaultClientCache,
		KeyCacheTTL:      DefaultKeyCache,
		AuditRetention:   DefaultAuditRetention,
		IdP: IdP{
			Issuer: os.Getenv(EnvIdPIssuer), JWKSURL: os.Getenv(EnvIdPJWKSURL), Audience: os.Getenv(EnvIdPAudience),
			TenantClaim: os.Getenv(EnvIdPTenantClaim), RoleClaim: os.Getenv(EnvIdPRoleClaim), ManagerRole: os.Getenv(EnvIdPManagerRole),
		},
	}
	var problems []string
	for _, name := range required {
		if os.Getenv(name) == "" {
			problems = append(problems, name+" is not set")
		}
	}
	for name, dst := range map[string]*time.Duration{EnvTokenLifetime: &c.TokenLifetime, EnvClientCacheTTL: &c.ClientCacheTTL, EnvKeyCacheTTL: &c.KeyCacheTTL} {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				problems = append(problems, name+" must be a whole number of seconds")
			}
			*dst = time.Duration(n) * time.Second
		}
	}
	if v := os.Getenv(EnvAuditRetention); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			problems = append(problems, EnvAuditRetention+" must be a whole number of days, at least 1")
		}
		c.AuditRetention = time.Duration(n) * 24 * time.Hour
	}
	var bad []string
	c.FederatedIssuers, bad = issuers(os.Getenv(EnvFederatedIssuers))
	problems = append(problems, bad...)
	if c.IdP.Issuer != "" && (c.IdP.JWKSURL == "" || c.IdP.Audience == "" || c.IdP.TenantClaim == "" || c.IdP.RoleClaim == "" || c.IdP.ManagerRole == "") {
		problems = append(problems, "with "+EnvIdPIssuer+" set, IDP_JWKS_URL, IDP_AUDIENCE, IDP_TENANT_CLAIM, IDP_ROLE_CLAIM and IDP_MANAGER_ROLE are required")
	}
	if len(problems) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(problems, "; "))
	}
	return c, nil
}

// issuers reads a comma-separated list of issuer identifiers, each an
// https URL (http only on a loopback host) with no query, fragment or
// user information, and says what is wrong with any other.
func issuers(list string) (ok, problems []string) {
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		u, err := url.Parse(s)
		loopback := false
		if err == nil {
			ip := net.ParseIP(u.Hostname())
			loopback = u.Hostname() == "localhost" || ip != nil && ip.IsLoopback()
		}
		if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(s, "?#") ||
			!(u.Scheme == "https" || u.Scheme == "http" && loopback) {
			problems = append(problems, fmt.Sprintf("%s: %q is not an https issuer URL (http only on loopback; no query, fragment or user information)", EnvFederatedIssuers, s))
			continue
		}
		ok = append(ok, s)
	}
	return ok, problems
}

// Logger is the JSON logger to stdout every function uses (CloudWatch Logs
// keeps each line as one event).
func Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, nil))
}
