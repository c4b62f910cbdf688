package module

import (
	"context"
	"errors"
	"fmt"

	"github.com/modules-service/modules/internal/audit"
	"github.com/modules-service/modules/internal/derrors"
)

// Delete removes a module and frees its names at once, then schedules its
// secret hash for deletion. Deleting, like disabling, is how a leaked secret
// is stopped. If the process dies after the transaction, Reap removes the
// orphaned hash. If the transaction's outcome is unknown, the module is
// read back: gone means deleted (and the hash goes too); still there means
// 503, and the hash stays, since the module may still authenticate.
//
// Without If-Match, a delete that meets a concurrent update re-reads and
// tries again, as an update does; only a precondition the client sent
// answers 412.
func (s *Service) Delete(ctx context.Context, tenantID, id string, ifMatch int64) error {
	var m Module
	for attempt := 1; ; attempt++ {
		var err error
		if m, err = s.Get(ctx, tenantID, id); err != nil {
			return err
		}
		if ifMatch != 0 && ifMatch != m.Version {
			return stale(m)
		}
		keep := ""
		if m.activeManager() {
			if keep, err = s.otherManager(ctx, m); err != nil {
				return err
			}
		}
		err = s.Writes.Delete(ctx, m, keep, s.event(ctx, audit.ModuleDeleted, m, m))
		if err == nil {
			break
		}
		if errors.Is(err, ErrOutcomeUnknown) {
			if _, err := s.readBack(ctx, tenantID, id, func(_ Module, found bool) bool { return !found }); err != nil {
				return err
			}
			break
		}
		retry := errors.Is(err, ErrManagerGone) || errors.Is(err, derrors.ErrPreconditionFailed) && ifMatch == 0
		switch {
		case retry && attempt < maxRetries:
			continue
		case retry:
			return derrors.New(derrors.ErrConflict, "the module or the tenant's other manager modules kept changing under concurrent updates; retry")
		case errors.Is(err, derrors.ErrPreconditionFailed):
			return stale(m)
		}
		return fmt.Errorf("delete module %s: %w", id, err)
	}
	if err := s.Secrets.Delete(ctx, m.SecretName); err != nil {
		// The module is gone and can no longer authenticate: report success
		// and leave the hash to the reaper rather than fail a done delete.
		s.log().ErrorContext(ctx, "secret hash left for the reaper", "module", m.ID, "tenant", m.TenantID, "error", err.Error())
	}
	return nil
}
