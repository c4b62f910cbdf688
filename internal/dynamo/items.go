package dynamo

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/modules-service/modules/internal/federation"
	"github.com/modules-service/modules/internal/module"
)

// Key design (docs/architecture.md, "Data"): one table, generic PK/SK.
//
//	module          TENANT#<tenantId>  MODULE#<moduleId>
//	name guard      TENANT#<tenantId>  NAME#<module.UniqueKey(name)>
//	display guard   TENANT#<tenantId>  DISPLAY#<module.UniqueKey(display name)>
//	manager marker  TENANT#<tenantId>  MANAGER#<moduleId>            (an enabled manager)
//	                (a key past 1,024 bytes: its head, #SHA256=, its hash; keys.go)
//	idempotency     TENANT#<tenantId>  IDEMPOTENCY#<sha256 of key>   (ttl)
//	client pointer  CLIENT#<clientId>  CLIENT
//	cursor key      CONFIG             CURSOR_KEY
//	limits          LIMIT#<clientId>   SRC#… / ALL#… / KNOWN#…       (limits.go)
//	events          EVENTS#…, CREDEVENTS#…  <eventId>                (events.go)
const (
	attrPK  = "PK"
	attrSK  = "SK"
	attrTTL = "ttl"
)

func tenantPK(tenantID string) string { return "TENANT#" + tenantID }
func moduleSK(id string) string       { return "MODULE#" + id }
func nameSK(folded string) string     { return fitSK(nameGuard, folded) }
func displaySK(folded string) string  { return fitSK(displayGuard, folded) }

// The prefixes of the guards' sort keys (keys.go fits long keys).
const nameGuard, displayGuard = "NAME#", "DISPLAY#"

// orderSK is an order item: a module's place in the tenant's list sorted
// by name or display name (module.SortKey, then the ID).
func orderSK(by module.Sort, position string) string {
	prefix := "ORDER#" + string(by) + "#"
	return prefix + fitPosition(prefix, position)
}

// orderItems are the module's two order items (guardItem's shape).
func orderItems(m module.Module) [2]guardItem {
	pk := tenantPK(m.TenantID)
	return [2]guardItem{
		{pk, orderSK(module.SortName, module.Position(m, module.SortName)), m.ID},
		{pk, orderSK(module.SortDisplayName, module.Position(m, module.SortDisplayName)), m.ID},
	}
}

// managerSK is a manager marker: the module is an enabled manager of its
// tenant. Create, Update and Delete keep it in the module's transaction, so
// the last-manager check reads two markers, not the tenant's modules.
func managerSK(id string) string { return "MANAGER#" + id }

func clientPK(clientID string) string  { return "CLIENT#" + clientID }
func idempotencySK(hash string) string { return "IDEMPOTENCY#" + hash }

const clientSK = "CLIENT"

// moduleItem is a module as stored. Empty lists are omitted: smaller items,
// and minidyn loses the type of an empty list when it rolls a transaction back.
type moduleItem struct {
	PK          string    `dynamodbav:"PK"`
	SK          string    `dynamodbav:"SK"`
	ID          string    `dynamodbav:"id"`
	TenantID    string    `dynamodbav:"tenantId"`
	ClientID    string    `dynamodbav:"clientId"`
	Name        string    `dynamodbav:"name"`
	DisplayName string    `dynamodbav:"displayName"`
	UserLogin   userLogin `dynamodbav:"userLogin"`
	Scopes      []string  `dynamodbav:"scopes,omitempty"`
	Enabled     bool      `dynamodbav:"enabled"`
	SecretName  string    `dynamodbav:"secretName"`
	// AuthMethods and JWKS are absent on modules stored before them: the
	// default methods and no keys.
	AuthMethods []string  `dynamodbav:"authMethods,omitempty"`
	JWKS        string    `dynamodbav:"jwks,omitempty"`
	Federated   string    `dynamodbav:"federated"`
	DPoPBound   bool      `dynamodbav:"dpopBound,omitempty"`  // absent: false
	NameKey     string    `dynamodbav:"nameKey,omitempty"`    // the keys its guards were written under
	DisplayKey  string    `dynamodbav:"displayKey,omitempty"` // (absent on modules stored before them)
	Version     int64     `dynamodbav:"version"`
	CreatedAt   time.Time `dynamodbav:"createdAt"`
	UpdatedAt   time.Time `dynamodbav:"updatedAt"`
	// LastUsedAt is written by the token endpoint only (Clients.Used);
	// a module's own writes never carry it (toItem leaves it nil).
	LastUsedAt *time.Time `dynamodbav:"lastUsedAt,omitempty"`
}

// moduleOptional are the attributes of a moduleItem that omitempty may
// leave out, which an update must remove when they become empty.
var moduleOptional = []string{"scopes", "nameKey", "displayKey", "jwks", "dpopBound"}

// toFederated is a module's federated credentials as stored: a JSON
// array, "[]" for none, always written (never left to a REMOVE, which the
// embedded minidyn v0.8.2 does not apply in an UpdateItem); absent only
// on a module stored before them.
func toFederated(creds []federation.Credential) string {
	if len(creds) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(creds) // strings always encode
	return string(b)
}

// fromFederated is nil for none (a module's representation shows [],
// moduleItem.module).
func fromFederated(stored string) []federation.Credential {
	var creds []federation.Credential
	if stored == "" || json.Unmarshal([]byte(stored), &creds) != nil || len(creds) == 0 { // written by toFederated
		return nil
	}
	return creds
}

