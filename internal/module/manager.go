package module

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"

	"github.com/modules-service/modules/internal/derrors"
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

// IsManager reports whether the module's tokens may manage its tenant's
// modules (when it is enabled): it has the modules:manage scope.
func (m Module) IsManager() bool { return slices.Contains(m.Scopes, ScopeManage) }

// activeManager is a module whose tokens manage the tenant right now.
func (m Module) activeManager() bool { return m.Enabled && m.IsManager() }

// ErrManagerGone is what Writer.Update and Writer.Delete return when the
// module they were to keep is no longer an enabled manager.
var ErrManagerGone = errors.New("the other manager module changed")

// otherManager returns another enabled manager of m's tenant, which must
// still be one when m stops being one, or a conflict when there is none: a
// tenant must not lose its last manager by accident. Managers of the
// identity provider are not counted; this service cannot see them.
func (s *Service) otherManager(ctx context.Context, m Module) (string, error) {
	id, err := s.Writes.OtherManager(ctx, m.TenantID, m.ID)
	if err != nil {
		return "", fmt.Errorf("find another manager of %s: %w", m.TenantID, err)
	}
	if id == "" {
		return "", derrors.New(derrors.ErrConflict, "this is the tenant's last enabled manager module (scope "+ScopeManage+
			"): disabling it, deleting it or removing that scope would leave no module to manage the tenant; create or enable another manager module first "+
			"(managers of the portal's identity provider are not counted, as this service cannot see them)")
	}
	return id, nil
}
