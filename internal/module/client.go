package module

// Client is a module as the token endpoint and the authorizer see it: the
// client pointer item, one GetItem away from a client ID.
type Client struct {
	ClientID   string
	TenantID   string
	ModuleID   string
	Enabled    bool
	Scopes     []string
	SecretName string
}

// ScopeManage is the scope that makes a module's tokens those of a tenant
// manager.
const ScopeManage = "modules:manage"
