package module

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/modules-service/modules/internal/derrors"
)

// ReapGrace is how old an orphaned hash must be before Reap removes it: far
// longer than any create takes between storing the hash and committing the
// module, so a create in flight never loses its hash.
const ReapGrace = 15 * time.Minute

// Reap deletes secret hashes whose module does not exist: those left by a
// create that died before its transaction, or a delete that died after it.
// It returns how many it deleted. It runs on a schedule (functions/reaper).
func (s *Service) Reap(ctx context.Context) (int, error) {
	secrets, err := s.Secrets.List(ctx, s.SecretPrefix+"/")
	if err != nil {
		return 0, fmt.Errorf("list secret hashes: %w", err)
	}
	cutoff := s.now().Add(-ReapGrace)
	reaped := 0
	for _, sec := range secrets {
		tenant, id := sec.Tags[TagTenant], sec.Tags[TagModule]
		if sec.CreatedAt.After(cutoff) || tenant == "" || id == "" {
			continue // young, or not ours to judge
		}
		m, err := s.Store.Get(ctx, tenant, id)
		if err == nil && m.SecretName == sec.Name {
			continue
		}
		if err != nil && !errors.Is(err, derrors.ErrNotFound) {
			return reaped, fmt.Errorf("check module %s: %w", id, err)
		}
		if err := s.Secrets.Delete(ctx, sec.Name); err != nil {
			return reaped, fmt.Errorf("reap %s: %w", sec.Name, err)
		}
		reaped++
	}
	return reaped, nil
}
