package oauth

import (
	"encoding/json"
	"net/http"

	"github.com/modules-service/modules/internal/assertion"
	"github.com/modules-service/modules/internal/dpop"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/obs"
	"github.com/modules-service/modules/internal/signing"
)

// Routes of the token function.
const (
	RouteToken    = "POST /oauth2/token"
	RouteJWKS     = "GET /.well-known/jwks.json"
	RouteMetadata = "GET /.well-known/oauth-authorization-server"
	RouteOpenID   = "GET /.well-known/openid-configuration"
)

// tokenPath is the token endpoint's path below the issuer.
const tokenPath = "/oauth2/token"

// Handler serves the token endpoint, the JWKS and the metadata, one log
// line per request (obs.Middleware).
func (e *Endpoint) Handler() http.Handler {
	return obs.Middleware(e.log, "token", e.mux())
}

func (e *Endpoint) mux() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(RouteToken, e)
	mux.HandleFunc("/oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, ErrInvalidRequest.with("the token endpoint accepts only POST"))
	})
	mux.HandleFunc(RouteJWKS, e.serveJWKS)
	mux.HandleFunc(RouteMetadata, e.serveMetadata)
	mux.HandleFunc(RouteOpenID, e.serveMetadata)
	return mux
}

// serveJWKS publishes the current and previous public keys (RFC 7517).
// Caches may keep it five minutes: a new key signs only after a rotation,
// and verifiers refresh on an unknown kid.
func (e *Endpoint) serveJWKS(w http.ResponseWriter, r *http.Request) {
	keys, err := e.keys.Get(r.Context())
	if err != nil {
		e.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Type", "application/jwk-set+json")
	_ = json.NewEncoder(w).Encode(keys.JWKS())
}

// Metadata is the RFC 8414 authorization server metadata.
type Metadata struct {
	Issuer                            string   `json:"issuer"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	// The algorithms a private_key_jwt assertion may be signed with.
	TokenEndpointAuthSigningAlgs []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	// The algorithms a DPoP proof may be signed with (RFC 9449 §5.1).
	DPoPSigningAlgs        []string `json:"dpop_signing_alg_values_supported"`
	ResponseTypesSupported []string `json:"response_types_supported"`
	ScopesSupported        []string `json:"scopes_supported"`
	// The members OpenID Connect Discovery 1.0 §3 adds, served at
	// /.well-known/openid-configuration only: API Gateway's JWT authorizers
	// find jwks_uri there. No authorization endpoint and no ID tokens
	// exist, so authorization_endpoint is left out rather than invented;
	// sub is the client ID for everyone ("public"), and RS256 is what
	// Discovery requires to be listed (access tokens name their algorithm,
	// RS256 or ES256, and the JWKS says it of each key).
	SubjectTypesSupported []string `json:"subject_types_supported,omitempty"`
	IDTokenSigningAlgs    []string `json:"id_token_signing_alg_values_supported,omitempty"`
}

// serveMetadata answers RFC 8414 metadata and, at the OpenID path, the
// same with the members OpenID Connect Discovery requires.
func (e *Endpoint) serveMetadata(w http.ResponseWriter, r *http.Request) {
	iss := issuer(e.cfg.Issuer, r)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("Content-Type", "application/json")
	m := Metadata{
		Issuer:                            iss,
		TokenEndpoint:                     iss + tokenPath,
		JWKSURI:                           iss + "/.well-known/jwks.json",
		GrantTypesSupported:               []string{"client_credentials"},
		TokenEndpointAuthMethodsSupported: module.AuthMethods,
		TokenEndpointAuthSigningAlgs:      algNames(assertion.Algorithms),
		DPoPSigningAlgs:                   algNames(dpop.Algorithms),
		// No authorization endpoint: RFC 8414 still requires the member.
		ResponseTypesSupported: []string{},
		// Modules choose their own scopes; this one the service defines.
		ScopesSupported: []string{module.ScopeManage},
	}
	if r.URL.Path == "/.well-known/openid-configuration" {
		m.SubjectTypesSupported = []string{"public"}
		m.IDTokenSigningAlgs = []string{string(signing.RS256)}
	}
	_ = json.NewEncoder(w).Encode(m)
}

func algNames[A ~string](algs []A) []string {
	out := make([]string, len(algs))
	for i, a := range algs {
		out[i] = string(a)
	}
	return out
}