type userLogin struct {
	Enabled                bool     `dynamodbav:"enabled"`
	RedirectURIs           []string `dynamodbav:"redirectUris,omitempty"`
	PostLogoutRedirectURIs []string `dynamodbav:"postLogoutRedirectUris,omitempty"`
}

// guardItem reserves a folded name for one module.
type guardItem struct {
	PK       string `dynamodbav:"PK"`
	SK       string `dynamodbav:"SK"`
	ModuleID string `dynamodbav:"moduleId"`
}

// ClientItem is the client pointer: all the token endpoint and the
// authorizer need about a client, in one GetItem.
type ClientItem struct {
	PK         string   `dynamodbav:"PK"`
	SK         string   `dynamodbav:"SK"`
	ClientID   string   `dynamodbav:"clientId"`
	TenantID   string   `dynamodbav:"tenantId"`
	ModuleID   string   `dynamodbav:"moduleId"`
	ModuleName string   `dynamodbav:"moduleName,omitempty"` // for the credential events' trail
	Enabled    bool     `dynamodbav:"enabled"`
	Scopes     []string `dynamodbav:"scopes,omitempty"`
	SecretName string   `dynamodbav:"secretName"`
	// AuthMethods and JWKS as the module's (absent: defaults, no keys).
	AuthMethods []string `dynamodbav:"authMethods,omitempty"`
	JWKS        string   `dynamodbav:"jwks,omitempty"`
	// Federated as the module's (absent: none).
	Federated string `dynamodbav:"federated"`
	// DPoPBound is the module's DPoPBoundAccessTokens (absent: false).
	DPoPBound bool `dynamodbav:"dpopBound,omitempty"`
}

type idempotencyItem struct {
	PK          string `dynamodbav:"PK"`
	SK          string `dynamodbav:"SK"`
	ModuleID    string `dynamodbav:"moduleId"`
	Fingerprint string `dynamodbav:"fingerprint"`
	TTL         int64  `dynamodbav:"ttl"`
}

func toItem(m module.Module) moduleItem {
	return moduleItem{
		PK: tenantPK(m.TenantID), SK: moduleSK(m.ID),
		ID: m.ID, TenantID: m.TenantID, ClientID: m.ClientID,
		Name: m.Name, DisplayName: m.DisplayName,
		UserLogin: userLogin{
			Enabled:                m.UserLogin.Enabled,
			RedirectURIs:           orNil(m.UserLogin.RedirectURIs),
			PostLogoutRedirectURIs: orNil(m.UserLogin.PostLogoutRedirectURIs),
		},
		Scopes:      orNil(m.Scopes),
		Enabled:     m.Enabled,
		SecretName:  m.SecretName,
		AuthMethods: m.TokenEndpointAuthMethods,
		JWKS:        string(m.JWKS),
		Federated:   toFederated(m.FederatedCredentials),
		DPoPBound:   m.DPoPBoundAccessTokens,
		NameKey:     m.NameKey, DisplayKey: m.DisplayKey,
		Version:   m.Version,
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt,
	}
}

func (it moduleItem) module() module.Module {
	m := module.Module{
		ID: it.ID, TenantID: it.TenantID, ClientID: it.ClientID,
		Name: it.Name, DisplayName: it.DisplayName,
		UserLogin:                module.UserLogin(it.UserLogin),
		Scopes:                   nonNil(it.Scopes),
		Enabled:                  it.Enabled,
		SecretName:               it.SecretName,
		TokenEndpointAuthMethods: authMethods(it.AuthMethods),
		JWKS:                     rawKeys(it.JWKS),
		FederatedCredentials:     append([]federation.Credential{}, fromFederated(it.Federated)...),
		DPoPBoundAccessTokens:    it.DPoPBound,
		NameKey:                  it.NameKey, DisplayKey: it.DisplayKey,
		Version:   it.Version,
		CreatedAt: it.CreatedAt.UTC(), UpdatedAt: it.UpdatedAt.UTC(),
	}
	if it.LastUsedAt != nil {
		t := it.LastUsedAt.UTC()
		m.LastUsedAt = &t
	}
	m.UserLogin.RedirectURIs = nonNil(m.UserLogin.RedirectURIs)
	m.UserLogin.PostLogoutRedirectURIs = nonNil(m.UserLogin.PostLogoutRedirectURIs)
	return m
}

func clientItem(m module.Module) ClientItem {
	return ClientItem{
		PK: clientPK(m.ClientID), SK: clientSK,
		ClientID: m.ClientID, TenantID: m.TenantID, ModuleID: m.ID, ModuleName: m.Name,
		Enabled: m.Enabled, Scopes: orNil(m.Scopes), SecretName: m.SecretName,
		AuthMethods: m.TokenEndpointAuthMethods, JWKS: string(m.JWKS), Federated: toFederated(m.FederatedCredentials), DPoPBound: m.DPoPBoundAccessTokens,
	}
}

// authMethods are a stored module's methods: the defaults when it was
// stored before methods were kept.
func authMethods(stored []string) []string {
	if len(stored) == 0 {
		return slices.Clone(module.DefaultAuthMethods)
	}
	return stored
}

// rawKeys is a stored key set, nil for none.
func rawKeys(stored string) json.RawMessage {
	if stored == "" {
		return nil
	}
	return json.RawMessage(stored)
}

// orNil drops an empty list, which omitempty then leaves out of the item.
func orNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
