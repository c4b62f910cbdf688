// Package caller is the contract between the Lambda authorizer and every
// function behind it: who is calling, as the authorizer's context carries
// it (requestContext.authorizer.lambda). The authorizer writes it with
// Context, the functions read it with FromContext; the keys live only here.
package caller

import "strings"

// Kind says what a caller may do.
type Kind string

// The kinds of caller.
const (
	// Manager may manage its tenant's modules: an own token whose module
	// currently has the modules:manage scope, or an identity-provider
	// token with the manager role.
	Manager Kind = "manager"
	// Client is an own token without modules:manage.
	Client Kind = "client"
	// User is an identity-provider token without the manager role.
	User Kind = "user"
)

// Caller is who is calling.
type Caller struct {
	TenantID string
	Kind     Kind
	// ClientID is the module's client ID (own tokens); empty for IdP users.
	ClientID string
	// Subject is the identity provider's sub (IdP tokens).
	Subject string
	// Scopes are the rights the authorizer hands on: for own tokens, those
	// of the token that the module still has.
	Scopes []string
	// DPoPJKT is the thumbprint of the key a DPoP-bound own token is bound
	// to (cnf.jkt), whose proof the authorizer checked for this request;
	// empty for a bearer token.
	DPoPJKT string
}

// Keys of the authorizer context. API Gateway passes string values through.
const (
	keyTenant   = "tenantId"
	keyKind     = "kind"
	keyClientID = "clientId"
	keySubject  = "subject"
	keyScope    = "scope" // space-separated
	keyDPoPJKT  = "dpopJkt"
)

// Context is the authorizer context that carries c.
func (c Caller) Context() map[string]any {
	return map[string]any{keyTenant: c.TenantID, keyKind: string(c.Kind), keyClientID: c.ClientID,
		keySubject: c.Subject, keyScope: strings.Join(c.Scopes, " "), keyDPoPJKT: c.DPoPJKT}
}

// FromContext reads the caller from an authorizer context; false when
// there is none or it names no tenant or no known kind.
func FromContext(ctx map[string]any) (Caller, bool) {
	s := func(k string) string { v, _ := ctx[k].(string); return v }
	c := Caller{TenantID: s(keyTenant), Kind: Kind(s(keyKind)), ClientID: s(keyClientID), Subject: s(keySubject), DPoPJKT: s(keyDPoPJKT)}
	if scope := s(keyScope); scope != "" {
		c.Scopes = strings.Fields(scope)
	}
	switch {
	case c.TenantID == "":
		return Caller{}, false
	case c.Kind != Manager && c.Kind != Client && c.Kind != User:
		return Caller{}, false
	}
	return c, true
}
