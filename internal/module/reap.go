package module

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modules-service/modules/internal/derrors"
)

// ReapGrace is how old an orphaned hash must be before Reap removes it: far
// longer than any create takes between storing the hash and committing the
// module, so a create in flight never loses its hash. (One that takes
// longer still is refused at its commit: Reap claims the pending record
// first, and a create cannot commit against a claimed record.)
const ReapGrace = 15 * time.Minute

// reapMargin is the time Reap leaves itself before its context's
// deadline: it stops there, and the next run goes on where it stopped
// (the pending records it has not removed are its checkpoint).
const reapMargin = 10 * time.Second

var errOutOfTime = errors.New("out of time")

// Reap deletes secret hashes whose module does not exist: those left by a
// create that died before its transaction, or a delete that died after it.
// It finds them by their pending records (PendingStore), never by listing
// the secrets, so a run costs what it removes plus a few queries per day
// of PendingKeep. For each record older than ReapGrace it claims the
// record (from then on its create cannot commit), deletes the hash unless
// its module holds it, and removes the record. It returns how many hashes
// it deleted. It runs on a schedule (functions/reaper). Hashes stored
// before pending records existed are Sweep's.
func (s *Service) Reap(ctx context.Context) (int, error) {
	now := s.now()
	deadline, bounded := ctx.Deadline()
	var (
		reaped atomic.Int64
		wg     sync.WaitGroup
		mu     sync.Mutex
		first  error
	)
	failed := func() error { mu.Lock(); defer mu.Unlock(); return first }
	slots := make(chan struct{}, reapWorkers)
	err := s.Pending.PendingBefore(ctx, now.Add(-PendingKeep), now.Add(-ReapGrace), func(p Pending) error {
		if bounded && time.Until(deadline) < reapMargin {
			return errOutOfTime
		}
		if err := failed(); err != nil {
			return err
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			deleted, err := s.reapOne(ctx, p)
			if deleted {
				reaped.Add(1)
			}
			if err != nil {
				mu.Lock()
				first = cmp.Or(first, err)
				mu.Unlock()
			}
		}()
		return nil
	})
	wg.Wait()
	if errors.Is(err, errOutOfTime) {
		s.log().WarnContext(ctx, "reaper stopped before its deadline; the next run goes on", "reaped", reaped.Load())
		err = nil
	}
	return int(reaped.Load()), cmp.Or(failed(), err)
}

// reapWorkers is how many pending records Reap works on at once: each
// waits mostly on DynamoDB and Secrets Manager.
const reapWorkers = 8

// reapOne claims p, deletes its hash unless its module holds it, and
// removes p. It reports whether it deleted a hash.
func (s *Service) reapOne(ctx context.Context, p Pending) (bool, error) {
	claimed, err := s.Pending.ClaimPending(ctx, p)
	if err != nil {
		return false, fmt.Errorf("claim pending %s: %w", p.SecretName, err)
	}
	if !claimed {
		return false, nil // its module committed meanwhile
	}
	deleted := false
	m, err := s.Modules.Get(ctx, p.TenantID, p.ModuleID)
	switch {
	case err == nil && m.SecretName == p.SecretName: // its module holds it
	case err == nil || errors.Is(err, derrors.ErrNotFound):
		if err := s.Secrets.Delete(ctx, p.SecretName); err != nil {
			return false, fmt.Errorf("reap %s: %w", p.SecretName, err)
		}
		deleted = true
	default:
		return false, fmt.Errorf("check module %s: %w", p.ModuleID, err)
	}
	if err := s.Pending.DropPending(ctx, p); err != nil {
		return deleted, fmt.Errorf("drop pending %s: %w", p.SecretName, err)
	}
	return deleted, nil
}

// Sweep is the reaper of old: it lists every secret hash and deletes
// those older than ReapGrace whose module does not exist. It finds the
// orphans left before pending records existed, which Reap cannot; it reads
// an item per secret, so an operator runs it once, from a machine without
// Lambda's time limit (go run ./infra/admin sweep-secrets).
func (s *Service) Sweep(ctx context.Context) (int, error) {
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
		m, err := s.Modules.Get(ctx, tenant, id)
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
