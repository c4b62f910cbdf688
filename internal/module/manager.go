package module

import (
	"context"
	"crypto/rand"
)

// ManagerName is the module name of a tenant's bootstrapped first manager.
const ManagerName = "tenant-manager"

// CreateManager makes a tenant's first manager: a module with the
// modules:manage scope, whose tokens manage the tenant's modules. An empty
// secret is generated (260 random bits); an empty client ID too. This is
// the operator's path (infra/admin, the local gateway), never the API's.
func (s *Service) CreateManager(ctx context.Context, tenantID, clientID, secret string) (Credentials, error) {
	if secret == "" {
		secret = rand.Text() + rand.Text()
	}
	c, _, err := s.Create(ctx, tenantID, CreateInput{
		Name: ManagerName, DisplayName: "Tenant manager", ClientSecret: secret,
		Scopes: []string{ScopeManage}, ClientID: clientID,
	}, "")
	return c, err
}
