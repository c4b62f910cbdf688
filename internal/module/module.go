// Package module holds the rules of modules, the technical clients of a
// tenant, and the service that creates, reads, changes and deletes them.
// It knows nothing of HTTP or of AWS: its stores are interfaces declared in
// store.go and implemented by the dynamo, secretsmanager and inmem adapters.
package module

import (
	"encoding/json"
	"time"

	"github.com/modules-service/modules/internal/federation"
)

// Module is a technical client of a tenant. It never holds the client secret
// nor its hash: those live only in the secret store under SecretName.
type Module struct {
	ID          string    `json:"id"`
	TenantID    string    `json:"tenantId"`
	Name        string    `json:"name"`
	DisplayName string    `json:"displayName"`
	ClientID    string    `json:"clientId"`
	UserLogin   UserLogin `json:"userLogin"`
	Scopes      []string  `json:"scopes"`
	Enabled     bool      `json:"enabled"`
	// TokenEndpointAuthMethods are how its client may authenticate at the
	// token endpoint (AuthMethods): DefaultAuthMethods unless changed.
	TokenEndpointAuthMethods []string `json:"tokenEndpointAuthMethods"`
	// JWKS is the RFC 7517 JWK Set of public keys its client signs
	// private_key_jwt assertions with, as checkAuth re-encoded it; nil
	// when it has none.
	JWKS json.RawMessage `json:"jwks,omitempty"`
	// FederatedCredentials are the workload platforms' tokens its client
	// may send as client assertions (private_key_jwt's wire format);
	// empty when none.
	FederatedCredentials []federation.Credential `json:"federatedCredentials"`
	// DPoPBoundAccessTokens: its client gets tokens only with a DPoP
	// proof, bound to the proof's key (RFC 9449 §5.2, the RFC 7591
	// metadata dpop_bound_access_tokens); false by default.
	DPoPBoundAccessTokens bool      `json:"dpopBoundAccessTokens"`
	CreatedAt             time.Time `json:"createdAt"`
	UpdatedAt             time.Time `json:"updatedAt"`
	Version               int64     `json:"version"`
	// LastUsedAt is when the module's client last got a token, to the
	// hour (the token endpoint writes it at most hourly); nil when never.
	// Only the token endpoint writes it; edits of the module leave it be.
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
	// SecretName locates the secret hash; internal, never shown to clients.
	SecretName string `json:"-"`
	// NameKey and DisplayKey are the UniqueKeys its guards were written
	// under; empty for a module stored before keys were kept (GuardKeys).
	NameKey    string `json:"-"`
	DisplayKey string `json:"-"`
}

// GuardKeys are the keys m's name guards are stored under: the stored
// ones, or for a module written before they were stored, the keys of that
// time. Renames and deletes remove exactly these.
func (m Module) GuardKeys() (name, display string) {
	if m.NameKey != "" && m.DisplayKey != "" {
		return m.NameKey, m.DisplayKey
	}
	return legacyKey(m.Name), legacyKey(m.DisplayName)
}

// shown is a module as its representation shows it: with "manager", which
// is derived, never stored.
type shown struct {
	plainModule
	Manager bool `json:"manager"`
}

type plainModule Module // without the MarshalJSON methods

// MarshalJSON adds the read-only "manager" member.
func (m Module) MarshalJSON() ([]byte, error) {
	return json.Marshal(shown{plainModule(m), m.IsManager()})
}

// UserLogin holds the public URLs a module needs once interactive user
// login is switched on. It is off for a new technical client.
type UserLogin struct {
	Enabled                bool     `json:"enabled"`
	RedirectURIs           []string `json:"redirectUris"`
	PostLogoutRedirectURIs []string `json:"postLogoutRedirectUris"`
}

// Credentials is what the one create response hands back: the module and the
// secret the manager chose. It is never stored.
type Credentials struct {
	Module
	ClientSecret string `json:"clientSecret"`
}

// MarshalJSON keeps the secret next to the module's members (Module's own
// MarshalJSON would otherwise be promoted and drop it).
func (c Credentials) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		shown
		ClientSecret string `json:"clientSecret"`
	}{shown{plainModule(c.Module), c.IsManager()}, c.ClientSecret})
}

// Preview is a module as a create would make it (Service.Validate): no ID
// or client ID yet, no timestamps, and never a secret.
type Preview struct{ Module }

// MarshalJSON shows only what a create would set from the request.
func (p Preview) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		TenantID    string                  `json:"tenantId"`
		Name        string                  `json:"name"`
		DisplayName string                  `json:"displayName"`
		UserLogin   UserLogin               `json:"userLogin"`
		Scopes      []string                `json:"scopes"`
		Enabled     bool                    `json:"enabled"`
		Manager     bool                    `json:"manager"`
		Methods     []string                `json:"tokenEndpointAuthMethods"`
		JWKS        json.RawMessage         `json:"jwks,omitempty"`
		Federated   []federation.Credential `json:"federatedCredentials"`
		DPoPBound   bool                    `json:"dpopBoundAccessTokens"`
	}{p.TenantID, p.Name, p.DisplayName, p.UserLogin, p.Scopes, p.Enabled, p.IsManager(), p.TokenEndpointAuthMethods, p.JWKS, p.FederatedCredentials, p.DPoPBoundAccessTokens})
}

// Page is one page of a tenant's modules in creation order.
type Page struct {
	Items      []Module `json:"items"`
	NextCursor string   `json:"nextCursor,omitempty"`
}
