package module

import (
	"context"
	"errors"
	"fmt"

	"github.com/modules-service/modules/internal/derrors"
)

// Migrator finds what MigrateGuards rewrites (through Writer.Update).
type Migrator interface {
	// WithoutGuardKeys returns every module, of any tenant, stored before
	// guard keys were kept, and every enabled manager module, which may
	// have been stored before manager markers were kept (MigrateGuards).
	WithoutGuardKeys(ctx context.Context) ([]Module, error)
}

// MigrateGuards gives every module stored before guard keys were kept its
// keys, moving its guards from the old case-folded keys to UniqueKey ones
// in one transaction each, without a new version (nothing a manager sees
// changes). Until a module is migrated, or written for another reason, a
// look-alike of its names can still be created. It also writes the
// manager marker of every enabled manager (Writer.OtherManager reads
// markers only), which a module stored before markers lacks until then: a
// tenant whose managers all lack it can disable or delete none of them
// (409, the last-manager rule), never lose its last. It returns how many
// modules it migrated and, for modules whose names now collide with
// another's, why they were left: a manager renames one of them.
func (s *Service) MigrateGuards(ctx context.Context) (migrated int, left []string, err error) {
	legacy, err := s.Migration.WithoutGuardKeys(ctx)
	if err != nil {
		return 0, nil, err
	}
	for _, old := range legacy {
		m := old
		if old.NameKey == "" {
			m.normalize()
			m.Name, m.DisplayName = old.Name, old.DisplayName // stored as they were
		} // else an enabled manager with its keys: rewritten as it is, with its marker
		err := s.Writes.Update(ctx, old, m, "", nil)
		switch {
		case err == nil:
			migrated++
		case errors.Is(err, ErrOutcomeUnknown):
			return migrated, left, fmt.Errorf("migrate module %s: %w (run the command again)", old.ID, err)
		case errors.Is(err, derrors.ErrConflict), errors.Is(err, derrors.ErrPreconditionFailed):
			left = append(left, fmt.Sprintf("tenant %s, module %s (%q, %q): %v", old.TenantID, old.ID, old.Name, old.DisplayName, err))
		default:
			return migrated, left, fmt.Errorf("migrate module %s: %w", old.ID, err)
		}
	}
	return migrated, left, nil
}
