package module

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/modules-service/modules/internal/audit"
	"github.com/modules-service/modules/internal/derrors"
)

// maxRetries bounds the read-modify-write loop of an unconditional update
// racing other writers.
const maxRetries = 3

// Update applies a merge patch to a module. ifMatch is the version the caller
// last saw, or 0 to apply the patch to whatever is current. Renames move the
// name guards in the same transaction as the module, so after renaming A to B
// under any interleaving A is free and B is taken.
//
// An update has no side effect outside its transaction, so an unknown
// outcome needs no compensation: the module is read back, and the new
// version there means it was applied; otherwise the answer is 503.
func (s *Service) Update(ctx context.Context, tenantID, id string, p Patch, ifMatch int64) (Module, error) {
	if err := CheckTenantID(tenantID); err != nil {
		return Module{}, err
	}
	for attempt := 1; ; attempt++ {
		old, err := s.Get(ctx, tenantID, id)
		if err != nil {
			return Module{}, err
		}
		m := old
		m.Scopes = append([]string(nil), old.Scopes...)
		m.TokenEndpointAuthMethods = append([]string(nil), old.TokenEndpointAuthMethods...)
		m.FederatedCredentials = slices.Clone(old.FederatedCredentials)
		m.UserLogin.RedirectURIs = append([]string(nil), old.UserLogin.RedirectURIs...)
		m.UserLogin.PostLogoutRedirectURIs = append([]string(nil), old.UserLogin.PostLogoutRedirectURIs...)
		applied := p.apply(&m)
		m.normalize()
		if err := derrors.Faults(applied, m.Check(), s.untrustedIssuers(m.FederatedCredentials, old.FederatedCredentials)); err != nil {
			return Module{}, err // every field at fault, members and rules alike
		}
		// A patch that fails anyway fails with that error, not 412
		// (RFC 9110 §13.2.1).
		if ifMatch != 0 && ifMatch != old.Version {
			return Module{}, stale(old)
		}
		changed := s.event(ctx, audit.ModuleUpdated, old, m)
		if len(changed.Changes) == 0 {
			// Nothing to change: no write, no new version, so other
			// editors' If-Match stays good, and no empty audit event.
			return old, nil
		}
		keep := ""
		if old.activeManager() && !m.activeManager() {
			if keep, err = s.otherManager(ctx, old); err != nil {
				return Module{}, err
			}
		}
		m.Version = old.Version + 1
		m.UpdatedAt = changed.Time
		err = s.Writes.Update(ctx, old, m, keep, &changed)
		switch {
		case err == nil:
			return m, nil
		case (errors.Is(err, ErrManagerGone) || errors.Is(err, derrors.ErrPreconditionFailed) && ifMatch == 0) && attempt < maxRetries:
			continue // someone else wrote first; re-read and re-apply
		case errors.Is(err, ErrManagerGone):
			return Module{}, derrors.New(derrors.ErrConflict, "the tenant's other manager modules kept changing; retry")
		case errors.Is(err, ErrOutcomeUnknown):
			return s.readBack(ctx, tenantID, id, func(got Module, found bool) bool {
				return found && got.Version == m.Version && got.UpdatedAt.Equal(m.UpdatedAt)
			})
		case errors.Is(err, derrors.ErrPreconditionFailed) && ifMatch == 0:
			return Module{}, derrors.New(derrors.ErrConflict, "the module kept changing under concurrent updates; retry")
		case errors.Is(err, derrors.ErrPreconditionFailed):
			return Module{}, stale(old)
		default:
			return Module{}, fmt.Errorf("update module %s: %w", id, err)
		}
	}
}

func stale(m Module) error {
	return derrors.New(derrors.ErrPreconditionFailed, fmt.Sprintf(
		"the module has changed since you read it: it is at version %d (ETag \"%d\"), not the one in If-Match; GET it again and reapply your change", m.Version, m.Version))
}
