package localgateway

import (
	"context"
	"errors"
	"fmt"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/secrethash"
	"github.com/modules-service/modules/internal/wiring"
)

// Bootstrap names the first manager of a tenant, which the local gateway
// makes sure exists. Empty fields take the defaults: tenant "demo", a
// generated client ID and secret.
type Bootstrap struct {
	Tenant, ClientID, ClientSecret string
}

// Manager is the bootstrap manager. ClientSecret is empty when the manager
// existed already: its secret was shown once, when it was made.
type Manager struct {
	TenantID, ClientID, ClientSecret string
	Created                          bool
}

// bootstrap creates the manager module of b.Tenant unless it exists. A
// given secret must match an existing manager's.
func bootstrap(ctx context.Context, env wiring.Env, svc *module.Service, b Bootstrap) (Manager, error) {
	if b.Tenant == "" {
		b.Tenant = "demo"
	}
	existing, err := findManager(ctx, svc, b.Tenant)
	if err != nil {
		return Manager{}, err
	}
	if existing != nil {
		return reuse(ctx, env, *existing, b)
	}
	return CreateManager(ctx, svc, b)
}

// CreateManager makes a tenant's first manager and returns its credentials.
func CreateManager(ctx context.Context, svc *module.Service, b Bootstrap) (Manager, error) {
	c, err := svc.CreateManager(ctx, b.Tenant, b.ClientID, b.ClientSecret)
	if err != nil {
		return Manager{}, err
	}
	return Manager{TenantID: b.Tenant, ClientID: c.ClientID, ClientSecret: c.ClientSecret, Created: true}, nil
}

func findManager(ctx context.Context, svc *module.Service, tenant string) (*module.Module, error) {
	cursor := ""
	for {
		page, err := svc.List(ctx, tenant, module.ListQuery{Cursor: cursor, Limit: module.MaxLimit})
		if err != nil {
			return nil, err
		}
		for _, m := range page.Items {
			if module.UniqueKey(m.Name) == module.UniqueKey(module.ManagerName) {
				return &m, nil
			}
		}
		if page.NextCursor == "" {
			return nil, nil
		}
		cursor = page.NextCursor
	}
}

func reuse(ctx context.Context, env wiring.Env, m module.Module, b Bootstrap) (Manager, error) {
	if b.ClientID != "" && b.ClientID != m.ClientID {
		return Manager{}, fmt.Errorf("tenant %s has a manager with client ID %s, not %s", m.TenantID, m.ClientID, b.ClientID)
	}
	if b.ClientSecret != "" {
		hash, err := env.Secrets.Get(ctx, m.SecretName)
		if errors.Is(err, derrors.ErrNotFound) {
			return Manager{}, fmt.Errorf("manager %s has no secret hash", m.ClientID)
		}
		if err != nil {
			return Manager{}, err
		}
		if ok, err := secrethash.New().Verify(b.ClientSecret, hash); err != nil || !ok {
			return Manager{}, fmt.Errorf("the given bootstrap secret is not the secret of tenant %s's existing manager %s", m.TenantID, m.ClientID)
		}
	}
	return Manager{TenantID: m.TenantID, ClientID: m.ClientID, ClientSecret: b.ClientSecret}, nil
}
